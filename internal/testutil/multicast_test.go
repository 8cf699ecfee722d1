//go:build linux

package testutil

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestListenGroup: two listeners in a namespace share the group's port and
// both receive a datagram sent to the group on the namespace's loopback.
func TestListenGroup(t *testing.T) {
	ns := NewNetNS(t, "tu-"+NetNSID())
	ns.IP(t, "link", "set", "lo", "multicast", "on")
	ns.IP(t, "route", "add", "224.0.0.0/4", "dev", "lo")
	group := netip.MustParseAddrPort("239.255.255.250:3702")
	a, b := ns.ListenGroup(t, "lo", group), ns.ListenGroup(t, "lo", group)
	if err := ns.Do(func() error {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.WriteTo([]byte("hello"), net.UDPAddrFromAddrPort(group))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i, l := range []*net.UDPConn{a, b} {
		buf := make([]byte, 64)
		_ = l.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := l.Read(buf)
		if err != nil || string(buf[:n]) != "hello" {
			t.Errorf("listener %d: %q, %v", i, buf[:n], err)
		}
	}
}
