package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/testutil"
)

// checkFrames asserts that jpegs are ≥ min frames the feeder published,
// byte for byte, in publishing order.
func checkFrames(t *testing.T, fd *feeder, jpegs [][]byte, minFrames int) {
	t.Helper()
	if len(jpegs) < minFrames {
		t.Fatalf("got %d frames, want ≥ %d", len(jpegs), minFrames)
	}
	var last uint64
	gaps := 0
	for i, j := range jpegs {
		cam, seq, ok := fakecam.FrameSeq(j)
		if !ok || cam != "test" {
			t.Fatalf("frame %d carries no marker (%d bytes)", i, len(j))
		}
		if !bytes.Equal(j, fd.frame(seq)) {
			t.Fatalf("frame %d (seq %d) differs from the published one", i, seq)
		}
		if i > 0 && seq <= last {
			t.Fatalf("frame %d: seq %d after %d", i, seq, last)
		}
		if i > 0 && seq != last+1 {
			gaps++
		}
		last = seq
	}
	t.Logf("%d frames, seq %d..%d, %d gaps", len(jpegs), mustSeq(jpegs[0]), last, gaps)
}

func mustSeq(j []byte) uint64 { _, s, _ := fakecam.FrameSeq(j); return s }

// TestFFmpegReadsStreams: Debian's ffmpeg reads the multipart and the raw
// MJPEG streams, decodes ≥ 50 frames without a single error message, and
// the frames it copies out are the published ones in order.
func TestFFmpegReadsStreams(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 4, 75))
	base := serve(t, &Camera{Video: hub}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fd.publish()
	go fd.run(ctx, 20*time.Millisecond)

	for _, tc := range []struct {
		name, path string
		in         []string
	}{
		{"multipart", "/cam1/stream.mjpeg", nil},
		{"raw forced", "/cam1/raw.mjpeg", []string{"-f", "mjpeg"}},
		{"raw probed", "/cam1/raw.mjpeg", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.mjpeg")
			args := append([]string{"-v", "error", "-nostdin", "-y"}, tc.in...)
			args = append(args, "-i", base+tc.path,
				"-map", "0:v", "-frames:v", "60", "-c:v", "copy", "-f", "mjpeg", out,
				"-map", "0:v", "-frames:v", "60", "-f", "null", "-")
			cmd := exec.Command(ffmpeg, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("ffmpeg: %v\n%s", err, stderr.String())
				}
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("ffmpeg did not finish\n%s", stderr.String())
			}
			if s := strings.TrimSpace(stderr.String()); s != "" {
				t.Errorf("ffmpeg reported errors:\n%s", s)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			jpegs, err := splitJPEGs(b)
			if err != nil {
				t.Fatal(err)
			}
			checkFrames(t, fd, jpegs, 50)
		})
	}
}

// TestMultipartFormat reads /stream.mjpeg with Go's multipart reader and
// checks the headers a browser and NVRs rely on.
func TestMultipartFormat(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 2, 50))
	base := serve(t, &Camera{Video: hub}, nil)
	first := fd.publish() // a viewer gets the newest frame at once

	resp, err := http.Get(base + "/cam1/stream.mjpeg")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("Cache-Control") == "" || !strings.Contains(h.Get("Cache-Control"), "no-store") {
		t.Errorf("status %d, Cache-Control %q", resp.StatusCode, h.Get("Cache-Control"))
	}
	if h.Get("Pragma") != "no-cache" || len(resp.TransferEncoding) != 0 {
		t.Errorf("Pragma %q, Transfer-Encoding %q", h.Get("Pragma"), resp.TransferEncoding)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/x-mixed-replace" || params["boundary"] != Boundary {
		t.Fatalf("Content-Type %q", h.Get("Content-Type"))
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	for i := range 6 {
		if i > 0 {
			fd.publish()
		}
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if p.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("part Content-Type %q", p.Header.Get("Content-Type"))
		}
		body, _ := io.ReadAll(p)
		if p.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
			t.Errorf("part Content-Length %q for %d bytes", p.Header.Get("Content-Length"), len(body))
		}
		if want := fd.frame(first + uint64(i)); !bytes.Equal(body, want) {
			t.Fatalf("part %d is not frame %d", i, first+uint64(i))
		}
	}
}

