package rtsp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/rtsp/rtpjpeg"
	"github.com/chinesium/chinesium/stream"
)

// Test pictures carry their frame number in pixels: 16 bits as a 4x4 grid
// of black and white blocks, read back from decoded video.
const (
	testW, testH = 640, 480
	gridN        = 4
)

var frameCache sync.Map // uint16 -> []byte

// numberedJPEG returns a 640x480 baseline JPEG (4:2:0, standard Huffman
// tables) showing n as a 4x4 grid of black and white blocks. The picture is
// flat within every 16x16 MCU, so it is written directly as DC-only
// blocks: microseconds per frame even under the race detector, where
// image/jpeg would take a quarter of a second.
func numberedJPEG(t testing.TB, n uint16) []byte {
	if b, ok := frameCache.Load(n); ok {
		return b.([]byte)
	}
	var j []byte
	seg := func(m byte, body ...byte) {
		j = append(j, 0xFF, m, byte((len(body)+2)>>8), byte(len(body)+2))
		j = append(j, body...)
	}
	j = append(j, 0xFF, 0xD8)
	dqt := []byte{0}
	dqt = append(dqt, bytes.Repeat([]byte{1}, 64)...)
	dqt = append(dqt, 1)
	dqt = append(dqt, bytes.Repeat([]byte{1}, 64)...)
	seg(0xDB, dqt...)
	seg(0xC0, 8, testH>>8, testH&255, testW>>8, testW&255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	j = rtpjpeg.AppendDHT(j)
	seg(0xDA, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0)
	dcY, dcC, acY, acC := testHuffman()
	var w bitWriter
	w.b = j
	prev := 0
	bw, bh := testW/gridN, testH/gridN
	for my := range testH / 16 {
		for mx := range testW / 16 {
			bit := ((my*16+8)/bh)*gridN + (mx*16+8)/bw
			v := 16
			if n>>bit&1 == 1 {
				v = 235
			}
			dc := 8 * (v - 128) // DC of a flat block with quantizer 1
			for k := range 4 {
				d := 0
				if k == 0 {
					d = dc - prev
				}
				w.dc(dcY, d)
				w.code(acY[0x00]) // EOB
			}
			prev = dc
			for range 2 {
				w.dc(dcC, 0)
				w.code(acC[0x00])
			}
		}
	}
	j = w.flush()
	j = append(j, 0xFF, 0xD9)
	frameCache.Store(n, j)
	return j
}

// huffCode is a Huffman code: its bits and their count.
type huffCode struct {
	bits uint32
	n    uint
}

var testTables = sync.OnceValue(func() [4][256]huffCode {
	dht := rtpjpeg.AppendDHT(nil)[4:]
	var out [4][256]huffCode
	for len(dht) > 0 {
		tc, th := dht[0]>>4, dht[0]&15
		counts := dht[1:17]
		vals := dht[17:]
		code, k := uint32(0), 0
		for l := 1; l <= 16; l++ {
			for range int(counts[l-1]) {
				out[tc*2+th][vals[k]] = huffCode{code, uint(l)}
				code++
				k++
			}
			code <<= 1
		}
		dht = vals[k:]
	}
	return out
})

func testHuffman() (dcY, dcC, acY, acC *[256]huffCode) {
	tb := testTables()
	return &tb[0], &tb[1], &tb[2], &tb[3]
}

// bitWriter writes entropy-coded data with 0xFF byte stuffing.
type bitWriter struct {
	b    []byte
	acc  uint32
	nacc uint
}

func (w *bitWriter) put(bits uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (bits>>uint(i))&1
		w.nacc++
		if w.nacc == 8 {
			w.b = append(w.b, byte(w.acc))
			if byte(w.acc) == 0xFF {
				w.b = append(w.b, 0)
			}
			w.acc, w.nacc = 0, 0
		}
	}
}

func (w *bitWriter) code(c huffCode) { w.put(c.bits, c.n) }

// dc writes a DC difference: its category's code, then the value bits.
func (w *bitWriter) dc(tab *[256]huffCode, d int) {
	s, a := uint(0), d
	if a < 0 {
		a = -a
	}
	for a > 0 {
		s++
		a >>= 1
	}
	w.code(tab[s])
	if d < 0 {
		d += 1<<s - 1
	}
	w.put(uint32(d), s)
}

func (w *bitWriter) flush() []byte {
	for w.nacc != 0 {
		w.put(1, 1) // pad with ones
	}
	return w.b
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

// fixture is a running server with one camera "cam" fed at fps.
type fixture struct {
	srv   *Server
	addr  string
	video *stream.Hub
	audio *stream.AudioHub
	mu    sync.Mutex
	sent  map[uint16]bool
	logs  *testutil.SyncBuffer
}

type fixtureOpts struct {
	users   httpauth.StaticUsers
	noBasic bool // Digest only
	timeout time.Duration
	ffmpeg  string
	audio   bool
	fps     int
}

func startFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	f := &fixture{video: stream.NewHub(), sent: make(map[uint16]bool), logs: &testutil.SyncBuffer{}}
	if o.audio {
		f.audio = stream.NewAudioHub()
	}
	f.srv = &Server{
		Logger:         debugLogger(t, f.logs),
		SessionTimeout: o.timeout,
		FFmpeg:         o.ffmpeg,
	}
	if o.users != nil {
		f.srv.Auth = httpauth.New("test", o.users)
		f.srv.Auth.AllowBasic = !o.noBasic
	}
	f.srv.Handle("cam", Source{Video: f.video, Audio: f.audio})
	ts := runServer(t, f.srv)
	f.addr = ts.addr
	fps := o.fps
	if fps == 0 {
		fps = 25
	}
	ts.feed(t, func(ctx context.Context) { f.publish(ctx, t, fps) })
	return f
}

