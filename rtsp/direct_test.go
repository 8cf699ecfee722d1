package rtsp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/internal/directwrite"
	"github.com/chinesium/chinesium/rtsp/rtpjpeg"
	"github.com/chinesium/chinesium/stream"
)

// waitUntil polls cond until it holds, failing the test after 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after 20 s", what)
		}
	}
}

// tcpViewer plays a camera's JPEG (and optionally audio) track
// interleaved and checks, as a strict client would, every interleaved
// frame it reads: RTP version 2, consecutive sequence numbers on each
// channel, whole JPEG frames that were sent, in the order of their RTP
// timestamps.
type tcpViewer struct {
	mu     sync.Mutex
	frames []uint16 // the numbers of the whole frames received (byScan)
	stamps []uint32 // their RTP timestamps
	srs    int      // RTCP sender reports of the video
	audio  int      // audio packets
	err    error
	// hold, when set, stops the reading after the first frame until it
	// is closed.
	hold chan struct{}
}

// has tells whether frame number n (or a later one) has arrived, or the
// client failed.
func (v *tcpViewer) has(n uint16) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err != nil || len(v.frames) > 0 && v.frames[len(v.frames)-1] >= n
}

// hasStamp tells whether the frame with RTP timestamp ts has arrived, or
// the client failed.
func (v *tcpViewer) hasStamp(ts uint32) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err != nil || len(v.stamps) > 0 && v.stamps[len(v.stamps)-1] == ts
}

func (v *tcpViewer) state() (frames []uint16, stamps []uint32, srs, audio int, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.frames), slices.Clone(v.stamps), v.srs, v.audio, v.err
}

func (v *tcpViewer) fail(err error) {
	v.mu.Lock()
	v.err = err
	v.mu.Unlock()
}

// read reads interleaved frames from br until it fails.
func (v *tcpViewer) read(br *bufio.Reader, byScan map[string]uint16) {
	buf := make([]byte, 65535)
	var scan []byte
	var seq [4]uint16
	var seen [4]bool
	inFrame := false
	for {
		ch, data, err := readInterleaved(br, buf)
		if err != nil {
			v.fail(fmt.Errorf("interleaved frame: %w", err))
			return
		}
		if ch == 3 {
			continue // the audio's sender reports
		}
		if ch == 1 {
			v.mu.Lock()
			v.srs++
			v.mu.Unlock()
			continue
		}
		if ch != 0 && ch != 2 || len(data) < rtpHeaderLen || data[0]>>6 != 2 {
			v.fail(fmt.Errorf("not an RTP packet on channel %d: % x", ch, data[:min(len(data), 16)]))
			return
		}
		s := binary.BigEndian.Uint16(data[2:])
		if seen[ch] && s != seq[ch]+1 {
			v.fail(fmt.Errorf("channel %d: RTP sequence %d after %d", ch, s, seq[ch]))
			return
		}
		seq[ch], seen[ch] = s, true
		if ch == 2 {
			v.mu.Lock()
			v.audio++
			v.mu.Unlock()
			continue
		}
		p := data[rtpHeaderLen+8:]
		if data[rtpHeaderLen+1]|data[rtpHeaderLen+2]|data[rtpHeaderLen+3] == 0 {
			p = p[4+128:] // quantization tables in the first packet
			scan = scan[:0]
		} else if !inFrame {
			v.fail(fmt.Errorf("a frame's packet at offset > 0 without its first (sequence %d)", s))
			return
		}
		inFrame = true
		scan = append(scan, p...)
		if data[1]&0x80 == 0 {
			continue
		}
		inFrame = false
		n, ok := byScan[string(scan)]
		ts := binary.BigEndian.Uint32(data[4:])
		v.mu.Lock()
		switch {
		case !ok:
			v.err = fmt.Errorf("a frame that was not sent (%d bytes of scan)", len(scan))
		case len(v.stamps) > 0 && int32(ts-v.stamps[len(v.stamps)-1]) <= 0:
			v.err = fmt.Errorf("a frame of RTP time %d after one of %d", ts, v.stamps[len(v.stamps)-1])
		}
		v.frames = append(v.frames, n)
		v.stamps = append(v.stamps, ts)
		failed := v.err != nil
		v.mu.Unlock()
		if failed {
			return
		}
		if v.hold != nil {
			<-v.hold
			v.hold = nil
		}
	}
}

