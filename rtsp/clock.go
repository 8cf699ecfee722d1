package rtsp

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/chinesium/chinesium/stream"
)

// Frame timing of the video tracks.
//
// RTP timestamps come from the frames' capture times (camsession.Frame.Time,
// when the frame's last packet arrived) but are laid on a grid of the
// stream's frame rate: each frame takes the grid slot nearest its capture
// time, and never the slot of the frame before. Players that rescale
// timestamps to the frame rate (ffmpeg turns 90 kHz into 1/15 s for a
// 15 fps stream) then never see two frames on one tick, which network
// jitter on raw arrival times would cause ("non monotonically increasing
// dts"), and ffprobe finds the real frame rate from the timestamps. The
// rate is the camera's, measured from its frames, or the stream's
// FrameRateLimit when that is lower.

const (
	// rateWindow is how many frame intervals the camera's rate is measured
	// over (two seconds at 15 fps).
	rateWindow = 32
	// minRateIntervals is how many intervals a measurement needs: a
	// second's worth, fewer than a hub remembers (stream.Hub.RecentStamps),
	// so that a track starting on a running camera knows its rate at once.
	minRateIntervals = 15
	// rateHysteresis is how far (as a fraction, and at least 0.6 frames
	// per second, past the next whole rate) the measured rate must move
	// before the stream's rate follows: small wobbles of a camera's rate
	// must not restart the H.264 encoder.
	rateHysteresis = 0.04
	// rateSlower is how much slower (as a fraction of the stream's rate)
	// the camera must run before the stream's rate follows it down.
	rateSlower = 0.75
	// maxLeadSlots is how many grid slots a timestamp may run ahead of its
	// frame's capture time before the frame is dropped instead: the late
	// frames of a burst after a stall, or a camera a little faster than
	// the grid, so that timestamps never drift from the capture times.
	maxLeadSlots = 2
	// resyncGap is a pause of the camera after which the grid starts over
	// from the next frame's capture time.
	resyncGap = 10 * time.Second
	// fallbackRate is the frame rate assumed when the camera's is not
	// known (IWFCam cameras send 15 frames per second).
	fallbackRate = 15
	// learnWait is how long an encoder waits for a camera that has just
	// started to show its rate.
	learnWait = time.Second
)

// rateMeter measures a camera's frame rate from its frames' capture times.
// Frames are counted by the camera's frame index, so frames the camera lost
// and frames a slow reader skipped count too (by the session's sequence
// number when the index does not tell). The rate is the median over the
// window of the time per frame across rateSpan frames: spanning several
// frames divides the arrival jitter, and the median ignores a stall and the
// burst of late frames after it.
type rateMeter struct {
	pts     [rateWindow + 1]ratePoint // a ring; n entries, the newest at i-1
	n, i    int
	count   int64 // frames counted so far
	lastIdx uint16
	lastSeq uint64
	scratch [rateWindow]time.Duration
}

// ratePoint is a frame's capture time and the number of camera frames up
// to it.
type ratePoint struct {
	at    time.Time
	count int64
}

// rateSpan is how many frames apart the two ends of a measured span are.
const rateSpan = 4

// add records a frame captured at at with the camera's frame index idx and
// the session's sequence number seq. A frame that does not move time
// forward (the same frame seen twice) is ignored; one whose frames since
// the previous cannot be told (a new session, a long outage) starts over.
func (m *rateMeter) add(at time.Time, idx uint16, seq uint64) {
	if m.n > 0 {
		prev := m.pts[(m.i+len(m.pts)-1)%len(m.pts)]
		if !at.After(prev.at) {
			return
		}
		var frames int64
		switch {
		case idx != m.lastIdx && uint16(idx-m.lastIdx) <= rateWindow:
			frames = int64(uint16(idx - m.lastIdx))
		case seq > m.lastSeq && seq-m.lastSeq <= rateWindow:
			frames = int64(seq - m.lastSeq)
		case idx == 0 && m.lastIdx == 0 && seq == 0 && m.lastSeq == 0:
			frames = 1 // nothing to count by: consecutive frames
		default:
			m.n = 0
		}
		m.count += frames
	}
	m.lastIdx, m.lastSeq = idx, seq
	m.pts[m.i] = ratePoint{at, m.count}
	m.i = (m.i + 1) % len(m.pts)
	m.n = min(m.n+1, len(m.pts))
}

// rate returns the camera's frames per second, or 0 while fewer than
// minRateIntervals intervals are known.
func (m *rateMeter) rate() float64 {
	if m.n-1 < minRateIntervals {
		return 0
	}
	point := func(k int) ratePoint { return m.pts[(m.i-m.n+k+2*len(m.pts))%len(m.pts)] }
	per := m.scratch[:0]
	for k := 0; k+rateSpan < m.n; k++ {
		a, b := point(k), point(k+rateSpan)
		if frames := b.count - a.count; frames > 0 {
			per = append(per, b.at.Sub(a.at)/time.Duration(frames))
		}
	}
	if len(per) == 0 {
		return 0
	}
	slices.Sort(per)
	med := per[len(per)/2]
	if med <= 0 {
		return 0
	}
	return float64(time.Second) / float64(med)
}

