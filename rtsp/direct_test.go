package rtsp

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
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
// channel, whole JPEG frames.
type tcpViewer struct {
	mu     sync.Mutex
	frames []uint16 // the numbers of the whole frames received
	srs    int      // RTCP sender reports of the video
	audio  int      // audio packets
	err    error
	// gaps allows (true) whole units to be missing, as for a client
	// that falls behind; never a part of one.
	gaps bool
}

func (v *tcpViewer) has(n uint16) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err != nil || len(v.frames) > 0 && v.frames[len(v.frames)-1] >= n
}

func (v *tcpViewer) state() ([]uint16, int, int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]uint16(nil), v.frames...), v.srs, v.audio, v.err
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
		// A gap is allowed where a client may lose whole units: between
		// two frames, when gaps.
		between := v.gaps && !inFrame && ch == 0
		if seen[ch] && s != seq[ch]+1 && !between {
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
		if data[1]&0x80 != 0 {
			inFrame = false
			n, ok := byScan[string(scan)]
			v.mu.Lock()
			if !ok {
				v.err = fmt.Errorf("a frame that was not sent (%d bytes of scan)", len(scan))
			}
			v.frames = append(v.frames, n)
			v.mu.Unlock()
			if !ok {
				return
			}
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

// TestDirectInterleaved: the JPEG producer writes each frame itself to
// the interleaved sessions that are up to date, every frame after each
// session's first ((frames-1)×sessions), and every client receives every
// frame whole and in order, with consecutive RTP sequence numbers. Half of
// the sessions also play the audio, whose producer writes the same
// connections at the same time: the framing stays whole.
func TestDirectInterleaved(t *testing.T) {
	const viewers, frames = 6, 30
	jpegs, byScan := numberedFrames(t, frames)
	hub, ahub := stream.NewHub(), stream.NewAudioHub()
	srv := &Server{}
	srv.Handle("cam1", Source{Video: hub, Audio: ahub})
	addr := runServer(t, srv).addr
	url := "rtsp://" + addr + "/cam1/jpeg"
	var vs []*tcpViewer
	for i := range viewers {
		c := dialRaw(t, addr)
		playInterleaved(t, c, url, i%2 == 0)
		v := &tcpViewer{}
		go v.read(c.br, byScan)
		vs = append(vs, v)
	}
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
		// Each frame after every session has the last, and its first
		// sender report (the writer sends one after the first frame).
		waitUntil(t, fmt.Sprintf("frame %d at every client", i), func() bool {
			for _, v := range vs {
				_, srs, _, err := v.state()
				if !v.has(uint16(i)) || srs == 0 && err == nil {
					return false
				}
			}
			return true
		})
	}
	stop()
	wg.Wait()
	for i, v := range vs {
		got, _, audio, err := v.state()
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
		if i%2 == 0 && audio == 0 {
			t.Errorf("client %d got no audio", i)
		}
	}
	st := srv.Stats().Paths["cam1"]
	if want := uint64((frames - 1) * viewers); st.UnitsDirect < want {
		t.Errorf("%d units written directly, want at least %d (every frame after each session's first); %+v", st.UnitsDirect, want, st)
	}
	t.Logf("%+v", st)
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

// TestDirectInterleavedSlowClient: a client that stops reading fills its
// socket; the producer's write of a frame goes in part, and the session's
// writer finishes it; then its queue fills and frames are dropped for it.
// The client then reads a valid stream: whole frames, in order, with
// whole frames missing at most. The fast clients get every frame.
func TestDirectInterleavedSlowClient(t *testing.T) {
	const fast, maxFrames = 4, 2000
	jpegs, byScan := numberedFrames(t, maxFrames+10)
	hub := stream.NewHub()
	srv := &Server{}
	srv.Handle("cam1", Source{Video: hub})
	addr := runServerOn(t, srv, smallSendBuffers{listen(t)}).addr
	url := "rtsp://" + addr + "/cam1/jpeg"

	// The slow client: a small receive buffer, and nothing read until
	// open is closed.
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
	sc := &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	playInterleaved(t, sc, url, false)
	slow := &tcpViewer{gaps: true}
	open := make(chan struct{})
	go func() {
		<-open
		slow.read(sc.br, byScan)
	}()
	var vs []*tcpViewer
	for range fast {
		c := dialRaw(t, addr)
		playInterleaved(t, c, url, false)
		v := &tcpViewer{}
		go v.read(c.br, byScan)
		vs = append(vs, v)
	}
	waitUntil(t, "the sessions playing", func() bool {
		return srv.Stats().Paths["cam1"].JPEG.TCP == fast+1 && hub.Readers() == 1
	})
	counters := srv.paths["cam1"].counters
	start := time.Now()
	n := 0
	publish := func() {
		n++
		hub.Publish(&camsession.Frame{JPEG: jpegs[n], Seq: uint64(n), Time: start.Add(time.Duration(n) * 40 * time.Millisecond)})
		waitUntil(t, fmt.Sprintf("frame %d at the fast clients", n), func() bool {
			for _, v := range vs {
				if !v.has(uint16(n)) {
					return false
				}
			}
			return true
		})
	}
	for counters.unitsHanded.Load() == 0 || counters.unitsDropped.Load() == 0 {
		if n == maxFrames {
			t.Fatalf("the slow client's socket never filled: %+v", srv.Stats().Paths["cam1"])
		}
		publish()
	}
	close(open)
	for range 3 {
		publish()
	}
	waitUntil(t, "the last frame at the slow client", func() bool { return slow.has(uint16(n)) })
	for i, v := range vs {
		got, _, _, ferr := v.state()
		if ferr != nil || len(got) != n {
			t.Fatalf("fast client %d: %d of %d frames, %v", i, len(got), n, ferr)
		}
	}
	got, _, _, err := slow.state()
	if err != nil {
		t.Fatalf("slow client: %v", err)
	}
	for j := 1; j < len(got); j++ {
		if got[j] <= got[j-1] {
			t.Fatalf("slow client's frames out of order: %v", got)
		}
	}
	t.Logf("slow client: %d of %d frames; %d units handed to a writer; %+v", len(got), n, counters.unitsHanded.Load(), srv.Stats().Paths["cam1"])
}
