package rtsp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chinesium/chinesium/stream"
)

// TestTunnelIdleGETClosed: an RTSP-over-HTTP GET that never gets a POST
// (an unauthenticated client needs nothing more to open one) is closed
// after the idle timeout and frees its x-sessioncookie, instead of holding
// one of the maxTunnels slots forever.
func TestTunnelIdleGETClosed(t *testing.T) {
	t.Parallel()
	srv := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), idle: 300 * time.Millisecond}
	srv.Handle("cam", Source{Video: stream.NewHub()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	get := func() (*http.Response, net.Conn) {
		t.Helper()
		nc, err := net.Dial("tcp", ln.Addr().String())
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
	_, err = io.Copy(io.Discard, resp.Body) // ends when the server closes the GET
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
