package rtsp

import (
	"context"
	"encoding/binary"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/stream"
)

// playTCP sets up the given tracks of url over interleaved TCP (track i on
// channels 2i, 2i+1) and plays them.
func playTCP(t *testing.T, addr, url string, tracks ...int) *rawClient {
	t.Helper()
	c := dialRaw(t, addr)
	for _, i := range tracks {
		res := c.do("SETUP", url+"/trackID="+string(rune('0'+i)),
			"Transport: RTP/AVP/TCP;unicast;interleaved="+string(rune('0'+2*i))+"-"+string(rune('0'+2*i+1)))
		if res.status != 200 {
			t.Fatalf("SETUP %s track %d: %d %s", url, i, res.status, res.body)
		}
		c.session = sessionID(res.header.get("Session"))
	}
	if res := c.do("PLAY", url); res.status != 200 {
		t.Fatalf("PLAY %s: %d", url, res.status)
	}
	return c
}

// rtpOn reads interleaved frames until n RTP packets arrived on channel ch,
// or fails the test after within.
func rtpOn(t *testing.T, c *rawClient, ch byte, n int, within time.Duration) {
	t.Helper()
	rtpWhere(t, c, ch, n, within, "", func([]byte) bool { return true })
}

// rtpAfter is rtpOn counting only packets with a timestamp later than ts.
func rtpAfter(t *testing.T, c *rawClient, ch byte, n int, ts uint32, within time.Duration) {
	t.Helper()
	rtpWhere(t, c, ch, n, within, " after the restart", func(p []byte) bool {
		return len(p) >= rtpHeaderLen && int32(binary.BigEndian.Uint32(p[4:])-ts) > 0
	})
}

// rtpWhere reads interleaved frames until n RTP packets for which ok holds
// arrived on channel ch, or fails the test (saying what) after within.
func rtpWhere(t *testing.T, c *rawClient, ch byte, n int, within time.Duration, what string, ok func(p []byte) bool) {
	t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(within))
	got := 0
	for got < n {
		f, err := c.readFrame()
		if err != nil {
			t.Fatalf("%d of %d RTP packets on channel %d%s: %v", got, n, ch, what, err)
		}
		if f.ch == ch && ok(f.data) {
			got++
		}
	}
}

// closedSoon reports whether the server closes c's connection within d.
func closedSoon(c *rawClient, d time.Duration) bool {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := c.readFrame(); err != nil {
			return !strings.Contains(err.Error(), "timeout")
		}
	}
}

// nilDeref is how the runtime describes the panics the fakes below cause.
const nilDeref = "invalid memory address or nil pointer dereference"

