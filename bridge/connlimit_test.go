package bridge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestHTTPConnectionsBounded: idle connections to a camera's HTTP port
// (connect, send nothing) are held at most MaxHTTPConnsPerAddr from one
// address: beyond that the address's oldest is closed at once. From many
// addresses at once the port holds at most MaxHTTPConns, and neither
// stops a viewer's MJPEG stream or its snapshots. Before, the port held
// every connection it was offered until the header timeout, so that an
// anonymous client could take the process's file descriptors.
func TestHTTPConnectionsBounded(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.27.50")
	cfg := testConfig(t, t.TempDir(), "127.0.27.50")
	cfg.ReadHeaderTimeout = time.Minute // nothing is closed for being slow here
	c := startBridge(t, cfg).Cameras()[0]
	waitFrame(t, c)
	addr := netip.AddrPortFrom(bindIP, uint16(c.HTTPPort())).String()
	viewer := func() *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.27.3")}}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}()
	get := func(u string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.SetBasicAuth("admin", "secret")
		return viewer.Do(req)
	}
	stream, err := get(c.MJPEGURL(bindIP.String()))
	if err != nil || stream.StatusCode != http.StatusOK {
		t.Fatalf("MJPEG stream: %v %v", stream, err)
	}
	defer stream.Body.Close()
	streamBody := bufio.NewReader(stream.Body)
	readStream := func(stage string) {
		t.Helper()
		if _, err := streamBody.Discard(64 << 10); err != nil {
			t.Errorf("%s: the MJPEG stream ended: %v", stage, err)
		}
	}

	// hold opens n idle connections from ip; closed gets one value for
	// each connection the bridge closes.
	closed := make(chan struct{}, 1000)
	hold := func(ip string, n int) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		for range n {
			nc, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("idle connection from %s: %v", ip, err)
			}
			t.Cleanup(func() { nc.Close() })
			go func() {
				_, err := io.Copy(io.Discard, nc)
				if !errors.Is(err, net.ErrClosed) {
					closed <- struct{}{}
				}
			}()
		}
	}
	got := 0
	waitClosed := func(want int, what string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for ; got < want; got++ {
			select {
			case <-closed:
			case <-deadline:
				t.Fatalf("%s: %d connections closed by the bridge in 10 s, want %d", what, got, want)
			}
		}
	}

	const oneAddr = 200
	hold("127.0.27.2", oneAddr)
	waitClosed(oneAddr-MaxHTTPConnsPerAddr, "one address")
	readStream("after the attack from one address")

	// Twenty addresses, each within its own bound, more than the port's:
	// with the first address's and the stream, all but MaxHTTPConns of
	// them are closed.
	const addrs = 20
	for i := range addrs {
		hold(fmt.Sprintf("127.0.27.%d", 100+i), MaxHTTPConnsPerAddr)
	}
	waitClosed(oneAddr+addrs*MaxHTTPConnsPerAddr+1-MaxHTTPConns, "twenty addresses")
	readStream("after the attack from twenty addresses")
	for i := range 10 {
		resp, err := get(c.SnapshotURL(bindIP.String()))
		if err != nil {
			t.Fatalf("snapshot %d under the attack: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "\xff\xd8") {
			t.Errorf("snapshot %d under the attack: %s", i, resp.Status)
		}
	}
}
