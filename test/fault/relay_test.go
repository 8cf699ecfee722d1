package fault

import (
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chinesium/chinesium/camsession"
)

// relay stands between the bridge and a fake camera, as the WiFi does: the
// bridge is configured with the relay's IP, the relay forwards the control
// port and every data port the camera names (through a port of its own,
// which its port responses name instead) to the camera, and hands the
// camera's datagrams back from its own IP. On the way to the bridge it can
// add what a bad network and a hostile one add: late copies of packets of
// old frames, bursts of garbage from the camera's address, forged media
// from another IP. It records which frames reached the bridge whole.
type relay struct {
	t      testing.TB
	ip     netip.Addr // the address the bridge talks to
	cam    netip.Addr // the fake camera
	stray  netip.Addr // the other IP forged media comes from
	packet int        // the camera's PacketSize

	// late is the probability that a media packet is sent again, to the
	// bridge, 10 frames later.
	lateP atomic.Uint64 // math.Float64bits; 0 = off

	mu        sync.Mutex
	ports     map[uint16]*dataRelay
	ctrlFrom  netip.AddrPort // the bridge's address on the control port
	frames    map[uint16]*arrival
	whole     []uint16 // frame indexes that reached the bridge whole, in order
	forwarded int      // media packets forwarded to the bridge
	held      []heldLate
	late      int // late copies sent
	rng       *rand.Rand
	closed    bool
	conns     []*net.UDPConn
	wg        sync.WaitGroup
	frameSize func(index uint16) (int, bool)
}

// arrival is what the relay forwarded of one frame.
type arrival struct {
	got   map[uint16]bool
	whole bool
}

// heldLate is a copy of a media packet waiting to be sent late.
type heldLate struct {
	frame uint16
	to    netip.AddrPort
	from  *net.UDPConn
	b     []byte
}

// dataRelay forwards one data port of the camera.
type dataRelay struct {
	down      *net.UDPConn // relay IP, relayPort: faces the bridge
	up        *net.UDPConn // faces the camera
	port      uint16       // the camera's data port
	relayPort uint16       // the data port the bridge is told

	mu        sync.Mutex
	bridge    netip.AddrPort // where the bridge sends from
	mediaDest netip.AddrPort // where the bridge's login asked media to go
}

// newRelay starts a relay on ip for the camera at cam. frameSize tells the
// packet count of a frame the camera sent (by its wire index).
func newRelay(t testing.TB, ip, cam, stray netip.Addr, packetSize int, frameSize func(uint16) (int, bool)) *relay {
	r := &relay{
		t: t, ip: ip, cam: cam, stray: stray, packet: packetSize,
		ports:     map[uint16]*dataRelay{},
		frames:    map[uint16]*arrival{},
		rng:       rand.New(rand.NewPCG(1, 2)),
		frameSize: frameSize,
	}
	down := r.listen(netip.AddrPortFrom(ip, camsession.ControlPort))
	up := r.listen(netip.AddrPortFrom(ip, 0))
	r.wg.Go(func() { r.controlDown(down, up) })
	r.wg.Go(func() { r.controlUp(down, up) })
	t.Cleanup(r.close)
	return r
}

func (r *relay) listen(a netip.AddrPort) *net.UDPConn {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(a))
	if err != nil {
		r.t.Fatalf("relay: %v", err)
	}
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
	return c
}

func (r *relay) close() {
	r.mu.Lock()
	r.closed = true
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// controlDown forwards port requests from the bridge to the camera.
func (r *relay) controlDown(down, up *net.UDPConn) {
	buf := make([]byte, camsession.MaxDatagram)
	for {
		n, src, err := down.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.ctrlFrom = src
		r.mu.Unlock()
		_, _ = up.WriteToUDPAddrPort(buf[:n], netip.AddrPortFrom(r.cam, camsession.ControlPort))
	}
}

// controlUp hands the camera's port responses to the bridge, naming the
// relay's IP, and opens a relay for each data port they name.
func (r *relay) controlUp(down, up *net.UDPConn) {
	buf := make([]byte, camsession.MaxDatagram)
	for {
		n, _, err := up.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		if pr, err := camsession.ParsePortResponse(b); err == nil {
			port, ok := r.openData(pr.DataPort)
			if !ok {
				continue
			}
			pr.IP, pr.DataPort = r.ip, port
			b = camsession.AppendPortResponse(nil, pr)
		}
		r.mu.Lock()
		to := r.ctrlFrom
		r.mu.Unlock()
		_, _ = down.WriteToUDPAddrPort(b, to)
	}
}

// openData starts relaying the camera's data port p (once) and returns
// the relay's data port that stands for it. The relay's port is any free
// one: the same number may be taken on the relay's IP (by the relay's own
// sockets, or by a socket bound to all addresses).
func (r *relay) openData(p uint16) (uint16, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, false
	}
	if d := r.ports[p]; d != nil {
		return d.relayPort, true
	}
	down, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.ip, 0)))
	if err != nil {
		r.t.Errorf("relay: data port for %d: %v", p, err)
		return 0, false
	}
	up, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.ip, 0)))
	if err != nil {
		down.Close()
		r.t.Errorf("relay: %v", err)
		return 0, false
	}
	d := &dataRelay{down: down, up: up, port: p, relayPort: uint16(down.LocalAddr().(*net.UDPAddr).Port)}
	r.ports[p] = d
	r.conns = append(r.conns, down, up)
	r.wg.Go(func() { r.dataDown(d) })
	r.wg.Go(func() { r.dataUp(d) })
	return d.relayPort, true
}