func TestSnapshot(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 1, 80))
	var skew atomic.Int64 // added to the server's clock
	cam := &Camera{Video: hub, MaxSnapshotAge: 2 * time.Second}
	cam.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	base := serve(t, cam, nil)
	u := base + "/cam1/snapshot.jpg"

	check503 := func(want string) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(string(body), want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("got %d Retry-After=%q %q, want 503 saying %q", resp.StatusCode, resp.Header.Get("Retry-After"), body, want)
		}
	}
	check503("has not sent any frame yet")

	seq := fd.publish()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" ||
		resp.Header.Get("Content-Length") != fmt.Sprint(len(body)) || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("snapshot: %d %v", resp.StatusCode, resp.Header)
	}
	if !bytes.Equal(body, fd.frame(seq)) {
		t.Fatal("snapshot is not the newest frame")
	}
	if _, err = http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date header %q: %v", resp.Header.Get("Date"), err)
	}

	// ffprobe decodes it as a 640x480 JPEG.
	ffprobe := testutil.NeedTool(t, "ffprobe")
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", u).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "mjpeg,640,480" {
		t.Fatalf("ffprobe: %v %q", err, out)
	}

	skew.Store(int64(3 * time.Second)) // the camera has been quiet for 3 s
	check503("(limit 2s); the camera may be offline")
}

// TestFanOut: 100 HTTP viewers plus one that never reads. The stuck one
// must not slow the others: they all receive every frame.
func TestFanOut(t *testing.T) {
	// Viewers written directly by the publisher, and a server without
	// ConnContext, where each viewer's goroutine writes its frames.
	t.Run("direct", func(t *testing.T) { testFanOut(t, true) })
	t.Run("goroutines", func(t *testing.T) { testFanOut(t, false) })
}

func testFanOut(t *testing.T, direct bool) {
	const viewers, frames = 100, 40
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 3, 60))
	// MaxLag is generous so that a viewer goroutine starved of CPU by the
	// race detector on a loaded machine is not mistaken for a slow client;
	// the stuck viewer below is far more frames behind than that.
	cam := &Camera{Video: hub, WriteTimeout: 2 * time.Second, MaxLag: 12}
	base := serveMode(t, cam, nil, direct)
	u, _ := url.Parse(base)

	// The stuck viewer: a tiny receive buffer and no reads at all.
	dialTinyBuffer(t, u.Host, "/cam1/stream.mjpeg")

	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: viewers}}
	got := make([][]uint64, viewers)
	errs := make([]error, viewers)
	var wg sync.WaitGroup
	for i := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(base + "/cam1/stream.mjpeg")
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			mr := multipart.NewReader(resp.Body, Boundary)
			for len(got[i]) < frames {
				p, err := mr.NextPart()
				if err != nil {
					errs[i] = fmt.Errorf("after %d frames: %w", len(got[i]), err)
					return
				}
				b, _ := io.ReadAll(p)
				_, seq, ok := fakecam.FrameSeq(b)
				if !ok {
					errs[i] = fmt.Errorf("frame without marker")
					return
				}
				got[i] = append(got[i], seq)
			}
		}()
	}
	waitFor(t, func() bool { return hub.Readers() == viewers+1 })
	start := time.Now()
	for range frames {
		fd.publish()
		time.Sleep(40 * time.Millisecond) // 25 fps
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i := range viewers {
		if errs[i] != nil {
			t.Fatalf("viewer %d: %v", i, errs[i])
		}
		for j, s := range got[i] {
			if s != uint64(j+1) {
				t.Fatalf("viewer %d: frame %d has seq %d: frames were skipped (%v)", i, j, s, got[i])
			}
		}
	}
	t.Logf("%d viewers got all %d frames in %v, %d of them from the publisher", viewers, frames, elapsed, cam.framesDirect.Load())
	if n := cam.parkedViewers(); n > maxParked {
		t.Errorf("%d viewers parked, more than %d", n, maxParked)
	}
	if d := cam.framesDirect.Load(); (d > 0) != direct {
		t.Errorf("%d frames written directly, want some only with ConnContext (direct %v)", d, direct)
	}
	// The stuck viewer is cut off once a frame cannot be written for
	// WriteTimeout, and its hub reader is released.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go fd.run(ctx, 5*time.Millisecond) // fill the socket buffers quickly
	waitFor(t, func() bool { return hub.Readers() == 0 })
	t.Logf("stuck viewer cut off %v after the last frame", time.Since(start)-elapsed)
}

