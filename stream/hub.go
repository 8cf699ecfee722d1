// Package stream fans a camera's frames out to any number of viewers and
// serves them over HTTP: multipart MJPEG, raw MJPEG, JPEG snapshots and the
// camera's audio as WAV.
package stream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chinesium/chinesium/camsession"
)

// ringSize is how many recent frames a Hub keeps. A reader that falls more
// than ringSize frames behind skips to the newest frame. Live viewers skip
// much sooner (after MaxLag frames), so the ring is only slack for readers
// that keep up; it is most of a camera's memory (8 frames of 20–80 KiB).
const ringSize = 8

// ErrClosed is returned by Reader.Next after the hub has been closed.
var ErrClosed = errors.New("stream: hub closed")

// stampRing is how many frames' capture stamps a Hub remembers: more
// frames than it keeps, since measuring a camera's frame rate needs a
// second or two of them and a stamp costs 32 bytes where a frame costs
// 20–80 KiB.
const stampRing = 32

// Hub fans a camera's video frames out to readers, and remembers the
// stamps of the last stampRing frames.
type Hub struct {
	Feed[camsession.Frame]

	smu    sync.Mutex
	stamps [stampRing]Stamp // stamp of frame n (from 1) in stamps[n%stampRing]
	nstamp uint64           // stamps recorded

	// pmu serialises Publish, Close and Listen, so that listeners see
	// frames one at a time and in order.
	pmu       sync.Mutex
	listeners []func(seq uint64, f *camsession.Frame) // guarded by pmu
}

// Stamp is what a Hub remembers of a frame after it has let go of it.
type Stamp struct {
	Time  time.Time // capture (arrival) time
	Index uint16    // the camera's frame index
	Seq   uint64    // the session's frame number
}

// AudioHub fans a camera's audio packets out to readers.
type AudioHub = Feed[camsession.Audio]

// NewHub returns an empty video hub.
func NewHub() *Hub {
	h := &Hub{}
	h.init()
	return h
}

// Publish makes f the newest frame, as Feed.Publish, remembers its
// stamp, and then calls the listeners (see Listen) before it returns.
func (h *Hub) Publish(f *camsession.Frame) {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	if f != nil {
		h.smu.Lock()
		h.nstamp++
		h.stamps[h.nstamp%stampRing] = Stamp{Time: f.Time, Index: f.Index, Seq: f.Seq}
		h.smu.Unlock()
	}
	h.Feed.Publish(f)
	if h.isShut.Load() {
		return
	}
	seq := h.head.Load().seq
	for _, fn := range h.listeners {
		fn(seq, f)
	}
}

// Close closes the feed, as Feed.Close, and tells the listeners: they are
// called once more with a nil frame.
func (h *Hub) Close() {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	if h.isShut.Load() {
		return
	}
	h.Feed.Close()
	for _, fn := range h.listeners {
		fn(h.head.Load().seq, nil)
	}
}

// Listen adds fn to the functions that Publish calls, in the publisher's
// goroutine, with each frame and its hub sequence number (the number a
// Reader counts in), one frame at a time and in order; Close calls them
// with a nil frame, as does Publish(nil). fn must not block: it delays
// the camera's next packets. It is for delivering a frame where waking a
// goroutine per reader would cost more than the work itself (see
// Camera's direct viewers).
func (h *Hub) Listen(fn func(seq uint64, f *camsession.Frame)) {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	h.listeners = append(h.listeners, fn)
}

// RecentStamps appends the stamps of up to n of the newest frames (at most
// stampRing) to dst, oldest first, and returns the extended slice. Callers
// use it to look at the recent past, such as a camera's frame rate, without
// waiting for new frames.
func (h *Hub) RecentStamps(dst []Stamp, n int) []Stamp {
	h.smu.Lock()
	defer h.smu.Unlock()
	n = min(n, stampRing, int(h.nstamp))
	for k := h.nstamp - uint64(n) + 1; k <= h.nstamp && n > 0; k++ {
		dst = append(dst, h.stamps[k%stampRing])
	}
	return dst
}

// NewAudioHub returns an empty audio hub.
func NewAudioHub() *AudioHub { return NewFeed[camsession.Audio]() }

// Feed keeps the latest items (frames or audio packets) of one camera and
// hands them to readers. Publish never waits for a reader: readers take no
// lock; they wait on a broadcast channel that the next Publish closes, then
// pick items out of a small ring. Publish's only per-reader cost is the
// runtime readying the readers that wait (about 30 µs for 200 readers),
// though each reader then runs on whichever thread the runtime wakes for
// it: the HTTP stream viewers that are up to date wait in no Reader but
// are written by a Hub listener (see Hub.Listen and direct.go). Items are
// shared, never copied.
type Feed[T any] struct {
	wmu    sync.Mutex // serialises Publish and Close; readers never take it
	closed bool       // guarded by wmu
	isShut atomic.Bool

	ring    [ringSize]atomic.Pointer[node[T]] // node of seq n is in ring[n%ringSize]
	head    atomic.Pointer[node[T]]           // newest node; a sentinel with seq 0 at first
	readers atomic.Int64
}

