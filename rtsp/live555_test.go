package rtsp

import (
	"bufio"
	"crypto/md5" //nolint:gosec // live555 computes Digest responses with MD5
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/stream"
)

// live555UserAgent is what VLC 3 sends: RTSPClient's User-Agent is the
// application name VLC passes ("LibVLC/" VERSION) followed by the library's
// name and version.
const live555UserAgent = "LibVLC/3.0.21 (LIVE555 Streaming Media v2024.05.30)"

// live555 replays what live555's RTSPClient (liveMedia/RTSPClient.cpp, as
// used by VLC's modules/access/live555.cpp) puts on the wire, byte for
// byte: the request line, then CSeq, Authorization, User-Agent, the
// command's own headers and the blank line, in that order
// (RTSPClient::sendRequest). The digest uri is always the client's base
// URL, which the Content-Base of the DESCRIBE answer replaces
// (createAuthenticatorString(cmd, fBaseURL)); the response is RFC 2069
// MD5 without qop (Authenticator::computeDigestResponse).
type live555 struct {
	t          *testing.T
	nc         net.Conn
	br         *bufio.Reader
	cseq       int // fCSeq: starts at 1, each request takes ++fCSeq
	baseURL    string
	user, pass string
	realm      string
	nonce      string // "" until a Digest challenge was read
	session    string // fLastSessionId
	frames     []interleaved
}

func dialLive555(t *testing.T, addr, url, user, pass string) *live555 {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &live555{t: t, nc: nc, br: bufio.NewReader(nc), cseq: 1, baseURL: url, user: user, pass: pass}
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s)) //nolint:gosec // as live555 does
	return hex.EncodeToString(h[:])
}

// authorization is createAuthenticatorString(cmd, fBaseURL).
func (c *live555) authorization(cmd string) string {
	if c.realm == "" {
		return ""
	}
	if c.nonce == "" {
		return "" // Basic; not offered to this client in these tests
	}
	ha1 := md5hex(c.user + ":" + c.realm + ":" + c.pass)
	ha2 := md5hex(cmd + ":" + c.baseURL)
	response := md5hex(ha1 + ":" + c.nonce + ":" + ha2)
	return fmt.Sprintf("Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\"\r\n",
		c.user, c.realm, c.nonce, c.baseURL, response)
}

// request sends cmd with the request URL cmdURL and the command's extra
// headers, answers a 401 the way handleAuthenticationFailure does (one
// retry with a new CSeq when the realm is new or the nonce stale), and
// returns the response.
func (c *live555) request(cmd, cmdURL, extra string) *rawResponse {
	c.t.Helper()
	for retry := false; ; retry = true {
		c.cseq++
		req := fmt.Sprintf("%s %s RTSP/1.0\r\nCSeq: %d\r\n%sUser-Agent: %s\r\n%s\r\n",
			cmd, cmdURL, c.cseq, c.authorization(cmd), live555UserAgent, extra)
		_ = c.nc.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(c.nc, req); err != nil {
			c.t.Fatalf("%s: %v", cmd, err)
		}
		res := c.response()
		if res.status != 401 || retry {
			return res
		}
		// handleResponseBytes keeps the last Digest WWW-Authenticate
		// header (else the first); handleAuthenticationFailure scans it.
		var h string
		for _, v := range res.all("WWW-Authenticate") {
			if h == "" || strings.HasPrefix(strings.ToLower(v), "digest") {
				h = v
			}
		}
		m := regexp.MustCompile(`^Digest realm="([^"]+)",\s*nonce="([^"]+)"(?:,\s*stale=([a-zA-Z]+))?`).FindStringSubmatch(h)
		if m == nil {
			c.t.Fatalf("%s: live555 cannot read the challenge %q: it gives up with 401", cmd, h)
		}
		realmChanged := c.realm != m[1]
		stale := strings.EqualFold(m[3], "true")
		c.realm, c.nonce = m[1], m[2]
		if !realmChanged && !stale {
			return res // it already tried this realm: it stays unauthenticated
		}
	}
}

