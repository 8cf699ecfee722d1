package stream

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
)

// parkedViewers returns how many viewers the publisher writes directly.
func (c *Camera) parkedViewers() int {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	return len(c.parked)
}

// TestHubListen: listeners see every frame once, in order, with the
// sequence number readers count in, and a nil frame when the hub closes.
func TestHubListen(t *testing.T) {
	h := NewHub()
	type call struct {
		seq uint64
		f   *camsession.Frame
	}
	var got []call
	h.Publish(frame(1)) // before Listen: not seen
	h.Listen(func(seq uint64, f *camsession.Frame) { got = append(got, call{seq, f}) })
	f2, f3 := frame(2), frame(3)
	h.Publish(f2)
	h.Publish(f3)
	h.Close()
	h.Close()
	h.Publish(frame(4)) // after Close: not seen
	want := []call{{2, f2}, {3, f3}, {3, nil}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listener calls %v, want %v", got, want)
	}
	r := h.NewReader()
	defer r.Close()
	if f, _ := r.Next(ctxT(t)); f != f3 {
		t.Errorf("reader's frame after close = %v, want the last published", f)
	}
}

// mjpegViewer reads /stream.mjpeg and records each frame's marker, and
// whether every part was a whole, well-formed JPEG with the bytes sent.
type mjpegViewer struct {
	mu   sync.Mutex
	seqs []uint64
	err  error
	done chan struct{}
}

// watchMJPEG starts a viewer of base's /cam1/stream.mjpeg. A gated
// viewer has a tiny receive buffer and reads nothing until open is
// closed, so that the server's socket for it fills.
func watchMJPEG(t *testing.T, fd *feeder, base string, open chan struct{}) *mjpegViewer {
	t.Helper()
	v := &mjpegViewer{done: make(chan struct{})}
	var body io.Reader
	if open != nil {
		u, _ := url.Parse(base)
		c := dialTinyBuffer(t, u.Host, "/cam1/stream.mjpeg") // closed at the end
		body = &gated{r: c, open: open}
	} else {
		resp, err := http.Get(base + "/cam1/stream.mjpeg")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		body = resp.Body
	}
	go func() {
		defer close(v.done)
		pr := NewPartReader(body)
		if open != nil {
			if err := pr.SkipHeader(); err != nil {
				v.mu.Lock()
				v.err = err
				v.mu.Unlock()
				return
			}
		}
		for {
			b, err := pr.Next()
			if err != nil {
				v.mu.Lock()
				v.err = err
				v.mu.Unlock()
				return
			}
			_, seq, ok := fakecam.FrameSeq(b)
			v.mu.Lock()
			switch {
			case !ok:
				v.err = fmt.Errorf("part %d has no marker", len(v.seqs))
			case !bytes.Equal(b, fd.frame(seq)):
				v.err = fmt.Errorf("frame %d differs from the one published", seq)
			}
			v.seqs = append(v.seqs, seq)
			failed := v.err != nil
			v.mu.Unlock()
			if failed {
				return
			}
		}
	}()
	return v
}

func (v *mjpegViewer) got() ([]uint64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]uint64(nil), v.seqs...), v.err
}

func (v *mjpegViewer) has(seq uint64) bool {
	s, _ := v.got()
	return len(s) > 0 && s[len(s)-1] >= seq
}

// gated reads r once open is closed.
type gated struct {
	r    io.Reader
	open chan struct{}
}

func (g *gated) Read(p []byte) (int, error) {
	<-g.open
	return g.r.Read(p)
}

// TestDirectDelivery: viewers that are up to date get every frame from
// the publisher itself, whole and in order.
func TestDirectDelivery(t *testing.T) {
	const viewers, frames = 20, 30
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 3, 70))
	cam := &Camera{Video: hub}
	base := serve(t, cam, nil)
	fd.publish()
	vs := make([]*mjpegViewer, viewers)
	for i := range vs {
		vs[i] = watchMJPEG(t, fd, base, nil)
	}
	for seq := uint64(2); seq <= frames; seq++ {
		// Every viewer has the last frame and waits, parked, for the next.
		waitFor(t, func() bool {
			for _, v := range vs {
				if !v.has(seq - 1) {
					return false
				}
			}
			return cam.parkedViewers() == viewers
		})
		if got := fd.publish(); got != seq {
			t.Fatalf("published %d, want %d", got, seq)
		}
	}
	for i, v := range vs {
		waitFor(t, func() bool { return v.has(frames) })
		seqs, err := v.got()
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		for j, s := range seqs {
			if s != uint64(j+1) {
				t.Fatalf("viewer %d got frames %v, want 1..%d", i, seqs, frames)
			}
		}
	}
	// The first frame each viewer wrote itself (it was there when the
	// viewer came); every later one the publisher wrote.
	st := cam.Stats()
	if direct := cam.framesDirect.Load(); direct != (frames-1)*viewers || st.FramesSent != frames*viewers {
		t.Errorf("frames written directly %d of %d, want %d of %d", direct, st.FramesSent, (frames-1)*viewers, frames*viewers)
	}
}