// numberedFrames returns frames numbered 1 to n and their numbers by
// scan data.
func numberedFrames(t *testing.T, n int) ([][]byte, map[string]uint16) {
	jpegs := make([][]byte, n+1)
	byScan := map[string]uint16{}
	for i := 1; i <= n; i++ {
		jpegs[i] = numberedJPEG(t, uint16(i))
		f, err := rtpjpeg.Parse(jpegs[i])
		if err != nil {
			t.Fatal(err)
		}
		byScan[string(f.Scan)] = uint16(i)
	}
	return jpegs, byScan
}

// startViewers starts n tcpViewers of url, viewer i with the audio when
// audio(i).
func startViewers(t *testing.T, addr, url string, n int, byScan map[string]uint16, audio func(i int) bool) []*tcpViewer {
	var vs []*tcpViewer
	for i := range n {
		c := dialRaw(t, addr)
		playInterleaved(t, c, url, audio(i))
		v := &tcpViewer{}
		go v.read(c.br, byScan)
		vs = append(vs, v)
	}
	return vs
}

// playInterleaved sets up the JPEG track (and the audio track when audio)
// of url on one session, interleaved, and plays it.
func playInterleaved(t *testing.T, c *rawClient, url string, audio bool) {
	res := c.do("SETUP", url+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	c.session = sessionID(res.header.get("Session"))
	if audio {
		c.do("SETUP", url+"/trackID=1", "Transport: RTP/AVP/TCP;unicast;interleaved=2-3")
	}
	c.do("PLAY", url)
	// The frames come when they come: the tests wait for states.
	_ = c.nc.SetDeadline(time.Time{})
}

// idle tells whether no session of srv has a unit waiting for its writer.
func idle(srv *Server) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, ss := range srv.sessions {
		if ss.pending.Load() != 0 {
			return false
		}
	}
	return true
}

// TestDirectInterleaved: the JPEG producer writes each frame itself to
// the interleaved sessions that are up to date: every frame after each
// session's first, (frames-1)×sessions, but for a frame that met a
// periodic sender report on its connection. Every client receives every
// frame whole and in order, with consecutive RTP sequence numbers.
func TestDirectInterleaved(t *testing.T) {
	const viewers, frames = 6, 30
	jpegs, byScan := numberedFrames(t, frames)
	hub := stream.NewHub()
	srv := &Server{}
	srv.Handle("cam1", Source{Video: hub})
	addr := runServer(t, srv).addr
	url := "rtsp://" + addr + "/cam1/jpeg"
	vs := startViewers(t, addr, url, viewers, byScan, func(int) bool { return false })
	waitUntil(t, "the sessions playing", func() bool {
		return srv.Stats().Paths["cam1"].JPEG.TCP == viewers && hub.Readers() == 1
	})
	start := time.Now()
	for i := 1; i <= frames; i++ {
		hub.Publish(&camsession.Frame{JPEG: jpegs[i], Seq: uint64(i), Time: start.Add(time.Duration(i) * 40 * time.Millisecond)})
		// Each frame once every session has the last, and its first
		// sender report (the writer sends one after the first frame),
		// and no session's writer has anything left to do.
		waitUntil(t, fmt.Sprintf("frame %d at every client", i), func() bool {
			for _, v := range vs {
				_, _, srs, _, err := v.state()
				if !v.has(uint16(i)) || srs == 0 && err == nil {
					return false
				}
			}
			return idle(srv)
		})
	}
	periodic := 0 // sender reports after each session's first
	for i, v := range vs {
		got, _, srs, _, err := v.state()
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if len(got) != frames {
			t.Fatalf("client %d: frames %v, want 1 to %d", i, got, frames)
		}
		for j, n := range got {
			if n != uint16(j+1) {
				t.Fatalf("client %d: frames %v, want 1 to %d in order", i, got, frames)
			}
		}
		periodic += srs - 1
	}
	st := srv.Stats().Paths["cam1"]
	want := uint64((frames - 1) * viewers)
	if st.UnitsDirect > want || st.UnitsDirect+uint64(periodic) < want {
		t.Errorf("%d frames written directly, want %d (every frame after each session's first), less at most %d that met a periodic sender report; %+v",
			st.UnitsDirect, want, periodic, st)
	}
	// Each frame was at every client before the next was published: its
	// unit was back in the pool when the producer made the next one, so
	// one unit carried them all.
	srv.mu.Lock()
	pool := &srv.paths["cam1"].jpeg.pool
	srv.mu.Unlock()
	waitUntil(t, "every unit released", func() bool { n, _ := recycledBy(pool); return n == frames })
	if _, units := recycledBy(pool); units != 1 {
		t.Errorf("%d frames were packetized into %d units, want 1 reused for all", frames, units)
	}
}

