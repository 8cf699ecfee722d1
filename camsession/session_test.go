package camsession_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// Session tests use cameras on 127.0.4.x so they never collide with other
// packages' tests (fakecam uses 127.0.3.x).
func camIP(last byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 4, last}) }

// fast shortens the session timings so reconnection tests take a second.
func fast(cfg camsession.Config) camsession.Config {
	cfg.PortTimeout = 100 * time.Millisecond
	cfg.MaxBackoff = 300 * time.Millisecond
	cfg.KeepAlive = 300 * time.Millisecond
	cfg.LoginRetry = 200 * time.Millisecond
	cfg.MediaTimeout = 500 * time.Millisecond
	if cfg.LocalPort == 0 {
		cfg.LocalPort = -1
	}
	return cfg
}

// sentLog records what a fake camera sent.
type sentLog struct {
	mu     sync.Mutex
	frames map[uint64]fakecam.FrameSent
	last   uint64
}

func (l *sentLog) add(f fakecam.FrameSent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.frames == nil {
		l.frames = map[uint64]fakecam.FrameSent{}
	}
	l.frames[f.Seq] = f
	l.last = max(l.last, f.Seq)
}

func (l *sentLog) get(seq uint64) (fakecam.FrameSent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.frames[seq]
	return f, ok
}

func newCam(t *testing.T, cfg fakecam.Config) (*fakecam.Camera, *sentLog) {
	t.Helper()
	log := &sentLog{}
	if cfg.OnFrame == nil {
		cfg.OnFrame = log.add
	}
	c, err := fakecam.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, log
}

// frameSink collects a session's frames.
type frameSink struct {
	ch chan *camsession.Frame
}

func newSink() *frameSink { return &frameSink{ch: make(chan *camsession.Frame, 4096)} }

func (s *frameSink) on(f *camsession.Frame) {
	select {
	case s.ch <- f:
	default:
		panic("test frame sink full")
	}
}

// next returns the next frame or fails after d.
func (s *frameSink) next(t *testing.T, d time.Duration) *camsession.Frame {
	t.Helper()
	select {
	case f := <-s.ch:
		return f
	case <-time.After(d):
		t.Fatalf("no frame within %v", d)
		return nil
	}
}

