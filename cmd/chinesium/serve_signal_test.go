package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/config"
)

// servingProcess is a running "chinesium serve" or "demo".
type servingProcess struct {
	cmd    *exec.Cmd
	lines  []string // the printed URLs
	stderr *syncBuffer
	done   chan error
	exited bool // wait saw the exit
}

// startProcess runs chinesium until it has printed its URLs. The test
// stops it; the cleanup only kills a process the test left running.
func startProcess(t *testing.T, args ...string) *servingProcess {
	t.Helper()
	return startCommand(t, exec.Command(bin, args...))
}

// startCommand is startProcess for a prepared command (chinesium run
// through another program).
func startCommand(t *testing.T, cmd *exec.Cmd) *servingProcess {
	t.Helper()
	args := cmd.Args
	p := &servingProcess{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.stderr
	if err := startChild(p.cmd); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if !p.exited {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				err := <-p.done
				p.exited = true
				t.Fatalf("chinesium %v ended early: %v\nstdout: %s\nstderr: %s", args, err, strings.Join(p.lines, "\n"), p.stderr.String())
			}
			p.lines = append(p.lines, l)
			if strings.HasPrefix(l, "No user set") || strings.HasPrefix(l, "Log in as") {
				return p
			}
		case <-timeout:
			t.Fatalf("chinesium %v printed no URLs\nstdout: %s\nstderr: %s", args, strings.Join(p.lines, "\n"), p.stderr.String())
		}
	}
}

// wait waits up to d for the process to exit and returns its status.
func (p *servingProcess) wait(t *testing.T, d time.Duration) (code int, took time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case err := <-p.done:
		p.exited = true
		code, err = exitCode(err)
		if err != nil {
			t.Fatal(err)
		}
		return code, time.Since(start)
	case <-time.After(d):
		t.Fatalf("chinesium still running %v after the signal\nstderr: %s", d, p.stderr.String())
		return 0, 0
	}
}

// waitStderr waits until stderr contains s.
func (p *servingProcess) waitStderr(t *testing.T, s string) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.stderr.String(), s) {
			return
		}
	}
	t.Fatalf("stderr never said %q:\n%s", s, p.stderr.String())
}

// TestServeSIGTERM: SIGTERM stops serve cleanly and quickly even while a
// viewer is watching the MJPEG stream: the stream ends, the log says the
// bridge stopped, and the exit status is 0.
func TestServeSIGTERM(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.7.34", 10104)
	p := startProcess(t, "serve", "-discovery=false", "-bind", "127.0.7.1",
		"-http-port", "18640", "-rtsp-port", "18658", "-admin-port", "18671", "-state-dir", t.TempDir(), "127.0.7.34")
	resp, err := http.Get(urlOf(t, p.lines, 0, "MJPEG"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	for end := time.Now().Add(10 * time.Second); ; {
		line, err := rd.ReadString('\n')
		if err != nil || time.Now().After(end) {
			t.Fatalf("no frame on the MJPEG stream: %v", err)
		}
		if strings.HasPrefix(strings.ToLower(line), "content-type: image/jpeg") {
			break
		}
	}
	streamEnd := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, rd)
		streamEnd <- err
	}()

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, took := p.wait(t, 10*time.Second)
	if code != 0 || took > 1800*time.Millisecond {
		t.Errorf("after SIGTERM: exit %d after %v, want 0 at once\nstderr: %s", code, took, p.stderr.String())
	}
	select {
	case <-streamEnd:
	case <-time.After(2 * time.Second):
		t.Error("the MJPEG stream did not end with the process")
	}
	for _, want := range []string{"shutting down", "msg=stopped"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
		}
	}
}

// waitAccepted waits until a server on this host has accepted the TCP
// connection conn made to it: /proc/net/tcp lists the server's end of it
// with an inode, which a connection still waiting in the listen queue
// does not have.
func waitAccepted(t *testing.T, conn net.Conn) {
	t.Helper()
	hex := func(a net.Addr) string {
		ap := a.(*net.TCPAddr).AddrPort()
		ip := ap.Addr().Unmap().As4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port())
	}
	server, client := hex(conn.RemoteAddr()), hex(conn.LocalAddr())
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) > 9 && f[1] == server && f[2] == client && f[9] != "0" {
				return
			}
		}
	}
	t.Fatalf("the server did not accept the connection from %v", conn.LocalAddr())
}

// TestDemoSecondSignal: while the demo shuts down (held up here by a
// client that has sent half a request, which the HTTP server waits for),
// a second Ctrl-C quits at once.
func TestDemoSecondSignal(t *testing.T) {
	t.Parallel()
	p := startProcess(t, "demo", "-ip", "127.0.7.35", "-bind", "127.0.7.1",
		"-http-port", "18642", "-rtsp-port", "18659", "-admin-port", "18672", "-state-dir", t.TempDir())
	conn, err := net.Dial("tcp4", "127.0.7.1:18642")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /snapshot.jpg HTTP/1.1\r\nHost: 127.0.7.1\r\n")); err != nil {
		t.Fatal(err)
	}
	// Once the server has accepted the connection, it reads the bytes at
	// once and the connection is active: shutting down waits for it.
	waitAccepted(t, conn)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.waitStderr(t, "shutting down")
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-p.done:
		p.exited = true
		t.Fatalf("the half-sent request did not hold up the shutdown (exit %v); the test proves nothing", err)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code, took := p.wait(t, 5*time.Second)
	if code != 1 || took > 500*time.Millisecond || !strings.Contains(p.stderr.String(), "quitting at once") {
		t.Errorf("second Ctrl-C: exit %d after %v\nstderr: %s", code, took, p.stderr.String())
	}
}