// TestDirectInterleavedAudio: sessions that play video and audio on one
// connection, whose two producers write it directly at the same time,
// and sessions that play only video: every client receives every frame
// whole and in order, and the audio, with consecutive RTP sequence
// numbers on each channel.
func TestDirectInterleavedAudio(t *testing.T) {
	const viewers, frames = 6, 30
	jpegs, byScan := numberedFrames(t, frames)
	hub, ahub := stream.NewHub(), stream.NewAudioHub()
	srv := &Server{}
	srv.Handle("cam1", Source{Video: hub, Audio: ahub})
	addr := runServer(t, srv).addr
	url := "rtsp://" + addr + "/cam1/jpeg"
	vs := startViewers(t, addr, url, viewers, byScan, func(i int) bool { return i%2 == 0 })
	waitUntil(t, "the sessions playing", func() bool {
		return srv.Stats().Paths["cam1"].JPEG.TCP == viewers && hub.Readers() == 1 && ahub.Readers() == 1
	})

	// Audio all along, in its own goroutine, as a camera's arrives.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() {
		block := make([]byte, 256)
		for i := 0; ctx.Err() == nil; i++ {
			ahub.Publish(&camsession.Audio{ADPCM: block, Index: uint16(i), Time: time.Now()})
			time.Sleep(5 * time.Millisecond)
		}
	})
	start := time.Now()
	for i := 1; i <= frames; i++ {
		hub.Publish(&camsession.Frame{JPEG: jpegs[i], Seq: uint64(i), Time: start.Add(time.Duration(i) * 40 * time.Millisecond)})
		waitUntil(t, fmt.Sprintf("frame %d at every client", i), func() bool {
			for _, v := range vs {
				if !v.has(uint16(i)) {
					return false
				}
			}
			return true
		})
	}
	stop()
	wg.Wait()
	for i, v := range vs {
		got, _, _, audio, err := v.state()
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if len(got) != frames || got[0] != 1 || got[frames-1] != frames {
			t.Fatalf("client %d: frames %v, want 1 to %d", i, got, frames)
		}
		if i%2 == 0 && audio == 0 {
			t.Errorf("client %d got no audio", i)
		}
	}
	if st := srv.Stats().Paths["cam1"]; st.UnitsDirect == 0 {
		t.Errorf("nothing written directly: %+v", st)
	}
}

