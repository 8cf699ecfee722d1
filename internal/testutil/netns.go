//go:build linux

package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// NetNS is a network namespace created by a test (see NewNetNS).
type NetNS string

// NetNSID returns a short random hex string for namespace names, so that
// concurrent test runs do not collide.
func NetNSID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewNetNS creates the network namespace name with its loopback up and
// deletes it when the test ends. It skips the test when not run as root
// (namespaces need root, in CI too: the CI runs the tests as root) and
// needs the ip tool (iproute2).
func NewNetNS(t testing.TB, name string) NetNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespace test needs root (ip netns add, veth pairs); run the tests as root")
	}
	NeedTool(t, "ip")
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v %s", name, err, out)
		}
	})
	n := NetNS(name)
	n.IP(t, "link", "set", "lo", "up")
	return n
}

// IP runs "ip -n <namespace> args..." and fails the test on an error.
func (n NetNS) IP(t testing.TB, args ...string) {
	t.Helper()
	Run(t, "ip", append([]string{"-n", string(n)}, args...)...)
}

// Do runs fn on an OS thread switched into the namespace. The thread is
// never unlocked, so it exits with the goroutine and never runs other code
// in the wrong namespace. Sockets created by fn stay in the namespace and
// may be used from any goroutine.
func (n NetNS) Do(fn func() error) error {
	fd, err := unix.Open("/var/run/netns/"+string(n), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer unix.Close(fd)
		if err := unix.Unshare(unix.CLONE_FS); err != nil { // setns needs an unshared fs context in threads
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", n, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Run runs a command to completion and fails the test, with its output,
// when it fails.
func Run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