// testServer is a Server serving on a loopback port.
type testServer struct {
	addr   string
	ctx    context.Context // Serve's context: ends when the server is stopped
	cancel context.CancelFunc
	done   chan error // Serve's result
	once   sync.Once
}

// runServer serves srv on a loopback port until the test ends, or until
// stop, and reports an error from Serve.
func runServer(t *testing.T, srv *Server) *testServer {
	t.Helper()
	return runServerOn(t, srv, listen(t))
}

// listen returns a TCP listener on a free loopback port.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// runServerOn is runServer on the listener ln.
func runServerOn(t *testing.T, srv *Server, ln net.Listener) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{addr: ln.Addr().String(), ctx: ctx, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { s.stop(t, 30*time.Second) })
	return s
}

// stop stops the server and waits up to within for Serve to return,
// reporting its error or that it did not return. Later calls do nothing.
func (s *testServer) stop(t *testing.T, within time.Duration) {
	t.Helper()
	s.once.Do(func() {
		s.cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(within):
			t.Errorf("Serve still running %v after the server was stopped", within)
		}
	})
}

// feed runs publish in a goroutine with the server's context. The
// returned channel is closed when publish has returned; the end of the
// test stops the server and waits for it before the server's own cleanup.
func (s *testServer) feed(t *testing.T, publish func(ctx context.Context)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		publish(s.ctx)
	}()
	t.Cleanup(func() {
		s.cancel()
		<-done
	})
	return done
}

// runEmptyCam serves srv with one camera "cam" whose hub never gets a
// frame until the test ends and returns its address.
func runEmptyCam(t *testing.T, srv *Server) string {
	t.Helper()
	srv.Handle("cam", Source{Video: stream.NewHub()})
	return runServer(t, srv).addr
}

// logTo makes srv log at debug level to the returned buffer, which the
// test prints if it fails. Call it before srv.Handle.
func logTo(t *testing.T, srv *Server) *testutil.SyncBuffer {
	logs := &testutil.SyncBuffer{}
	srv.Logger = debugLogger(t, logs)
	return logs
}

// serveTest runs srv (configured by the caller, before Serve) on a
// loopback port until the test ends, feeding each hub numbered frames at
// 25 fps. It returns the address.
func serveTest(t *testing.T, srv *Server, hubs ...*stream.Hub) string {
	t.Helper()
	return serveTestOn(t, srv, listen(t), hubs...)
}

// serveTestOn is serveTest on the listener ln.
func serveTestOn(t *testing.T, srv *Server, ln net.Listener, hubs ...*stream.Hub) string {
	t.Helper()
	ts := runServerOn(t, srv, ln)
	ts.feed(t, func(ctx context.Context) {
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		at := time.Now()
		for n := uint16(1); ; n++ {
			for _, h := range hubs {
				h.Publish(&camsession.Frame{JPEG: numberedJPEG(t, n), Index: n, Seq: uint64(n), Time: at})
			}
			select {
			case <-ctx.Done():
				return
			case at = <-tick.C: // the capture time, however late this runs
			}
		}
	})
	return ts.addr
}

// debugLogger returns a debug-level logger writing to logs, which the
// test prints if it fails (after everything started later has stopped).
func debugLogger(t *testing.T, logs *testutil.SyncBuffer) *slog.Logger {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// publish feeds numbered frames (and 40 ms audio blocks) until ctx ends.
func (f *fixture) publish(ctx context.Context, t *testing.T, fps int) {
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	var n uint16 = 1
	var st audio.IMAState
	pcm := make([]int16, 320)
	phase := 0.0
	now := time.Now()
	for {
		jp := numberedJPEG(t, n)
		f.mu.Lock()
		f.sent[n] = true
		f.mu.Unlock()
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
		case now = <-tick.C: // the capture time, however late this runs
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
	bin := testutil.NeedTool(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-v", "error", "-nostdin",
		"-rtsp_transport", transport, "-i", url,
		"-map", "0:v", "-frames:v", fmt.Sprint(count), "-fps_mode", "passthrough", "-enc_time_base:v", "1/90000",
		"-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	out, stderr := startPictures(t, cmd)
	nums := readNumbers(t, out, 0)
	if err := cmd.Wait(); err != nil {
		t.Errorf("ffmpeg %s %s: %v\n%s", transport, url, err, stderr.String())
	}
	return nums, strings.TrimSpace(stderr.String())
}

// startPictures starts cmd, a decoder writing testW×testH gray pictures
// to its standard output, and returns that output and its standard error.
func startPictures(t *testing.T, cmd *exec.Cmd) (io.Reader, *bytes.Buffer) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return out, &stderr
}

// readNumbers reads testW×testH gray pictures from r until it ends, or
// until it has read limit of them (0: no limit), and returns the frame
// numbers drawn in them; a picture without one is an error.
func readNumbers(t *testing.T, r io.Reader, limit int) []uint16 {
	t.Helper()
	var nums []uint16
	frame := make([]byte, testW*testH)
	for limit == 0 || len(nums) < limit {
		if _, err := io.ReadFull(r, frame); err != nil {
			break
		}
		n, ok := readNumber(frame)
		if !ok {
			t.Errorf("picture %d: no frame number in it", len(nums))
			continue
		}
		nums = append(nums, n)
	}
	return nums
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
