package rtsp

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/stream"
)

// Test pictures carry their frame number in pixels: 16 bits as a 4x4 grid
// of black and white blocks, read back from decoded video.
const (
	testW, testH = 640, 480
	gridN        = 4
)

// needTool finds a tool; it is required in CI (CI=true) and skips locally.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

var frameCache sync.Map // uint16 -> []byte

// numberedJPEG returns a 640x480 JPEG showing n as a 4x4 bit grid.
func numberedJPEG(t testing.TB, n uint16) []byte {
	if b, ok := frameCache.Load(n); ok {
		return b.([]byte)
	}
	img := image.NewYCbCr(image.Rect(0, 0, testW, testH), image.YCbCrSubsampleRatio420)
	bw, bh := testW/gridN, testH/gridN
	for y := range testH {
		for x := range testW {
			bit := (y/bh)*gridN + x/bw
			v := uint8(16)
			if n>>bit&1 == 1 {
				v = 235
			}
			img.Y[y*img.YStride+x] = v
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	frameCache.Store(n, b.Bytes())
	return b.Bytes()
}

// readNumber reads the frame number from a decoded gray frame.
func readNumber(gray []byte) (n uint16, ok bool) {
	bw, bh := testW/gridN, testH/gridN
	for bit := range gridN * gridN {
		cx := (bit%gridN)*bw + bw/2
		cy := (bit/gridN)*bh + bh/2
		v := gray[cy*testW+cx]
		switch {
		case v > 180:
			n |= 1 << bit
		case v < 70:
		default:
			return 0, false
		}
	}
	return n, true
}

var _ = color.Gray{}

// fixture is a running server with one camera "cam" fed at fps.
type fixture struct {
	srv   *Server
	addr  string
	video *stream.Hub
	audio *stream.AudioHub
	mu    sync.Mutex
	sent  map[uint16]bool
	logs  *syncBuffer
}

type fixtureOpts struct {
	users   httpauth.StaticUsers
	timeout time.Duration
	ffmpeg  string
	audio   bool
	fps     int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	f := &fixture{video: stream.NewHub(), sent: make(map[uint16]bool), logs: &syncBuffer{}}
	if o.audio {
		f.audio = stream.NewAudioHub()
	}
	f.srv = &Server{
		Logger:         slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		SessionTimeout: o.timeout,
		FFmpeg:         o.ffmpeg,
	}
	if o.users != nil {
		f.srv.Auth = httpauth.New("test", o.users)
	}
	f.srv.Handle("cam", Source{Video: f.video, Audio: f.audio})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()
	fps := o.fps
	if fps == 0 {
		fps = 25
	}
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		f.publish(ctx, t, fps)
	}()
	t.Cleanup(func() {
		cancel()
		<-pubDone
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", f.logs.String())
		}
	})
	return f
}

// publish feeds numbered frames (and 40 ms audio blocks) until ctx ends.
func (f *fixture) publish(ctx context.Context, t *testing.T, fps int) {
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	var n uint16 = 1
	var st audio.IMAState
	pcm := make([]int16, 320)
	phase := 0.0
	for {
		jp := numberedJPEG(t, n)
		f.mu.Lock()
		f.sent[n] = true
		f.mu.Unlock()
		now := time.Now()
		f.video.Publish(&camsession.Frame{JPEG: jp, Index: n, Seq: uint64(n), Time: now})
		if f.audio != nil {
			for i := range pcm {
				pcm[i] = int16(8000 * sin(phase))
				phase += 2 * 3.14159265 * 440 / 8000
			}
			st = audio.IMAState{}
			f.audio.Publish(&camsession.Audio{ADPCM: audio.EncodeBlock(nil, &st, pcm), Index: n, Time: now})
		}
		n++
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func sin(x float64) float64 {
	// Bhaskara-free: a cheap parabola approximation is enough for a test tone.
	for x > 3.14159265 {
		x -= 2 * 3.14159265
	}
	return 4 * x * (3.14159265 - abs(x)) / (3.14159265 * 3.14159265)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func (f *fixture) url(media string) string { return "rtsp://" + f.addr + "/cam/" + media }

func (f *fixture) wasSent(n uint16) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[n]
}

// ffmpegFrames plays url with ffmpeg over transport and returns the frame
// numbers of the first count decoded frames, plus ffmpeg's error output.
func ffmpegFrames(t *testing.T, url, transport string, count int) ([]uint16, string) {
	t.Helper()
	bin := needTool(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-v", "error", "-nostdin",
		"-rtsp_transport", transport, "-i", url,
		"-map", "0:v", "-frames:v", fmt.Sprint(count), "-fps_mode", "passthrough", "-enc_time_base:v", "1/90000",
		"-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var nums []uint16
	frame := make([]byte, testW*testH)
	for {
		if _, err := io.ReadFull(out, frame); err != nil {
			break
		}
		n, ok := readNumber(frame)
		if !ok {
			t.Errorf("frame %d: cannot read its number", len(nums))
			continue
		}
		nums = append(nums, n)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("ffmpeg %s %s: %v\n%s", transport, url, err, stderr.String())
	}
	return nums, strings.TrimSpace(stderr.String())
}

// checkFrames asserts count frames came out, each one a published frame,
// in publishing order.
func (f *fixture) checkFrames(t *testing.T, nums []uint16, count int) {
	t.Helper()
	if len(nums) < count {
		t.Fatalf("decoded %d frames, want %d", len(nums), count)
	}
	for i, n := range nums {
		if !f.wasSent(n) {
			t.Fatalf("frame %d shows number %d, which was never published", i, n)
		}
		if i > 0 && n <= nums[i-1] {
			t.Fatalf("frame %d shows %d after %d: out of order or repeated", i, n, nums[i-1])
		}
	}
}
