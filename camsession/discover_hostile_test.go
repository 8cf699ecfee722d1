package camsession_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
)

// TestDiscoverOnlyFromControlPort: an answer from another port of a
// camera's IP does not replace the camera's own in the discovery list.
func TestDiscoverOnlyFromControlPort(t *testing.T) {
	ip := camIP(24)
	ctrl := listenOn(t, ip, camsession.ControlPort)
	forger := listenOn(t, ip, 0)
	go func() {
		buf := make([]byte, camsession.MaxDatagram)
		for {
			_, from, err := ctrl.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = ctrl.WriteToUDPAddrPort(camsession.AppendPortResponse(nil, camsession.PortResponse{DataPort: 33277, Name: "REAL"}), from)
			_, _ = forger.WriteToUDPAddrPort(camsession.AppendPortResponse(nil, camsession.PortResponse{DataPort: 9, Name: "FORGED"}), from)
		}
	}()
	found, err := camsession.Discover(context.Background(), netip.AddrPortFrom(ip, camsession.ControlPort), 700*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Name != "REAL" || found[0].DataPort != 33277 {
		t.Errorf("found %+v, want only the answer from port %d", found, camsession.ControlPort)
	}
}

// listenOn binds a UDP socket on ip (port 0: any) until the test ends.
func listenOn(t *testing.T, ip netip.Addr, port uint16) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
