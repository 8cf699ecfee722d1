package rtsp

import (
	"context"
	"regexp"
	"strings"
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
	_ = c.nc.SetReadDeadline(time.Now().Add(within))
	got := 0
	for got < n {
		f, err := c.readFrame()
		if err != nil {
			t.Fatalf("%d of %d RTP packets on channel %d: %v", got, n, ch, err)
		}
		if f.ch == ch {
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

func checkPanicLog(t *testing.T, logs *testutil.SyncBuffer, want ...string) {
	t.Helper()
	log := logs.String()
	for _, w := range append([]string{"level=ERROR", "injected goroutine panic", "stack="}, want...) {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
}

// TestWriterPanicEndsOnlyItsSession: a panic in one session's writer is
// logged with its stack and ends that session (and its interleaved
// connection); another session keeps playing and the server keeps serving.
func TestWriterPanicEndsOnlyItsSession(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	var victim atomic.Pointer[string]
	srv := &Server{}
	srv.panicHook = func(site, id string) {
		if v := victim.Load(); site == "writer" && v != nil && *v == id && victim.CompareAndSwap(v, nil) {
			panic("injected goroutine panic")
		}
	}
	logs := logTo(t, srv)
	srv.Handle("cam", Source{Video: hub})
	addr := serveTest(t, srv, hub)
	url := "rtsp://" + addr + "/cam/jpeg"

	good := playTCP(t, addr, url, 0)
	rtpOn(t, good, 0, 3, 5*time.Second)
	bad := dialRaw(t, addr)
	res := bad.do("SETUP", url+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if res.status != 200 {
		t.Fatalf("SETUP: %d", res.status)
	}
	bad.session = sessionID(res.header.get("Session"))
	victim.Store(&bad.session)
	if res := bad.do("PLAY", url); res.status != 200 {
		t.Fatalf("PLAY: %d", res.status)
	}
	if !closedSoon(bad, 3*time.Second) {
		t.Fatal("the session whose writer panicked still has its connection")
	}
	if victim.Load() != nil {
		t.Fatal("the writer hook never fired")
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
	checkPanicLog(t, logs, "panic in session writer", "(*session).writer", "session="+bad.session)
}

// TestProducerPanicRestartsTrack: a panic in a track's producer goroutine
// (JPEG packetizer, audio, H.264 reader or feeder) is logged with its
// stack; the track restarts and the playing session goes on receiving it.
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
		{"h264-feeder", "h264", []int{0}, 0, "(*h264Track).produce.func"},
	} {
		t.Run(tc.site, func(t *testing.T) {
			t.Parallel()
			if tc.media == "h264" {
				testutil.NeedTool(t, "ffmpeg")
			}
			hub, ahub := stream.NewHub(), stream.NewAudioHub()
			var armed atomic.Bool
			fired := make(chan struct{})
			srv := &Server{}
			srv.panicHook = func(site, _ string) {
				if site == tc.site && armed.CompareAndSwap(true, false) {
					close(fired)
					panic("injected goroutine panic")
				}
			}
			logs := logTo(t, srv)
			srv.Handle("cam", Source{Video: hub, Audio: ahub})
			addr := serveTest(t, srv, hub)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { // 20 ms IMA ADPCM blocks: a 4-byte header and 80 code bytes
				defer close(done)
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for n := uint16(0); ctx.Err() == nil; n++ {
					ahub.Publish(&camsession.Audio{ADPCM: make([]byte, 84), Index: n, Time: time.Now()})
					select {
					case <-ctx.Done():
					case <-tick.C:
					}
				}
			}()
			t.Cleanup(func() { cancel(); <-done })

			url := "rtsp://" + addr + "/cam/" + tc.media
			c := playTCP(t, addr, url, tc.tracks...)
			rtpOn(t, c, tc.ch, 3, 10*time.Second)
			armed.Store(true)
			select {
			case <-fired:
			case <-time.After(5 * time.Second):
				t.Fatal("the producer hook never fired")
			}
			// The restarted track reaches the same session.
			rtpOn(t, c, tc.ch, 10, 15*time.Second)
			if n := srv.SessionCount(); n != 1 {
				t.Errorf("%d sessions after the panic, want 1", n)
			}
			checkPanicLog(t, logs, "panic in", tc.log)
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
