package rtsp

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// cameraTimes returns the capture times of n frames at fps, each moved by
// up to ±jitter (arrival jitter), from base.
func cameraTimes(base time.Time, n int, fps float64, jitter time.Duration, seed uint64) []time.Time {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]time.Time, n)
	for i := range out {
		d := time.Duration(float64(i) * float64(time.Second) / fps)
		if jitter > 0 {
			d += time.Duration(rng.Int64N(int64(2*jitter))) - jitter
		}
		out[i] = base.Add(d)
	}
	return out
}

// TestPaceEvenly: a frame-rate limit below the camera's rate lets through
// the limit's worth of frames, spread evenly: the number of camera frames
// from one sent frame to the next is the ratio rounded down or up, never
// "every n-th" bunching, with and without arrival jitter.
func TestPaceEvenly(t *testing.T) {
	const camFPS, seconds = 25, 20
	for _, limit := range []float64{5, 6, 10, 12.5, 24} {
		for _, jitter := range []time.Duration{0, 8 * time.Millisecond} {
			var c videoClock
			times := cameraTimes(time.Now(), camFPS*seconds, camFPS, jitter, 7)
			var sent []int
			for i, at := range times {
				c.observe(at, uint16(i+1), uint64(i+1))
				if c.pace(at, limit) {
					sent = append(sent, i)
				}
			}
			got := float64(len(sent)) / seconds
			if math.Abs(got-limit) > 0.02*limit {
				t.Errorf("limit %v, jitter %v: %.2f frames per second", limit, jitter, got)
			}
			ratio := camFPS / limit
			lo, hi := int(math.Floor(ratio)), int(math.Ceil(ratio))
			if jitter > 0 {
				// A frame just early or late may move by one.
				lo, hi = max(1, lo-1), hi+1
			}
			for k := 1; k < len(sent); k++ {
				if gap := sent[k] - sent[k-1]; gap < lo || gap > hi {
					t.Errorf("limit %v, jitter %v: frames %d and %d sent, %d apart (want %d to %d)",
						limit, jitter, sent[k-1], sent[k], gap, lo, hi)
					break
				}
			}
		}
	}
	// At or above the camera's rate nothing is dropped, even with jitter.
	var c videoClock
	for i, at := range cameraTimes(time.Now(), 200, 15, 20*time.Millisecond, 3) {
		c.observe(at, uint16(i+1), uint64(i+1))
		if !c.pace(at, 15) && i > rateWindow {
			t.Fatalf("limit at the camera's rate dropped frame %d", i)
		}
	}
}

// TestStampGrid: timestamps lie on the grid of the stream's rate, each
// frame in the slot nearest its capture time and never in the slot of the
// frame before, so they strictly increase by whole slots and stay within a
// slot (maxLeadSlots) of the capture time.
func TestStampGrid(t *testing.T) {
	tr := newTrack(&Server{}, kindJPEG, 26, 90000, nil)
	const fps = 15
	slot := uint32(90000 / fps)
	var c videoClock
	times := cameraTimes(tr.baseTime.Add(time.Second), 600, fps, 25*time.Millisecond, 11)
	// Lose some frames, as a camera on WiFi does.
	var prev, prevSlot uint32
	changes := 0
	for i, at := range times {
		c.observe(at, uint16(i+1), uint64(i+1))
		if i%17 == 5 {
			continue
		}
		ts, ok := c.stamp(tr, at, c.rate(0))
		if !ok {
			t.Fatalf("frame %d dropped", i)
		}
		if c.slot != prevSlot {
			// The rate settled (or, at first, became known): one
			// step on the old grid.
			changes++
			prevSlot = c.slot
		} else {
			if d := ts - prev; d == 0 || d%c.slot != 0 {
				t.Fatalf("frame %d: step %d ticks, want whole slots of %d", i, d, c.slot)
			}
			if lead := int32(ts - tr.rtpTime(at)); lead > int32(maxLeadSlots*c.slot) || lead < -int32(c.slot/2) {
				t.Fatalf("frame %d: %d ticks from its capture time", i, lead)
			}
		}
		prev = ts
	}
	if changes > 3 || c.slot != slot {
		t.Errorf("grid changed %d times, ended at %d ticks per frame, want at most 3 changes and %d", changes, c.slot, slot)
	}
	if r := c.rate(0); r != fps {
		t.Errorf("measured rate %v, want %v", r, float64(fps))
	}
	if r := c.rate(5); r != 5 {
		t.Errorf("rate with a limit of 5: %v", r)
	}

	// A burst of late frames runs ahead by at most maxLeadSlots; the
	// frames beyond are dropped, and time never goes back.
	at := times[len(times)-1].Add(time.Second)
	last := prev
	dropped := 0
	for range 6 {
		ts, ok := c.stamp(tr, at, fps)
		if !ok {
			dropped++
			continue
		}
		if int32(ts-last) <= 0 {
			t.Fatal("timestamp went back in a burst")
		}
		last = ts
	}
	// The first frame takes the slot nearest its time, up to half a slot
	// late; the next ones take the following slots up to maxLeadSlots
	// ahead of their time.
	if sent := 6 - dropped; sent < maxLeadSlots || sent > maxLeadSlots+1 {
		t.Errorf("burst of 6 frames: %d sent, want %d or %d", sent, maxLeadSlots, maxLeadSlots+1)
	}
}

