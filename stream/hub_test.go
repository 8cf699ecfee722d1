package stream

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
)

func frame(seq uint64) *camsession.Frame {
	return &camsession.Frame{JPEG: []byte{0xFF, 0xD8, byte(seq), 0xFF, 0xD9}, Seq: seq, Time: time.Now()}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHubFanOut(t *testing.T) {
	h := NewHub()
	const readers, frames = 20, 200
	ctx := ctxT(t)
	var wg sync.WaitGroup
	got := make([][]uint64, readers)
	progress := make([]atomic.Uint64, readers)
	for i := range readers {
		r := h.NewReaderAfterLatest()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			for {
				f, err := r.Next(ctx)
				if err != nil {
					return
				}
				got[i] = append(got[i], f.Seq)
				progress[i].Store(f.Seq)
			}
		}()
	}
	// Publish paced so that no reader falls a whole ring behind.
	for s := uint64(1); s <= frames; s++ {
		h.Publish(frame(s))
		if s%(ringSize/2) == 0 {
			waitFor(t, func() bool {
				for i := range progress {
					if progress[i].Load() < s-ringSize/2 {
						return false
					}
				}
				return true
			})
		}
	}
	h.Close()
	wg.Wait()
	for i, seqs := range got {
		if len(seqs) != frames {
			t.Errorf("reader %d got %d frames, want %d", i, len(seqs), frames)
			continue
		}
		for j, s := range seqs {
			if s != uint64(j+1) {
				t.Fatalf("reader %d: frame %d has seq %d", i, j, s)
			}
		}
	}
	if h.Published() != frames {
		t.Errorf("Published() = %d", h.Published())
	}
	if h.Readers() != 0 {
		t.Errorf("Readers() = %d after all closed", h.Readers())
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHubSlowReaderSkips(t *testing.T) {
	h := NewHub()
	r := h.NewReader()
	defer r.Close()
	ctx := ctxT(t)
	for s := uint64(1); s <= 100; s++ {
		h.Publish(frame(s)) // never waits for the reader
	}
	if lag := r.Lag(); lag != 100 {
		t.Errorf("Lag() = %d, want 100", lag)
	}
	f, err := r.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Seq != 100 {
		t.Errorf("slow reader got seq %d, want the newest (100)", f.Seq)
	}
	if r.Dropped() != 99 {
		t.Errorf("Dropped() = %d, want 99", r.Dropped())
	}
	// Within the ring: frames come in order, nothing dropped.
	for s := uint64(101); s <= 105; s++ {
		h.Publish(frame(s))
	}
	for s := uint64(101); s <= 105; s++ {
		if f, _ := r.Next(ctx); f.Seq != s {
			t.Fatalf("got %d, want %d", f.Seq, s)
		}
	}
	if r.Lag() != 0 || r.Dropped() != 99 {
		t.Errorf("Lag %d Dropped %d", r.Lag(), r.Dropped())
	}
	// SkipToLatest jumps to the newest.
	for s := uint64(106); s <= 110; s++ {
		h.Publish(frame(s))
	}
	r.SkipToLatest()
	if f, _ := r.Next(ctx); f.Seq != 110 {
		t.Errorf("after SkipToLatest got %d", f.Seq)
	}
	if r.Dropped() != 103 {
		t.Errorf("Dropped() = %d, want 103", r.Dropped())
	}
}

func TestHubNewReaderGetsLatestAtOnce(t *testing.T) {
	h := NewHub()
	if h.Latest() != nil {
		t.Fatal("Latest of an empty hub is not nil")
	}
	h.Publish(frame(1))
	h.Publish(frame(2))
	r := h.NewReader()
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	f, err := r.Next(ctx)
	if err != nil || f.Seq != 2 {
		t.Fatalf("new reader: %v %v, want frame 2 at once", f, err)
	}
	if h.Latest().Seq != 2 {
		t.Error("Latest is not frame 2")
	}
	// NewReaderAfterLatest waits for the next one.
	r2 := h.NewReaderAfterLatest()
	defer r2.Close()
	if _, err := r2.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after-latest reader: %v, want a timeout", err)
	}
	h.Publish(frame(3))
	if f, err := r2.Next(context.Background()); err != nil || f.Seq != 3 {
		t.Fatalf("after-latest reader got %v %v", f, err)
	}
	// A reader on an empty hub waits for the first frame.
	h2 := NewHub()
	r3 := h2.NewReader()
	defer r3.Close()
	go func() { time.Sleep(10 * time.Millisecond); h2.Publish(frame(7)) }()
	if f, err := r3.Next(ctxT(t)); err != nil || f.Seq != 7 {
		t.Fatalf("empty hub reader: %v %v", f, err)
	}
}

func TestHubClose(t *testing.T) {
	h := NewHub()
	h.Publish(frame(1))
	r := h.NewReaderAfterLatest()
	defer r.Close()
	errc := make(chan error, 1)
	go func() { _, err := r.Next(context.Background()); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	h.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Next after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the reader")
	}
	h.Publish(frame(2)) // ignored, must not panic
	h.Close()           // idempotent
	if h.Published() != 1 {
		t.Errorf("Published() = %d after a publish on a closed hub", h.Published())
	}
	if _, err := h.NewReader().Next(context.Background()); err != nil {
		// The newest frame is still handed out once...
		t.Fatalf("new reader on closed hub: %v", err)
	}
	r.Close()
	r.Close() // idempotent
}

// TestHubConcurrentReaders runs readers that come and go while frames are
// published; run with -race.
func TestHubConcurrentReaders(t *testing.T) {
	h := NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				r := h.NewReader()
				last := uint64(0)
				for range (g+i)%5 + 1 {
					c, cancelNext := context.WithTimeout(ctx, 20*time.Millisecond)
					f, err := r.Next(c)
					cancelNext()
					if err != nil {
						break
					}
					if f.Seq <= last {
						t.Errorf("seq went from %d to %d", last, f.Seq)
					}
					last = f.Seq
					if i%3 == 0 {
						r.SkipToLatest()
					}
					_ = r.Lag()
				}
				r.Close()
			}
		}()
	}
	for s := uint64(1); s <= 2000; s++ {
		h.Publish(frame(s))
		_ = h.Latest()
		_ = h.Readers()
		if s%50 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	cancel()
	wg.Wait()
	if n := h.Readers(); n != 0 {
		t.Errorf("Readers() = %d after all left", n)
	}
}