// checkPanicLog checks that the server logged the panic value and the
// stack of the goroutine that panicked at error level, with want in it.
func checkPanicLog(t *testing.T, logs *testutil.SyncBuffer, value string, want ...string) {
	t.Helper()
	log := logs.String()
	for _, w := range append([]string{"level=ERROR", value, "stack="}, want...) {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
}

// waitLog waits until the log contains s, failing the test after within.
func waitLog(t *testing.T, logs *testutil.SyncBuffer, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within %v", s, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// breakingListener accepts connections whose Write panics the first time
// interleaved data (a '$' frame) is written to the client at victim: the
// writer goroutine of that client's session is the one that panics.
type breakingListener struct {
	net.Listener
	victim atomic.Pointer[string] // the client's address; nil once broken
}

func (l *breakingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &breakingConn{Conn: c, l: l}, nil
}

type breakingConn struct {
	net.Conn
	l *breakingListener
}

func (c *breakingConn) Write(p []byte) (int, error) {
	if len(p) > 0 && p[0] == interleavedMagic {
		if v := c.l.victim.Load(); v != nil && *v == c.RemoteAddr().String() && c.l.victim.CompareAndSwap(v, nil) {
			panic("injected goroutine panic")
		}
	}
	return c.Conn.Write(p)
}

// TestWriterPanicEndsOnlyItsSession: a panic in one session's writer (here
// its connection panics when the writer sends the first RTP packet) is
// logged with its stack and ends that session (and its interleaved
// connection); another session keeps playing and the server keeps serving.
func TestWriterPanicEndsOnlyItsSession(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	srv := &Server{}
	logs := logTo(t, srv)
	srv.Handle("cam", Source{Video: hub})
	ln := &breakingListener{Listener: listen(t)}
	addr := serveTestOn(t, srv, ln, hub)
	url := "rtsp://" + addr + "/cam/jpeg"

	good := playTCP(t, addr, url, 0)
	rtpOn(t, good, 0, 3, 5*time.Second)
	bad := dialRaw(t, addr)
	res := bad.do("SETUP", url+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if res.status != 200 {
		t.Fatalf("SETUP: %d", res.status)
	}
	bad.session = sessionID(res.header.get("Session"))
	victim := bad.nc.LocalAddr().String()
	ln.victim.Store(&victim)
	if res := bad.do("PLAY", url); res.status != 200 {
		t.Fatalf("PLAY: %d", res.status)
	}
	if !closedSoon(bad, 3*time.Second) {
		t.Fatal("the session whose writer panicked still has its connection")
	}
	if ln.victim.Load() != nil {
		t.Fatal("the connection never broke the writer")
	}
	rtpOn(t, good, 0, 10, 5*time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for srv.SessionCount() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.SessionCount(); n != 1 {
		t.Errorf("%d sessions after the panic, want 1 (the other one)", n)
	}
	if res := dialRaw(t, addr).do("DESCRIBE", url); res.status != 200 {
		t.Errorf("DESCRIBE after the panic: %d", res.status)
	}
	checkPanicLog(t, logs, "injected goroutine panic", "panic in session writer", "(*session).writer", "session="+bad.session)
}

// TestProducerPanicRestartsTrack: a panic in a track's producer goroutine
// (JPEG packetizer, audio, H.264 reader or feeder) is logged with its
// stack; the track restarts and the playing session goes on receiving it.
//
// The panics come from fakes: a nil frame or audio block published on the
// hub (which the JPEG, audio and H.264 feeder goroutines dereference), or
// a viewer without a session added to the H.264 track (the reader
// goroutine dereferences its session when it hands it a picture).
func TestProducerPanicRestartsTrack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		site   string
		media  string
		tracks []int
		ch     byte
		log    string
	}{
		{"jpeg", "jpeg", []int{0}, 0, "jpegProducer"},
		{"pcmu", "jpeg", []int{0, 1}, 2, "pcmuProducer"},
		{"h264-reader", "h264", []int{0}, 0, "(*h264Track).readAccessUnits"},
		{"h264-feeder", "h264", []int{0}, 0, "(*h264Track).feed"},
	} {
		t.Run(tc.site, func(t *testing.T) {
			t.Parallel()
			if tc.media == "h264" {
				testutil.NeedTool(t, "ffmpeg")
			}
			hub, ahub := stream.NewHub(), stream.NewAudioHub()
			srv := &Server{}
			logs := logTo(t, srv)
			srv.Handle("cam", Source{Video: hub, Audio: ahub})
			addr := serveTest(t, srv)
			// poison is published instead of the next frame (video)
			// or block (audio); the publishers then wait for the
			// panic, so that the poison stays the newest item for
			// the readers that skip to the newest (the H.264 feeder).
			poison := make(chan struct{})
			var poisoned atomic.Bool
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			t.Cleanup(func() { cancel(); wg.Wait() })
			publish := func(period time.Duration, poisonHere bool, pub func(n uint16), poisonIt func()) {
				tick := time.NewTicker(period)
				defer tick.Stop()
				for n := uint16(1); ctx.Err() == nil; n++ {
					select {
					case <-poison:
						if poisonHere && poisoned.CompareAndSwap(false, true) {
							poisonIt()
							for ctx.Err() == nil && !strings.Contains(logs.String(), "panic in") {
								time.Sleep(5 * time.Millisecond)
							}
							break
						}
						pub(n)
					default:
						pub(n)
					}
					select {
					case <-ctx.Done():
					case <-tick.C:
					}
				}
			}
			// 25 fps video and 20 ms IMA ADPCM blocks (a 4-byte header
			// and 80 code bytes).
			wg.Go(func() {
				publish(40*time.Millisecond, tc.site == "jpeg" || tc.site == "h264-feeder", func(n uint16) {
					hub.Publish(&camsession.Frame{JPEG: numberedJPEG(t, n), Index: n, Seq: uint64(n), Time: time.Now()})
				}, func() { hub.Publish(nil) })
			})
			wg.Go(func() {
				publish(20*time.Millisecond, tc.site == "pcmu", func(n uint16) {
					ahub.Publish(&camsession.Audio{ADPCM: make([]byte, 84), Index: n, Time: time.Now()})
				}, func() { ahub.Publish(nil) })
			})

			url := "rtsp://" + addr + "/cam/" + tc.media
			c := playTCP(t, addr, url, tc.tracks...)
			rtpOn(t, c, tc.ch, 3, 10*time.Second)
			h264 := srv.lookupPath("cam").h264
			broken := &sessionTrack{t: h264.track} // no session: offering it a unit panics
			if tc.site == "h264-reader" {
				h264.addReader(broken)
			} else {
				close(poison)
			}
			waitLog(t, logs, "panic in", 10*time.Second)
			if tc.site == "h264-reader" {
				h264.removeReader(broken)
			}
			// The restarted track reaches the same session: packets
			// of items published after the panic, which only the new
			// producer can have sent.
			tr := map[string]*track{"jpeg": srv.lookupPath("cam").jpeg, "pcmu": srv.lookupPath("cam").audio}[tc.site]
			if tr == nil {
				tr = h264.track
			}
			rtpAfter(t, c, tc.ch, 10, tr.rtpTime(time.Now()), 15*time.Second)
			if n := srv.SessionCount(); n != 1 {
				t.Errorf("%d sessions after the panic, want 1", n)
			}
			checkPanicLog(t, logs, nilDeref, "panic in", tc.log)
			if tc.media == "h264" {
				if n := len(regexp.MustCompile(`h264 encoder started`).FindAllString(logs.String(), -1)); n < 2 {
					t.Errorf("%d encoder starts, want a restart after the panic", n)
				}
				if !strings.Contains(logs.String(), "h264 encoder stopped") {
					t.Error("the encoder of the panicked producer was not stopped and reaped")
				}
			}
		})
	}
}
