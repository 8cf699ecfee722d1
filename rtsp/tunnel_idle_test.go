package rtsp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestTunnelIdleGETClosed: an RTSP-over-HTTP GET that never gets a POST
// (an unauthenticated client needs nothing more to open one) is closed
// after the idle timeout and frees its x-sessioncookie, instead of holding
// one of the maxTunnels slots forever.
func TestTunnelIdleGETClosed(t *testing.T) {
	t.Parallel()
	addr := runEmptyCam(t, &Server{IdleTimeout: 300 * time.Millisecond})

	get := func() (*http.Response, net.Conn) {
		t.Helper()
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		_, _ = io.WriteString(nc, "GET /cam/jpeg HTTP/1.0\r\nx-sessioncookie: idlecookie\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n")
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp, nc
	}
	resp, _ := get()
	if resp.StatusCode != 200 {
		t.Fatalf("tunnel GET: %s", resp.Status)
	}
	start := time.Now()
	_, err := io.Copy(io.Discard, resp.Body) // ends when the server closes the GET
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("idle tunnel GET still open after 5 s")
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("tunnel GET closed after %v, before the idle timeout", d)
	}
	// The cookie is free again.
	for end := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, _ := get()
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("tunnel GET with the cookie of a closed tunnel: %s", resp.Status)
		}
	}
}