// TestRateMeter: the camera's rate counts frames by the camera's index,
// so frames the camera lost and frames a slow reader skipped do not lower
// it (the session's sequence number counts when the index does not move),
// a session restart does not confuse it, and jitter does not move it much.
func TestRateMeter(t *testing.T) {
	base := time.Now()
	var skipped rateMeter
	for i, at := range cameraTimes(base, 40, 12, 5*time.Millisecond, 1) {
		if i%3 == 1 {
			continue // skipped by the reader
		}
		skipped.add(at, uint16(i+1), uint64(i+1))
	}
	if r := skipped.rate(); math.Round(r) != 12 {
		t.Errorf("reader skipping frames: %.2f fps, want 12", r)
	}
	var lossy rateMeter
	n := 0
	for i, at := range cameraTimes(base, 60, 20, 0, 1) {
		if i%6 == 3 {
			continue // lost by the camera: its index is missing, it has no seq
		}
		n++
		lossy.add(at, uint16(65530+i), uint64(n)) // the index wraps
	}
	if r := lossy.rate(); math.Round(r) != 20 {
		t.Errorf("camera losing frames: %.2f fps, want 20", r)
	}
	var bySeq rateMeter
	for i, at := range cameraTimes(base, 40, 25, 0, 1) {
		if i%4 == 0 {
			continue
		}
		bySeq.add(at, 0, uint64(i+1))
	}
	if r := bySeq.rate(); math.Round(r) != 25 {
		t.Errorf("counted by seq: %.2f fps, want 25", r)
	}
	var restart rateMeter
	times := cameraTimes(base, 40, 10, 0, 1)
	for i, at := range times[:20] {
		restart.add(at, uint16(500+i), uint64(100+i))
	}
	for i, at := range times[20:] {
		restart.add(at, uint16(9+i), uint64(1+i))
	}
	if r := restart.rate(); math.Round(r) != 10 {
		t.Errorf("across a session restart: %.2f fps, want 10", r)
	}
	var jittery rateMeter
	for i, at := range cameraTimes(base, minRateIntervals+1, 15, 25*time.Millisecond, 5) {
		jittery.add(at, uint16(i), uint64(i+1))
	}
	if r := jittery.rate(); math.Abs(r-15) > 0.1*15 {
		t.Errorf("±25 ms of jitter over a second: %.2f fps, want 15 within 10 %%", r)
	}
	var short rateMeter
	for i, at := range cameraTimes(base, minRateIntervals, 10, 0, 1) {
		short.add(at, uint16(i+1), uint64(i+1))
	}
	if r := short.rate(); r != 0 {
		t.Errorf("rate from %d intervals: %v, want unknown", minRateIntervals-1, r)
	}
}

// TestCameraRateSettles: the stream's rate follows a camera that becomes
// faster at once and one that becomes much slower, but not a camera whose
// frames a busy host delays or loses for a moment (which would restart the
// H.264 encoder for nothing).
func TestCameraRateSettles(t *testing.T) {
	var c videoClock
	at := time.Now()
	idx := uint16(0)
	run := func(fps float64, d time.Duration) {
		for end := at.Add(d); at.Before(end); at = at.Add(time.Duration(float64(time.Second) / fps)) {
			idx++
			c.observe(at, idx, 0)
		}
	}
	run(15, 3*time.Second)
	if c.camRate != 15 {
		t.Fatalf("steady 15 fps camera: %v", c.camRate)
	}
	// A stall: 400 ms without frames, then the late ones in a burst.
	at = at.Add(400 * time.Millisecond)
	for range 6 {
		idx++
		c.observe(at, idx, 0)
		at = at.Add(time.Millisecond)
	}
	run(15, 500*time.Millisecond)
	if c.camRate != 15 {
		t.Errorf("after a stall: %v, want 15 still", c.camRate)
	}
	// Frames lost for a second (the index jumps).
	idx += 15
	at = at.Add(time.Second)
	run(15, time.Second)
	if c.camRate != 15 {
		t.Errorf("after lost frames: %v, want 15 still", c.camRate)
	}
	run(14, 3*time.Second)
	if c.camRate != 15 {
		t.Errorf("camera slowing to 14 fps: %v, want 15 still", c.camRate)
	}
	run(7, 5*time.Second)
	if c.camRate != 7 {
		t.Errorf("camera at 7 fps: %v", c.camRate)
	}
	run(15, 1500*time.Millisecond)
	if c.camRate != 15 {
		t.Errorf("camera back at 15 fps for 1.5 s: %v, want it followed up at once", c.camRate)
	}
	run(15, 3*time.Second)
	if c.camRate != 15 {
		t.Errorf("camera back at 15 fps: %v", c.camRate)
	}
}