// smallSendBuffers is a listener whose connections have a small socket
// send buffer, so that a client that does not read fills it quickly.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := c.(*net.TCPConn).SetWriteBuffer(4096); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// TestDirectInterleavedSlowClient: frames bigger than a socket buffer,
// and a client that stops reading after its first frame. The producer's
// write of the next frame goes in part, the session's writer finishes it
// once the client reads again, and the frames published meanwhile wait
// in the session's queue. The slow client then reads every frame whole
// and in order, and the fast clients, whose writes go in part too, get
// every frame all along.
func TestDirectInterleavedSlowClient(t *testing.T) {
	const fast, variants = 4, 4
	jpegs := make([][]byte, variants)
	byScan := map[string]uint16{}
	for k := range variants {
		jpegs[k] = cameraLikeJPEGn(t, k)
		f, err := rtpjpeg.Parse(jpegs[k])
		if err != nil {
			t.Fatal(err)
		}
		byScan[string(f.Scan)] = uint16(k)
	}
	if len(jpegs[0]) < 30000 {
		t.Fatalf("frames of %d bytes: not bigger than the socket buffers", len(jpegs[0]))
	}
	hub := stream.NewHub()
	srv := &Server{}
	srv.Handle("cam1", Source{Video: hub})
	addr := runServerOn(t, srv, smallSendBuffers{listen(t)}).addr
	url := "rtsp://" + addr + "/cam1/jpeg"

	// The slow client: a small receive buffer, and nothing read after
	// the first frame until hold is closed.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	sc := &rawClient{t: t, nc: nc, br: bufio.NewReaderSize(nc, 4096)}
	playInterleaved(t, sc, url, false)
	hold := make(chan struct{})
	slow := &tcpViewer{hold: hold}
	go slow.read(sc.br, byScan)
	vs := startViewers(t, addr, url, fast, byScan, func(int) bool { return false })
	waitUntil(t, "the sessions playing", func() bool {
		return srv.Stats().Paths["cam1"].JPEG.TCP == fast+1 && hub.Readers() == 1
	})
	srv.mu.Lock()
	slowTrack := srv.sessions[sc.session].tracks[0]
	srv.mu.Unlock()

	start := time.Now()
	n := 0
	var last uint32 // the RTP time of the last frame
	publish := func() {
		n++
		hub.Publish(&camsession.Frame{JPEG: jpegs[n%variants], Seq: uint64(n), Time: start.Add(time.Duration(n) * 40 * time.Millisecond)})
		waitUntil(t, fmt.Sprintf("frame %d at the fast clients", n), func() bool {
			for _, v := range vs {
				_, stamps, _, _, verr := v.state()
				if verr == nil && len(stamps) < n {
					return false
				}
			}
			return true
		})
		_, stamps, _, _, _ := vs[0].state()
		last = stamps[len(stamps)-1]
	}
	publish()
	waitUntil(t, "the first frame at the slow client, and every writer idle", func() bool {
		return slow.hasStamp(last) && idle(srv)
	})
	publish()
	if h := slowTrack.handed.Load(); h != 1 {
		t.Fatalf("the slow client's second frame: %d writes went in part, want 1: %+v", h, srv.Stats().Paths["cam1"])
	}
	for range 5 {
		publish()
	}
	close(hold)
	for range 3 {
		publish()
	}
	waitUntil(t, "the last frame at the slow client", func() bool { return slow.hasStamp(last) })
	for i, v := range vs {
		_, stamps, _, _, ferr := v.state()
		if ferr != nil || len(stamps) != n {
			t.Fatalf("fast client %d: %d of %d frames, %v", i, len(stamps), n, ferr)
		}
	}
	_, stamps, _, _, err := slow.state()
	if err != nil || len(stamps) != n {
		t.Fatalf("slow client: %d of %d frames, %v", len(stamps), n, err)
	}
	t.Logf("%+v", srv.Stats().Paths["cam1"])
}

// TestTryDirectKeepsOrder: a producer's direct write never passes what
// waits to be written on the connection: the rest of a unit that went in
// part, or a unit queued for the session's writer. The rest leaves before
// anything else.
func TestTryDirectKeepsOrder(t *testing.T) {
	ln := listen(t)
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if err := server.(*net.TCPConn).SetWriteBuffer(4096); err != nil {
		t.Fatal(err)
	}
	c := &conn{out: server, dw: directwrite.New(server)}
	s := &session{conn: c, kind: transportTCP, path: &path{counters: &pathCounters{}}}
	st := &sessionTrack{s: s}
	st.sentAny.Store(true)
	u := &unit{ends: []int{1}}

	// A unit queued for the writer: not passed.
	s.pending.Store(1)
	if sent, _ := c.tryDirect(st, u, []byte("x")); sent {
		t.Fatal("a direct write passed a unit queued for the session's writer")
	}
	s.pending.Store(0)

	big := bytes.Repeat([]byte("A"), 1<<20)
	sent, partial := c.tryDirect(st, u, big)
	if !sent || !partial {
		t.Fatalf("1 MiB to a socket that nobody reads: sent %v, partial %v; want a part", sent, partial)
	}
	// The rest waits: nothing passes it.
	if sent, _ := c.tryDirect(st, u, []byte("B")); sent {
		t.Fatal("a direct write passed the rest of a unit")
	}
	errs := make(chan error, 1)
	go func() {
		if err := c.writeRest(); err != nil {
			errs <- err
			return
		}
		errs <- c.write([]byte("C"))
	}()
	got := make([]byte, len(big)+1)
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:len(big)], big) || got[len(big)] != 'C' {
		t.Fatal("the bytes read are not the unit, then the next write")
	}
	if sent, partial := c.tryDirect(st, u, []byte("D")); !sent || partial {
		t.Fatalf("an idle connection: sent %v, partial %v; want whole", sent, partial)
	}
}

