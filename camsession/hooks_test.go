package camsession_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// Hook tests use cameras on 127.0.4.40 and up.

// hookLog records the hooks a session called, in order, as text.
type hookLog struct{ ch chan string }

func newHookLog() *hookLog { return &hookLog{ch: make(chan string, 256)} }

func (h *hookLog) add(format string, args ...any) {
	select {
	case h.ch <- fmt.Sprintf(format, args...):
	default:
		panic("hook log full")
	}
}

// expect fails unless the next hook calls are want, in order.
func (h *hookLog) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-h.ch:
			if got != w {
				t.Fatalf("hook %q, want %q", got, w)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no hook call, want %q", w)
		}
	}
}

func (h *hookLog) config(cfg camsession.Config) camsession.Config {
	cfg.OnState = func(st camsession.State) { h.add("state %v", st) }
	cfg.OnUnreachable = func(attempt int, waited time.Duration) { h.add("unreachable %d %v", attempt, waited) }
	cfg.OnCameraAnswered = func(name string, port uint16) { h.add("answered %s %d", name, port) }
	cfg.OnLoginRetry = func(attempt int) { h.add("login retry %d", attempt) }
	cfg.OnNoMedia = func(waited time.Duration) { h.add("no media %v", waited) }
	cfg.OnMediaStopped = func(silence time.Duration) {
		if silence < cfg.MediaTimeout {
			h.add("media stopped after only %v", silence)
			return
		}
		h.add("media stopped")
	}
	cfg.OnDeviceClosed = func() { h.add("device closed") }
	return cfg
}

// TestSessionHooks walks a session through everything it reports: a camera
// that does not answer, then answers but does not stream, streams, closes
// the session and goes away.
func TestSessionHooks(t *testing.T) {
	ip := camIP(40)
	cam := newScripted(t, ip)
	hooks := newHookLog()
	sink := newSink()
	s := newSession(t, hooks.config(fast(camsession.Config{Camera: ip, Copies: 1, OnFrame: sink.on})))
	testutil.Go(t, s.Run)

	// fast: PortTimeout 100 ms doubling up to MaxBackoff 300 ms.
	for range 2 {
		cam.expect(cam.ctrl, 2*time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	}
	cam.handshake(s) // answers the third at once
	hooks.expect(t, "unreachable 1 100ms", "unreachable 2 200ms")
	port := cam.dataPort()
	// LoginRetry 200 ms, MediaTimeout 500 ms: logins at 0, 200 and 400 ms.
	hooks.expect(t, fmt.Sprintf("answered SCRIPTED %d", port), "login retry 1", "login retry 2", "no media 500ms")

	cam.handshake(s)
	hooks.expect(t, fmt.Sprintf("answered SCRIPTED %d", port))
	stop := streamFrom(t, cam.data, s.LocalAddr())
	hooks.expect(t, "state streaming")

	cam.drain(cam.ctrl)
	if _, err := cam.data.WriteToUDPAddrPort(camsession.AppendDeviceClosed(nil), s.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	hooks.expect(t, "device closed")
	cam.handshake(s)
	loggedIn := time.Now()
	hooks.expect(t, fmt.Sprintf("answered SCRIPTED %d", port))
	for f := sink.next(t, 2*time.Second); f.Time.Before(loggedIn); f = sink.next(t, 2*time.Second) {
	} // media answered the login

	stop()
	hooks.expect(t, "media stopped", "state lost")
	cam.expect(cam.ctrl, 2*time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	if st := s.Stats(); st.Reconnects != 3 {
		t.Errorf("reconnects %d, want 3 (no media, device closed, media stopped)", st.Reconnects)
	}
}

// clock is a settable clock for the session's monitor.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestSessionReportsReceiveProblems: the counters of receive problems are
// reported once per ReportInterval of the session's clock, and only when
// they changed.
func TestSessionReportsReceiveProblems(t *testing.T) {
	ip := camIP(41)
	cam, _ := newCam(t, fakecam.Config{IP: ip, FPS: 50, Loss: 0.05, Seed: 7})
	testutil.Go(t, cam.Run)
	sink := newSink()
	reports := make(chan camsession.Stats, 16)
	s := newSession(t, camsession.Config{Camera: ip, LocalPort: -1, OnFrame: sink.on,
		OnReceiveProblems: func(st camsession.Stats) { reports <- st }})
	clk := &clock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	camsession.SetTimeNow(s, clk.Now)
	testutil.Go(t, s.Run)
	for range 10 {
		sink.next(t, 3*time.Second)
	}
	waitFor(t, "a dropped frame", func() bool { return s.Stats().FramesDropped > 0 })

	clk.advance(camsession.ReportInterval - time.Millisecond)
	for range 5 { // frames keep coming; the monitor looks every 100 ms
		sink.next(t, 3*time.Second)
	}
	select {
	case st := <-reports:
		t.Fatalf("report before ReportInterval: %+v", st)
	default:
	}
	clk.advance(time.Millisecond)
	select {
	case st := <-reports:
		if st.FramesDropped == 0 || st.FramesComplete < 10 {
			t.Errorf("report %+v, want the dropped frames and the frames so far", st)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no report after ReportInterval")
	}
}

// failingConn fails reads while fail is above zero.
type failingConn struct {
	*net.UDPConn
	fail atomic.Int32
}

var errInjected = errors.New("injected read error")

func (c *failingConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	if c.fail.Add(-1) >= 0 {
		return 0, netip.AddrPort{}, errInjected
	}
	return c.UDPConn.ReadFromUDPAddrPort(b)
}

// TestSessionReceiveErrors: failed reads of the socket are reported once per
// run of failures, counted, and the session goes on receiving.
func TestSessionReceiveErrors(t *testing.T) {
	ip := camIP(42)
	cam, _ := newCam(t, fakecam.Config{IP: ip, FPS: 50})
	testutil.Go(t, cam.Run)
	var conn *failingConn
	var listened []string
	errs := make(chan error, 16)
	sink := newSink()
	s := newSession(t, fast(camsession.Config{Camera: ip, OnFrame: sink.on,
		OnReceiveError: func(err error) { errs <- err },
		ListenPacket: func(network, address string) (net.PacketConn, error) {
			listened = append(listened, network+" "+address)
			pc, err := net.ListenPacket(network, address)
			if err != nil {
				return nil, err
			}
			conn = &failingConn{UDPConn: pc.(*net.UDPConn)}
			return conn, nil
		}}))
	if len(listened) != 1 || listened[0] != "udp4 127.0.0.1:0" {
		t.Errorf("ListenPacket called with %q, want one udp4 127.0.0.1:0 (LocalPort -1)", listened)
	}
	testutil.Go(t, s.Run)
	sink.next(t, 3*time.Second)

	for burst := range 2 {
		conn.fail.Store(3)
		select {
		case err := <-errs:
			if !errors.Is(err, errInjected) {
				t.Errorf("receive error %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("burst %d: no receive error reported", burst)
		}
		waitFor(t, "the failures counted", func() bool { return s.Stats().ReceiveErrors == uint64(3*(burst+1)) })
		n := s.Stats().FramesComplete
		waitFor(t, "frames again", func() bool { return s.Stats().FramesComplete > n+3 })
	}
	select {
	case err := <-errs:
		t.Errorf("a second report within one run of failures: %v", err)
	default:
	}
}
