package rtsp

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/httpauth"
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

// dialFrom connects to addr from the local address ip.
func dialFrom(ip, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", addr)
}

// holdUnauthenticated opens n connections from ip to addr, each sending
// an OPTIONS without credentials, and keeps them open until the test
// ends. It waits for each answer (or for the server to close the
// connection), so the server holds them when it returns.
func holdUnauthenticated(t *testing.T, ip, addr string, n int) {
	t.Helper()
	for i := range n {
		nc, err := dialFrom(ip, addr)
		if err != nil {
			t.Fatalf("attacker connection %d from %s: %v", i, ip, err)
		}
		t.Cleanup(func() { nc.Close() })
		c := &rawClient{nc: nc, br: bufio.NewReader(nc)}
		_, _ = c.try("OPTIONS", "rtsp://"+addr+"/cam/jpeg")
	}
}

// digestClient is a client that authenticates the way live555 does
// (Digest without qop over the request URL) on one connection from a
// local address of its own, and reports errors instead of failing.
type digestClient struct {
	raw               *rawClient
	user, pass, realm string
	nonce             string
}

func dialDigest(ip, addr, user, pass string) (*digestClient, error) {
	nc, err := dialFrom(ip, addr)
	if err != nil {
		return nil, err
	}
	c := &digestClient{raw: &rawClient{nc: nc, br: bufio.NewReader(nc)}, user: user, pass: pass}
	c.raw.authz = func(method, uri string) string {
		if c.nonce == "" {
			return ""
		}
		ha1 := md5hex(c.user + ":" + c.realm + ":" + c.pass)
		return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"`,
			c.user, c.realm, c.nonce, uri, md5hex(ha1+":"+c.nonce+":"+md5hex(method+":"+uri)))
	}
	return c, nil
}

var challengeRE = regexp.MustCompile(`^Digest realm="([^"]+)",\s*nonce="([^"]+)"`)

// do sends a request, answering one 401 with the challenge's nonce.
func (c *digestClient) do(method, uri string, hdr ...string) (*rawResponse, error) {
	for retry := false; ; retry = true {
		res, err := c.raw.try(method, uri, hdr...)
		if err != nil || res.status != 401 || retry {
			return res, err
		}
		for _, h := range res.all("WWW-Authenticate") {
			if m := challengeRE.FindStringSubmatch(h); m != nil {
				c.realm, c.nonce = m[1], m[2]
			}
		}
	}
}

func (c *digestClient) close() { c.raw.nc.Close() }

