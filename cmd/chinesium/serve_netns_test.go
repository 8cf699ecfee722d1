//go:build linux

package main

import (
	"os/exec"
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