// TestDirectDeliverySlowViewer: a client whose socket fills gets the
// frame the publisher could not finish from its own goroutine, whole; the
// publisher neither waits for it nor lets it delay the others.
func TestDirectDeliverySlowViewer(t *testing.T) {
	const fast = 5
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 3, 90))
	cam := &Camera{Video: hub}
	base := serve(t, cam, nil)
	fd.publish()
	open := make(chan struct{})
	slow := watchMJPEG(t, fd, base, open)
	var vs []*mjpegViewer
	for range fast {
		vs = append(vs, watchMJPEG(t, fd, base, nil))
	}
	waitFor(t, func() bool { return cam.Stats().Multipart == fast+1 })
	// Frames until the slow viewer's socket is full and the publisher
	// hands it a frame back; each after the fast ones have the last.
	frames := uint64(1)
	fastHave := func() bool {
		for _, v := range vs {
			if !v.has(frames) {
				return false
			}
		}
		return true
	}
	for cam.framesHanded.Load() == 0 {
		if frames == 500 {
			t.Fatalf("the slow viewer's socket never filled: %+v", cam.Stats())
		}
		waitFor(t, fastHave)
		frames = fd.publish()
	}
	close(open)
	for range 3 {
		waitFor(t, fastHave)
		frames = fd.publish()
	}
	for i, v := range vs {
		waitFor(t, func() bool { return v.has(frames) })
		seqs, err := v.got()
		if err != nil || uint64(len(seqs)) != frames {
			t.Fatalf("fast viewer %d: %d frames, %v", i, len(seqs), err)
		}
	}
	waitFor(t, func() bool { return slow.has(frames) })
	seqs, err := slow.got()
	if err != nil {
		t.Fatalf("slow viewer: %v", err)
	}
	for j := 1; j < len(seqs); j++ {
		if seqs[j] <= seqs[j-1] {
			t.Fatalf("slow viewer's frames out of order: %v", seqs)
		}
	}
	t.Logf("slow viewer: %d of %d frames; %d frames handed back; %+v", len(seqs), frames, cam.framesHanded.Load(), cam.Stats())
}

// TestDirectDeliveryViewerLeaves: a parked viewer that leaves releases its
// reader; the publisher carries on.
func TestDirectDeliveryViewerLeaves(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 1, 50))
	cam := &Camera{Video: hub}
	base := serve(t, cam, nil)
	fd.publish()
	resp, err := http.Get(base + "/cam1/stream.mjpeg")
	if err != nil {
		t.Fatal(err)
	}
	stay := watchMJPEG(t, fd, base, nil)
	waitFor(t, func() bool { return cam.parkedViewers() == 2 })
	resp.Body.Close()
	waitFor(t, func() bool { return hub.Readers() == 1 })
	seq := fd.publish()
	waitFor(t, func() bool { return stay.has(seq) })
	if n := cam.parkedViewers(); n > 1 {
		t.Errorf("%d viewers parked after one left", n)
	}
}

// TestDirectDeliveryRaw: /raw.mjpeg viewers, whose first write is a
// frame (the response header goes out with it), are written directly
// too.
func TestDirectDeliveryRaw(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 2, 60))
	cam := &Camera{Video: hub}
	base := serve(t, cam, nil)
	// The viewer comes before any frame: the response header leaves with
	// the first.
	got := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get(base + "/cam1/raw.mjpeg")
		if err != nil {
			t.Error(err)
		}
		got <- resp
	}()
	waitFor(t, func() bool { return hub.Readers() == 1 })
	const frames = 10
	fd.publish()
	resp := <-got
	if resp == nil {
		t.FailNow()
	}
	defer resp.Body.Close()
	for range frames - 1 {
		// The viewer parks once it has written its first frame.
		waitFor(t, func() bool { return cam.parkedViewers() == 1 })
		fd.publish()
	}
	waitFor(t, func() bool { return cam.Stats().FramesSent == frames })
	b := make([]byte, 0, 1<<20)
	for {
		jpegs, _ := splitJPEGs(b)
		if len(jpegs) == frames {
			for i, j := range jpegs {
				if !bytes.Equal(j, fd.frame(uint64(i+1))) {
					t.Fatalf("frame %d differs from the one published", i+1)
				}
			}
			break
		}
		n, err := resp.Body.Read(b[len(b):cap(b)])
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(b), err)
		}
		b = b[:len(b)+n]
	}
	if d := cam.Stats().FramesDirect; d != frames-1 {
		t.Errorf("%d frames written directly, want all but the first %d", d, frames-1)
	}
}

// passThrough wraps a ResponseWriter as a middleware might (one that
// compresses, for one): the viewers behind it must not be written
// directly.
type passThrough struct{ http.ResponseWriter }

func (p passThrough) Flush() { p.ResponseWriter.(http.Flusher).Flush() }

// TestDirectDeliveryOnlyPlainWriters: behind a wrapped ResponseWriter,
// viewers are written by their goroutines, through the wrapper.
func TestDirectDeliveryOnlyPlainWriters(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 2, 60))
	cam := &Camera{Video: hub}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.StripPrefix("/cam1", cam.Handler()).ServeHTTP(passThrough{w}, r)
	}))
	srv.Config.ConnContext = ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	fd.publish()
	v := watchMJPEG(t, fd, srv.URL, nil)
	for seq := uint64(2); seq <= 5; seq++ {
		waitFor(t, func() bool { return v.has(seq - 1) })
		fd.publish()
	}
	waitFor(t, func() bool { return v.has(5) })
	if seqs, err := v.got(); err != nil || len(seqs) != 5 {
		t.Fatalf("frames %v, %v", seqs, err)
	}
	if d, n := cam.Stats().FramesDirect, cam.parkedViewers(); d != 0 || n != 0 {
		t.Errorf("%d frames written directly, %d viewers parked, behind a wrapper", d, n)
	}
}
