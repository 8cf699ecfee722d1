package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/testutil"
)

// The systemd unit of packaging/ is tested where systemd is not running
// (systemd-analyze works offline) on 127.0.22.x.

// unitPath is the systemd unit shipped with chinesium.
const unitPath = "../../packaging/chinesium.service"

// unitBinary, unitConfig and unitStateDir are the paths the unit uses.
const (
	unitBinary   = "/usr/local/bin/chinesium"
	unitConfig   = "/etc/chinesium/chinesium.yaml"
	unitStateDir = "/var/lib/chinesium"
)

// serviceSettings returns the settings of the unit's [Service] section,
// each key with its values in order (a key may be given several times).
func serviceSettings(t *testing.T, unit string) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("unit line %q is no key=value", line)
			}
			m[k] = append(m[k], v)
		}
	}
	return m
}

// TestSystemdUnit checks packaging/chinesium.service as systemd would:
// systemd-analyze verify finds nothing to say about it (with the binary
// at the ExecStart path), its sandbox scores as well as a network service
// can, and the life systemd gives it works with the real binary: started
// with the unit's command line and environment, reloaded with the unit's
// ExecReload (SIGHUP) without stopping, stopped with SIGTERM and exit
// status 0 (anything else counts as a failure that Restart= would act on).
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	analyze := testutil.NeedTool(t, "systemd-analyze")
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	s := serviceSettings(t, unit)

	// What the unit promises: its own user, no capabilities, a read-only
	// system, the config file and a reload by SIGHUP.
	want := map[string]string{
		"DynamicUser":             "yes",
		"StateDirectory":          "chinesium",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
		"ExecStart":               unitBinary + " serve -config " + unitConfig,
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"Environment":             "CHINESIUM_STATE_DIR=" + unitStateDir,
	}
	for k, v := range want {
		if got := s[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s: the unit says %q, want exactly %s=%s", unitPath, got, k, v)
		}
	}

	// systemd-analyze verify checks that ExecStart's program exists: the
	// unit goes into a directory of its own, pointing at the binary under
	// test.
	dir := t.TempDir()
	unitFile := filepath.Join(dir, "chinesium.service")
	if err = os.WriteFile(unitFile, []byte(strings.ReplaceAll(unit, unitBinary, bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", unitFile).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=yes", unitFile).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for chinesium\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
	}
	// 0 is a service that can do nothing, 10 one running as root
	// unconfined; what is left at 1.6 is what a network server needs
	// (the host's network, Internet sockets, netlink).
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2 {
		t.Errorf("exposure level %v, want at most 2:\n%s", level, out)
	}

	// The life systemd gives the service, with the unit's own command
	// lines: the paths of the binary, config file and state directory
	// moved into the test's directory.
	state := t.TempDir()
	cfgFile := filepath.Join(dir, "chinesium.yaml")
	cfg := `cameras:
  - ip: 127.0.22.2
listen:
  bind: 127.0.22.1
  http_base_port: 22000
  rtsp_port: 22554
  admin_port: 22080
h264: false
discovery:
  enabled: false
`
	if err = os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	moved := strings.NewReplacer(unitBinary, bin, unitConfig, cfgFile, unitStateDir, state)
	start := strings.Fields(moved.Replace(s["ExecStart"][0]))
	cmd := exec.Command(start[0], start[1:]...)
	// systemd starts a service with a clean environment: PATH and what
	// the unit sets.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for _, e := range s["Environment"] {
		cmd.Env = append(cmd.Env, moved.Replace(e))
	}
	p := startCommand(t, cmd)
	if !slices.ContainsFunc(p.lines, func(l string) bool { return strings.Contains(l, "127.0.22.1:22000") }) {
		t.Fatalf("serve did not print the camera's URLs on the configured address:\n%s", strings.Join(p.lines, "\n"))
	}

	// An NVR changes something that is kept.
	addScopes := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">` +
		`<s:Body><tds:AddScopes><tds:ScopeItem>onvif://www.onvif.org/location/hall</tds:ScopeItem></tds:AddScopes></s:Body></s:Envelope>`
	resp, err := http.Post("http://127.0.22.1:22000/onvif/device_service", "application/soap+xml", strings.NewReader(addScopes))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("AddScopes: %s\n%s", resp.Status, body)
	}

	reload := strings.Fields(strings.ReplaceAll(s["ExecReload"][0], "$MAINPID", strconv.Itoa(cmd.Process.Pid)))
	if out, err = exec.Command(reload[0], reload[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("ExecReload %v: %v\n%s", reload, err, out)
	}
	// The signal is pending once kill returns: a process that it ended
	// could not answer this.
	resp, err = http.Get("http://127.0.22.1:22080/healthz")
	if err != nil {
		t.Fatalf("the admin server does not answer after ExecReload: %v\nstderr: %s", err, p.stderr.String())
	}
	resp.Body.Close()
	select {
	case werr := <-p.done:
		p.exited = true
		t.Fatalf("serve ended after ExecReload (SIGHUP): %v\nstderr: %s", werr, p.stderr.String())
	default:
	}

	if err = cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.wait(t, 20*time.Second); code != 0 {
		t.Errorf("serve exited with status %d on SIGTERM (systemctl stop), want 0\nstderr: %s", code, p.stderr.String())
	}
	// The state directory the unit gives is where ONVIF changes go.
	entries, err := os.ReadDir(state)
	if err != nil || len(entries) == 0 {
		t.Errorf("AddScopes wrote nothing into the state directory %s (CHINESIUM_STATE_DIR): %v\nstderr: %s", state, err, p.stderr.String())
	}
}
