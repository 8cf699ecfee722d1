package soap

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// TestSlowBodyTimesOut: a client that sends the headers and then trickles
// (here: stalls) the body is cut off after ReadTimeout, even though the
// http.Server has no ReadTimeout of its own.
func TestSlowBodyTimesOut(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newEndpoint(t, EndpointConfig{ReadTimeout: 300 * time.Millisecond}))
	t.Cleanup(srv.Close)
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, _ = io.WriteString(nc, "POST /onvif/device_service HTTP/1.1\r\nHost: x\r\n"+
		"Content-Type: application/soap+xml\r\nContent-Length: 1000\r\n\r\n<s:Envelope")
	start := time.Now()
	_ = nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("connection still open after %v: %v (read %q)", time.Since(start), err, b)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("cut off after %v, before the read timeout", d)
	}
	if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 400") {
		t.Errorf("answer %q", b)
	}
	// A request sent at once is served on a fresh connection as usual.
	resp, err := http.Post(srv.URL, "application/soap+xml", strings.NewReader(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest { // empty Body
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestReadTimeoutSparesLongHandlers: the read timeout covers reading the
// body only; a handler that waits longer (PullMessages) keeps its context.
func TestReadTimeoutSparesLongHandlers(t *testing.T) {
	t.Parallel()
	wait := Op{Name: "Wait", Access: PreAuth,
		Handle: func(ctx context.Context, _ *Request) (*etree.Element, error) {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("context ended while waiting: %w", ctx.Err())
			case <-time.After(500 * time.Millisecond):
			}
			return etree.NewElement("WaitResponse"), nil
		}}
	srv := httptest.NewServer(newEndpoint(t, EndpointConfig{ReadTimeout: 100 * time.Millisecond,
		Services: []Service{{Namespace: "urn:test", Ops: []Op{wait}}}}))
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL, "application/soap+xml", strings.NewReader(
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><Wait xmlns="urn:test"/></s:Body></s:Envelope>`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d: %s", resp.StatusCode, b)
	}
}
