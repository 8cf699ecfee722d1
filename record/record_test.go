package record

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// gate passes a session's frames to a recorder while their time is in
// [from, until), and closes done at the first frame after.
type gate struct {
	mu          sync.Mutex
	rec         *Recorder
	from, until time.Time
	seen        int    // frames before the gate was set
	first, last uint64 // seqs of the first and last frames passed
	after       uint64 // seq of the first frame after until
	passed      int
	done        chan struct{}
}

func (g *gate) on(f *camsession.Frame) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.rec == nil:
		g.seen++
	case f.Time.Before(g.from):
	case !f.Time.Before(g.until):
		if g.done != nil {
			_, g.after, _ = fakecam.FrameSeq(f.JPEG)
			close(g.done)
			g.done = nil
		}
	default:
		_, seq, _ := fakecam.FrameSeq(f.JPEG)
		if g.passed == 0 {
			g.first = seq
		}
		g.last = seq
		g.passed++
		g.rec.AddFrame(f)
	}
}

// TestSegmentsOnClockMarks records 25 s of a fake camera that loses
// packets into 10 s segments and checks what a user would: three segment
// files, cut on the 10 s marks of the clock and named after them, each
// read by ffprobe without a message and lasting its wall-clock span (from
// the camera sending its first frame to the camera sending the frame that
// follows its last) within 2 %; together the frames ffmpeg copies out of them are exactly the frames
// the camera sent whole, byte for byte, in order, none missing, none
// twice.
func TestSegmentsOnClockMarks(t *testing.T) {
	t.Parallel()
	const period = 10 * time.Second
	g := &gate{}
	r := startRig(t, "127.0.14.1", fakecam.Config{FPS: 15, Loss: 0.003, Seed: 7}, g.on, nil)
	var ev events
	cfg := testConfig(t, Config{Segment: period, MinFree: -1})
	ev.hook(&cfg)
	rec, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	recRun := testutil.Go(t, rec.Run)
	waitFor(t, 10*time.Second, "frame from the camera", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.seen > 0
	})

	// Start 0.2 to 3.5 s after a 10 s mark, so that 25 s make three
	// segments of which the first and the last last over 5 s: now if the
	// clock is there, else just after the next mark (at most 7 s away).
	now := time.Now()
	from := now
	if phase := now.Sub(now.Truncate(period)); phase < 200*time.Millisecond || phase > 3500*time.Millisecond {
		from = now.Truncate(period).Add(period + 200*time.Millisecond)
	}
	until := from.Add(25 * time.Second)
	done := make(chan struct{})
	g.mu.Lock()
	g.rec, g.from, g.until, g.done = rec, from, until, done
	g.mu.Unlock()
	select {
	case <-done:
	case <-time.After(time.Until(until) + 10*time.Second):
		t.Fatal("the camera stopped sending")
	}
	recRun.Stop(t)
	r.run.Stop(t)

	b1 := from.Truncate(period).Add(period)
	b2 := b1.Add(period)
	marks := [][2]time.Time{{from, b1}, {b1, b2}, {b2, until}}
	recs, err := rec.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d segments, want 3: %+v", len(recs), recs)
	}
	var all [][]byte
	firstSeqs := make([]uint64, len(recs)+1) // of each segment, then the frame after
	firstSeqs[len(recs)] = g.after
	durations := make([]time.Duration, len(recs))
	for i, sr := range recs {
		name := filepath.Base(sr.Path)
		if i > 0 && name != "cam-"+marks[i][0].Format("2006-01-02_15-04-05")+".mkv" {
			t.Errorf("segment %d is %s, want it named after the 10 s mark %s", i, name, marks[i][0].Format(time.TimeOnly))
		}
		if sr.Start.Before(marks[i][0]) || sr.Start.Sub(marks[i][0]) > 500*time.Millisecond {
			t.Errorf("segment %d starts at %v, want just after %v", i, sr.Start.Format(time.StampMilli), marks[i][0].Format(time.StampMilli))
		}
		if !sr.Complete {
			t.Errorf("segment %d not closed properly", i)
		}
		p := probe(t, sr.Path)
		pts := p.videoPTS(t)
		if len(pts) == 0 {
			t.Fatalf("segment %d has no frames", i)
		}
		if end := sr.Start.Add(pts[len(pts)-1]); !end.Before(marks[i][1]) {
			t.Errorf("segment %d has a frame at %v, after the 10 s mark %v", i, end.Format(time.StampMilli), marks[i][1].Format(time.StampMilli))
		}
		durations[i] = p.duration(t)
		frames := extractFrames(t, sr.Path, false)
		if len(frames) != len(pts) {
			t.Fatalf("segment %d: ffmpeg copied out %d frames, ffprobe counts %d", i, len(frames), len(pts))
		}
		firstSeqs[i] = seqs(t, frames[:1])[0]
		all = append(all, frames...)
		t.Logf("segment %d: %s, %d frames, %v, %d bytes", i, name, len(pts), durations[i].Round(time.Millisecond), sr.Size)
	}
	for i, d := range durations {
		a, _ := r.sent.get(firstSeqs[i])
		b, _ := r.sent.get(firstSeqs[i+1])
		span := b.at.Sub(a.at)
		if diff := (d - span).Abs(); diff > span/50 {
			t.Errorf("segment %d lasts %v, its wall-clock span is %v: off by %v, over 2 %%", i, d, span, diff)
		}
	}

	checkSentWhole(t, r.sent, all)
	got := seqs(t, all)
	var want []uint64
	damaged := 0
	for seq := g.first; seq <= g.last; seq++ {
		s, ok := r.sent.get(seq)
		if !ok {
			t.Fatalf("the camera did not send seq %d", seq)
		}
		if s.Damaged {
			damaged++
			continue
		}
		want = append(want, seq)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("recorded frames are not the %d frames sent whole from seq %d to %d:\n got  %v\n want %v", len(want), g.first, g.last, got, want)
	}
	if damaged == 0 {
		t.Error("no frame was damaged: the test did not exercise the camera's losses")
	}
	if st := rec.Stats(); st.Dropped != 0 || st.Frames != uint64(len(want)) || st.Segments != 3 {
		t.Errorf("stats %+v", st)
	}
	if e := ev.get(); len(e.opened) != 3 || len(e.closed) != 3 || len(e.paused) != 0 {
		t.Errorf("events: %d opened, %d closed, paused %v", len(e.opened), len(e.closed), e.paused)
	}
	t.Logf("%d frames recorded, %d damaged ones left out", len(got), damaged)
}

