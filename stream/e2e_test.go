package stream

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// Stream tests put fake cameras on 127.0.9.x so that they never collide
// with other packages' tests.
func e2eIP(n byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 9, n}) }

// pipeline is a fake camera, a camera session and the hubs it feeds: the
// bridge's path for one camera, without ONVIF.
type pipeline struct {
	hub  *Hub
	ahub *AudioHub

	mu   sync.Mutex
	sent map[uint64][]byte    // JPEGs the camera sent, by seq
	time map[uint64]time.Time // arrival time of each frame's last packet
}

func startPipeline(t testing.TB, n byte, fps float64, withAudio bool) *pipeline {
	t.Helper()
	p := &pipeline{hub: NewHub(), sent: map[uint64][]byte{}, time: map[uint64]time.Time{}}
	if withAudio {
		p.ahub = NewAudioHub()
	}
	cam, err := fakecam.New(fakecam.Config{
		IP: e2eIP(n), Name: "e2e", FPS: fps, Audio: withAudio,
		OnFrame: func(f fakecam.FrameSent) {
			p.mu.Lock()
			p.sent[f.Seq] = f.JPEG
			p.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := camsession.Config{
		Camera: e2eIP(n), LocalPort: -1, Audio: withAudio,
		FrameRoom: PartRoom, // as the bridge sets it
		OnFrame: func(f *camsession.Frame) {
			if _, seq, ok := fakecam.FrameSeq(f.JPEG); ok {
				p.mu.Lock()
				p.time[seq] = f.Time
				p.mu.Unlock()
			}
			p.hub.Publish(f)
		},
	}
	if withAudio {
		cfg.OnAudio = p.ahub.Publish
	}
	s, err := camsession.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = cam.Run(ctx) }()
	go func() { defer wg.Done(); _ = s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = s.Close()
		_ = cam.Close()
		p.hub.Close()
	})
	waitFor(t, func() bool { return p.hub.Latest() != nil })
	return p
}

func (p *pipeline) frame(seq uint64) ([]byte, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent[seq], p.time[seq]
}

// TestEndToEndFakeCamera: fake camera → UDP → session → hub → HTTP →
// ffmpeg. The frames ffmpeg gets are the camera's, byte for byte, in
// order; the camera's audio comes out of /audio.wav.
func TestEndToEndFakeCamera(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	p := startPipeline(t, 1, 30, true)
	base := serve(t, &Camera{Video: p.hub, Audio: p.ahub}, nil)

	out := filepath.Join(t.TempDir(), "out.mjpeg")
	cmd := exec.Command(ffmpeg, "-v", "error", "-nostdin", "-y", "-i", base+"/cam1/stream.mjpeg",
		"-map", "0:v", "-frames:v", "55", "-c:v", "copy", "-f", "mjpeg", out,
		"-map", "0:v", "-frames:v", "55", "-f", "null", "-")
	if b, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) != 0 {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	jpegs, err := splitJPEGs(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(jpegs) < 50 {
		t.Fatalf("%d frames", len(jpegs))
	}
	var last uint64
	for i, j := range jpegs {
		cam, seq, ok := fakecam.FrameSeq(j)
		if !ok || cam != "e2e" {
			t.Fatalf("frame %d: no marker of camera e2e", i)
		}
		if sent, _ := p.frame(seq); !bytes.Equal(sent, j) {
			t.Fatalf("frame %d (seq %d) is not what the camera sent", i, seq)
		}
		if i > 0 && seq <= last {
			t.Fatalf("frame %d: seq %d after %d", i, seq, last)
		}
		last = seq
	}

	// The camera's audio, read directly (TestAudioWAV covers ffmpeg).
	resp, err := http.Get(base + "/cam1/audio.wav")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wav := make([]byte, audio.FloatWAVHeaderLen+8000) // a quarter of a second of floats
	if _, err := io.ReadFull(resp.Body, wav); err != nil {
		t.Fatalf("audio: %v", err)
	}
	if !bytes.Equal(wav[:audio.FloatWAVHeaderLen], audio.AppendFloatWAVHeader(nil, audio.SampleRate, 1, audio.StreamSize)) {
		t.Errorf("WAV header % x", wav[:audio.FloatWAVHeaderLen])
	}
	// The fake camera sends a 440 Hz tone: about 220 zero crossings in a
	// quarter of a second, and not silence.
	var energy float64
	crossings := 0
	prev := 0.0
	for i := audio.FloatWAVHeaderLen; i+3 < len(wav); i += 4 {
		s := float64(math.Float32frombits(binary.LittleEndian.Uint32(wav[i:])))
		energy += s * s
		if (s < 0) != (prev < 0) && i > audio.FloatWAVHeaderLen {
			crossings++
		}
		prev = s
	}
	if energy == 0 || crossings < 200 || crossings > 240 {
		t.Errorf("audio: %d zero crossings in 0.25 s (want about 220 for 440 Hz), energy %.0f", crossings, energy)
	}
}

// TestPartInFrameRoom: a frame from a camera session that leaves PartRoom
// becomes its multipart part in its own memory, the JPEG not copied, and
// the part is the one appendPart makes. A frame without room is copied.
func TestPartInFrameRoom(t *testing.T) {
	p := startPipeline(t, 3, 30, false)
	c := &Camera{Video: p.hub}
	var f *camsession.Frame
	var part []byte
	for deadline := time.Now().Add(20 * time.Second); part == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no frame from the camera session")
		}
		// nil when a newer frame came meanwhile: then again.
		if f = p.hub.Latest(); f != nil {
			part = c.sharedPart(f)
		}
	}
	if !bytes.Equal(part, appendPart(nil, f)) {
		t.Fatal("the part is not the frame's header, JPEG and trailer")
	}
	if &part[len(part)-len(partTrailer)-len(f.JPEG)] != &f.JPEG[0] {
		t.Error("the frame's JPEG was copied into its part")
	}
	if again := c.sharedPart(f); &again[0] != &part[0] {
		t.Error("the part was made twice")
	}

	plain := &camsession.Frame{JPEG: bytes.Clone(f.JPEG), Seq: 1}
	hub := NewHub()
	hub.Publish(plain)
	if got := (&Camera{Video: hub}).sharedPart(plain); got == nil || !bytes.Equal(got, appendPart(nil, plain)) {
		t.Error("a frame without room: no part, or not the right one")
	}
}