// TestAudioWAV: ffmpeg plays /audio.wav; the samples are the camera's
// ADPCM packets decoded, without a gap.
func TestAudioWAV(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	hub, ahub := NewHub(), NewAudioHub()
	base := serve(t, &Camera{Video: hub, Audio: ahub}, nil)

	// A chirp, so that every packet is different.
	const perPacket = 512
	var packets [][]byte
	var decoded [][]byte
	phase := 0.0
	for k := range 200 {
		pcm := make([]int16, perPacket)
		for i := range pcm {
			phase += 2 * math.Pi * (200 + float64(k)*10) / audio.SampleRate
			pcm[i] = int16(8000 * math.Sin(phase))
		}
		var st audio.IMAState
		p := audio.EncodeBlock(nil, &st, pcm)
		packets = append(packets, p)
		var d audio.Decoder
		decoded = append(decoded, d.AppendPCM16LE(nil, p))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for k := 0; ctx.Err() == nil; k = (k + 1) % len(packets) {
			ahub.Publish(&camsession.Audio{ADPCM: packets[k], Index: uint16(k), Time: time.Now()})
			// Three times real time: quick, yet the ring's 16 packets
			// give ffmpeg 300 ms of slack on a loaded machine.
			time.Sleep(20 * time.Millisecond)
		}
	}()
	out := filepath.Join(t.TempDir(), "out.raw")
	cmd := exec.CommandContext(ctx, ffmpeg, "-v", "error", "-nostdin", "-y", "-i", base+"/cam1/audio.wav",
		"-t", "1", "-f", "s16le", "-ar", "8000", "-ac", "1", out)
	if b, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) != 0 {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	pcm, _ := os.ReadFile(out)
	if len(pcm) != 2*audio.SampleRate {
		t.Fatalf("ffmpeg wrote %d bytes, want one second (%d)", len(pcm), 2*audio.SampleRate)
	}
	k := -1
	for i, d := range decoded {
		if bytes.Equal(pcm[:len(d)], d) {
			k = i
			break
		}
	}
	if k < 0 {
		t.Fatal("the first packet ffmpeg got is none of the published ones")
	}
	for off := 0; off < len(pcm); k = (k + 1) % len(decoded) {
		n := min(len(decoded[k]), len(pcm)-off)
		if !bytes.Equal(pcm[off:off+n], decoded[k][:n]) {
			t.Fatalf("audio differs at byte %d (packet %d)", off, k)
		}
		off += n
	}

	// The WAV header says 8 kHz mono float.
	resp, err := http.Get(base + "/cam1/audio.wav")
	if err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, audio.FloatWAVHeaderLen)
	_, err = io.ReadFull(resp.Body, hdr)
	resp.Body.Close()
	if err != nil || resp.Header.Get("Content-Type") != "audio/wav" ||
		!bytes.Equal(hdr, audio.AppendFloatWAVHeader(nil, 8000, 1, audio.StreamSize)) {
		t.Fatalf("WAV header %q (%v), Content-Type %q", hdr, err, resp.Header.Get("Content-Type"))
	}
}

func TestAudioWAVWithoutAudio(t *testing.T) {
	base := serve(t, &Camera{Video: NewHub()}, nil)
	resp, err := http.Get(base + "/cam1/audio.wav")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "audio") {
		t.Fatalf("got %d %q, want 404 explaining there is no audio", resp.StatusCode, body)
	}
}

// TestStreamEnds: a viewer's stream ends when the hub closes, and a
// viewer that disconnects releases its hub reader.
func TestStreamEnds(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 1, 50))
	fd.publish()
	base := serve(t, &Camera{Video: hub}, nil)
	for _, path := range []string{"/cam1/stream.mjpeg", "/cam1/raw.mjpeg"} {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return hub.Readers() == 1 })
		cancel()
		resp.Body.Close()
		waitFor(t, func() bool { return hub.Readers() == 0 })
	}
	resp, err := http.Get(base + "/cam1/stream.mjpeg")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	waitFor(t, func() bool { return hub.Readers() == 1 })
	hub.Close()
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stream after hub close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not end after the hub closed")
	}
}