// TestPauseLeavesANewPlayAlone: a PLAY that comes in while a PAUSE waits
// for its writer (from another connection: RTSP lets any connection
// control a session) starts a new writer; the pause must leave that
// writer's queue alone. Either way it comes, the units queued for the new
// writer are still there, and still counted, when the pause returns, so a
// producer cannot write past them, and the client gets them.
func TestPauseLeavesANewPlayAlone(t *testing.T) {
	for _, pausedAgain := range []bool{false, true} {
		t.Run(fmt.Sprintf("paused again %v", pausedAgain), func(t *testing.T) {
			// Reset last, once the server and its sessions are gone.
			t.Cleanup(func() { pauseWaited = nil })
			jpegs, byScan := numberedFrames(t, 3)
			hub := stream.NewHub()
			srv := &Server{}
			srv.Handle("cam1", Source{Video: hub})
			addr := runServer(t, srv).addr
			url := "rtsp://" + addr + "/cam1/jpeg"
			noAudio := func(int) bool { return false }
			v := startViewers(t, addr, url, 1, byScan, noAudio)[0]
			srv.mu.Lock()
			var s *session
			for _, ss := range srv.sessions {
				s = ss
			}
			srv.mu.Unlock()
			// A second session keeps the track's producer running while
			// s is paused, and shows when a frame has been dispatched.
			witness := startViewers(t, addr, url, 1, byScan, noAudio)[0]
			publish := func(i int) {
				hub.Publish(&camsession.Frame{JPEG: jpegs[i], Seq: uint64(i), Time: time.Now()})
				waitUntil(t, fmt.Sprintf("frame %d at the witness", i), func() bool { return witness.has(uint16(i)) })
				// The producer offers a unit to every session under t.mu.
				s.tracks[0].t.mu.Lock()
				//nolint:staticcheck // an empty critical section: the dispatch is over
				s.tracks[0].t.mu.Unlock()
			}
			waitUntil(t, "both sessions playing", func() bool {
				return srv.Stats().Paths["cam1"].JPEG.TCP == 2 && hub.Readers() == 1
			})
			publish(1)
			waitUntil(t, "frame 1 and a sender report", func() bool {
				_, _, srs, _, _ := v.state()
				return v.has(1) && srs > 0 && idle(srv)
			})

			var calls atomic.Int32
			var second chan struct{} // the second pause, done
			pauseWaited = func(s *session) {
				if calls.Add(1) != 1 {
					return // the second pause
				}
				s.play()
				// The new writer's units wait: the connection is busy.
				s.conn.wmu.Lock()
				publish(2)
				publish(3)
				waitUntil(t, "the new writer holding frame 2", func() bool { return len(s.queue) == 1 })
				if pausedAgain {
					second = make(chan struct{})
					go func() {
						defer close(second)
						s.pause()
					}()
					waitUntil(t, "the second pause", func() bool {
						s.mu.Lock()
						defer s.mu.Unlock()
						return !s.playing
					})
				}
			}

			s.pause()
			queued, pending := len(s.queue), s.pending.Load()
			s.mu.Lock()
			playing := s.playing
			s.mu.Unlock()
			s.conn.wmu.Unlock()
			if pending != 2 || queued != 1 {
				t.Errorf("after the first pause: %d units counted, %d queued; want the new writer's 2, 1 of them queued (the other in its hands)", pending, queued)
			}
			if pausedAgain {
				<-second
				if s.pending.Load() != 0 || len(s.queue) != 0 {
					t.Errorf("after the second pause: %d units counted, %d queued; want none", s.pending.Load(), len(s.queue))
				}
				return
			}
			if !playing {
				t.Fatal("the first pause stopped the session played again meanwhile")
			}
			waitUntil(t, "frames 2 and 3 at the client", func() bool { return v.has(3) && idle(srv) })
			if got, _, _, _, err := v.state(); err != nil || !slices.Equal(got, []uint16{1, 2, 3}) {
				t.Fatalf("frames %v (%v), want 1, 2, 3", got, err)
			}
		})
	}
}
