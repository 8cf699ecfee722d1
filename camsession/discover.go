package camsession

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/chinesium/chinesium/internal/sockopt"
)

// Found is a camera that answered a discovery broadcast.
type Found struct {
	// IP is the address the answer came from.
	IP netip.Addr
	// Name is the camera's name/UID from the port response.
	Name string
	// DataPort is the camera's current data port.
	DataPort uint16
}

// DefaultBroadcast is where Discover's probe usually goes: the limited
// broadcast address on the cameras' control port.
var DefaultBroadcast = netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), ControlPort)

// discoverRepeat is how often Discover repeats its probe while it waits:
// broadcasts get lost like every other datagram (PROTOCOL.md §9.2).
const discoverRepeat = 500 * time.Millisecond

// Discover finds cameras by broadcasting the port request (PROTOCOL.md §8)
// to broadcast, usually 255.255.255.255:10104 (127.255.255.255:10104 reaches
// fake cameras on loopback), and collecting the 1TEG 0x0c answers until
// timeout, taking only answers from broadcast's port. The probe is
// repeated every 500 ms. The result has one entry per
// answering IP, sorted by IP. Cancelling ctx stops early and returns what
// was found with ctx's error.
//
// Checked on Linux: the probe leaves an unbound socket with SO_BROADCAST
// (Go sets it on every UDP socket; it is set here explicitly too); a
// datagram to 127.255.255.255 reaches every socket bound to
// 127.255.255.255:port with SO_REUSEADDR, but not sockets bound to a single
// address such as 127.0.0.2:port, which is why fake cameras bind the
// broadcast address separately (fakecam.Config.Discovery). The answers come
// back unicast from each camera's own address.
func Discover(ctx context.Context, broadcast netip.AddrPort, timeout time.Duration) ([]Found, error) {
	if !broadcast.Addr().Unmap().Is4() || broadcast.Port() == 0 {
		return nil, fmt.Errorf("camsession: discover: broadcast address %v must be IPv4 with a port, e.g. 255.255.255.255:10104", broadcast)
	}
	broadcast = netip.AddrPortFrom(broadcast.Addr().Unmap(), broadcast.Port())
	if timeout <= 0 {
		return nil, fmt.Errorf("camsession: discover: timeout %v must be positive", timeout)
	}
	lc := net.ListenConfig{Control: sockopt.Int(syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)}
	pc, err := lc.ListenPacket(ctx, "udp4", "0.0.0.0:0")
	if err != nil {
		return nil, fmt.Errorf("camsession: discover: open socket: %w", err)
	}
	conn := pc.(*net.UDPConn)
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()

	probe := AppendPortRequest(nil)
	found := map[netip.Addr]Found{}
	buf := make([]byte, MaxDatagram)
	end := time.Now().Add(timeout)
	for next := time.Now(); ; {
		now := time.Now()
		if !now.Before(end) || ctx.Err() != nil {
			break
		}
		if !now.Before(next) {
			if _, err := conn.WriteToUDPAddrPort(probe, broadcast); err != nil {
				return nil, fmt.Errorf("camsession: discover: send to %v: %w", broadcast, err)
			}
			next = now.Add(discoverRepeat)
		}
		if ctx.Err() == nil {
			deadline := next
			if end.Before(deadline) {
				deadline = end
			}
			_ = conn.SetReadDeadline(deadline)
		}
		n, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return nil, fmt.Errorf("camsession: discover: receive: %w", err)
		}
		// Cameras answer from their control port, the port probed: an
		// answer from any other port is not a camera's.
		if src.Port() != broadcast.Port() {
			continue
		}
		r, err := ParsePortResponse(buf[:n])
		if err != nil {
			continue
		}
		ip := src.Addr().Unmap()
		found[ip] = Found{IP: ip, Name: r.Name, DataPort: r.DataPort}
	}
	out := make([]Found, 0, len(found))
	for _, f := range found {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Found) int { return a.IP.Compare(b.IP) })
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("camsession: discover: %w", err)
	}
	return out, nil
}
