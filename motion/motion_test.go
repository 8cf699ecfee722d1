package motion

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/stream"
)

// scene renders a textured 640x480 frame: a gradient with a fixed noise texture,
// brightness offset, per-frame sensor noise of amplitude noise, and an 80x80 dark
// square at (bx, by) when bx >= 0.
func scene(t testing.TB, seed uint64, brightness, noise, bx, by int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	tex := rand.New(rand.NewPCG(1, 2))
	rnd := rand.New(rand.NewPCG(seed, 3))
	for y := range 480 {
		for x := range 640 {
			v := (x+y)/5 + tex.IntN(40) + brightness
			if noise > 0 {
				v += rnd.IntN(2*noise+1) - noise
			}
			if bx >= 0 && x >= bx && x < bx+80 && y >= by && y < by+80 {
				v = 20
			}
			c := uint8(max(0, min(255, v)))
			img.SetRGBA(x, y, color.RGBA{c, c, c, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type transitions struct {
	mu  sync.Mutex
	got []bool
}

func (tr *transitions) on(m bool) { tr.mu.Lock(); tr.got = append(tr.got, m); tr.mu.Unlock() }
func (tr *transitions) list() []bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]bool(nil), tr.got...)
}

func TestStillNoisyAndBrightnessChangeAreNotMotion(t *testing.T) {
	var tr transitions
	d := New(Config{OnChange: tr.on})
	now := time.Unix(1000, 0)
	for i := range 12 {
		brightness := 0
		if i >= 6 {
			brightness = 35 // auto exposure jumps: the whole picture gets brighter
		}
		d.Analyse(scene(t, uint64(i), brightness, 6, -1, 0), now)
		now = now.Add(300 * time.Millisecond)
	}
	if st := d.Stats(); st.Analysed != 12 || st.Detections != 0 {
		t.Errorf("still scene: %+v", st)
	}
	if len(tr.list()) != 0 || d.Motion() {
		t.Errorf("transitions %v on a still scene", tr.list())
	}
}

func TestMovingSquareAndHold(t *testing.T) {
	var tr transitions
	d := New(Config{Hold: 2 * time.Second, OnChange: tr.on})
	now := time.Unix(1000, 0)
	still := scene(t, 1, 0, 2, -1, 0)
	d.Analyse(still, now)
	// A square moves 40 px per analysed frame.
	for i := range 5 {
		now = now.Add(250 * time.Millisecond)
		if !d.Analyse(scene(t, uint64(i), 0, 2, 100+40*i, 200), now) {
			t.Fatalf("frame %d with a moving square: no motion (area %.3f)", i, d.Stats().LastArea)
		}
	}
	// The square stops where it is: motion holds for Hold, then ends.
	stopped := scene(t, 9, 0, 2, 260, 200)
	lastMotion := now
	for now.Sub(lastMotion) < 1900*time.Millisecond {
		now = now.Add(250 * time.Millisecond)
		d.Analyse(stopped, now)
		if now.Sub(lastMotion) < 1900*time.Millisecond && !d.Motion() {
			t.Fatalf("motion ended %v after the last movement, before the hold time", now.Sub(lastMotion))
		}
	}
	// No frames at all (camera stopped): the hold still expires.
	d.Tick(lastMotion.Add(2 * time.Second))
	if d.Motion() {
		t.Error("motion still on after the hold time")
	}
	if got := tr.list(); len(got) != 2 || !got[0] || got[1] {
		t.Errorf("transitions %v, want [true false]", got)
	}
}

func TestRateLimitsDecoding(t *testing.T) {
	d := New(Config{Rate: 4})
	now := time.Unix(1000, 0)
	f := scene(t, 1, 0, 0, -1, 0)
	for range 30 { // two seconds at 15 fps
		d.Analyse(f, now)
		now = now.Add(time.Second / 15)
	}
	if st := d.Stats(); st.Analysed != 8 || st.Skipped != 22 {
		t.Errorf("at 15 fps and rate 4: %+v", st)
	}
	d.Analyse([]byte("not a jpeg"), now.Add(time.Second))
	if st := d.Stats(); st.BadFrames != 1 {
		t.Errorf("bad frame not counted: %+v", st)
	}
}

// TestFakeCamera runs a fake camera through a real session into a hub and the
// detector's Run loop: still frames give no motion, SetMotion(true) gives motion, and
// SetMotion(false) ends it after the hold time.
func TestFakeCamera(t *testing.T) {
	camIP := netip.MustParseAddr("127.0.6.40")
	cam, err := fakecam.New(fakecam.Config{IP: camIP, Name: "MOTIONCAM", FPS: 15})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	hub := stream.NewHub()
	sess, err := camsession.New(camsession.Config{
		Camera: camIP, LocalIP: netip.MustParseAddr("127.0.6.41"), LocalPort: -1,
		OnFrame: func(f *camsession.Frame) { hub.Publish(f) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var tr transitions
	det := New(Config{Rate: 6, Hold: 800 * time.Millisecond, OnChange: tr.on})
	wg.Add(3)
	go func() { defer wg.Done(); _ = cam.Run(ctx) }()
	go func() { defer wg.Done(); _ = sess.Run(ctx) }()
	go func() { defer wg.Done(); _ = det.Run(ctx, hub) }()

	waitFor := func(what string, timeout time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timeout waiting for %s (stats %+v, transitions %v)", what, det.Stats(), tr.list())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("still frames analysed", 5*time.Second, func() bool { return det.Stats().Analysed >= 6 })
	if det.Motion() || len(tr.list()) != 0 {
		t.Fatalf("motion on a still scene: %v %+v", tr.list(), det.Stats())
	}
	cam.SetMotion(true)
	start := time.Now()
	waitFor("motion", 3*time.Second, det.Motion)
	t.Logf("motion seen %v after SetMotion(true)", time.Since(start))
	cam.SetMotion(false)
	stop := time.Now()
	waitFor("motion to end", 3*time.Second, func() bool { return !det.Motion() })
	if el := time.Since(stop); el < 800*time.Millisecond {
		t.Errorf("motion ended %v after the scene stopped, before the 800ms hold", el)
	}
	if got := tr.list(); len(got) != 2 || !got[0] || got[1] {
		t.Errorf("transitions %v, want [true false]", got)
	}
}

// BenchmarkAnalyse measures one analysed 640x480 frame against the plain JPEG
// decode as a baseline, and reports the share of one core at the default 4 Hz.
func BenchmarkAnalyse(b *testing.B) {
	frames := [][]byte{scene(b, 1, 0, 4, 100, 100), scene(b, 2, 0, 4, 140, 100)}
	var decodeNs float64
	{
		start := time.Now()
		n := 50
		for i := range n {
			if _, err := jpeg.Decode(bytes.NewReader(frames[i%2])); err != nil {
				b.Fatal(err)
			}
		}
		decodeNs = float64(time.Since(start).Nanoseconds()) / float64(n)
	}
	d := New(Config{Rate: 1e9})
	now := time.Unix(0, 0)
	b.ResetTimer()
	for i := range b.N {
		now = now.Add(time.Second)
		d.Analyse(frames[i%2], now)
	}
	b.StopTimer()
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perFrame/decodeNs, "x-decode")
	b.ReportMetric(perFrame*4/1e9*100, "%core@4Hz")
}
