package stream

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession/fakecam"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestStats: a multipart viewer on the Register routes, a raw viewer on the
// Handler routes and a snapshot are all counted in the Camera's one Stats:
// viewers while they watch, and exactly the frames and bytes the clients
// received.
func TestStats(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 2, 60))
	cam := &Camera{Video: hub, MaxLag: 100}
	base := serve(t, cam, nil)
	plain := httptest.NewServer(http.StripPrefix("/plain", cam.Handler()))
	t.Cleanup(plain.Close)
	fd.publish()

	open := func(u string) (*http.Response, *countingReader) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", u, resp.Status)
		}
		return resp, &countingReader{r: resp.Body}
	}
	_, mp := open(base + "/cam1/stream.mjpeg")
	_, raw := open(plain.URL + "/plain/raw.mjpeg")
	waitFor(t, func() bool { st := cam.Stats(); return st.Multipart == 1 && st.Raw == 1 })

	snap, err := http.Get(plain.URL + "/plain/snapshot.jpg")
	if err != nil {
		t.Fatal(err)
	}
	snapBody, _ := io.ReadAll(snap.Body)
	snap.Body.Close()
	if snap.StatusCode != http.StatusOK || len(snapBody) == 0 {
		t.Fatalf("snapshot: %s, %d bytes", snap.Status, len(snapBody))
	}
	for range 20 {
		fd.publish()
		time.Sleep(10 * time.Millisecond)
	}
	hub.Close() // the streams end; every byte written reaches the clients

	mr := multipart.NewReader(mp, Boundary)
	parts := 0
	for {
		p, perr := mr.NextPart()
		if perr != nil {
			break
		}
		if b, _ := io.ReadAll(p); len(b) > 0 {
			parts++
		}
	}
	_, _ = io.Copy(io.Discard, mp)
	rawBytes, _ := io.ReadAll(raw)
	jpegs, err := splitJPEGs(rawBytes)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { st := cam.Stats(); return st.Multipart == 0 && st.Raw == 0 })

	st := cam.Stats()
	t.Logf("%+v", st)
	if parts < 15 || len(jpegs) < 15 {
		t.Errorf("clients got %d multipart and %d raw frames of 21", parts, len(jpegs))
	}
	if want := uint64(parts + len(jpegs)); st.FramesSent != want {
		t.Errorf("FramesSent = %d, clients received %d", st.FramesSent, want)
	}
	if want := uint64(mp.n + raw.n + len(snapBody)); st.BytesSent != want {
		t.Errorf("BytesSent = %d, clients received %d", st.BytesSent, want)
	}
	if st.Snapshots != 1 || st.FramesDropped != 0 || st.Audio != 0 {
		t.Errorf("Snapshots %d FramesDropped %d Audio %d, want 1 0 0", st.Snapshots, st.FramesDropped, st.Audio)
	}
}

// TestStatsSlowViewer: frames a viewer skips because it does not read are
// counted in FramesDropped, and with the frames it got they account for
// every frame published while it watched.
func TestStatsSlowViewer(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 2, 60))
	cam := &Camera{Video: hub}
	base := serve(t, cam, nil)
	u, _ := url.Parse(base)
	fd.publish()

	// A viewer with a tiny receive buffer that reads nothing at first.
	c := dialTinyBuffer(t, u.Host, "/cam1/raw.mjpeg")
	waitFor(t, func() bool { return cam.Stats().Raw == 1 })
	// Publish until the server's writes to it block (the socket buffers
	// are full): then it is far behind.
	for n := uint64(1); n-cam.Stats().FramesSent < 50; n++ {
		if n > 5000 {
			t.Fatalf("the viewer's socket never filled: %+v", cam.Stats())
		}
		fd.publish()
		time.Sleep(time.Millisecond)
	}
	hub.Close()
	body, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(body, []byte("\r\n\r\n"))
	if !ok {
		t.Fatal("no response header")
	}
	jpegs, err := splitJPEGs(rest)
	if err != nil || len(jpegs) == 0 {
		t.Fatalf("%d frames: %v", len(jpegs), err)
	}
	_, first, _ := fakecam.FrameSeq(jpegs[0])
	_, last, _ := fakecam.FrameSeq(jpegs[len(jpegs)-1])
	waitFor(t, func() bool { return cam.Stats().Raw == 0 })
	st := cam.Stats()
	t.Logf("received %d frames, seq %d..%d; %+v", len(jpegs), first, last, st)
	if st.FramesDropped == 0 {
		t.Error("FramesDropped = 0 for a viewer that did not read")
	}
	if st.FramesSent != uint64(len(jpegs)) {
		t.Errorf("FramesSent = %d, viewer received %d", st.FramesSent, len(jpegs))
	}
	if got := st.FramesSent + st.FramesDropped; got != last-first+1 {
		t.Errorf("sent %d + dropped %d = %d, want the %d frames %d..%d", st.FramesSent, st.FramesDropped, got, last-first+1, first, last)
	}
}
