package discovery

import (
	"net/netip"
	"sync"
	"time"
)

// limiter is a per-source token bucket with a bounded number of tracked sources.
type limiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

const maxTrackedSources = 4096

func newLimiter(rate, burst float64) *limiter {
	return &limiter{rate: rate, burst: burst, buckets: map[netip.Addr]*bucket{}}
}

// allow takes one token for src, reporting false when its bucket is empty.
func (l *limiter) allow(src netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[src]
	if b == nil {
		if len(l.buckets) >= maxTrackedSources {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[src] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// evict drops buckets that have refilled completely; if none has, it clears the map
// (a flood of spoofed sources must not grow memory without bound).
func (l *limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxTrackedSources {
		clear(l.buckets)
	}
}
