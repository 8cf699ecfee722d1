package camsession_test

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// These tests play an attacker on the LAN who sends from the camera's own
// IP address but from ports other than the ones the protocol uses: the
// session takes port responses only from the control port and everything
// else only from the data port the camera announced.

// testFrame is a small JPEG-shaped frame (SOI ... EOI) whose body is fill.
func testFrame(fill byte) []byte {
	b := append([]byte{0xff, 0xd8}, bytes.Repeat([]byte{fill}, 2500)...)
	return append(b, 0xff, 0xd9)
}

// framePackets splits jpeg into media packets of frame index idx.
func framePackets(idx uint16, jpeg []byte) [][]byte {
	var pkts [][]byte
	for i := 0; i*1000 < len(jpeg); i++ {
		pkts = append(pkts, camsession.AppendMedia(nil, camsession.Media{Frame: idx, Packet: uint16(i),
			Payload: jpeg[i*1000 : min(len(jpeg), (i+1)*1000)]}, nil))
	}
	return pkts
}

// handshake answers the session's port request on the scripted camera's
// control port and waits for the login on its data port.
func (c *scriptedCamera) handshake(s *camsession.Session) {
	c.t.Helper()
	_, from := c.expect(c.ctrl, 3*time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	resp := camsession.AppendPortResponse(nil, camsession.PortResponse{DataPort: c.dataPort(), IP: netip.Addr{}, Name: "SCRIPTED"})
	if _, err := c.ctrl.WriteToUDPAddrPort(resp, from); err != nil {
		c.t.Fatal(err)
	}
	c.expect(c.data, 3*time.Second, "login", isMsg(camsession.Sig1, camsession.CmdLogin))
}

// TestSessionIgnoresForgedMedia: a whole valid JPEG (and audio) sent from
// the camera's IP but not from its data port never reaches a viewer.
func TestSessionIgnoresForgedMedia(t *testing.T) {
	ip := camIP(20)
	cam := newScripted(t, ip)
	sink := newSink()
	audio := make(chan *camsession.Audio, 16)
	s := newSession(t, fast(camsession.Config{Camera: ip, OnFrame: sink.on,
		OnAudio: func(a *camsession.Audio) { audio <- a }}))
	testutil.Go(t, s.Run)
	cam.handshake(s)

	forger := listenOn(t, ip, 0)
	forged := testFrame(0x66)
	dst := s.LocalAddr()
	for _, p := range append(framePackets(77, forged),
		camsession.AppendMedia(nil, camsession.Media{Audio: true, Frame: 5, Payload: []byte{9, 8, 7}}, []byte{0, 0, 0, 0})) {
		if _, err := forger.WriteToUDPAddrPort(p, dst); err != nil {
			t.Fatal(err)
		}
	}
	// From the same host through the same receive queue: once the real
	// frame is out, the forged datagrams before it have been handled.
	real := testFrame(0x11)
	for _, p := range framePackets(78, real) {
		if _, err := cam.data.WriteToUDPAddrPort(p, dst); err != nil {
			t.Fatal(err)
		}
	}
	f := sink.next(t, 3*time.Second)
	if bytes.Equal(f.JPEG, forged) {
		t.Fatal("a frame sent from another port of the camera's IP reached the viewer")
	}
	if !bytes.Equal(f.JPEG, real) || f.Index != 78 {
		t.Fatalf("frame %d of %d bytes, want the camera's frame 78", f.Index, len(f.JPEG))
	}
	select {
	case a := <-audio:
		t.Fatalf("audio %d from another port delivered", a.Index)
	default:
	}
	if st := s.Stats(); st.Foreign != uint64(len(framePackets(77, forged))+1) {
		t.Errorf("foreign %d, want the %d forged datagrams", st.Foreign, len(framePackets(77, forged))+1)
	}
}

// stateLog records a session's state changes.
type stateLog struct {
	mu     sync.Mutex
	states []camsession.State
}

func (l *stateLog) on(st camsession.State) {
	l.mu.Lock()
	l.states = append(l.states, st)
	l.mu.Unlock()
}

func (l *stateLog) list() []camsession.State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.states)
}

