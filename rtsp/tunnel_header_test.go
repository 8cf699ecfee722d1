package rtsp

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestTunnelHeaderBounded: an HTTP tunnel request whose header never ends
// is refused once it exceeds the read buffer, instead of being buffered
// without bound until the idle timeout (no credentials are needed to send
// one).
func TestTunnelHeaderBounded(t *testing.T) {
	t.Parallel()
	addr := runEmptyCam(t, &Server{})

	for _, head := range []string{
		"GET /cam/jpeg HTTP/1.0\r\nx-sessioncookie: c1\r\nX-Pad: ",
		"POST /cam/jpeg HTTP/1.0\r\nx-sessioncookie: c2\r\n" + strings.Repeat("X-Pad: a\r\n", 1000),
	} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		// The server may close the connection while we still write.
		go func() {
			_, _ = io.WriteString(nc, head)
			pad := strings.Repeat("a", 4096)
			for range 64 {
				if _, werr := io.WriteString(nc, pad); werr != nil {
					return
				}
			}
		}()
		_ = nc.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, err := io.ReadAll(nc)
		if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("%.20q: %v after %q (the server is still reading the header)", head, err, b)
		}
		if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.0 431") {
			t.Errorf("%.20q: answered %q", head, b)
		}
	}
}
