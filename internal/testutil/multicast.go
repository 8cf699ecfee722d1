//go:build linux

package testutil

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/chinesium/chinesium/internal/sockopt"
	"golang.org/x/net/ipv4"
)

// ListenGroup opens a UDP socket inside the namespace on the port of group,
// with SO_REUSEADDR (several listeners may share the port, as WS-Discovery
// listeners do), and joins it to group's multicast address on the
// interface ifname. It fails the test on an error and closes the socket
// when the test ends.
func (n NetNS) ListenGroup(t testing.TB, ifname string, group netip.AddrPort) *net.UDPConn {
	t.Helper()
	var conn *net.UDPConn
	if err := n.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		lc := net.ListenConfig{Control: sockopt.ReuseAddr}
		l, err := lc.ListenPacket(context.Background(), "udp4", netip.AddrPortFrom(netip.IPv4Unspecified(), group.Port()).String())
		if err != nil {
			return err
		}
		if err := ipv4.NewPacketConn(l).JoinGroup(ifi, &net.UDPAddr{IP: group.Addr().AsSlice()}); err != nil {
			l.Close()
			return err
		}
		conn = l.(*net.UDPConn)
		return nil
	}); err != nil {
		t.Fatalf("namespace %s: listening to %s on %s: %v", n, group, ifname, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
