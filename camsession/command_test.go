package camsession_test

import (
	"context"
	"errors"
	"fmt"
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

// Do tests use cameras on 127.0.4.30 and up.

// TestDoPortRequestFakeCamera asks a fake camera for its data port with Do
// while the session runs its own handshake on the same socket.
func TestDoPortRequestFakeCamera(t *testing.T) {
	ip := camIP(30)
	cam, _ := newCam(t, fakecam.Config{IP: ip, FPS: 20})
	testutil.Go(t, cam.Run)
	s := newSession(t, fast(camsession.Config{Camera: ip}))
	testutil.Go(t, s.Run)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := s.Do(ctx, camsession.PortRequest())
	if err != nil {
		t.Fatal(err)
	}
	pr, err := camsession.ParsePortResponse(r.Message)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != camsession.KindPortResponse || r.From != netip.AddrPortFrom(ip, camsession.ControlPort) ||
		int(pr.DataPort) != cam.DataPort() || pr.Name != cam.Name() {
		t.Errorf("reply %v from %v: %+v; want the port response of %s (data port %d) from its control port",
			r.Kind, r.From, pr, cam.Name(), cam.DataPort())
	}
	waitFor(t, "the session's data port", func() bool { return int(s.DataPort()) == cam.DataPort() })
}

// TestDoControlReplyFakeCamera sends a stream request with Do and waits for
// the fake camera's control response to it (PROTOCOL.md §3.6), which the
// session itself never waits for.
func TestDoControlReplyFakeCamera(t *testing.T) {
	ip := camIP(31)
	cam, _ := newCam(t, fakecam.Config{IP: ip, FPS: 20})
	testutil.Go(t, cam.Run)
	sink := newSink()
	s := newSession(t, fast(camsession.Config{Camera: ip, OnFrame: sink.on}))
	testutil.Go(t, s.Run)
	sink.next(t, 3*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := s.Do(ctx, camsession.Command{
		Name:      "stream request",
		Messages:  [][]byte{camsession.AppendStreamRequest(nil, camsession.MaskVideo)},
		Port:      camsession.PortData,
		ReplyKind: camsession.KindControl,
		Match: func(b []byte) bool {
			c, err := camsession.ParseControl(b)
			return err == nil && c.Response && c.Command == 0
		},
		Tries: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := camsession.ParseControl(r.Message)
	if err != nil || !c.Response || c.Sub != camsession.MaskVideo || len(c.Data) != 84 {
		t.Fatalf("reply %+v (%v), want a control response with mask 1 and 84 bytes of live parameters", c, err)
	}
	if r.From != netip.AddrPortFrom(ip, uint16(cam.DataPort())) {
		t.Errorf("reply from %v, want the data port %d", r.From, cam.DataPort())
	}
}

// TestDoWithoutReply: a command without reply returns once its copies are
// sent; they reach the data port, Copies times.
func TestDoWithoutReply(t *testing.T) {
	ip := camIP(32)
	cam := newScripted(t, ip)
	cfg := fast(camsession.Config{Camera: ip, Copies: 3})
	cfg.LoginRetry, cfg.MediaTimeout, cfg.KeepAlive = time.Minute, time.Minute, time.Minute // nothing else is sent
	s := newSession(t, cfg)
	testutil.Go(t, s.Run)
	cam.handshake(s)
	cam.drain(cam.data)

	msg := camsession.AppendStreamRequest(nil, camsession.MaskVideo)
	began := time.Now()
	if _, err := s.Do(context.Background(), camsession.Command{Name: "stream request", Messages: [][]byte{msg}}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < 40*time.Millisecond {
		t.Errorf("Do returned after %v: three copies are 20 ms apart", d)
	}
	for i := range 3 {
		b, from := cam.expect(cam.data, time.Second, fmt.Sprintf("copy %d", i+1), func([]byte) bool { return true })
		if !slices.Equal(b, msg) || from != s.LocalAddr() {
			t.Fatalf("copy %d: % x from %v", i+1, b, from)
		}
	}
}

// TestDoReplyMatchedByKindAndSource: only a datagram of the right kind,
// from the command's port and accepted by Match answers the command.
func TestDoReplyMatchedByKindAndSource(t *testing.T) {
	ip := camIP(33)
	cam := newScripted(t, ip)
	cfg := fast(camsession.Config{Camera: ip, Copies: 1})
	cfg.LoginRetry, cfg.MediaTimeout, cfg.KeepAlive = time.Minute, time.Minute, time.Minute
	s := newSession(t, cfg)
	testutil.Go(t, s.Run)
	cam.handshake(s)
	cam.drain(cam.data)

	type result struct {
		r   camsession.Reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := s.Do(ctx, camsession.Command{
			Name:      "stream request",
			Messages:  [][]byte{camsession.AppendStreamRequest(nil, camsession.MaskVideo)},
			ReplyKind: camsession.KindControl,
			Match: func(b []byte) bool {
				c, err := camsession.ParseControl(b)
				return err == nil && c.Response && c.Command == 0
			},
			Timeout: 10 * time.Second,
		})
		done <- result{r, err}
	}()
	cam.expect(cam.data, 2*time.Second, "the command", isMsg(camsession.Sig2, camsession.CmdControl))

	dst := s.LocalAddr()
	reply := camsession.AppendControl(nil, camsession.Control{Response: true, Session: 1, Sub: 1, Data: make([]byte, 84)})
	forger := listenOn(t, ip, 0)
	notReplies := []struct {
		from *net.UDPConn
		b    []byte
	}{
		{forger, reply}, // right kind, wrong port
		{cam.ctrl, reply},
		{cam.data, camsession.AppendControl(nil, camsession.Control{Session: 1, Command: 2, Data: make([]byte, 8)})}, // Match says no
		{cam.data, camsession.AppendPortResponse(nil, camsession.PortResponse{DataPort: 1})},                         // wrong kind
	}
	for _, n := range notReplies {
		if _, err := n.from.WriteToUDPAddrPort(n.b, dst); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cam.data.WriteToUDPAddrPort(reply, dst); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		if !slices.Equal(res.r.Message, reply) || res.r.From != netip.AddrPortFrom(ip, cam.dataPort()) {
			t.Errorf("reply % x from %v, want the control response from the data port", res.r.Message[:8], res.r.From)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the control response from the data port did not answer the command")
	}
	if st := s.Stats(); st.Foreign != 3 {
		t.Errorf("foreign %d, want 3 (another port, the control port twice)", st.Foreign)
	}
}

// TestDoRetriesWithBackoff: an unanswered command is sent again after each
// wait, the wait doubling up to MaxBackoff, until its tries run out.
func TestDoRetriesWithBackoff(t *testing.T) {
	ip := camIP(34)
	cam := newScripted(t, ip)
	cfg := fast(camsession.Config{Camera: ip, Copies: 1})
	cfg.PortTimeout, cfg.MaxBackoff = 300*time.Millisecond, 300*time.Millisecond
	s := newSession(t, cfg)
	testutil.Go(t, s.Run)
	cam.expect(cam.ctrl, 2*time.Second, "the session's port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))

	var waits []time.Duration
	cmd := camsession.PortRequest()
	cmd.Timeout, cmd.Tries = 50*time.Millisecond, 4
	cmd.OnNoReply = func(try int, waited time.Duration) {
		if try != len(waits)+1 {
			t.Errorf("try %d after %d", try, len(waits))
		}
		waits = append(waits, waited)
	}
	_, err := s.Do(context.Background(), cmd)
	if !errors.Is(err, camsession.ErrNoReply) {
		t.Fatalf("Do: %v, want ErrNoReply", err)
	}
	if want := []time.Duration{50, 100, 200, 300}; !slices.Equal(waits, []time.Duration{
		want[0] * time.Millisecond, want[1] * time.Millisecond, want[2] * time.Millisecond, want[3] * time.Millisecond}) {
		t.Errorf("waits %v, want 50ms 100ms 200ms 300ms (doubling, capped at MaxBackoff)", waits)
	}
	for i := range 4 {
		cam.expect(cam.ctrl, time.Second, fmt.Sprintf("port request %d", i+1), isMsg(camsession.Sig1, camsession.CmdPortRequest))
	}
}

// TestDoOneReplyAnswersAll: two commands and the session's handshake wait
// for a port response; one answers all three.
func TestDoOneReplyAnswersAll(t *testing.T) {
	ip := camIP(36)
	cam := newScripted(t, ip)
	cfg := fast(camsession.Config{Camera: ip, Copies: 1})
	cfg.PortTimeout = time.Minute // every port request waits quietly
	s := newSession(t, cfg)
	testutil.Go(t, s.Run)
	cam.expect(cam.ctrl, 2*time.Second, "the session's port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))

	var wg sync.WaitGroup
	replies := make(chan camsession.Reply, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 2 {
		wg.Go(func() {
			r, err := s.Do(ctx, camsession.PortRequest())
			if err != nil {
				t.Error(err)
			}
			replies <- r
		})
	}
	// Each command waits for its reply before it sends.
	_, from := cam.expect(cam.ctrl, time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	cam.expect(cam.ctrl, time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	resp := camsession.AppendPortResponse(nil, camsession.PortResponse{DataPort: cam.dataPort(), Name: "ONCE"})
	if _, err := cam.ctrl.WriteToUDPAddrPort(resp, from); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for range 2 {
		if r := <-replies; !slices.Equal(r.Message, resp) {
			t.Errorf("reply % x", r.Message)
		}
	}
	cam.expect(cam.data, time.Second, "the session's login", isMsg(camsession.Sig1, camsession.CmdLogin))
}

// TestDoErrors: what Do says when it cannot run a command.
func TestDoErrors(t *testing.T) {
	ip := camIP(35)
	cam := newScripted(t, ip)
	s := newSession(t, fast(camsession.Config{Camera: ip}))
	stream := camsession.Command{Name: "stream request", Messages: [][]byte{camsession.AppendStreamRequest(nil, camsession.MaskVideo)}}
	if _, err := s.Do(context.Background(), stream); !errors.Is(err, camsession.ErrNoDataPort) {
		t.Errorf("Do before Run: %v, want ErrNoDataPort", err)
	}
	r := testutil.Go(t, s.Run)
	cam.expect(cam.ctrl, 2*time.Second, "port request", isMsg(camsession.Sig1, camsession.CmdPortRequest))
	if _, err := s.Do(context.Background(), stream); !errors.Is(err, camsession.ErrNoDataPort) {
		t.Errorf("Do before the camera announced its data port: %v, want ErrNoDataPort", err)
	}
	if _, err := s.Do(context.Background(), camsession.Command{Name: "empty"}); err == nil {
		t.Error("Do of a command without messages succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Do(ctx, camsession.PortRequest()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do with a context that ends: %v, want its error", err)
	}
	r.Stop(t)
	if _, err := s.Do(context.Background(), camsession.PortRequest()); !errors.Is(err, camsession.ErrClosed) {
		t.Errorf("Do after Run returned: %v, want ErrClosed", err)
	}
}