// response reads the next response, keeping interleaved frames that come
// before it.
func (c *live555) response() *rawResponse {
	c.t.Helper()
	for {
		p, err := c.br.Peek(1)
		if err != nil {
			c.t.Fatalf("reading a response: %v", err)
		}
		if p[0] == '$' {
			buf := make([]byte, 65535)
			ch, data, rerr := readInterleaved(c.br, buf)
			if rerr != nil {
				c.t.Fatal(rerr)
			}
			c.frames = append(c.frames, interleaved{ch: ch, data: append([]byte(nil), data...), at: time.Now()})
			continue
		}
		res, err := readRawResponse(c.br)
		if err != nil {
			c.t.Fatalf("reading a response: %v", err)
		}
		if got := res.header.get("CSeq"); got != strconv.Itoa(c.cseq) {
			c.t.Fatalf("response CSeq %q, want %d", got, c.cseq)
		}
		return res
	}
}

// play runs VLC's sequence on url: OPTIONS (continueAfterOPTIONS looks
// for GET_PARAMETER), DESCRIBE with Accept, then SETUP of every track in
// the SDP (the track URL is the base URL, now the Content-Base, plus the
// track's control; Session from the second SETUP on), PLAY of the
// aggregate (Range: npt=0.000-, VLC's start time) and a GET_PARAMETER
// keep-alive. setupTransport returns the Transport header of a SETUP of
// track i. It returns the status of the first request that failed, or 200.
func (c *live555) play(setupTransport func(i int) string) int {
	c.t.Helper()
	res := c.request("OPTIONS", c.baseURL, "")
	if res.status != 200 || !strings.Contains(res.header.get("Public"), "GET_PARAMETER") {
		c.t.Fatalf("OPTIONS: %d, Public %q", res.status, res.header.get("Public"))
	}
	res = c.request("DESCRIBE", c.baseURL, "Accept: application/sdp\r\n")
	if res.status != 200 {
		return res.status
	}
	if cb := res.header.get("Content-Base"); cb != "" {
		c.baseURL = cb // setBaseURL(Content-Base)
	}
	controls := regexp.MustCompile(`(?m)^a=control:(trackID=\d+)\r?$`).FindAllStringSubmatch(string(res.body), -1)
	if len(controls) == 0 {
		c.t.Fatalf("SDP without track controls:\n%s", res.body)
	}
	for i, m := range controls {
		sep := "/"
		if strings.HasSuffix(c.baseURL, "/") {
			sep = ""
		}
		extra := setupTransport(i)
		if c.session != "" {
			extra += "Session: " + c.session + "\r\n"
		}
		res = c.request("SETUP", c.baseURL+sep+m[1], extra)
		if res.status != 200 {
			return res.status
		}
		id, _, _ := strings.Cut(res.header.get("Session"), ";") // sscanf "%[^;]"
		c.session = id
	}
	res = c.request("PLAY", c.baseURL, "Session: "+c.session+"\r\nRange: npt=0.000-\r\n")
	if res.status != 200 {
		return res.status
	}
	res = c.request("GET_PARAMETER", c.baseURL, "Session: "+c.session+"\r\n")
	return res.status
}