// dataDown forwards the bridge's logins and commands to the camera; a login
// is rewritten to have the media sent to the relay.
func (r *relay) dataDown(d *dataRelay) {
	buf := make([]byte, camsession.MaxDatagram)
	for {
		n, src, err := d.down.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		d.mu.Lock()
		d.bridge = src
		if l, err := camsession.ParseLogin(b); err == nil {
			d.mediaDest = l.Addr
			l.Addr = d.up.LocalAddr().(*net.UDPAddr).AddrPort()
			b = camsession.AppendLogin(nil, l)
		}
		d.mu.Unlock()
		_, _ = d.up.WriteToUDPAddrPort(b, netip.AddrPortFrom(r.cam, d.port))
	}
}

// dataUp forwards the camera's datagrams to the bridge.
func (r *relay) dataUp(d *dataRelay) {
	buf := make([]byte, camsession.MaxDatagram)
	for {
		n, _, err := d.up.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		d.mu.Lock()
		to := d.bridge
		if d.mediaDest.IsValid() {
			to = d.mediaDest
		}
		d.mu.Unlock()
		if !to.IsValid() {
			continue
		}
		m, err := camsession.ParseMedia(b)
		if err == nil && !m.Audio {
			r.media(d, m, b, to)
		}
		if _, err := d.down.WriteToUDPAddrPort(b, to); err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// media notes a video packet forwarded to the bridge and sends the late
// copies that are due.
func (r *relay) media(d *dataRelay, m camsession.Media, b []byte, to netip.AddrPort) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forwarded++
	a := r.frames[m.Frame]
	if a == nil {
		a = &arrival{got: map[uint16]bool{}}
		r.frames[m.Frame] = a
		delete(r.frames, m.Frame-64) // indexes are reused after 65536 frames
	}
	a.got[m.Packet] = true
	if size, ok := r.frameSize(m.Frame); ok && !a.whole && len(a.got) == (size+r.packet-1)/r.packet {
		a.whole = true
		r.whole = append(r.whole, m.Frame)
	}
	keep := r.held[:0]
	for _, h := range r.held {
		if m.Frame-h.frame >= 10 && m.Frame-h.frame < 1000 {
			_, _ = h.from.WriteToUDPAddrPort(h.b, h.to)
			r.late++
			continue
		}
		keep = append(keep, h)
	}
	r.held = keep
	if p := math.Float64frombits(r.lateP.Load()); p > 0 && r.rng.Float64() < p {
		r.held = append(r.held, heldLate{frame: m.Frame, to: to, from: d.down, b: append([]byte(nil), b...)})
	}
}

// bridgeData returns the bridge's media address and the relay socket that
// faces it on the camera's current data port, once the bridge logged in.
func (r *relay) bridgeData(port uint16) (to netip.AddrPort, from *net.UDPConn, ok bool) {
	r.mu.Lock()
	d := r.ports[port]
	r.mu.Unlock()
	if d == nil {
		return netip.AddrPort{}, nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mediaDest, d.down, d.mediaDest.IsValid()
}

// wholeFrames returns the wire indexes of the frames that reached the
// bridge whole so far, in the order they completed, and the number of
// video packets forwarded.
func (r *relay) wholeFrames() ([]uint16, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint16(nil), r.whole...), r.forwarded
}

// lateSent returns the number of late copies sent.
func (r *relay) lateSent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.late
}
