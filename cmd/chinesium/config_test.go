package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeConfig writes a configuration file for a test.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "chinesium.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeConfigFile serves a camera from a configuration file, with an
// environment variable and a flag over it: the URLs show the file's
// camera name and RTSP port, the environment's HTTP port and the flag's
// address, and the file's user protects the snapshot.
func TestServeConfigFile(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.7.40", 10104)
	file := writeConfig(t, `
cameras:
  - ip: 127.0.7.40
    name: porch
users:
  - name: viewer
    password: pw
    level: User
listen:
  bind: 127.0.7.2
  http_base_port: 18700
  rtsp_port: 18701
  admin_port: 0
discovery:
  enabled: false
state_dir: `+t.TempDir()+`
`)
	cmd := exec.Command(bin, "serve", "-config", file, "-bind", "127.0.7.1")
	cmd.Env = append(os.Environ(), "CHINESIUM_LISTEN_HTTP_BASE_PORT=18702")
	p := startCommand(t, cmd)
	stopOnCleanup(t, p)
	if got := urlOf(t, p.lines, 0, "ONVIF"); got != "http://127.0.7.1:18702/onvif/device_service" {
		t.Errorf("ONVIF URL %q", got)
	}
	if got := urlOf(t, p.lines, 0, "RTSP"); got != "rtsp://127.0.7.1:18701/porch/jpeg" {
		t.Errorf("RTSP URL %q", got)
	}
	if !strings.Contains(strings.Join(p.lines, "\n"), `Log in as "viewer"`) {
		t.Errorf("no login line for the file's user:\n%s", strings.Join(p.lines, "\n"))
	}
	snap := urlOf(t, p.lines, 0, "snapshot")
	if got := getFrame(t, snap, "", ""); got != "401" {
		t.Errorf("snapshot without credentials: %s", got)
	}
	if got := getFrame(t, snap, "viewer", "pw"); got != "FAKECAM-7F000728" {
		t.Errorf("snapshot from %q", got)
	}
}

// stopOnCleanup interrupts a serving process at the end of the test and
// checks that it exits 0.
func stopOnCleanup(t *testing.T, p *servingProcess) {
	t.Cleanup(func() {
		if p.exited {
			return
		}
		_ = p.cmd.Process.Signal(os.Interrupt)
		if code, _ := p.wait(t, 10*time.Second); code != 0 {
			t.Errorf("exit status %d after Ctrl-C\nstderr: %s", code, p.stderr.String())
		}
	})
}

// TestServeBadConfig: a file with bad values stops serve before anything
// starts, with exit status 2 and one line per problem naming the key, the
// value and the line.
func TestServeBadConfig(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "cameras:\n  - ip: 127.0.7.41\n  - ip: 10.0.0.300\nlisten:\n  rtsp_prot: 8555\n")
	_, stderr, code := runCLI(t, 10*time.Second, "serve", "-config", file)
	if code != 2 || !strings.Contains(stderr, "listen.rtsp_prot: unknown key; did you mean listen.rtsp_port? ("+file+" line 5)") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	file = writeConfig(t, "cameras:\n  - ip: 127.0.7.41\n  - ip: 10.0.0.300\nlisten:\n  rtsp_port: 0\n")
	_, stderr, code = runCLI(t, 10*time.Second, "serve", "-config", file)
	for _, want := range []string{
		`cameras[1].ip: "10.0.0.300" is not an IPv4 address (` + file + ` line 3)`,
		`listen.rtsp_port: 0 is not a port number (1-65535) (` + file + ` line 5)`,
	} {
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	_, stderr, code = runCLI(t, 10*time.Second, "serve", "-discovery=false", "-config", filepath.Join(t.TempDir(), "none.yaml"))
	if code != 2 || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
}

// TestLogFormatJSON: -log-format json makes every log line a JSON object.
func TestLogFormatJSON(t *testing.T) {
	t.Parallel()
	p := startProcess(t, "serve", "-discovery=false", "-log-format", "json", "-bind", "127.0.7.1",
		"-http-port", "18703", "-rtsp-port", "18704", "-admin-port", "0", "-state-dir", t.TempDir(), "127.0.7.42")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("only %d log lines:\n%s", len(lines), p.stderr.String())
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["msg"] == nil || m["level"] == nil {
			t.Errorf("not a JSON log line: %q (%v)", l, err)
		}
	}
}

// TestVersion: "version" and "-version" print the version; the one set at
// build time (-ldflags -X main.version=...) comes first.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-version"}} {
		out, stderr, code := runCLI(t, 10*time.Second, args...)
		if code != 0 || !strings.HasPrefix(out, "chinesium ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: exit %d, %q %q", args, code, out, stderr)
		}
	}
	version = "v1.2.3"
	defer func() { version = "" }()
	var out strings.Builder
	if code := run(context.Background(), &env{stdout: &out, stderr: &out}, []string{"version"}); code != 0 || !strings.HasPrefix(out.String(), "chinesium v1.2.3 (") {
		t.Errorf("with the version set: exit %d, %q", code, out.String())
	}
}
