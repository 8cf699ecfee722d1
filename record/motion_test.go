package record

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/stream"
)

// TestMotionOnly runs a motion detector on a fake camera that switches
// between its still and its moving scene, and records only on motion:
// there is one segment per movement and nothing of the still scene beyond
// the pre-roll before the movement (at least a second of it, taken from
// the frames in memory when motion was detected) and the hold time after
// it.
func TestMotionOnly(t *testing.T) {
	t.Parallel()
	const (
		fps     = 15
		preRoll = 3 * time.Second
		hold    = time.Second
	)
	hub := stream.NewHub()
	var l lateRecorder
	r := startRig(t, "127.0.14.5", fakecam.Config{FPS: fps}, func(f *camsession.Frame) {
		hub.Publish(f)
		l.on(f)
	}, nil)
	var ev events
	cfg := testConfig(t, Config{Segment: time.Hour, Motion: true, PreRoll: preRoll, MinFree: -1})
	ev.hook(&cfg)
	rec := l.set(t, cfg)
	det := motion.New(motion.Config{Hold: hold, OnChange: rec.SetMotion})
	testutil.Go(t, func(ctx context.Context) error { return det.Run(ctx, hub) })
	recRun := testutil.Go(t, rec.Run)

	waitFor(t, 10*time.Second, "frames", func() bool { return hub.Published() > fps })
	first, _ := r.sent.get(r.sent.lastSeq())
	still := body(first.JPEG)

	// Still for 4 s, moving for 2 s, still for 4 s, moving for 1.5 s,
	// still until the recording ends. Motion is detected a few hundred
	// milliseconds after the picture starts moving (more on a busy
	// machine), and the pre-roll counts back from there.
	time.Sleep(4 * time.Second)
	if n := len(ev.get().opened); n != 0 {
		t.Fatalf("%d segments recorded without motion", n)
	}
	for i, moving := range []time.Duration{2 * time.Second, 1500 * time.Millisecond} {
		r.cam.SetMotion(true)
		waitFor(t, 5*time.Second, "recording on motion", func() bool { return len(ev.get().opened) == i+1 })
		time.Sleep(moving)
		r.cam.SetMotion(false)
		waitFor(t, 10*time.Second, "segment closed after the hold time", func() bool { return len(ev.get().closed) == i+1 })
		if i == 0 {
			time.Sleep(4 * time.Second)
			if n := len(ev.get().opened); n != 1 {
				t.Fatalf("%d segments: recording while the scene is still", n)
			}
		}
	}
	recRun.Stop(t)

	recs, err := rec.List()
	if err != nil || len(recs) != 2 {
		t.Fatalf("recordings %+v, %v; want one per movement", recs, err)
	}
	var prevLast uint64
	for i, sr := range recs {
		probe(t, sr.Path)
		frames := extractFrames(t, sr.Path, false)
		checkSentWhole(t, r.sent, frames)
		s := seqs(t, frames)
		if i > 0 && s[0] <= prevLast+fps {
			t.Errorf("segment %d starts at seq %d, less than a second after segment %d ended at %d: the still time between was recorded", i, s[0], i-1, prevLast)
		}
		prevLast = s[len(s)-1]
		for k := 1; k < len(s); k++ {
			if s[k] != s[k-1]+1 {
				t.Fatalf("segment %d: frame seq %d follows %d", i, s[k], s[k-1])
			}
		}
		firstMoving, lastMoving := -1, -1
		for k, f := range frames {
			if !bytes.Equal(body(f), still) {
				if firstMoving < 0 {
					firstMoving = k
				}
				lastMoving = k
			}
		}
		if firstMoving < 0 {
			t.Fatalf("segment %d has no frame of the moving scene", i)
		}
		for k := firstMoving; k <= lastMoving; k++ {
			if bytes.Equal(body(frames[k]), still) {
				t.Errorf("segment %d: a still frame in the middle of the movement", i)
				break
			}
		}
		pre := time.Duration(firstMoving) * time.Second / fps
		post := time.Duration(len(frames)-1-lastMoving) * time.Second / fps
		t.Logf("segment %d: %d frames, %v of still scene before the movement, %v after", i, len(frames), pre, post)
		if pre < time.Second || pre > preRoll+time.Second/fps {
			t.Errorf("segment %d starts with %v of the still scene, want the pre-roll: 1 s to %v", i, pre, preRoll)
		}
		if post < hold-200*time.Millisecond || post > hold+1500*time.Millisecond {
			t.Errorf("segment %d ends %v after the movement, want about the %v hold time", i, post, hold)
		}
	}
}

// body returns a JPEG without its fake camera marker (the COM segment
// after SOI).
func body(jpg []byte) []byte {
	if len(jpg) < 6 || jpg[2] != 0xFF || jpg[3] != 0xFE {
		return jpg
	}
	n := int(jpg[4])<<8 | int(jpg[5])
	return jpg[4+n:]
}