// BenchmarkUDPToViewers50 measures, for frames from a fake camera over
// UDP, the time from the arrival of a frame's last UDP packet (Frame.Time)
// to the whole frame having arrived at each of 50 HTTP viewers, next to
// the time a plain loop takes to write a frame to 50 loopback TCP
// connections, measured in the same run.
func BenchmarkUDPToViewers50(b *testing.B) {
	const n = 50
	p := startPipeline(b, 2, 100, false)
	base := serve(b, &Camera{Video: p.hub}, nil)
	u, _ := url.Parse(base)

	type arrival struct {
		seq uint64
		at  time.Time
	}
	arrivals := make(chan arrival, 4096)
	for range n {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /cam1/stream.mjpeg HTTP/1.1\r\nHost: %s\r\n\r\n", u.Host)
		go func() {
			pr := NewPartReader(c)
			if pr.SkipHeader() != nil {
				return
			}
			for {
				b, err := pr.Next()
				if err != nil {
					return
				}
				at := time.Now()
				_, seq, _ := fakecam.FrameSeq(b)
				arrivals <- arrival{seq, at}
			}
		}()
	}
	waitFor(b, func() bool { return p.hub.Readers() == n })
	// Skip what was in flight while connecting.
	time.Sleep(100 * time.Millisecond)
	for len(arrivals) > 0 {
		<-arrivals
	}

	lat := make([]time.Duration, 0, b.N*n)
	b.ResetTimer()
	for len(lat) < b.N*n {
		a := <-arrivals
		_, t0 := p.frame(a.seq)
		if !t0.IsZero() {
			lat = append(lat, a.at.Sub(t0))
		}
	}
	b.StopTimer()

	last := p.hub.Latest().JPEG
	ws, chans := directConns(b, n, len(last))
	baseLat := make([]time.Duration, 0, b.N*n)
	for range b.N {
		t0 := time.Now()
		for _, w := range ws {
			if _, err := w.Write(last); err != nil {
				b.Fatal(err)
			}
		}
		for _, ch := range chans {
			baseLat = append(baseLat, (<-ch).Sub(t0))
		}
	}
	reportLatency(b, lat, baseLat)
}