// TestGapClosesSegment: when the camera goes away the segment is closed
// (whole, with its duration) at once; when frames return a new segment
// starts; nothing is recorded for the time between.
func TestGapClosesSegment(t *testing.T) {
	t.Parallel()
	var rec *Recorder
	var recMu sync.Mutex
	r := startRig(t, "127.0.14.2", fakecam.Config{FPS: 15}, func(f *camsession.Frame) {
		recMu.Lock()
		defer recMu.Unlock()
		if rec != nil {
			rec.AddFrame(f)
		}
	}, nil)
	var ev events
	cfg := testConfig(t, Config{Segment: time.Hour, Gap: time.Second, MinFree: -1})
	ev.hook(&cfg)
	var err error
	recMu.Lock()
	rec, err = New(cfg)
	recMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	recRun := testutil.Go(t, rec.Run)
	waitFor(t, 10*time.Second, "segment", func() bool { return rec.Stats().Frames >= 15 })
	stopped := time.Now()
	r.run.Stop(t)
	waitFor(t, 5*time.Second, "closed segment", func() bool { return len(ev.get().closed) == 1 })
	if took := time.Since(stopped); took > 3*time.Second {
		t.Errorf("segment closed %v after the camera stopped, want about the 1 s gap", took)
	}
	first := ev.get().closed[0]
	framesBefore := rec.Stats().Frames
	if !first.Complete {
		t.Errorf("first segment %+v not finished", first)
	}
	resumed := time.Now()
	testutil.Go(t, r.cam.Run)
	waitFor(t, 20*time.Second, "second segment", func() bool { return len(ev.get().opened) == 2 })
	waitFor(t, 10*time.Second, "frames in the second segment", func() bool { return rec.Stats().Frames >= framesBefore+15 })
	recRun.Stop(t)
	recs, err := rec.List()
	if err != nil || len(recs) != 2 {
		t.Fatalf("recordings %+v, %v; want 2", recs, err)
	}
	if recs[1].Start.Before(resumed) {
		t.Errorf("second segment starts at %v, before the camera came back at %v", recs[1].Start, resumed)
	}
	for _, sr := range recs {
		p := probe(t, sr.Path)
		pts := p.videoPTS(t)
		// No frame made up for the gap: the frames are at most a few
		// intervals apart.
		for i := 1; i < len(pts); i++ {
			if d := pts[i] - pts[i-1]; d > 500*time.Millisecond {
				t.Errorf("%s: %v between frames %d and %d", filepath.Base(sr.Path), d, i-1, i)
			}
		}
		checkSentWhole(t, r.sent, extractFrames(t, sr.Path, false))
	}
}

// TestNewErrors: a camera name that is no folder name, a folder that
// cannot be created and a segment length out of range fail in New with an
// error that says so.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Dir: t.TempDir(), Name: "../x"}, "only letters"},
		{Config{Dir: t.TempDir(), Name: ".."}, "not usable"},
		{Config{Dir: t.TempDir()}, "not usable"},
		{Config{Name: "cam"}, "no folder"},
		{Config{Dir: file, Name: "cam"}, "cannot create the folder"},
		{Config{Dir: t.TempDir(), Name: "cam", Segment: 10 * time.Millisecond}, "out of range"},
		{Config{Dir: t.TempDir(), Name: "cam", Segment: 25 * time.Hour}, "out of range"},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error saying %q", c.cfg, err, c.want)
		}
	}
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		if err := os.Chmod(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if _, err := New(Config{Dir: ro, Name: "cam"}); err == nil {
			t.Error("New accepted a folder it cannot write")
		}
	}
}