func newSession(t *testing.T, cfg camsession.Config) *camsession.Session {
	t.Helper()
	s, err := camsession.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func seqOf(t *testing.T, f *camsession.Frame) uint64 {
	t.Helper()
	_, seq, ok := fakecam.FrameSeq(f.JPEG)
	if !ok {
		t.Fatalf("frame %d carries no fake-camera marker", f.Index)
	}
	return seq
}

func TestSessionFramesByteIdentical(t *testing.T) {
	ip := camIP(1)
	cam, sent := newCam(t, fakecam.Config{IP: ip, FPS: 100})
	testutil.Go(t, cam.Run)
	sink := newSink()
	var states []camsession.State
	var stMu sync.Mutex
	s := newSession(t, camsession.Config{ // real default timings and port choice
		Camera:  ip,
		OnFrame: sink.on,
		OnState: func(st camsession.State) { stMu.Lock(); states = append(states, st); stMu.Unlock() },
	})
	if la := s.LocalAddr(); la.Addr() != netip.MustParseAddr("127.0.0.1") || la.Port() < camsession.FirstLocalPort {
		t.Errorf("local address %v: want 127.0.0.1 and a port from %d", la, camsession.FirstLocalPort)
	}
	testutil.Go(t, s.Run)

	var prev *camsession.Frame
	for i := range 200 {
		f := sink.next(t, 3*time.Second)
		seq := seqOf(t, f)
		want, ok := sent.get(seq)
		if !ok {
			t.Fatalf("frame seq %d was never sent", seq)
		}
		if !bytes.Equal(f.JPEG, want.JPEG) {
			t.Fatalf("frame seq %d differs from what the camera sent (%d vs %d bytes)", seq, len(f.JPEG), len(want.JPEG))
		}
		if f.Index != want.Index || f.Seq != uint64(i+1) || f.Time.IsZero() {
			t.Errorf("frame %d: index %d (sent %d), session seq %d", i, f.Index, want.Index, f.Seq)
		}
		if prev != nil && seq <= seqOf(t, prev) {
			t.Errorf("frame seq %d after %d", seq, seqOf(t, prev))
		}
		prev = f
	}
	st := s.Stats()
	if st.FramesComplete < 200 || st.BadPackets != 0 || st.Foreign != 0 || st.Packets == 0 {
		t.Errorf("stats %+v", st)
	}
	if st.FPS < 20 || time.Since(st.LastFrame) > time.Second {
		t.Errorf("fps %.1f, last frame %v ago", st.FPS, time.Since(st.LastFrame))
	}
	waitFor(t, "state streaming", func() bool { return s.State() == camsession.StateStreaming })
	if s.CameraName() != cam.Name() {
		t.Errorf("name %q state %v", s.CameraName(), s.State())
	}
	stMu.Lock()
	defer stMu.Unlock()
	if len(states) != 1 || states[0] != camsession.StateStreaming {
		t.Errorf("state changes %v, want [streaming]", states)
	}
}

func TestSessionLossyNetwork(t *testing.T) {
	ip := camIP(2)
	cam, sent := newCam(t, fakecam.Config{IP: ip, FPS: 100, Loss: 0.05, Duplicate: 0.05, Reorder: 0.05, Seed: 42, Quiet: false})
	camRun := testutil.Go(t, cam.Run)
	sink := newSink()
	s := newSession(t, fast(camsession.Config{Camera: ip, OnFrame: sink.on}))
	sessRun := testutil.Go(t, s.Run)

	deadline := time.Now().Add(10 * time.Second)
	for {
		sent.mu.Lock()
		n := sent.last
		sent.mu.Unlock()
		if n >= 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("camera sent only %d frames", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	camRun.Stop(t)
	time.Sleep(200 * time.Millisecond) // everything sent has arrived on loopback
	sessRun.Stop(t)
	close(sink.ch)

	got := map[uint64]bool{}
	for f := range sink.ch {
		seq := seqOf(t, f)
		want, _ := sent.get(seq)
		if want.Damaged {
			t.Errorf("frame seq %d delivered although the camera lost one of its packets", seq)
		}
		if !bytes.Equal(f.JPEG, want.JPEG) {
			t.Errorf("frame seq %d corrupted", seq)
		}
		got[seq] = true
	}
	sent.mu.Lock()
	defer sent.mu.Unlock()
	var damaged, missing int
	for seq, f := range sent.frames {
		switch {
		case f.Damaged:
			damaged++
		case !got[seq] && seq+1 < sent.last: // the stop may cut the last two
			missing++
			t.Errorf("intact frame seq %d (index %d) not delivered", seq, f.Index)
		}
	}
	st := s.Stats()
	t.Logf("sent %d frames, %d damaged, delivered %d; stats %+v", len(sent.frames), damaged, len(got), st)
	if damaged == 0 || st.Duplicates == 0 || st.Reorders == 0 || st.FramesDropped == 0 {
		t.Errorf("impairments not exercised: damaged %d, stats %+v", damaged, st)
	}
}

func TestSessionCameraRestartsWithNewDataPort(t *testing.T) {
	ip := camIP(3)
	cam, _ := newCam(t, fakecam.Config{IP: ip, FPS: 50})
	camRun := testutil.Go(t, cam.Run)
	sink := newSink()
	states := make(chan camsession.State, 16)
	s := newSession(t, fast(camsession.Config{Camera: ip, OnFrame: sink.on, OnState: func(st camsession.State) { states <- st }}))
	testutil.Go(t, s.Run)
	sink.next(t, 3*time.Second)
	oldPort := cam.DataPort()

	camRun.Stop(t)
	time.Sleep(800 * time.Millisecond) // longer than MediaTimeout: the session backs off
	// The restarted camera is stopped by the test's cleanup.
	testutil.Go(t, cam.Run)
	waitFor(t, "a new data port", func() bool { return cam.DataPort() != oldPort })
	// Drain what arrived before the restart, then wait for new frames.
	restarted := time.Now()
	for {
		f := sink.next(t, 5*time.Second)
		if f.Time.After(restarted) {
			break
		}
	}
	if st := s.Stats(); st.Reconnects == 0 {
		t.Errorf("no reconnect counted: %+v", st)
	}
	want := []camsession.State{camsession.StateStreaming, camsession.StateLost, camsession.StateStreaming}
	for _, w := range want {
		select {
		case st := <-states:
			if st != w {
				t.Errorf("state %v, want %v", st, w)
			}
		case <-time.After(time.Second):
			t.Errorf("missing state %v", w)
		}
	}
}

func TestSessionRestartSamePort(t *testing.T) {
	ip := camIP(4)
	cam, _ := newCam(t, fakecam.Config{IP: ip, FPS: 25})
	testutil.Go(t, cam.Run)

	sink1 := newSink()
	s1 := newSession(t, camsession.Config{Camera: ip, OnFrame: sink1.on}) // default timings
	r1 := testutil.Go(t, s1.Run)
	sink1.next(t, 3*time.Second)
	addr := s1.LocalAddr()
	r1.Stop(t) // the process ends; the camera keeps streaming to addr

	began := time.Now()
	sink2 := newSink()
	s2 := newSession(t, camsession.Config{Camera: ip, LocalPort: int(addr.Port()), OnFrame: sink2.on})
	if s2.LocalAddr() != addr {
		t.Fatalf("restarted session on %v, want %v", s2.LocalAddr(), addr)
	}
	testutil.Go(t, s2.Run)
	sink2.next(t, 3*time.Second)
	t.Logf("first frame %v after the restart", time.Since(began).Round(time.Millisecond))
	waitFor(t, "state streaming", func() bool { return s2.State() == camsession.StateStreaming })
}

func TestSessionRestartMethodAndAudio(t *testing.T) {
	ip := camIP(5)
	cam, _ := newCam(t, fakecam.Config{IP: ip, FPS: 30, Audio: true})
	testutil.Go(t, cam.Run)
	sink := newSink()
	audio := make(chan *camsession.Audio, 1024)
	s := newSession(t, fast(camsession.Config{Camera: ip, Audio: true, OnFrame: sink.on,
		OnAudio: func(a *camsession.Audio) {
			select {
			case audio <- a:
			default:
			}
		}}))
	testutil.Go(t, s.Run)
	sink.next(t, 3*time.Second)
	var prev *camsession.Audio
	for range 5 {
		select {
		case a := <-audio:
			if len(a.ADPCM) != fakecam.AudioBlockLen {
				t.Errorf("audio payload %d bytes, want %d", len(a.ADPCM), fakecam.AudioBlockLen)
			}
			if prev != nil && a.Index != prev.Index+1 {
				t.Logf("audio index %d after %d", a.Index, prev.Index)
			}
			prev = a
		case <-time.After(2 * time.Second):
			t.Fatal("no audio")
		}
	}
	// Payloads are copies: later packets do not overwrite earlier ones.
	saved := bytes.Clone(prev.ADPCM)
	time.Sleep(100 * time.Millisecond)
	if !bytes.Equal(saved, prev.ADPCM) {
		t.Error("audio payload changed after delivery")
	}

	s.Restart()
	deadline := time.Now().Add(3 * time.Second)
	for s.Stats().Reconnects == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Restart did not redo the handshake")
		}
		time.Sleep(10 * time.Millisecond)
	}
	n := s.Stats().FramesComplete
	for s.Stats().FramesComplete < n+10 {
		if time.Now().After(deadline) {
			t.Fatal("no frames after Restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.Stats(); st.AudioPackets == 0 {
		t.Errorf("stats %+v", st)
	}
}

// scriptedCamera is a hand-driven camera for checking the session's
// messages byte by byte.
type scriptedCamera struct {
	t          *testing.T
	ctrl, data *net.UDPConn
}

func newScripted(t *testing.T, ip netip.Addr) *scriptedCamera {
	t.Helper()
	listen := func(port int) *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return &scriptedCamera{t: t, ctrl: listen(camsession.ControlPort), data: listen(0)}
}

func (c *scriptedCamera) dataPort() uint16 {
	return c.data.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

// expect reads datagrams on conn until one satisfies ok, failing after d.
func (c *scriptedCamera) expect(conn *net.UDPConn, d time.Duration, what string, ok func([]byte) bool) ([]byte, netip.AddrPort) {
	c.t.Helper()
	buf := make([]byte, camsession.MaxDatagram)
	deadline := time.Now().Add(d)
	for {
		_ = conn.SetReadDeadline(deadline)
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok(buf[:n]) {
			return bytes.Clone(buf[:n]), from
		}
	}
}

// drain discards the datagrams queued on conn (e.g. further copies).
func (c *scriptedCamera) drain(conn *net.UDPConn) {
	buf := make([]byte, camsession.MaxDatagram)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := conn.ReadFromUDPAddrPort(buf); err != nil {
			return
		}
	}
}

func isMsg(sig camsession.Signature, cmd uint16) func([]byte) bool {
	return func(b []byte) bool {
		h, err := camsession.ParseHeader(b)
		return err == nil && h.Sig == sig && h.Cmd == cmd
	}
}

func TestSessionProtocolAndFiltering(t *testing.T) {
	ip := camIP(6)
	cam := newScripted(t, ip)
	sink := newSink()
	audio := make(chan *camsession.Audio, 16)
	s := newSession(t, fast(camsession.Config{Camera: ip, Copies: 3, OnFrame: sink.on,
		OnAudio: func(a *camsession.Audio) { audio <- a }}))
	testutil.Go(t, s.Run)

	// Port request, in Copies copies, answered to its source.
	req, from := cam.expect(cam.ctrl, 2*time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	if !bytes.Equal(req, camsession.AppendPortRequest(nil)) || from != s.LocalAddr() {
		t.Fatalf("port request % x from %v (session %v)", req, from, s.LocalAddr())
	}
	resp := camsession.AppendPortResponse(nil, camsession.PortResponse{DataPort: cam.dataPort(), IP: ip, Name: "SCRIPTED"})
	if _, err := cam.ctrl.WriteToUDPAddrPort(resp, from); err != nil {
		t.Fatal(err)
	}
	// Login carrying the real local address, then stream requests, 3 copies each.
	var logins, streams int
	for logins < 3 || streams < 3 {
		b, src := cam.expect(cam.data, 2*time.Second, "login and stream request", func([]byte) bool { return true })
		if src != s.LocalAddr() {
			t.Fatalf("datagram from %v, want the session socket %v", src, s.LocalAddr())
		}
		if l, err := camsession.ParseLogin(b); err == nil {
			if l.Addr != s.LocalAddr() || l.Addr.Addr().IsUnspecified() || l.PasswordHash != camsession.DefaultPasswordHash {
				t.Fatalf("login %+v, want address %v", l, s.LocalAddr())
			}
			if streams > 0 {
				t.Fatal("login after the stream request")
			}
			logins++
			continue
		}
		if c, err := camsession.ParseControl(b); err == nil {
			if m, ok := c.StreamMask(); !ok || m != camsession.MaskVideo {
				t.Fatalf("control %+v, want a video stream request", c)
			}
			streams++
		}
	}
	if s.CameraName() != "SCRIPTED" {
		t.Errorf("camera name %q", s.CameraName())
	}

	// Garbage from the camera: counted, never a panic.
	dst := s.LocalAddr()
	bad := [][]byte{nil, []byte("1TE"), []byte("XTEG\x03\x00\x00\x00"), {'2', 'T', 'E', 'G', 3, 0, 0xff, 0xff}}
	for _, b := range bad {
		_, _ = cam.data.WriteToUDPAddrPort(b, dst)
	}
	// A valid frame and an audio packet from a foreign address: dropped.
	jpeg := append([]byte{0xff, 0xd8}, bytes.Repeat([]byte{1, 2, 3}, 1000)...)
	jpeg = append(jpeg, 0xff, 0xd9)
	var pkts [][]byte
	for i := 0; i*1000 < len(jpeg); i++ {
		pkts = append(pkts, camsession.AppendMedia(nil, camsession.Media{Frame: 77, Packet: uint16(i),
			Payload: jpeg[i*1000 : min(len(jpeg), (i+1)*1000)]}, nil))
	}
	audioPkt := camsession.AppendMedia(nil, camsession.Media{Audio: true, Frame: 5, Payload: []byte{9, 8, 7}}, []byte{0, 0, 0, 0})
	foreign, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.9:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Close()
	for _, p := range append(pkts, audioPkt) {
		_, _ = foreign.WriteToUDPAddrPort(p, dst)
	}
	waitFor(t, "foreign datagrams counted", func() bool { return s.Stats().Foreign == uint64(len(pkts)+1) })
	waitFor(t, "bad packets counted", func() bool { return s.Stats().BadPackets == uint64(len(bad)) })
	select {
	case f := <-sink.ch:
		t.Fatalf("frame %d from a foreign address delivered", f.Index)
	case a := <-audio:
		t.Fatalf("audio %d from a foreign address delivered", a.Index)
	default:
	}

	// The same datagrams from the camera's address are accepted.
	for _, p := range append(pkts, audioPkt) {
		_, _ = cam.data.WriteToUDPAddrPort(p, dst)
	}
	f := sink.next(t, 2*time.Second)
	if !bytes.Equal(f.JPEG, jpeg) || f.Index != 77 {
		t.Errorf("frame %d of %d bytes", f.Index, len(f.JPEG))
	}
	select {
	case a := <-audio:
		if !bytes.Equal(a.ADPCM, []byte{9, 8, 7}) || a.Index != 5 {
			t.Errorf("audio %+v", a)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no audio delivered")
	}
	waitFor(t, "state streaming", func() bool { return s.State() == camsession.StateStreaming })

	// Device closed: the whole handshake is redone with a port request.
	cam.drain(cam.ctrl)
	_, _ = cam.data.WriteToUDPAddrPort(camsession.AppendDeviceClosed(nil), dst)
	cam.expect(cam.ctrl, 2*time.Second, "port request after device closed", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	if st := s.Stats(); st.Reconnects != 1 {
		t.Errorf("reconnects %d after device closed", st.Reconnects)
	}
}

func TestSessionResendsLoginUntilMedia(t *testing.T) {
	ip := camIP(7)
	cam := newScripted(t, ip)
	s := newSession(t, fast(camsession.Config{Camera: ip, Copies: 1, Audio: true}))
	testutil.Go(t, s.Run)
	_, from := cam.expect(cam.ctrl, 2*time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	resp := camsession.AppendPortResponse(nil, camsession.PortResponse{DataPort: cam.dataPort(), IP: ip})
	_, _ = cam.ctrl.WriteToUDPAddrPort(resp, from)
	// No media: the login comes again after LoginRetry, with both stream
	// requests (mask 1 and, for audio, mask 3) after each login.
	var masks []uint32
	logins := 0
	began := time.Now()
	for logins < 2 {
		b, _ := cam.expect(cam.data, 2*time.Second, "login", func([]byte) bool { return true })
		if _, err := camsession.ParseLogin(b); err == nil {
			logins++
		} else if c, err := camsession.ParseControl(b); err == nil {
			m, _ := c.StreamMask()
			masks = append(masks, m)
		}
	}
	if d := time.Since(began); d < 150*time.Millisecond {
		t.Errorf("second login after %v, LoginRetry is 200ms", d)
	}
	if fmt.Sprint(masks) != "[1 3]" {
		t.Errorf("stream request masks %v, want [1 3]", masks)
	}
	// Still no media after MediaTimeout: a new handshake, the data port may
	// have changed.
	cam.expect(cam.ctrl, 2*time.Second, "new port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
}

func TestSessionBacksOffWhileUnreachable(t *testing.T) {
	ip := camIP(8)
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, camsession.ControlPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := newSession(t, camsession.Config{Camera: ip, LocalPort: -1, Copies: 1,
		PortTimeout: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	testutil.Go(t, s.Run)
	var times []time.Time
	buf := make([]byte, 100)
	for len(times) < 6 {
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := conn.ReadFromUDPAddrPort(buf); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Now())
	}
	// Expected gaps: 50, 100, 200, 200, 200 ms (doubling, capped). Checked
	// loosely: the machine may be busy.
	var gaps []time.Duration
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i].Sub(times[i-1]))
	}
	if gaps[0] >= gaps[3] {
		t.Errorf("no back-off: gaps %v", gaps)
	}
	if capped := gaps[2] + gaps[3] + gaps[4]; capped < 480*time.Millisecond || capped > time.Second {
		t.Errorf("gaps %v: the last three should be about 200ms each (MaxBackoff)", gaps)
	}
	if s.State() != camsession.StateConnecting {
		t.Errorf("state %v", s.State())
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewErrors(t *testing.T) {
	busy, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.LocalAddr().(*net.UDPAddr).Port
	cases := []struct {
		name string
		cfg  camsession.Config
		want string
	}{
		{"no camera", camsession.Config{}, "not an IPv4 address"},
		{"IPv6 camera", camsession.Config{Camera: netip.MustParseAddr("::1")}, "not an IPv4 address"},
		{"unspecified camera", camsession.Config{Camera: netip.MustParseAddr("0.0.0.0")}, "not an IPv4 address"},
		{"busy port", camsession.Config{Camera: camIP(9), LocalPort: busyPort}, fmt.Sprintf("local port %d busy", busyPort)},
		{"foreign local IP", camsession.Config{Camera: camIP(9), LocalIP: netip.MustParseAddr("192.0.2.1"), LocalPort: -1}, "not an address of this machine"},
		{"bad copies", camsession.Config{Camera: camIP(9), Copies: -1}, "copies"},
		{"negative timing", camsession.Config{Camera: camIP(9), KeepAlive: -time.Second}, "KeepAlive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := camsession.New(c.cfg)
			if err == nil {
				s.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
	// Port 0 searches upward from 41773: two sessions get different ports.
	a := newSession(t, camsession.Config{Camera: camIP(9)})
	b := newSession(t, camsession.Config{Camera: camIP(9)})
	pa, pb := a.LocalAddr().Port(), b.LocalAddr().Port()
	if pa < camsession.FirstLocalPort || pb <= pa {
		t.Errorf("ports %d and %d", pa, pb)
	}
	// Bound to all interfaces, the login still carries the real address.
	wild := newSession(t, camsession.Config{Camera: camIP(9), LocalIP: netip.IPv4Unspecified(), LocalPort: -1})
	if got := wild.LocalAddr(); got.Addr() != netip.MustParseAddr("127.0.0.1") || got.Port() == 0 {
		t.Errorf("login address %v with LocalIP 0.0.0.0, want 127.0.0.1:port", got)
	}
	// A closed session's Run reports an error instead of hanging.
	a.Close()
	if err := a.Run(context.Background()); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("Run on a closed session: %v", err)
	}
}

// TestSessionLatency: a frame is delivered as soon as its last packet
// arrives, not when the next frame starts (a whole frame interval later).
func TestSessionLatency(t *testing.T) {
	ip := camIP(10)
	var mu sync.Mutex
	sentAt := map[uint64]time.Time{}
	cam, err := fakecam.New(fakecam.Config{IP: ip, FPS: 4, OnFrame: func(f fakecam.FrameSent) {
		mu.Lock()
		sentAt[f.Seq] = time.Now()
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Go(t, cam.Run)
	sink := newSink()
	s := newSession(t, fast(camsession.Config{Camera: ip, OnFrame: sink.on}))
	testutil.Go(t, s.Run)
	const interval = 250 * time.Millisecond
	for range 3 {
		f := sink.next(t, 3*time.Second)
		seq := seqOf(t, f)
		mu.Lock()
		lat := f.Time.Sub(sentAt[seq])
		mu.Unlock()
		if lat > interval/2 {
			t.Errorf("frame seq %d delivered %v after it was sent; the frame interval is %v", seq, lat, interval)
		}
	}
}

// TestLocalPortsBeyondSearch: a bridge with more cameras on one local
// address than the port search covers still starts them all; the ones past
// the range get any free port.
func TestLocalPortsBeyondSearch(t *testing.T) {
	local := netip.MustParseAddr("127.0.4.250")
	for p := camsession.FirstLocalPort; p < camsession.FirstLocalPort+camsession.LocalPortTries; p++ {
		c, err := net.ListenPacket("udp4", netip.AddrPortFrom(local, uint16(p)).String())
		if err != nil {
			continue // taken by another program: just as busy
		}
		t.Cleanup(func() { c.Close() })
	}
	s := newSession(t, camsession.Config{Camera: camIP(9), LocalIP: local, LocalPort: 0})
	got := s.LocalAddr()
	if got.Addr() != local || got.Port() == 0 {
		t.Fatalf("local address %v, want %v and a port", got, local)
	}
	if p := int(got.Port()); p >= camsession.FirstLocalPort && p < camsession.FirstLocalPort+camsession.LocalPortTries {
		t.Errorf("port %d is inside the busy search range", p)
	}
}

// TestSessionLargePackets: a camera whose media packets are far larger
// than the vendor library's 1032-byte pieces is still received whole; the
// receive buffer grows at the first such datagram, which alone is lost.
func TestSessionLargePackets(t *testing.T) {
	ip := camIP(43)
	cam, sent := newCam(t, fakecam.Config{IP: ip, FPS: 20, PacketSize: 16000})
	testutil.Go(t, cam.Run)
	sink := newSink()
	s := newSession(t, fast(camsession.Config{Camera: ip, OnFrame: sink.on}))
	testutil.Go(t, s.Run)
	for range 10 {
		f := sink.next(t, 3*time.Second)
		if want, ok := sent.get(seqOf(t, f)); !ok || !bytes.Equal(f.JPEG, want.JPEG) {
			t.Fatalf("frame %d (%d bytes) is not the one the camera sent", seqOf(t, f), len(f.JPEG))
		}
	}
	if st := s.Stats(); st.BadPackets > 1 || st.FramesDropped > 1 {
		t.Errorf("bad packets %d, dropped frames %d: want at most the first datagram lost", st.BadPackets, st.FramesDropped)
	}
}