// TestAttackerAddressCannotLockViewersOut: an attacker holds connections
// that never authenticate (an OPTIONS each, which needs no credentials):
// first from one address, more than the server's MaxConns, then from many
// addresses at once. Each time 25 viewers from another address get their
// DESCRIBE answered, and the viewers' authenticated connections survive
// the next wave of the attack. Before the limits per address and the
// eviction of unauthenticated connections, one address took every slot
// for 130 s (0 of 25 DESCRIBEs succeeded).
func TestAttackerAddressCannotLockViewersOut(t *testing.T) {
	t.Parallel()
	const viewers = 25
	hub := stream.NewHub()
	srv := &Server{MaxConns: 200} // more than one address may hold
	logTo(t, srv)
	srv.Handle("cam", Source{Video: hub, Auth: httpauth.New("cam", httpauth.StaticUsers{"viewer": "pw"})})
	ln, err := net.Listen("tcp", "127.0.24.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTestOn(t, srv, ln, hub)
	url := "rtsp://" + addr + "/cam/jpeg"

	describeAll := func(stage string) []*digestClient {
		var cs []*digestClient
		ok := 0
		for range viewers {
			c, err := dialDigest("127.0.24.2", addr, "viewer", "pw")
			if err != nil {
				t.Errorf("%s: viewer cannot connect: %v", stage, err)
				continue
			}
			t.Cleanup(c.close)
			res, err := c.do("DESCRIBE", url, "Accept: application/sdp")
			if err == nil && res.status == 200 {
				ok++
				cs = append(cs, c)
			}
		}
		if ok != viewers {
			t.Errorf("%s: %d of %d viewers' DESCRIBEs succeeded", stage, ok, viewers)
		}
		return cs
	}
	again := func(stage string, cs []*digestClient) {
		for i, c := range cs {
			if res, err := c.do("DESCRIBE", url, "Accept: application/sdp"); err != nil || res.status != 200 {
				t.Errorf("%s: viewer %d's authenticated connection: %v %v", stage, i, res, err)
			}
		}
	}

	// One address, more connections than the server takes in all.
	holdUnauthenticated(t, "127.0.24.3", addr, 2*srv.MaxConns)
	first := describeAll("attack from one address")
	holdUnauthenticated(t, "127.0.24.3", addr, srv.MaxConns)
	again("after another wave from one address", first)

	// Many addresses, each within its own limit, fill the server.
	for i := range 10 {
		holdUnauthenticated(t, fmt.Sprintf("127.0.24.%d", 10+i), addr, 30)
	}
	second := describeAll("attack from ten addresses")
	for i := range 10 {
		holdUnauthenticated(t, fmt.Sprintf("127.0.24.%d", 10+i), addr, 30)
	}
	again("after another wave from ten addresses", append(first, second...))
}

// TestUnauthenticatedConnectionClosedSoon: a connection on which nothing
// authenticated (an OPTIONS, a DESCRIBE answered 401) is closed after
// UnauthenticatedTimeout of silence, while an authenticated one that was
// silent as long stays. Before, an unauthenticated OPTIONS held its
// connection for the whole idle timeout (130 s).
func TestUnauthenticatedConnectionClosedSoon(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	srv := &Server{UnauthenticatedTimeout: 300 * time.Millisecond}
	logTo(t, srv)
	srv.Handle("cam", Source{Video: hub, Auth: httpauth.New("cam", httpauth.StaticUsers{"viewer": "pw"})})
	ln, err := net.Listen("tcp", "127.0.24.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTestOn(t, srv, ln, hub)
	url := "rtsp://" + addr + "/cam/jpeg"

	viewer, err := dialDigest("127.0.24.2", addr, "viewer", "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(viewer.close)
	if res, err := viewer.do("DESCRIBE", url); err != nil || res.status != 200 {
		t.Fatalf("viewer's DESCRIBE: %v %v", res, err)
	}
	for _, method := range []string{"OPTIONS", "DESCRIBE"} {
		nc, err := dialFrom("127.0.24.3", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		c := &rawClient{nc: nc, br: bufio.NewReader(nc)}
		res, err := c.try(method, url)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		start := time.Now()
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.br.ReadByte(); err == nil {
			t.Errorf("after %s (%d): the server sent something unasked", method, res.status)
		} else if d := time.Since(start); d > 3*time.Second {
			t.Errorf("after %s (%d): connection closed only after %v (%v)", method, res.status, d, err)
		}
	}
	if res, err := viewer.do("DESCRIBE", url); err != nil || res.status != 200 {
		t.Errorf("DESCRIBE on the authenticated connection after as long a silence: %v %v", res, err)
	}
}

// TestSessionQuotas: one user cannot take every session: beyond
// MaxSessionsPerUser its SETUP gets 503; and when users who are not
// administrators have filled MaxSessions, the administrator's SETUP
// succeeds, ending the oldest of their sessions. Before, one 'User'
// account took all the sessions and the administrator got 503.
func TestSessionQuotas(t *testing.T) {
	t.Parallel()
	const maxSessions = 20
	hub := stream.NewHub()
	srv := &Server{MaxSessions: maxSessions}
	logTo(t, srv)
	users := httpauth.StaticUsers{"admin": "a", "bob": "b", "carol": "c"}
	srv.Handle("cam", Source{Video: hub, Auth: httpauth.New("cam", users), Administrator: func(u string) bool { return u == "admin" }})
	ln, err := net.Listen("tcp", "127.0.24.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTestOn(t, srv, ln, hub)
	url := "rtsp://" + addr + "/cam/jpeg/trackID=0"

	// setups opens n sessions as user, one connection each, and returns
	// the connections of those that succeeded.
	setups := func(user string, n int) []*digestClient {
		var ok []*digestClient
		for range n {
			c, err := dialDigest("127.0.24.2", addr, user, users[user])
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.close)
			res, err := c.do("SETUP", url, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
			if err != nil {
				t.Fatalf("%s SETUP: %v", user, err)
			}
			if res.status == 200 {
				ok = append(ok, c)
			}
		}
		return ok
	}
	bob := setups("bob", maxSessions)
	if len(bob) != DefaultMaxSessionsPerUser {
		t.Errorf("bob opened %d sessions, want his quota of %d", len(bob), DefaultMaxSessionsPerUser)
	}
	carol := setups("carol", maxSessions)
	if got := srv.SessionCount(); got != maxSessions {
		t.Fatalf("%d sessions open after bob and carol (%d and %d), want the server's %d", got, len(bob), len(carol), maxSessions)
	}
	if n := len(setups("admin", 2)); n != 2 {
		t.Fatalf("the administrator got %d of 2 sessions while the others' sessions filled the server", n)
	}
	if got := srv.SessionCount(); got != maxSessions {
		t.Errorf("%d sessions open, want %d", got, maxSessions)
	}
	// The sessions that made room were bob's oldest: their connections
	// were closed.
	for i, c := range bob[:2] {
		if _, err := c.raw.try("OPTIONS", url); err == nil {
			t.Errorf("bob's session %d, among the oldest, still has its connection", i)
		}
	}
}

// TestAttackerTunnelsCannotLockViewersOut: an attacker opens RTSP-over-HTTP GETs
// that never authenticate, from ten addresses, more than the server's
// MaxTunnels; a viewer from another address still opens a tunnel and gets
// its DESCRIBE answered through it. Before, the GETs took all 256 tunnel
// slots and the viewer's GET got 503.
func TestAttackerTunnelsCannotLockViewersOut(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	srv := &Server{}
	logTo(t, srv)
	srv.Handle("cam", Source{Video: hub, Auth: httpauth.New("cam", httpauth.StaticUsers{"viewer": "pw"})})
	ln, err := net.Listen("tcp", "127.0.24.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTestOn(t, srv, ln, hub)
	url := "rtsp://" + addr + "/cam/jpeg"

	get := func(from, cookie string) (*bufio.Reader, int, error) {
		nc, derr := dialFrom(from, addr)
		if derr != nil {
			return nil, 0, derr
		}
		t.Cleanup(func() { nc.Close() })
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, werr := fmt.Fprintf(nc, "GET /cam/jpeg HTTP/1.0\r\nx-sessioncookie: %s\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n", cookie); werr != nil {
			return nil, 0, werr
		}
		br := bufio.NewReader(nc)
		resp, rerr := http.ReadResponse(br, nil)
		if rerr != nil {
			return nil, 0, rerr
		}
		return br, resp.StatusCode, nil
	}
	for i := range 300 {
		if _, _, gerr := get(fmt.Sprintf("127.0.24.%d", 40+i%10), fmt.Sprintf("attacker%d", i)); gerr != nil {
			t.Fatalf("attacker GET %d: %v", i, gerr)
		}
	}
	br, code, err := get("127.0.24.2", "viewer")
	if err != nil || code != 200 {
		t.Fatalf("viewer's tunnel GET: %d %v", code, err)
	}
	post, err := dialFrom("127.0.24.2", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { post.Close() })
	if _, err := io.WriteString(post, "POST /cam/jpeg HTTP/1.0\r\nx-sessioncookie: viewer\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	var realm, nonce string
	for cseq := 1; cseq <= 2; cseq++ {
		req := fmt.Sprintf("DESCRIBE %s RTSP/1.0\r\nCSeq: %d\r\n", url, cseq)
		if nonce != "" {
			ha1 := md5hex("viewer:" + realm + ":pw")
			req += fmt.Sprintf("Authorization: Digest username=\"viewer\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\"\r\n",
				realm, nonce, url, md5hex(ha1+":"+nonce+":"+md5hex("DESCRIBE:"+url)))
		}
		if _, err := io.WriteString(post, base64.StdEncoding.EncodeToString([]byte(req+"\r\n"))); err != nil {
			t.Fatal(err)
		}
		res, err := readRawResponse(br)
		if err != nil {
			t.Fatalf("DESCRIBE %d through the tunnel: %v", cseq, err)
		}
		if cseq == 2 {
			if res.status != 200 {
				t.Errorf("authenticated DESCRIBE through the tunnel: %d", res.status)
			}
			break
		}
		for _, h := range res.all("WWW-Authenticate") {
			if m := challengeRE.FindStringSubmatch(h); m != nil {
				realm, nonce = m[1], m[2]
			}
		}
		if nonce == "" {
			t.Fatalf("no Digest challenge: %d %v", res.status, res.all("WWW-Authenticate"))
		}
	}
}
