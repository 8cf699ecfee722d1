//go:build linux

package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/onvif/discovery"
)

// TestServeByeOnSIGTERM runs the real binary in a network namespace of its
// own, with WS-Discovery on that namespace's loopback (made
// multicast-capable there, so nothing leaves it): serve announces its
// camera with Hello, and on SIGTERM says Bye before it exits with status 0.
// The camera's address answers nothing, so this is also the "wrong IP"
// case: the device is announced and served all the same.
func TestServeByeOnSIGTERM(t *testing.T) {
	t.Parallel()
	ns := testutil.NewNetNS(t, "chs-"+testutil.NetNSID())
	ns.IP(t, "link", "set", "lo", "multicast", "on")
	ns.IP(t, "route", "add", "224.0.0.0/4", "dev", "lo")

	// A WS-Discovery listener in the namespace.
	listen := ns.ListenGroup(t, "lo", discovery.DefaultGroup)
	announcement := func(want discovery.Action, within time.Duration) string {
		t.Helper()
		buf := make([]byte, 1<<16)
		_ = listen.SetReadDeadline(time.Now().Add(within))
		for {
			n, err := listen.Read(buf)
			if err != nil {
				t.Fatalf("no %s within %v: %v", want, within, err)
			}
			if m, err := discovery.Parse(buf[:n]); err == nil && m.Action == want && len(m.Matches) == 1 {
				return m.Matches[0].Address
			}
		}
	}

	p := startCommand(t, exec.Command("ip", "netns", "exec", string(ns), bin, "serve", "-discovery-interfaces", "lo", "-bind", "127.0.0.1",
		"-http-port", "18000", "-rtsp-port", "18554", "-state-dir", t.TempDir(), "127.0.0.2"))
	hello := announcement(discovery.ActionHello, 5*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if bye := announcement(discovery.ActionBye, 5*time.Second); bye != hello {
		t.Errorf("Bye for %q, Hello was for %q", bye, hello)
	}
	if code, _ := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM\nstderr: %s", code, p.stderr.String())
	}
}

// TestServeExampleConfig: the file "chinesium config example" prints is
// accepted by "serve -config" as it is. serve runs in a network namespace
// of its own, since the example's cameras are at LAN addresses and its
// ports are the defaults; the cameras' network is one end of a veth pair
// whose other end is in the namespace too, where nobody answers.
func TestServeExampleConfig(t *testing.T) {
	t.Parallel()
	ns := testutil.NewNetNS(t, "chs-"+testutil.NetNSID())
	ns.IP(t, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
	ns.IP(t, "addr", "add", "10.10.1.2/24", "dev", "lan0")
	ns.IP(t, "link", "set", "lan0", "up")
	ns.IP(t, "link", "set", "lan1", "up")
	example, stderr, code := runCLI(t, 10*time.Second, "config", "example")
	if code != 0 {
		t.Fatalf("config example: exit %d, %s", code, stderr)
	}
	file := writeConfig(t, example)
	if out, errOut, code := runCLI(t, 10*time.Second, "config", "check", "-config", file); code != 0 || !strings.Contains(out, "configuration OK: 2 camera(s)") {
		t.Errorf("config check: exit %d, %s %s", code, out, errOut)
	}
	cmd := exec.Command("ip", "netns", "exec", string(ns), bin, "serve", "-config", file)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir())
	p := startCommand(t, cmd)
	stopOnCleanup(t, p)
	if got := urlOf(t, p.lines, 0, "RTSP"); !strings.HasSuffix(got, ":8554/front-door/jpeg") {
		t.Errorf("RTSP URL %q", got)
	}
	if got := urlOf(t, p.lines, 1, "ONVIF"); !strings.HasSuffix(got, ":8001/onvif/device_service") {
		t.Errorf("second camera's ONVIF URL %q", got)
	}
}