// node is one published item. next is closed when the following item is
// published (or the feed is closed), which wakes the readers waiting for it.
type node[T any] struct {
	seq  uint64 // 1 for the first item published
	item *T
	next chan struct{}
}

// NewFeed returns an empty feed.
func NewFeed[T any]() *Feed[T] {
	h := &Feed[T]{}
	h.init()
	return h
}

func (h *Feed[T]) init() { h.head.Store(&node[T]{next: make(chan struct{})}) }

// Publish makes f the newest item and wakes every waiting reader. f must
// not be modified afterwards. Publishing on a closed feed does nothing.
func (h *Feed[T]) Publish(f *T) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if h.closed {
		return
	}
	old := h.head.Load()
	n := &node[T]{seq: old.seq + 1, item: f, next: make(chan struct{})}
	// The slot is written before the head moves, so a reader that sees
	// the new head finds the item in the ring.
	h.ring[n.seq%ringSize].Store(n)
	h.head.Store(n)
	close(old.next)
}

// Latest returns the newest item, or nil when none has arrived yet.
func (h *Feed[T]) Latest() *T { return h.head.Load().item }

// Close wakes all readers; their Next returns ErrClosed once they have
// taken the items still in reach. Close is idempotent.
func (h *Feed[T]) Close() {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if !h.closed {
		h.closed = true
		h.isShut.Store(true)
		close(h.head.Load().next)
	}
}

// Readers returns the number of open readers.
func (h *Feed[T]) Readers() int { return int(h.readers.Load()) }

// Published returns the number of items published so far.
func (h *Feed[T]) Published() uint64 { return h.head.Load().seq }

// Reader follows a hub's frames. It is used by one goroutine at a time.
type Reader[T any] struct {
	h       *Feed[T]
	next    uint64 // hub sequence of the next frame to return
	dropped uint64
	closed  bool
}

// NewReader returns a reader whose first frame is the newest frame already
// published (when there is one), so a new viewer gets a picture at once.
func (h *Feed[T]) NewReader() *Reader[T] {
	h.readers.Add(1)
	return &Reader[T]{h: h, next: max(h.head.Load().seq, 1)}
}

// NewReaderAfterLatest returns a reader that starts with the next frame to be
// published rather than the newest one already there.
func (h *Feed[T]) NewReaderAfterLatest() *Reader[T] {
	h.readers.Add(1)
	return &Reader[T]{h: h, next: h.head.Load().seq + 1}
}

// Next returns the next frame, waiting for it until ctx is done. A reader
// that fell more than the ring's length behind skips to the newest frame;
// the frames it missed are added to Dropped.
func (r *Reader[T]) Next(ctx context.Context) (*T, error) {
	h := r.h
	for {
		head := h.head.Load()
		if r.next <= head.seq {
			if head.seq-r.next >= ringSize {
				r.dropped += head.seq - r.next
				r.next = head.seq
			}
			n := h.ring[r.next%ringSize].Load()
			if n.seq != r.next {
				// Overwritten since head was loaded: the publisher has
				// lapped this reader; look again at the new head.
				continue
			}
			r.next++
			return n.item, nil
		}
		if h.isShut.Load() {
			return nil, ErrClosed
		}
		select {
		case <-head.next:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// SkipToLatest makes the next call of Next return the newest frame (or wait
// for the next one), counting the skipped frames as dropped. Readers that
// cannot keep up with the camera use it to stay live.
func (r *Reader[T]) SkipToLatest() {
	if last := r.h.head.Load().seq; last >= r.next {
		r.dropped += last - r.next
		r.next = last
	}
}

// Lag returns how many published frames this reader has not returned yet
// (0 when it is up to date). Live viewers call SkipToLatest when it grows.
func (r *Reader[T]) Lag() uint64 {
	if last := r.h.head.Load().seq; last >= r.next {
		return last - r.next + 1
	}
	return 0
}

// Dropped returns how many frames this reader skipped.
func (r *Reader[T]) Dropped() uint64 { return r.dropped }

// Close releases the reader.
func (r *Reader[T]) Close() {
	if !r.closed {
		r.closed = true
		r.h.readers.Add(-1)
	}
}

// Age returns how old the frame is, measured from its arrival.
func Age(f *camsession.Frame, now time.Time) time.Duration { return now.Sub(f.Time) }

// FrameReader follows a Hub.
type FrameReader = Reader[camsession.Frame]

// AudioReader follows an AudioHub.
type AudioReader = Reader[camsession.Audio]