func TestAuth(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 2, 60))
	fd.publish()
	auth := httpauth.New("cam realm", httpauth.StaticUsers{"viewer": "pa55 word"})
	base := serve(t, &Camera{Video: hub, Auth: auth}, nil)

	for _, path := range []string{"/cam1/snapshot.jpg", "/cam1/stream.mjpeg", "/cam1/raw.mjpeg", "/cam1/audio.wav"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ch := resp.Header.Values("WWW-Authenticate")
		if resp.StatusCode != 401 || len(ch) != 3 || !strings.HasPrefix(ch[0], "Digest ") || !strings.HasPrefix(ch[2], "Basic ") {
			t.Errorf("%s without credentials: %d %q", path, resp.StatusCode, ch)
		}
	}
	// Basic.
	req, _ := http.NewRequest("GET", base+"/cam1/snapshot.jpg", nil)
	req.SetBasicAuth("viewer", "pa55 word")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("basic: %d", resp.StatusCode)
	}
	req.SetBasicAuth("viewer", "wrong")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("basic, wrong password: %d", resp.StatusCode)
	}

	// Digest with curl (snapshot, like Home Assistant) ...
	curl := testutil.NeedTool(t, "curl")
	out, err := exec.Command(curl, "-sS", "--digest", "-u", "viewer:pa55 word", "-o", "/dev/null", "-w", "%{http_code} %{content_type}",
		base+"/cam1/snapshot.jpg").CombinedOutput()
	if err != nil || string(out) != "200 image/jpeg" {
		t.Errorf("curl --digest: %v %q", err, out)
	}
	// ... and with ffmpeg on the MJPEG stream, Basic switched off so that
	// it has to use Digest.
	noBasic := httpauth.New("cam realm", httpauth.StaticUsers{"viewer": "pa55 word"})
	noBasic.AllowBasic = false
	base = serve(t, &Camera{Video: hub, Auth: noBasic}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go fd.run(ctx, 20*time.Millisecond)
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	u := strings.Replace(base, "http://", "http://viewer:pa55%20word@", 1) + "/cam1/stream.mjpeg"
	if b, err := exec.Command(ffmpeg, "-v", "error", "-nostdin", "-i", u, "-frames:v", "5", "-f", "null", "-").CombinedOutput(); err != nil || len(b) != 0 {
		t.Errorf("ffmpeg with digest: %v\n%s", err, b)
	}
	bad := strings.Replace(u, "pa55%20word", "nope", 1)
	if err := exec.Command(ffmpeg, "-v", "quiet", "-nostdin", "-i", bad, "-frames:v", "5", "-f", "null", "-").Run(); err == nil {
		t.Error("ffmpeg with a wrong password read the stream")
	}
}

// TestHeadAndMethods: HEAD answers headers only; other methods are refused.
func TestHeadAndMethods(t *testing.T) {
	hub := NewHub()
	newFeeder(hub, baseJPEGs(t, 1, 50)).publish()
	base := serve(t, &Camera{Video: hub}, nil)
	for _, path := range []string{"/cam1/stream.mjpeg", "/cam1/raw.mjpeg", "/cam1/snapshot.jpg"} {
		resp, err := http.Head(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") == "" {
			t.Errorf("HEAD %s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		resp, err = http.Post(base+path, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d", path, resp.StatusCode)
		}
	}
}

