package rtsp

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/chinesium/chinesium/stream"
)

// emfileListener fails its first Accepts with EMFILE, as a process out of
// file descriptors does, then accepts normally.
type emfileListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestAcceptRetriesTooManyOpenFiles: "too many open files" from Accept
// (a client holding idle connections up to the process's fd limit) does
// not end RTSP: the server waits and accepts again, and a client that
// connected meanwhile gets its stream described. Before, Serve returned
// on the first such error and RTSP stayed down until a restart.
func TestAcceptRetriesTooManyOpenFiles(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	srv := &Server{}
	logs := logTo(t, srv)
	srv.Handle("cam", Source{Video: hub})
	ln := &emfileListener{Listener: listen(t)}
	ln.fails.Store(6)
	addr := serveTestOn(t, srv, ln, hub)
	c := dialRaw(t, addr)
	if res := c.do("DESCRIBE", "rtsp://"+addr+"/cam/jpeg"); res.status != 200 {
		t.Fatalf("DESCRIBE after failed accepts: %d", res.status)
	}
	if ln.fails.Load() >= 0 {
		t.Fatalf("the listener still had %d failures to return", ln.fails.Load()+1)
	}
	if !strings.Contains(logs.String(), "cannot accept connections, retrying") {
		t.Error("the failed accepts were not logged")
	}
}

// TestClientPortOfTheServerRefused: a UDP SETUP whose client_port is the
// server's own RTP/RTCP port pair gets 461. Before, it was accepted and the
// session's RTCP sender reports, sent to the server's own RTCP socket,
// counted as the client's receiver reports: the session kept itself alive
// forever.
func TestClientPortOfTheServerRefused(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	srv := &Server{}
	logTo(t, srv)
	srv.Handle("cam", Source{Video: hub})
	addr := serveTest(t, srv, hub)
	url := "rtsp://" + addr + "/cam/jpeg/trackID=0"

	// A legitimate UDP client learns the server's ports.
	c := dialRaw(t, addr)
	res := c.do("SETUP", url, "Transport: RTP/AVP;unicast;client_port=36000-36001")
	if res.status != 200 {
		t.Fatalf("SETUP: %d", res.status)
	}
	var a, b int
	for p := range strings.SplitSeq(res.header.get("Transport"), ";") {
		if v, ok := strings.CutPrefix(p, "server_port="); ok {
			if _, err := fmt.Sscanf(v, "%d-%d", &a, &b); err != nil {
				t.Fatalf("server_port %q: %v", v, err)
			}
		}
	}
	if a == 0 {
		t.Fatalf("no server_port in %q", res.header.get("Transport"))
	}
	for _, ports := range [][2]int{{a, b}, {a - 1, a}, {b, b + 1}} {
		c := dialRaw(t, addr)
		res := c.do("SETUP", url, fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d", ports[0], ports[1]))
		if res.status != 461 {
			t.Errorf("SETUP with client_port=%d-%d (the server's ports are %d-%d): %d, want 461", ports[0], ports[1], a, b, res.status)
		}
	}
	if n := srv.SessionCount(); n != 1 {
		t.Errorf("%d sessions open, want the legitimate one", n)
	}
}