// TestLive555Digest replays VLC (live555) playing both streams of a
// camera with Digest credentials, over UDP and over TCP interleaved, and
// checks that RTP arrives. A digest signed for another stream or another
// camera is refused.
func TestLive555Digest(t *testing.T) {
	t.Parallel()
	users := httpauth.StaticUsers{"admin": "s3cret"}
	f := startFixture(t, fixtureOpts{users: users, audio: true})
	other := stream.NewHub()
	f.srv.Handle("other", Source{Video: other})

	for _, media := range []string{StreamJPEG, StreamH264} {
		url := f.url(media)
		t.Run(media+"/tcp", func(t *testing.T) {
			c := dialLive555(t, f.addr, url, "admin", "s3cret")
			ch := 0
			if st := c.play(func(int) string {
				tr := fmt.Sprintf("Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d\r\n", ch, ch+1) // fTCPStreamIdCount
				ch += 2
				return tr
			}); st != 200 {
				t.Fatalf("live555 stops with %d", st)
			}
			_ = c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
			for got := 0; got < 20; {
				fr, err := (&rawClient{t: t, nc: c.nc, br: c.br}).readFrame()
				if err != nil {
					t.Fatalf("after %d RTP packets: %v", got, err)
				}
				if fr.ch == 0 {
					got++
				}
			}
			if res := c.request("TEARDOWN", c.baseURL, "Session: "+c.session+"\r\n"); res.status != 200 {
				t.Errorf("TEARDOWN: %d", res.status)
			}
		})
		t.Run(media+"/udp", func(t *testing.T) {
			c := dialLive555(t, f.addr, url, "admin", "s3cret")
			var rtp []*net.UDPConn
			if st := c.play(func(int) string {
				pc, _ := listenEvenPair(t)
				rtp = append(rtp, pc)
				port := pc.LocalAddr().(*net.UDPAddr).Port
				return fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d\r\n", port, port+1)
			}); st != 200 {
				t.Fatalf("live555 stops with %d", st)
			}
			if !receivesPT(rtp[0], 20*time.Second) {
				t.Fatal("no RTP on the video client port")
			}
			if res := c.request("TEARDOWN", c.baseURL, "Session: "+c.session+"\r\n"); res.status != 200 {
				t.Errorf("TEARDOWN: %d", res.status)
			}
		})
	}

	// A digest whose uri is another stream of the camera, or another
	// camera, does not open this one, however valid.
	for _, signed := range []string{f.url(StreamH264) + "/", "rtsp://" + f.addr + "/other/jpeg/"} {
		c := dialLive555(t, f.addr, f.url(StreamJPEG), "admin", "s3cret")
		if res := c.request("DESCRIBE", f.url(StreamJPEG), "Accept: application/sdp\r\n"); res.status != 200 {
			t.Fatalf("DESCRIBE: %d", res.status)
		}
		c.baseURL = signed
		res := c.request("SETUP", f.url(StreamJPEG)+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
		if res.status != 401 {
			t.Errorf("SETUP of the JPEG stream signed for %s: %d, want 401", signed, res.status)
		}
	}
}

// listenEvenPair binds an even RTP port and the next RTCP port on
// loopback, as live555 does for a subsession.
func listenEvenPair(t *testing.T) (*net.UDPConn, *net.UDPConn) {
	t.Helper()
	for range 100 {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := a.LocalAddr().(*net.UDPAddr).Port
		if p%2 != 0 {
			a.Close()
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + 1})
		if err != nil {
			a.Close()
			continue
		}
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	}
	t.Fatal("no even/odd UDP port pair")
	return nil, nil
}

// receivesPT reports whether an RTP packet arrives on pc within d.
func receivesPT(pc *net.UDPConn, d time.Duration) bool {
	buf := make([]byte, 2048)
	_ = pc.SetReadDeadline(time.Now().Add(d))
	for {
		n, err := pc.Read(buf)
		if err != nil {
			return false
		}
		if n >= rtpHeaderLen && buf[0]>>6 == 2 {
			return true
		}
	}
}

// TestDigestURIOfTheSameStream: a Digest response is accepted when its uri
// is the request URI or, for the same stream, the aggregate URL or the
// Content-Base (with or without the host, as some clients send the path
// only), and refused for another track, another stream or another camera.
func TestDigestURIOfTheSameStream(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{users: httpauth.StaticUsers{"admin": "s3cret"}, audio: true})
	f.srv.Handle("other", Source{Video: stream.NewHub()})
	// A nonce from a challenge.
	c0 := dialLive555(t, f.addr, f.url(StreamJPEG), "admin", "s3cret")
	if res := c0.request("DESCRIBE", f.url(StreamJPEG), "Accept: application/sdp\r\n"); res.status != 200 {
		t.Fatalf("DESCRIBE: %d", res.status)
	}
	base := f.url(StreamJPEG)
	for _, tc := range []struct {
		request, signed string
		want            int
	}{
		{base + "/trackID=0", base + "/trackID=0", 200},
		{base + "/trackID=0", base + "/", 200},
		{base + "/trackID=0", base, 200},
		{base + "/trackID=0", "/cam/jpeg/", 200},
		{base + "/trackID=1", base + "/", 200},
		{base + "/trackID=1", base + "/trackID=0", 401},
		{base + "/trackID=0", f.url(StreamH264) + "/", 401},
		{base + "/trackID=0", f.url(StreamH264) + "/trackID=0", 401},
		{base + "/trackID=0", "rtsp://" + f.addr + "/other/jpeg/", 401},
		{base + "/trackID=0", "rtsp://" + f.addr + "/", 401},
	} {
		c := dialLive555(t, f.addr, tc.signed, "admin", "s3cret")
		c.realm, c.nonce = c0.realm, c0.nonce
		c.cseq = 10
		res := c.request("SETUP", tc.request, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
		if res.status != tc.want {
			t.Errorf("SETUP %s signed for %s: %d, want %d", tc.request, tc.signed, res.status, tc.want)
		}
	}
}
