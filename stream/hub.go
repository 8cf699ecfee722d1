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
// than ringSize frames behind skips to the newest frame.
const ringSize = 16

// ErrClosed is returned by Reader.Next after the hub has been closed.
var ErrClosed = errors.New("stream: hub closed")

// Hub fans a camera's video frames out to readers.
type Hub = Feed[camsession.Frame]

// AudioHub fans a camera's audio packets out to readers.
type AudioHub = Feed[camsession.Audio]

// NewHub returns an empty video hub.
func NewHub() *Hub { return NewFeed[camsession.Frame]() }

// NewAudioHub returns an empty audio hub.
func NewAudioHub() *AudioHub { return NewFeed[camsession.Audio]() }

// Feed keeps the latest items (frames or audio packets) of one camera and
// hands them to readers. Publish never waits for a reader and costs the same
// whatever the number of readers: readers wait on a broadcast channel that
// Publish closes, then pick items out of a small ring. Items are shared,
// never copied.
type Feed[T any] struct {
	mu      sync.Mutex
	ring    [ringSize]*T
	last    uint64        // hub sequence of the newest frame, 0 when none
	wake    chan struct{} // closed at the next Publish or Close
	closed  bool
	readers atomic.Int64
	frames  atomic.Uint64
}

// NewFeed returns an empty feed.
func NewFeed[T any]() *Feed[T] { return &Feed[T]{wake: make(chan struct{})} }

// Publish makes f the newest frame and wakes every waiting reader. f must
// not be modified afterwards.
func (h *Feed[T]) Publish(f *T) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.last++
	h.ring[h.last%ringSize] = f
	wake := h.wake
	h.wake = make(chan struct{})
	h.mu.Unlock()
	h.frames.Add(1)
	close(wake)
}

// Latest returns the newest frame, or nil when none has arrived yet.
func (h *Feed[T]) Latest() *T {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == 0 {
		return nil
	}
	return h.ring[h.last%ringSize]
}

// Close wakes all readers; their Next returns ErrClosed from then on.
func (h *Feed[T]) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.wake)
	}
}

// Readers returns the number of open readers.
func (h *Feed[T]) Readers() int { return int(h.readers.Load()) }

// Published returns the number of frames published so far.
func (h *Feed[T]) Published() uint64 { return h.frames.Load() }

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
	h.mu.Lock()
	defer h.mu.Unlock()
	next := h.last
	if next == 0 {
		next = 1
	}
	return &Reader[T]{h: h, next: next}
}

// NewReaderAfterLatest returns a reader that starts with the next frame to be
// published rather than the newest one already there.
func (h *Feed[T]) NewReaderAfterLatest() *Reader[T] {
	h.readers.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	return &Reader[T]{h: h, next: h.last + 1}
}

// Next returns the next frame, waiting for it until ctx is done. A reader
// that fell more than the ring's length behind skips to the newest frame;
// the frames it missed are added to Dropped.
func (r *Reader[T]) Next(ctx context.Context) (*T, error) {
	h := r.h
	for {
		h.mu.Lock()
		if r.next <= h.last {
			if h.last-r.next >= ringSize {
				skipped := h.last - r.next
				r.dropped += skipped
				r.next = h.last
			}
			f := h.ring[r.next%ringSize]
			r.next++
			h.mu.Unlock()
			return f, nil
		}
		if h.closed {
			h.mu.Unlock()
			return nil, ErrClosed
		}
		wake := h.wake
		h.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// SkipToLatest makes the next call of Next return the newest frame (or wait
// for the next one), counting the skipped frames as dropped. Readers that
// cannot keep up with the camera use it to stay live.
func (r *Reader[T]) SkipToLatest() {
	h := r.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last >= r.next {
		r.dropped += h.last - r.next
		r.next = h.last
	}
}

// Lag returns how many published frames this reader has not returned yet
// (0 when it is up to date). Live viewers call SkipToLatest when it grows.
func (r *Reader[T]) Lag() uint64 {
	h := r.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last < r.next {
		return 0
	}
	return h.last - r.next + 1
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
