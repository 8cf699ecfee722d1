package stream

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"net"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
)

// baseJPEGs encodes n distinct 640x480 pictures.
func baseJPEGs(t testing.TB, n, quality int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for k := range out {
		img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
		for y := 0; y < 480; y++ {
			for x := 0; x < 640; x++ {
				img.Y[y*img.YStride+x] = byte(x/4 + y/8 + k*40)
			}
		}
		for i := range img.Cb {
			img.Cb[i] = byte(128 + k*10)
			img.Cr[i] = byte(100 + i%50)
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
			t.Fatal(err)
		}
		out[k] = b.Bytes()
	}
	return out
}

// feeder publishes marked frames to a hub, like a camera session.
type feeder struct {
	hub   *Hub
	bases [][]byte

	mu   sync.Mutex
	sent map[uint64][]byte
	seq  uint64
}

func newFeeder(hub *Hub, bases [][]byte) *feeder {
	return &feeder{hub: hub, bases: bases, sent: map[uint64][]byte{}}
}

// publish publishes the next frame and returns its seq.
func (f *feeder) publish() uint64 {
	f.mu.Lock()
	f.seq++
	seq := f.seq
	j := fakecam.MarkFrame(f.bases[int(seq)%len(f.bases)], "test", seq)
	f.sent[seq] = j
	f.mu.Unlock()
	f.hub.Publish(&camsession.Frame{JPEG: j, Index: uint16(seq), Seq: seq, Time: time.Now()})
	return seq
}

func (f *feeder) frame(seq uint64) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[seq]
}

// run publishes every interval until ctx is done.
func (f *feeder) run(ctx context.Context, interval time.Duration) {
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			f.publish()
		}
	}
}

// serve registers c under /cam1 on a loopback test server, plus extra
// routes, and returns its base URL. The server sets ConnContext, as the
// bridge's do, so that up-to-date viewers are written directly.
func serve(t testing.TB, c *Camera, extra func(r *mux.Router)) string {
	t.Helper()
	return serveMode(t, c, extra, true)
}

// serveMode is serve, with direct delivery or without (a server that does
// not set ConnContext).
func serveMode(t testing.TB, c *Camera, extra func(r *mux.Router), direct bool) string {
	t.Helper()
	r := mux.NewRouter()
	c.Register(r.PathPrefix("/cam1").Subrouter())
	if extra != nil {
		extra(r)
	}
	srv := httptest.NewUnstartedServer(r)
	if direct {
		srv.Config.ConnContext = ConnContext
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// splitJPEGs cuts concatenated JPEGs apart by walking their markers and
// the entropy-coded data.
func splitJPEGs(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
			return out, fmt.Errorf("no SOI at image %d", len(out))
		}
		p := 2
		end := -1
		for end < 0 {
			if p+4 > len(b) || b[p] != 0xFF {
				return out, fmt.Errorf("bad marker in image %d at %d", len(out), p)
			}
			m := b[p+1]
			n := int(binary.BigEndian.Uint16(b[p+2:]))
			p += 2 + n
			if m != 0xDA {
				continue
			}
			// Entropy-coded data until a marker other than RSTn or FF00.
			for ; p+1 < len(b); p++ {
				if b[p] == 0xFF && b[p+1] != 0 && (b[p+1] < 0xD0 || b[p+1] > 0xD7) {
					break
				}
			}
			if p+1 >= len(b) {
				return out, fmt.Errorf("image %d truncated", len(out))
			}
			if b[p+1] == 0xD9 {
				end = p + 2
			}
		}
		out = append(out, b[:end])
		b = b[end:]
	}
	return out, nil
}

// dialTinyBuffer connects to host with a 4 KiB receive buffer, asks for
// path and returns the connection, from which it reads nothing (a viewer
// that stalls); it is closed when the test ends.
func dialTinyBuffer(t testing.TB, host, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host); err != nil {
		t.Fatal(err)
	}
	return c
}