// TestSessionForgedDeviceClosed: "device closed" from another port of the
// camera's IP while video flows changes nothing: no new handshake, no
// signal loss.
func TestSessionForgedDeviceClosed(t *testing.T) {
	ip := camIP(21)
	cam, _ := newCam(t, fakecam.Config{IP: ip, FPS: 50})
	testutil.Go(t, cam.Run)
	sink := newSink()
	var states stateLog
	s := newSession(t, fast(camsession.Config{Camera: ip, OnFrame: sink.on, OnState: states.on}))
	testutil.Go(t, s.Run)
	sink.next(t, 3*time.Second)
	waitFor(t, "state streaming", func() bool { return s.State() == camsession.StateStreaming })

	forger := listenOn(t, ip, 0)
	sent := time.Now()
	for range 5 {
		if _, err := forger.WriteToUDPAddrPort(camsession.AppendDeviceClosed(nil), s.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	// Watch the stream for twice MediaTimeout (500 ms in fast): frames keep
	// coming and the session stays where it was.
	for {
		f := sink.next(t, 2*time.Second)
		if f.Time.Sub(sent) > time.Second {
			break
		}
	}
	if got := states.list(); !slices.Equal(got, []camsession.State{camsession.StateStreaming}) {
		t.Errorf("state changes %v after a forged device closed, want [streaming]", got)
	}
	if st := s.Stats(); st.Reconnects != 0 || st.Foreign != 5 {
		t.Errorf("reconnects %d, foreign %d after 5 forged device closed; want 0 and 5", st.Reconnects, st.Foreign)
	}
}

// streamFrom sends a small frame every 20 ms from conn to dst until the
// test ends or stop is called.
func streamFrom(t *testing.T, conn *net.UDPConn, dst netip.AddrPort) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		jpeg := testFrame(0x22)
		for idx := uint16(1); ; idx++ {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			for _, p := range framePackets(idx, jpeg) {
				_, _ = conn.WriteToUDPAddrPort(p, dst)
			}
		}
	})
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

// TestSessionDeviceClosedWhileStreaming: a real "device closed" from the
// data port makes the session redo the handshake, but while video keeps
// flowing the camera is not lost (no SignalLoss). When media then stops
// during that handshake, it is.
func TestSessionDeviceClosedWhileStreaming(t *testing.T) {
	ip := camIP(22)
	cam := newScripted(t, ip)
	sink := newSink()
	var states stateLog
	s := newSession(t, fast(camsession.Config{Camera: ip, OnFrame: sink.on, OnState: states.on}))
	testutil.Go(t, s.Run)
	cam.handshake(s)
	stopStream := streamFrom(t, cam.data, s.LocalAddr())
	sink.next(t, 3*time.Second)
	waitFor(t, "state streaming", func() bool { return s.State() == camsession.StateStreaming })

	cam.drain(cam.ctrl)
	if _, err := cam.data.WriteToUDPAddrPort(camsession.AppendDeviceClosed(nil), s.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	cam.handshake(s) // the whole handshake again, on the same data port
	waitFor(t, "a reconnect counted", func() bool { return s.Stats().Reconnects == 1 })
	again := time.Now()
	for {
		f := sink.next(t, 2*time.Second)
		if f.Time.Sub(again) > time.Second { // twice MediaTimeout
			break
		}
	}
	if got := states.list(); !slices.Equal(got, []camsession.State{camsession.StateStreaming}) {
		t.Fatalf("state changes %v while video kept flowing, want [streaming]", got)
	}

	// The camera goes away for real in the middle of a new handshake.
	cam.drain(cam.ctrl)
	if _, err := cam.data.WriteToUDPAddrPort(camsession.AppendDeviceClosed(nil), s.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	stopStream()
	cam.expect(cam.ctrl, 2*time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	waitFor(t, "state lost", func() bool { return s.State() == camsession.StateLost })
	if got := states.list(); !slices.Equal(got, []camsession.State{camsession.StateStreaming, camsession.StateLost}) {
		t.Errorf("state changes %v, want [streaming lost]", got)
	}
}

// TestSessionPortResponseOnlyFromControlPort: a flood of port responses
// from other ports of the camera's IP cannot redirect the login.
func TestSessionPortResponseOnlyFromControlPort(t *testing.T) {
	ip := camIP(23)
	cam := newScripted(t, ip)
	decoy := listenOn(t, ip, 0)
	decoyPort := decoy.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	forger := listenOn(t, ip, 0)
	s := newSession(t, fast(camsession.Config{Camera: ip}))
	testutil.Go(t, s.Run)

	_, from := cam.expect(cam.ctrl, 3*time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	forged := camsession.AppendPortResponse(nil, camsession.PortResponse{DataPort: decoyPort, Name: "FORGED"})
	const flood = 50
	for range flood {
		_, _ = forger.WriteToUDPAddrPort(forged, from)
	}
	// The data port answering a port request is no better.
	_, _ = cam.data.WriteToUDPAddrPort(forged, from)
	resp := camsession.AppendPortResponse(nil, camsession.PortResponse{DataPort: cam.dataPort(), Name: "SCRIPTED"})
	if _, err := cam.ctrl.WriteToUDPAddrPort(resp, from); err != nil {
		t.Fatal(err)
	}
	cam.expect(cam.data, 3*time.Second, "login on the announced data port", isMsg(camsession.Sig1, camsession.CmdLogin))
	if s.CameraName() != "SCRIPTED" {
		t.Errorf("camera name %q, want the control port's answer", s.CameraName())
	}
	_ = decoy.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	buf := make([]byte, camsession.MaxDatagram)
	if n, _, err := decoy.ReadFromUDPAddrPort(buf); err == nil {
		t.Errorf("the session sent % x to the forged data port", buf[:min(n, 16)])
	}
	if st := s.Stats(); st.Foreign != flood+1 {
		t.Errorf("foreign %d, want the %d forged port responses", st.Foreign, flood+1)
	}
}
