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

// sceneBase is the gradient plus fixed noise texture of scene, computed once.
var sceneBase = sync.OnceValue(func() []int {
	tex := rand.New(rand.NewPCG(1, 2))
	b := make([]int, 640*480)
	for y := range 480 {
		for x := range 640 {
			b[y*640+x] = (x+y)/5 + tex.IntN(40)
		}
	}
	return b
})

// scene renders a textured 640x480 grey frame: a gradient with a fixed noise texture,
// brightness offset, per-frame sensor noise of amplitude noise, and an 80x80 dark
// square at (bx, by) when bx >= 0.
func scene(t testing.TB, seed uint64, brightness, noise, bx, by int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 640, 480))
	base := sceneBase()
	state := seed*0x9E3779B97F4A7C15 + 1
	for i, v := range base {
		v += brightness
		if noise > 0 {
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			v += int(state%uint64(2*noise+1)) - noise
		}
		x, y := i%640, i/640
		if bx >= 0 && x >= bx && x < bx+80 && y >= by && y < by+80 {
			v = 20
		}
		img.Pix[i] = uint8(max(0, min(255, v)))
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

// TestSameBrightnessTextureIsMotion moves a checkered square whose mean luma equals
// the flat background's: only the texture shows it.
func TestSameBrightnessTextureIsMotion(t *testing.T) {
	flat := func(bx int) []byte {
		img := image.NewGray(image.Rect(0, 0, 640, 480))
		for y := range 480 {
			for x := range 640 {
				v := uint8(120)
				if bx >= 0 && x >= bx && x < bx+80 && y >= 200 && y < 280 {
					v = uint8(20 + (x/10+y/10)%2*200)
				}
				img.SetGray(x, y, color.Gray{Y: v})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	d := New(Config{})
	now := time.Unix(1000, 0)
	d.Analyse(flat(100), now)
	if !d.Analyse(flat(180), now.Add(time.Second)) {
		t.Errorf("a moving square as bright as the background was not seen (area %.3f)", d.Stats().LastArea)
	}
	// The same square standing still is not motion.
	d2 := New(Config{})
	d2.Analyse(flat(180), now)
	if d2.Analyse(flat(180), now.Add(time.Second)) {
		t.Error("a still textured square was seen as motion")
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

// BenchmarkAnalyse measures one analysed 640x480 frame (the DC decode and
// the grid comparison) against the full decode it replaced (image/jpeg
// and NewGrid, decodeGridFull) timed interleaved in the same run, so load
// changes on the machine hit both alike. It reports the ratio, the share
// of one core at the default 4 Hz, and the cores 64 cameras take.
func BenchmarkAnalyse(b *testing.B) {
	for _, tc := range []struct {
		name   string
		frames [][]byte
	}{
		{"scene", [][]byte{colourScene(b, 0, 100), colourScene(b, 1, 140)}},
		{"fakecam", [][]byte{readJPEG(b, "fakecam-still.jpg"), readJPEG(b, "fakecam-moving.jpg")}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := New(Config{Rate: 1e9})
			now := time.Unix(0, 0)
			var full, analyse time.Duration
			b.ResetTimer()
			for i := range b.N {
				f := tc.frames[i%2]
				t0 := time.Now()
				if _, err := decodeGridFull(f, DefaultGridW, DefaultGridH); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				now = now.Add(time.Second)
				d.Analyse(f, now)
				full += t1.Sub(t0)
				analyse += time.Since(t1)
			}
			b.StopTimer()
			if st := d.Stats(); st.BadFrames != 0 {
				b.Fatalf("stats %+v", st)
			}
			perFrame := float64(analyse.Nanoseconds()) / float64(b.N)
			fullNs := float64(full.Nanoseconds()) / float64(b.N)
			b.ReportMetric(perFrame, "ns/analysis")
			b.ReportMetric(fullNs, "ns/full-decode")
			b.ReportMetric(perFrame/fullNs, "x-full-decode")
			b.ReportMetric(perFrame*DefaultRate/1e9*100, "%core@4Hz")
			b.ReportMetric(perFrame*DefaultRate*64/1e9, "cores@64cams")
		})
	}
}

// TestAnalyseReusesItsMemory: an analysis works in memory kept from the
// ones before (the DC image, from any Detector; the grid, the Detector's
// own), so that after the first frames it allocates nothing. Its verdicts
// are those of grids decoded afresh, also when the picture's size
// changes (the memory then holds what a picture of another size left).
func TestAnalyseReusesItsMemory(t *testing.T) {
	still, moving := readJPEG(t, "fakecam-still.jpg"), readJPEG(t, "fakecam-moving.jpg")
	var small [2][]byte
	for i := range small {
		img := image.NewGray(image.Rect(0, 0, 320, 240))
		for p := range img.Pix {
			img.Pix[p] = uint8(p%320/3 + 60*i*(p/320/120))
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, nil); err != nil {
			t.Fatal(err)
		}
		small[i] = buf.Bytes()
	}
	frames := [][]byte{still, moving, small[0], small[1], still, moving, still, small[1], moving}
	d := New(Config{Rate: 1e9})
	now := time.Unix(0, 0)
	var prev *Grid
	for i, f := range frames {
		now = now.Add(time.Second)
		d.Analyse(f, now)
		g, err := DecodeGrid(f, DefaultGridW, DefaultGridH)
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil {
			want := prev.ChangedArea(g, d.cfg.Threshold)
			if got := d.Stats().LastArea; got != want {
				t.Errorf("frame %d: changed area %v, want %v as from grids decoded afresh", i, got, want)
			}
		}
		prev = g
	}
	if st := d.Stats(); st.Analysed != uint64(len(frames)) || st.BadFrames != 0 || st.Detections == 0 {
		t.Fatalf("stats %+v: want %d frames analysed, none bad, some motion", st, len(frames))
	}
	i := 0
	if n := testing.AllocsPerRun(20, func() {
		now = now.Add(time.Second)
		d.Analyse(frames[i%2], now)
		i++
	}); n != 0 {
		t.Errorf("%v allocations per analysis, want none", n)
	}
}