// TestChromium: headless Chromium shows /stream.mjpeg in an <img> (the
// image's naturalWidth becomes 640 and its pixels change as frames arrive)
// and plays /audio.wav in an <audio> element (its currentTime advances).
// The page reports back to the test server.
func TestChromium(t *testing.T) {
	chromium := testutil.NeedTool(t, "chromium")
	hub, ahub := NewHub(), NewAudioHub()
	fd := newFeeder(hub, baseJPEGs(t, 2, 60))
	fd.publish()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go fd.run(ctx, 40*time.Millisecond)
	var st audio.IMAState
	var pcm []int16
	for i := range 512 {
		pcm = append(pcm, int16(6000*math.Sin(float64(i)*2*math.Pi*440/audio.SampleRate)))
	}
	packet := audio.EncodeBlock(nil, &st, pcm)
	go func() {
		// Chromium's media pipeline reads a few hundred KB before it
		// starts to play: at real-time rate (32 KB/s of float samples)
		// that takes several seconds, so the test feeds four times
		// faster.
		tk := time.NewTicker(16 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				ahub.Publish(&camsession.Audio{ADPCM: packet, Time: time.Now()})
			}
		}
	}()
	report := make(chan string, 16)
	base := serve(t, &Camera{Video: hub, Audio: ahub}, func(r *mux.Router) {
		r.HandleFunc("/page.html", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><html><body>
<img id="cam" src="/cam1/stream.mjpeg">
<audio id="snd" src="/cam1/audio.wav" autoplay></audio>
<canvas id="cv" width="640" height="480"></canvas>
<script>
const report = (q) => fetch("/report?" + q);
const img = document.getElementById("cam");
const snd = document.getElementById("snd");
const cv = document.getElementById("cv").getContext("2d");
img.onerror = () => report("img=error");
snd.onerror = () => report("audio=error" + (snd.error ? snd.error.code : ""));
const seen = new Set();
let sized = false, live = false, played = false;
const t = setInterval(() => {
  if (!sized && img.naturalWidth > 0) {
    sized = true;
    report("img=" + img.naturalWidth + "x" + img.naturalHeight);
  }
  if (sized && !live) {
    cv.drawImage(img, 0, 0);
    seen.add(cv.getImageData(300, 200, 1, 1).data.join(","));
    if (seen.size >= 2) { live = true; report("live=1"); }
  }
  if (!played && snd.currentTime > 0.5) { played = true; report("audio=playing"); }
  if (snd.paused && !played) { snd.play().catch(e => report("audio=" + encodeURIComponent(e.name))); }
}, 50);
</script></body></html>`)
		})
		r.HandleFunc("/report", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case report <- r.URL.RawQuery:
			default:
			}
		})
	})
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--autoplay-policy=no-user-gesture-required", "--remote-debugging-port=0",
		// Tests send nothing beyond loopback: without these Chromium
		// queries the DNS server and multicasts SSDP searches for cast
		// targets (the media router).
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=127.0.0.1:9",
		"--disable-features=MediaRouter,DialMediaRouteProvider",
		"--user-data-dir="+t.TempDir(), base+"/page.html")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Chromium forks helpers: end its whole process group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	want := map[string]bool{"img=640x480": false, "live=1": false, "audio=playing": false}
	timeout := time.After(60 * time.Second)
	start := time.Now()
	for missing := len(want); missing > 0; {
		select {
		case got := <-report:
			done, ok := want[got]
			if !ok {
				t.Fatalf("browser reported %q; want %v", got, want)
			}
			if !done {
				t.Logf("%s after %v", got, time.Since(start).Round(time.Millisecond))
				want[got] = true
				missing--
			}
		case <-timeout:
			t.Fatalf("browser reports so far: %v\n%s", want, lastLines(stderr.String(), 20))
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// readHTTPHeader consumes a response header from br.
func readHTTPHeader(br *bufio.Reader) error {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			return nil
		}
	}
}

// TestProbeChunks: the start of an ffmpeg client's WAV is the header, the
// first packet's samples in probeChunks data chunks, in order, and the
// header of an endless data chunk.
func TestProbeChunks(t *testing.T) {
	pcm := make([]int16, 256)
	for i := range pcm {
		pcm[i] = int16(i*97 - 12000)
	}
	b := appendProbeChunks(nil, pcm)
	if !bytes.HasPrefix(b, audio.AppendFloatWAVHeader(nil, audio.SampleRate, 1, 16)) {
		t.Fatalf("header % x", b[:audio.FloatWAVHeaderLen])
	}
	b = b[audio.FloatWAVHeaderLen-8:] // back to the first data chunk's header
	var got []int16
	chunks := 0
	for {
		if len(b) < 8 || string(b[:4]) != "data" {
			t.Fatalf("after %d chunks: % x", chunks, b[:min(8, len(b))])
		}
		size := binary.LittleEndian.Uint32(b[4:])
		b = b[8:]
		if size == audio.StreamSize {
			break
		}
		chunks++
		for i := 0; i < int(size); i += 4 {
			got = append(got, int16(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))*32768))
		}
		b = b[size:]
	}
	if chunks != probeChunks || len(b) != 0 || !slices.Equal(got, pcm) {
		t.Errorf("%d chunks, %d bytes after the endless chunk's header, samples equal: %v", chunks, len(b), slices.Equal(got, pcm))
	}
}