// TestServeFlags: every flag of serve and demo sets its configuration key
// over the file and the environment, and bad values are usage errors
// that name the key and the flag.
func TestServeFlags(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "chinesium.yaml")
	if err := os.WriteFile(file, []byte("cameras:\n  - ip: 10.0.0.5\nlisten:\n  rtsp_port: 9000\n  http_base_port: 9100\naudio: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) (config.Config, error) {
		e := &env{stdout: io.Discard, stderr: io.Discard, environ: []string{"CHINESIUM_LISTEN_HTTP_BASE_PORT=9200"}}
		fs := newFlags(e, "serve", "", "")
		var settings []config.Setting
		registerSettings(fs, config.Default(), &settings)
		if _, err := fs.parse(args); err != nil {
			return config.Config{}, err
		}
		return loadConfig(config.Default(), config.Sources{File: file, Environ: e.environ, Settings: settings}, nil)
	}
	cfg, err := parse("-user", "admin", "-password", "pw", "-http-port", "9300", "-rtsp-port", "9554", "-bind", "127.0.7.1",
		"-admin-port", "0", "-audio", "-no-h264", "-discovery-interfaces", "eth0, wlan0", "-state-dir", "/var/lib/x",
		"-motion-sensitivity", "100", "-motion-hold", "2s", "-no-motion", "-strict-auth-faults",
		"-log-format", "json", "-log-level", "warn")
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Cameras = []config.Camera{{IP: "10.0.0.5"}}
	want.Users = []config.User{{Name: "admin", Password: "pw", Level: "Administrator"}}
	want.Listen = config.Listen{Bind: "127.0.7.1", HTTPBasePort: 9300, RTSPPort: 9554, AdminPort: 0}
	want.Audio, want.H264 = true, false
	want.Discovery.Interfaces = []string{"eth0", "wlan0"}
	want.StateDir = "/var/lib/x"
	want.Motion = config.Motion{Enabled: false, Sensitivity: 100, Hold: 2 * time.Second}
	want.ONVIF.StrictAuthFaults = true
	want.Log = config.Log{Format: "json", Level: "warn"}
	// (The configuration's unexported record of where each value came
	// from is left out of the comparison.)
	plain := func(c config.Config) string {
		return regexp.MustCompile(` origin:map\[.*\]}$`).ReplaceAllString(fmt.Sprintf("%+v", c), "}")
	}
	if plain(cfg) != plain(want) {
		t.Errorf("flags gave\n%s\nwant\n%s", plain(cfg), plain(want))
	}
	// Without flags: the file, with the environment over it.
	def, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if def.Listen.RTSPPort != 9000 || def.Listen.HTTPBasePort != 9200 || !def.H264 || !def.Motion.Enabled {
		t.Errorf("without flags: %+v", def)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"-motion-sensitivity", "0"}, "motion.sensitivity: 0 is not between 1 and 100 (-motion-sensitivity)"},
		{[]string{"-motion-hold", "0s"}, "motion.hold: 0s is not between 0s and 1h0m0s (-motion-hold)"},
		{[]string{"-discovery=false", "-discovery-interfaces", "eth0"}, "discovery.interfaces: set while discovery.enabled is false (-discovery-interfaces)"},
		{[]string{"-rtsp-port", "x"}, `listen.rtsp_port: "x" is not a whole number (-rtsp-port)`},
		{[]string{"-password", "pw"}, "password: needs a user as well (-password sets only the password)"},
	} {
		_, err := parse(bad.args...)
		var ue usageError
		if !errors.As(err, &ue) || err.Error() != bad.want {
			t.Errorf("%v: %v, want the usage error %q", bad.args, err, bad.want)
		}
	}
	// Every flag names a key that exists.
	for _, f := range settingFlags {
		if _, err := config.Default().Get(f.key); err != nil && f.key != config.KeyUser && f.key != config.KeyPassword {
			t.Errorf("-%s: %v", f.name, err)
		}
	}
}

// TestServeSIGHUP: SIGHUP (a closed terminal, or a service manager's
// reload) does not end serve: it reloads the same settings, which changes
// nothing, and keeps serving (TestServeReload changes the file).
func TestServeSIGHUP(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.7.43", 10104)
	p := startProcess(t, "serve", "-discovery=false", "-bind", "127.0.7.1", "-admin-port", "0",
		"-http-port", "18705", "-rtsp-port", "18706", "-state-dir", t.TempDir(), "127.0.7.43")
	stopOnCleanup(t, p)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitStderr(t, "configuration reloaded")
	if !strings.Contains(p.stderr.String(), `added="" restarted="" removed="" users_changed=false`) {
		t.Errorf("the same settings again changed something:\n%s", p.stderr.String())
	}
	if got := getFrame(t, urlOf(t, p.lines, 0, "snapshot"), "", ""); got != "FAKECAM-7F00072B" {
		t.Errorf("after SIGHUP: snapshot from %q", got)
	}
}
