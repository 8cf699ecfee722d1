package rtsp

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/stream"
)

// mutableUsers is an httpauth.Users whose accounts can change while the
// server runs (like an ONVIF store after CreateUsers).
type mutableUsers struct {
	mu    sync.Mutex
	users map[string]string
}

func (m *mutableUsers) Password(user string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.users[user]
	return p, ok
}

func (m *mutableUsers) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.users)
}

func (m *mutableUsers) set(user, password string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users == nil {
		m.users = make(map[string]string)
	}
	m.users[user] = password
}

func basic(user, password string) func(string, string) string {
	return func(string, string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
}

// TestSourceAuth: every source authenticates against its own users; a
// user of camera a cannot open camera b, a session of a cannot be driven
// with b's credentials, and ffmpeg with a's credentials plays a.
func TestSourceAuth(t *testing.T) {
	t.Parallel()
	hubA, hubB := stream.NewHub(), stream.NewHub()
	srv := &Server{Auth: httpauth.New("server", httpauth.StaticUsers{"root": "r00t"})}
	logTo(t, srv)
	srv.Handle("a", Source{Video: hubA, Auth: httpauth.New("cam-a", httpauth.StaticUsers{"alice": "pa"})})
	srv.Handle("b", Source{Video: hubB, Auth: httpauth.New("cam-b", httpauth.StaticUsers{"bob": "pb", "alice": "pb-alice"})})
	addr := serveTest(t, srv, hubA, hubB)
	url := func(p string) string { return "rtsp://" + addr + "/" + p + "/jpeg" }

	c := dialRaw(t, addr)
	c.authz = basic("alice", "pa")
	for _, tc := range []struct {
		uri  string
		want int
	}{
		{url("a"), 200},
		{url("b"), 401},                        // alice's password on a is not b's alice
		{"rtsp://" + addr + "/nope/jpeg", 401}, // unknown paths: Server.Auth
	} {
		res := c.do("DESCRIBE", tc.uri)
		if res.status != tc.want {
			t.Errorf("alice DESCRIBE %s: %d, want %d", tc.uri, res.status, tc.want)
		}
		if res.status == 401 {
			realm := "cam-b"
			if strings.Contains(tc.uri, "/nope/") {
				realm = "server"
			}
			if ch := strings.Join(res.all("WWW-Authenticate"), "\n"); !strings.Contains(ch, `realm="`+realm+`"`) {
				t.Errorf("DESCRIBE %s: challenge not for realm %s:\n%s", tc.uri, realm, ch)
			}
		}
	}
	if res := c.do("SETUP", url("b")+"/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1"); res.status != 401 {
		t.Errorf("alice SETUP on b: %d, want 401", res.status)
	}
	res := c.do("SETUP", url("a")+"/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1")
	if res.status != 200 {
		t.Fatalf("alice SETUP on a: %d", res.status)
	}
	c.session = sessionID(res.header.get("Session"))

	// The session belongs to a: requests naming no path authenticate
	// against a's users, and credentials for b do not reach it even for
	// a user of the same name.
	b := dialRaw(t, addr)
	b.session = c.session
	b.authz = basic("alice", "pb-alice")
	if res := b.do("TEARDOWN", "*"); res.status != 401 {
		t.Errorf("TEARDOWN of a's session with b's alice: %d, want 401", res.status)
	}
	if res := b.do("TEARDOWN", url("b")); res.status != 454 {
		t.Errorf("TEARDOWN of a's session on b's URL with b's alice: %d, want 454", res.status)
	}
	if srv.lookupSession(c.session) == nil {
		t.Fatal("a's session was torn down with b's credentials")
	}
	if res := c.do("GET_PARAMETER", "*"); res.status != 200 {
		t.Errorf("GET_PARAMETER * on own session: %d, want 200", res.status)
	}
	if res := c.do("TEARDOWN", url("a")); res.status != 200 {
		t.Errorf("TEARDOWN by alice: %d", res.status)
	}
	c.session = ""

	// ffmpeg with a's credentials (Digest) decodes a, not b.
	nums, stderr := ffmpegFrames(t, "rtsp://alice:pa@"+addr+"/a/jpeg", "tcp", 10)
	if stderr != "" {
		t.Errorf("ffmpeg errors: %s", stderr)
	}
	if len(nums) < 10 {
		t.Errorf("decoded %d frames of a with alice's credentials, want 10", len(nums))
	}
	for i := 1; i < len(nums); i++ {
		if nums[i] <= nums[i-1] {
			t.Errorf("frame %d shows %d after %d", i, nums[i], nums[i-1])
		}
	}
}

// TestSourceAuthOpenMode: a user created on one open source protects that
// source only.
func TestSourceAuthOpenMode(t *testing.T) {
	t.Parallel()
	hubA, hubB := stream.NewHub(), stream.NewHub()
	usersA, usersB := &mutableUsers{}, &mutableUsers{}
	srv := &Server{}
	logTo(t, srv)
	srv.Handle("a", Source{Video: hubA, Auth: httpauth.New("cam-a", usersA)})
	srv.Handle("b", Source{Video: hubB, Auth: httpauth.New("cam-b", usersB)})
	addr := serveTest(t, srv, hubA, hubB)
	url := func(p string) string { return "rtsp://" + addr + "/" + p + "/jpeg" }

	c := dialRaw(t, addr)
	for _, p := range []string{"a", "b"} {
		if res := c.do("DESCRIBE", url(p)); res.status != 200 {
			t.Fatalf("open DESCRIBE %s: %d", p, res.status)
		}
	}
	usersA.set("carol", "pc")
	if res := c.do("DESCRIBE", url("a")); res.status != 401 {
		t.Errorf("DESCRIBE a after a user was created on a: %d, want 401", res.status)
	}
	if res := c.do("DESCRIBE", url("b")); res.status != 200 {
		t.Errorf("DESCRIBE b after a user was created on a: %d, want 200 (b is still open)", res.status)
	}
	res := c.do("SETUP", url("b")+"/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1")
	if res.status != 200 {
		t.Fatalf("open SETUP on b: %d", res.status)
	}
	c.session = sessionID(res.header.get("Session"))
	if res := c.do("PLAY", url("b")); res.status != 200 {
		t.Errorf("open PLAY on b: %d", res.status)
	}
	c.authz = basic("carol", "pc")
	if res := c.do("DESCRIBE", url("a")); res.status != 200 {
		t.Errorf("carol DESCRIBE a: %d, want 200", res.status)
	}
}

// explodingUsers is a user store that panics when asked for the user
// "boom" and knows alice (password "pw").
type explodingUsers struct{}

func (explodingUsers) Password(user string) (string, bool) {
	if user == "boom" {
		panic("injected test panic")
	}
	return "pw", user == "alice"
}

// TestPanicClosesOnlyItsConnection: a panic while handling a request (here
// the user store panics while the request is authenticated) is logged with
// its stack at error level, closes that connection, and the server goes on
// serving the others.
func TestPanicClosesOnlyItsConnection(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	srv := &Server{Auth: httpauth.New("test", explodingUsers{})}
	logs := logTo(t, srv)
	srv.Handle("cam", Source{Video: hub})
	addr := serveTest(t, srv, hub)
	url := "rtsp://" + addr + "/cam/jpeg"

	other := dialRaw(t, addr)
	other.authz = basic("alice", "pw")
	res := other.do("SETUP", url+"/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1")
	if res.status != 200 {
		t.Fatalf("SETUP: %d", res.status)
	}
	other.session = sessionID(res.header.get("Session"))

	bad := dialRaw(t, addr)
	if res := bad.do("OPTIONS", url); res.status != 200 {
		t.Fatalf("OPTIONS: %d", res.status)
	}
	bad.authz = basic("boom", "x")
	if res, err := bad.try("DESCRIBE", url); err == nil {
		t.Fatalf("the panicking request got a response: %d", res.status)
	}
	_ = bad.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := bad.br.ReadByte(); err == nil {
		t.Error("connection still open after its handler panicked")
	}

	if res := other.do("PLAY", url); res.status != 200 {
		t.Errorf("PLAY on another connection after the panic: %d", res.status)
	}
	fresh := dialRaw(t, addr)
	fresh.authz = basic("alice", "pw")
	if res := fresh.do("DESCRIBE", url); res.status != 200 {
		t.Errorf("DESCRIBE on a new connection after the panic: %d", res.status)
	}
	log := logs.String()
	for _, want := range []string{"level=ERROR", "panic serving connection", "injected test panic", "(*conn).handle"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestConnectionLimit: connections beyond MaxConns are closed at once;
// when one ends, a new one is served.
func TestConnectionLimit(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	srv := &Server{MaxConns: 2}
	logs := logTo(t, srv)
	srv.Handle("cam", Source{Video: hub})
	addr := serveTest(t, srv, hub)
	url := "rtsp://" + addr + "/cam/jpeg"

	c1, c2 := dialRaw(t, addr), dialRaw(t, addr)
	for _, c := range []*rawClient{c1, c2} {
		if res := c.do("OPTIONS", url); res.status != 200 {
			t.Fatalf("OPTIONS: %d", res.status)
		}
	}
	c3 := dialRaw(t, addr)
	if res, err := c3.try("OPTIONS", url); err == nil {
		t.Fatalf("connection beyond the limit answered: %d", res.status)
	}
	if !strings.Contains(logs.String(), "connection limit reached") {
		t.Error("refused connection not logged")
	}
	c1.nc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dialRaw(t, addr)
		res, err := c.try("OPTIONS", url)
		if err == nil && res.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection served 5 s after one of two ended: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res := c2.do("OPTIONS", url); res.status != 200 {
		t.Errorf("OPTIONS on an admitted connection: %d", res.status)
	}
}

// TestSessionLimitConcurrent: SETUPs racing on many connections never
// create more sessions than the limit.
func TestSessionLimitConcurrent(t *testing.T) {
	t.Parallel()
	const limit, clients = 5, 24
	hub := stream.NewHub()
	srv := &Server{MaxSessions: limit}
	logTo(t, srv)
	srv.Handle("cam", Source{Video: hub})
	addr := serveTest(t, srv, hub)
	url := "rtsp://" + addr + "/cam/jpeg/trackID=0"

	cs := make([]*rawClient, clients)
	for i := range cs {
		cs[i] = dialRaw(t, addr)
		if res := cs[i].do("OPTIONS", url); res.status != 200 {
			t.Fatalf("OPTIONS: %d", res.status)
		}
	}
	start := make(chan struct{})
	codes := make([]int, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			<-start
			res, err := c.try("SETUP", url, "Transport: RTP/AVP/TCP;interleaved=0-1")
			if err != nil {
				errs[i] = err
				return
			}
			codes[i] = res.status
		})
	}
	close(start)
	wg.Wait()
	ok, full := 0, 0
	for i, code := range codes {
		switch {
		case errs[i] != nil:
			t.Errorf("client %d: %v", i, errs[i])
		case code == 200:
			ok++
		case code == 503:
			full++
		default:
			t.Errorf("client %d: SETUP %d", i, code)
		}
	}
	if ok != limit || full != clients-limit {
		t.Errorf("%d SETUPs succeeded and %d got 503, want %d and %d", ok, full, limit, clients-limit)
	}
	if n := srv.SessionCount(); n != limit {
		t.Errorf("%d sessions open, limit %d", n, limit)
	}
}

// TestRTSP2Gets505: a request in another RTSP version gets 505 with its
// CSeq, and the client may go on in RTSP/1.0 on the same connection.
func TestRTSP2Gets505(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	srv := &Server{}
	logTo(t, srv)
	srv.Handle("cam", Source{Video: hub})
	addr := serveTest(t, srv, hub)
	c := dialRaw(t, addr)
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	for _, v := range []string{"RTSP/2.0", "RTSP/3.14"} {
		if _, err := c.nc.Write([]byte("OPTIONS rtsp://" + addr + "/cam/jpeg " + v + "\r\nCSeq: 41\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		res, err := readRawResponse(c.br)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if res.status != 505 || res.header.get("CSeq") != "41" {
			t.Errorf("%s OPTIONS: %d CSeq %q, want 505 CSeq 41", v, res.status, res.header.get("CSeq"))
		}
	}
	if res := c.do("DESCRIBE", "rtsp://"+addr+"/cam/jpeg"); res.status != 200 {
		t.Errorf("RTSP/1.0 DESCRIBE after a 505: %d", res.status)
	}
	if _, err := c.nc.Write([]byte("OPTIONS * RTSP/x\r\nCSeq: 1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if res, err := readRawResponse(c.br); err != nil || res.status != 400 {
		t.Errorf("malformed version: %v %v, want 400", res, err)
	}
}

// TestSilentConnectionClosed: a connection that does not send its first
// request in time is closed (it would hold a connection slot); one that
// did may stay quiet between requests.
func TestSilentConnectionClosed(t *testing.T) {
	t.Parallel()
	hub := stream.NewHub()
	srv := &Server{FirstRequestTimeout: 300 * time.Millisecond}
	logTo(t, srv)
	srv.Handle("cam", Source{Video: hub})
	addr := serveTest(t, srv, hub)
	url := "rtsp://" + addr + "/cam/jpeg"

	active := dialRaw(t, addr)
	if res := active.do("OPTIONS", url); res.status != 200 {
		t.Fatalf("OPTIONS: %d", res.status)
	}
	for _, first := range []string{"", "OPTIONS * RTSP/1.0\r\n", "GET /x HTTP/1.0\r\n"} {
		c := dialRaw(t, addr)
		if _, err := c.nc.Write([]byte(first)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.br.ReadByte(); err == nil {
			t.Errorf("after %q: the server answered an unfinished request", first)
		} else if d := time.Since(start); d > 3*time.Second {
			t.Errorf("after %q: connection closed only after %v (%v)", first, d, err)
		}
	}
	time.Sleep(400 * time.Millisecond)
	if res := active.do("OPTIONS", url); res.status != 200 {
		t.Errorf("OPTIONS after a pause on an active connection: %d", res.status)
	}
}
