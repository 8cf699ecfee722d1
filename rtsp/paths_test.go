package rtsp

import (
	"testing"
	"time"

	"github.com/chinesium/chinesium/stream"
)

// TestRemove: removing a source ends the sessions playing it (their
// interleaved connections close), its URLs answer 404, and another
// source plays on undisturbed.
func TestRemove(t *testing.T) {
	t.Parallel()
	a, b := stream.NewHub(), stream.NewHub()
	srv := &Server{}
	srv.Handle("a", Source{Video: a})
	srv.Handle("b", Source{Video: b})
	addr := serveTest(t, srv, a, b)
	ca := playTCP(t, addr, "rtsp://"+addr+"/a/jpeg", 0)
	cb := playTCP(t, addr, "rtsp://"+addr+"/b/jpeg", 0)
	rtpOn(t, ca, 0, 1, 5*time.Second)
	rtpOn(t, cb, 0, 1, 5*time.Second)

	srv.Remove("a")
	if !closedSoon(ca, 5*time.Second) {
		t.Error("the removed source's interleaved connection stays open")
	}
	if res := dialRaw(t, addr).do("DESCRIBE", "rtsp://"+addr+"/a/jpeg"); res.status != 404 {
		t.Errorf("DESCRIBE of the removed source: %d", res.status)
	}
	rtpOn(t, cb, 0, 10, 5*time.Second)
	if n := srv.SessionCount(); n != 1 {
		t.Errorf("%d sessions left, want the other source's one", n)
	}
}

// TestNoH264: a source with NoH264 has no H.264 URL; its JPEG URL works.
func TestNoH264(t *testing.T) {
	t.Parallel()
	h := stream.NewHub()
	srv := &Server{}
	srv.Handle("cam", Source{Video: h, NoH264: true})
	addr := serveTest(t, srv, h)
	c := dialRaw(t, addr)
	if res := c.do("DESCRIBE", "rtsp://"+addr+"/cam/"+StreamH264); res.status != 404 {
		t.Errorf("DESCRIBE h264: %d", res.status)
	}
	if res := c.do("DESCRIBE", "rtsp://"+addr+"/cam/"+StreamJPEG); res.status != 200 {
		t.Errorf("DESCRIBE jpeg: %d", res.status)
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ host, want string }{
		{"10.0.0.1", "rtsp://10.0.0.1:8554/Front-door/h264"},
		{"::1", "rtsp://[::1]:8554/Front-door/h264"},
		{"[::1]", "rtsp://[::1]:8554/Front-door/h264"},
	} {
		if got := URL(tc.host, 8554, PathName("Front door!"), StreamH264); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
	if got := PathName("..//"); got != "cam" {
		t.Errorf("PathName of nothing usable: %q", got)
	}
}
