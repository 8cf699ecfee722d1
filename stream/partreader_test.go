package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/chinesium/chinesium/camsession"
)

// TestPartReader reads /stream.mjpeg from a raw connection, as chinesium
// bench does: each part it returns is the frame published.
func TestPartReader(t *testing.T) {
	hub := NewHub()
	fd := newFeeder(hub, baseJPEGs(t, 2, 50))
	base := serve(t, &Camera{Video: hub}, nil)
	first := fd.publish()
	u, _ := url.Parse(base)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /cam1/stream.mjpeg HTTP/1.1\r\nHost: %s\r\n\r\n", u.Host)
	pr := NewPartReader(c)
	if err := pr.SkipHeader(); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if i > 0 {
			fd.publish()
		}
		b, err := pr.Next()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if !bytes.Equal(b, fd.frame(first+uint64(i))) {
			t.Fatalf("part %d is not frame %d", i, first+uint64(i))
		}
	}
}

// TestPartReaderRefuses: a Content-Length that is no number, negative or
// beyond MaxPartSize, and a body cut short, are errors.
func TestPartReaderRefuses(t *testing.T) {
	for _, in := range []string{
		"--b\r\nContent-Length: x\r\n\r\n",
		"--b\r\nContent-Length: -1\r\n\r\n",
		fmt.Sprintf("--b\r\nContent-Length: %d\r\n\r\n", MaxPartSize+1),
		"--b\r\nContent-Length: 10\r\n\r\nshort",
		"--b\r\nContent-Type: image/jpeg\r\n\r\n",
	} {
		if b, err := NewPartReader(strings.NewReader(in)).Next(); err == nil {
			t.Errorf("%q: read a part of %d bytes", in, len(b))
		}
	}
}

// FuzzPartReader: whatever the bytes, the reader returns parts of their
// Content-Length (at most MaxPartSize) or an error, and never panics.
func FuzzPartReader(f *testing.F) {
	stream := []byte("HTTP/1.1 200 OK\r\nContent-Type: " + MultipartContentType + "\r\n\r\n--" + Boundary + "\r\n")
	for _, j := range [][]byte{{0xFF, 0xD8, 0xFF, 0xD9}, bytes.Repeat([]byte{0x55}, 300)} {
		stream = appendPart(stream, &camsession.Frame{JPEG: j})
	}
	f.Add(stream)
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\nContent-Length: 99999999999999999999\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pr := NewPartReader(bytes.NewReader(b))
		if err := pr.SkipHeader(); err != nil {
			return
		}
		for {
			p, err := pr.Next()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "stream: ") {
					return
				}
				t.Fatalf("error %v", err)
			}
			if len(p) > MaxPartSize {
				t.Fatalf("a part of %d bytes", len(p))
			}
		}
	})
}
