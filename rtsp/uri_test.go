package rtsp

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/stream"
)

// TestOddRequestURIs: request URIs without a slash before the track, with
// encoded slashes or only a path are answered (404 or 200), never crash the
// server (with open access no credentials are needed to send them).
func TestOddRequestURIs(t *testing.T) {
	t.Parallel()
	addr := runEmptyCam(t, &Server{})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	for i, c := range []struct{ method, uri, extra, want string }{
		{"DESCRIBE", "cam%2Fjpeg%2FtrackID=0", "", "404"},
		{"SETUP", "cam%2Fjpeg%2FtrackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1\r\n", "404"},
		{"PLAY", "cam%2Fjpeg%2FtrackID=0", "Session: nosuch\r\n", "454"},
		{"SETUP", "cam/jpeg/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1\r\n", "200"},
		{"DESCRIBE", "/cam/jpeg", "", ""},
		{"DESCRIBE", "rtsp://h/cam/jpeg%2F", "", ""},
	} {
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(nc, "%s %s RTSP/1.0\r\nCSeq: %d\r\n%s\r\n", c.method, c.uri, i+1, c.extra)
		status, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.uri, err)
		}
		length := 0
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			fmt.Sscanf(l, "Content-Length: %d", &length)
			if l == "\r\n" {
				break
			}
		}
		_, _ = io.CopyN(io.Discard, br, int64(length))
		if c.want != "" && !strings.HasPrefix(status, "RTSP/1.0 "+c.want) {
			t.Errorf("%s %s: %q, want %s", c.method, c.uri, status, c.want)
		}
	}
}

// FuzzResolve: no request URI makes resolve panic, and a resolved target's
// base is a prefix of the URI as written.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		"rtsp://127.0.0.1:8554/cam/jpeg", "rtsp://h/cam/h264/trackID=1", "/cam/jpeg/", "cam%2Fjpeg%2FtrackID=0",
		"rtsp://h/cam/jpeg/trackID=0?x=/y", "rtsp://h/a/b/cam/jpeg", "*", "rtsp://h/cam/jpeg/trackID=-1",
	} {
		f.Add(s)
	}
	srv := &Server{}
	srv.Handle("cam", Source{Video: stream.NewHub()})
	srv.Handle("a/b/cam", Source{Video: stream.NewHub()})
	c := &conn{srv: srv}
	f.Fuzz(func(t *testing.T, raw string) {
		tg, ok := c.resolve(raw)
		if ok && !strings.HasPrefix(raw, tg.base) {
			t.Errorf("resolve(%q): base %q", raw, tg.base)
		}
	})
}