// videoClock paces one video track's frames and gives each its RTP
// timestamp. It belongs to the track and outlives its producers, so
// timestamps never go back when a producer restarts. One goroutine uses it
// at a time (the track's producer).
type videoClock struct {
	meter   rateMeter
	camRate float64 // the camera's rate, whole frames per second; 0 unknown
	settled int     // frames observed since camRate last changed

	// Token bucket of the frame-rate limit: tokens accrue at the limit
	// and a frame is sent when there is (about) one.
	tokens float64
	tokAt  time.Time // capture time of the frame the bucket last saw

	// The grid: slot is the RTP ticks per frame of the current rate (0:
	// no grid yet), last the timestamp of the last frame sent.
	slot   uint32
	last   uint32
	lastAt time.Time // capture time of the last frame sent
	have   bool
}

// observe records a camera frame (before any is dropped; frames a reader
// skipped are told by their index) and updates the camera's rate. A faster
// camera is followed at once (on a grid slower than the camera, frames
// would be dropped); a slower one only when it is much slower, since a grid
// faster than the camera only leaves some slots empty, and a loaded host
// that delays a few frames must not change the stream's rate (which
// restarts the H.264 encoder). For a window's worth of frames after a
// change the rate is corrected both ways, as the estimate settles.
func (c *videoClock) observe(at time.Time, idx uint16, seq uint64) {
	c.meter.add(at, idx, seq)
	est := c.meter.rate()
	if est == 0 {
		return
	}
	margin := max(0.6, rateHysteresis*c.camRate)
	c.settled++
	switch {
	case c.camRate == 0,
		est > c.camRate+margin,
		est < c.camRate-margin && c.settled < rateWindow,
		est < rateSlower*c.camRate:
		if r := max(1, math.Round(est)); r != c.camRate {
			c.camRate, c.settled = r, 0
		}
	}
}

// observeRecent records the frames still in hub, so that a producer that
// starts knows the camera's rate at once.
func (c *videoClock) observeRecent(hub *stream.Hub) {
	var buf [rateWindow]stream.Stamp
	for _, f := range hub.RecentStamps(buf[:0], rateWindow) {
		if !f.Time.IsZero() {
			c.observe(f.Time, f.Index, f.Seq)
		}
	}
}

// learnRate observes hub's recent frames and, while the camera's rate is
// still unknown (a camera that has just started), its next frames for up to
// wait, so that an encoder starts at the camera's rate rather than at
// fallbackRate and a restart moments later.
func (c *videoClock) learnRate(ctx context.Context, hub *stream.Hub, wait time.Duration) {
	c.observeRecent(hub)
	if c.camRate != 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	r := hub.NewReaderAfterLatest()
	defer r.Close()
	for c.camRate == 0 {
		f, err := r.Next(ctx)
		if err != nil {
			return
		}
		if f != nil && !f.Time.IsZero() {
			c.observe(f.Time, f.Index, f.Seq)
		}
	}
}

// rate returns the stream's frame rate: the camera's, or limit when it is
// lower (limit 0: no limit), or fallbackRate before the camera's is known
// (an encoder must be told some rate).
func (c *videoClock) rate(limit float64) float64 {
	r := c.camRate
	if r == 0 {
		r = fallbackRate
	}
	if limit > 0 && limit < r {
		r = limit
	}
	return r
}

// gridRate is rate, but 0 (no grid: timestamps are the capture times)
// while the camera's rate is not known and no limit sets one.
func (c *videoClock) gridRate(limit float64) float64 {
	if c.camRate == 0 && limit <= 0 {
		return 0
	}
	return c.rate(limit)
}

// pace reports whether the frame captured at at goes out under limit
// (frames per second, 0 for none). Below the camera's rate it drops frames
// evenly by capture time: tokens accrue at limit, a frame needs half a
// token to go and costs one, so jitter does not drop a frame that is just
// early, and the bucket holds a token and a half, so none is lost to the
// cap.
func (c *videoClock) pace(at time.Time, limit float64) bool {
	if limit <= 0 || c.camRate > 0 && limit >= c.camRate {
		c.tokAt = time.Time{}
		return true
	}
	add := at.Sub(c.tokAt).Seconds() * limit
	if c.tokAt.IsZero() || add > 1.5 {
		// A start, or a camera pause: begin half a token short of a
		// frame, as after a sent frame, so the next one goes out a
		// whole interval later.
		c.tokens = 0.5
	} else {
		c.tokens = min(1.5, c.tokens+add)
	}
	c.tokAt = at
	if c.tokens < 0.5-1e-6 { // the epsilon absorbs rounding of exact ratios
		return false
	}
	c.tokens--
	return true
}

// stamp returns the RTP timestamp on t's clock of a frame captured at at,
// for a stream of rate frames per second (0: no grid), or false when the
// frame must be dropped because the grid already runs more than
// maxLeadSlots ahead of it.
func (c *videoClock) stamp(t *track, at time.Time, rate float64) (uint32, bool) {
	capTS := t.rtpTime(at)
	slot := uint32(0)
	if rate > 0 {
		slot = uint32(math.Round(float64(t.clockRate) / rate))
	}
	if !c.have || slot == 0 || at.Sub(c.lastAt) > resyncGap {
		ts := capTS
		if c.have && int32(ts-c.last) <= 0 {
			ts = c.last + 1
		}
		c.last, c.lastAt, c.have, c.slot = ts, at, true, slot
		return ts, true
	}
	c.slot = slot
	n := uint32(1)
	if d := int32(capTS - c.last); d > 0 {
		n = max(1, (uint32(d)+slot/2)/slot)
	}
	ts := c.last + n*slot
	if lead := int32(ts - capTS); lead > int32(maxLeadSlots*slot) {
		return 0, false
	}
	c.last, c.lastAt = ts, at
	return ts, true
}