func TestPublishDoesNotAllocatePerReader(t *testing.T) {
	h := NewHub()
	for range 100 {
		defer h.NewReader().Close()
	}
	f := frame(1)
	// One ring node and one wake channel per publish, whatever the number
	// of readers.
	if n := testing.AllocsPerRun(100, func() { h.Publish(f) }); n > 2 {
		t.Errorf("Publish allocates %.0f times with 100 readers", n)
	}
	r := h.NewReader()
	defer r.Close()
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { h.Publish(f); _, _ = r.Next(ctx) }); n > 2 {
		t.Errorf("Publish+Next allocates %.0f times", n)
	}
}

// BenchmarkHubPublish200Readers measures Publish while 200 readers wake up
// and take every frame: the camera goroutine's cost. Publish takes no lock
// that readers hold; what remains is the runtime readying each waiting
// reader when the wake channel closes. Reported: the p99 of single calls.
func BenchmarkHubPublish200Readers(b *testing.B) {
	h := NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 200 {
		r := h.NewReader()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			for {
				if _, err := r.Next(ctx); err != nil {
					return
				}
			}
		}()
	}
	f := frame(1)
	d := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		h.Publish(f)
		d[i] = time.Since(t0)
		if i%8 == 7 {
			time.Sleep(100 * time.Microsecond) // let readers run, like a camera's frame interval
		}
	}
	b.StopTimer()
	cancel()
	h.Close()
	wg.Wait()
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99-ns")
}

// TestHubRecentStamps: RecentStamps returns the stamps of the newest
// frames, oldest first, never more than asked for or than the hub
// remembers, which is more frames than it keeps.
func TestHubRecentStamps(t *testing.T) {
	h := NewHub()
	if got := h.RecentStamps(nil, 4); len(got) != 0 {
		t.Fatalf("empty hub: %d stamps", len(got))
	}
	seqs := func(st []Stamp) []uint64 {
		var s []uint64
		for _, x := range st {
			s = append(s, x.Seq)
		}
		return s
	}
	h.Publish(frame(1))
	h.Publish(frame(2))
	if got := seqs(h.RecentStamps(nil, 4)); !slices.Equal(got, []uint64{1, 2}) {
		t.Errorf("two frames, asked for 4: %v", got)
	}
	for i := uint64(3); i <= 40; i++ {
		h.Publish(frame(i))
	}
	if got := seqs(h.RecentStamps(nil, 3)); !slices.Equal(got, []uint64{38, 39, 40}) {
		t.Errorf("asked for 3: %v", got)
	}
	got := seqs(h.RecentStamps(nil, 100))
	if len(got) != stampRing || got[0] != 40-stampRing+1 || got[len(got)-1] != 40 || stampRing <= ringSize {
		t.Errorf("asked for 100: %v, want the last %d (more than the %d frames kept)", got, stampRing, ringSize)
	}
	if got := h.RecentStamps(nil, 0); len(got) != 0 {
		t.Errorf("asked for none: %d stamps", len(got))
	}
	f := &camsession.Frame{JPEG: []byte{0xFF, 0xD8, 0xFF, 0xD9}, Index: 7, Seq: 41, Time: time.Unix(1e9, 5)}
	h.Publish(f)
	if st := h.RecentStamps(nil, 1); len(st) != 1 || st[0] != (Stamp{Time: f.Time, Index: 7, Seq: 41}) {
		t.Errorf("newest stamp %+v, want that of %+v", st, f)
	}
}
