package rtsp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/connlimit"
	"github.com/chinesium/chinesium/internal/directwrite"
)

// publicMethods is the Public header of OPTIONS responses.
const publicMethods = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"

// serverName is sent in the Server header.
const serverName = "chinesium"

// conn is one RTSP control connection: a plain TCP connection, or the pair
// of HTTP connections of a tunnel (requests arrive base64-encoded on the
// POST, responses and interleaved RTP leave on the GET).
type conn struct {
	srv    *Server
	ctx    context.Context // the server's; set by serve
	br     *bufio.Reader   // requests and interleaved frames from the client
	in     io.Closer       // closing it ends the read loop
	out    net.Conn        // responses and interleaved RTP to the client
	udp    *udpPair
	remote netip.Addr
	// deadline, when set, is the connection whose read deadline bounds
	// client silence (nil for tunnels, whose input is a pipe).
	deadline net.Conn
	// tunnel is true for the RTSP-over-HTTP connection of a tunnel.
	tunnel bool
	// tn is the tunnel the connection runs in, nil for plain RTSP.
	tn *tunnel
	// slot is the connection's place in the server's limits (the GET's
	// for a tunnel).
	slot *connlimit.Slot
	// authed is set once a request authenticated: the connection is
	// then neither evicted for another nor closed after the short
	// UnauthenticatedTimeout. Read and written by the serve goroutine.
	authed bool

	// wmu orders the writes to out: responses, sender reports and units
	// from the sessions' writers, and units the producers write directly
	// (tryDirect). Whoever holds it writes rest first.
	wmu sync.Mutex
	// rest is the end of a unit that a producer's direct write left
	// unsent, and restUnit that unit, held until rest is written;
	// guarded by wmu.
	rest     []byte
	restUnit *unit
	// dw writes out without waiting, for the producers; nil when out
	// has no socket. Used under wmu.
	dw *directwrite.Writer

	closeOnce sync.Once
	closed    chan struct{}

	smu      sync.Mutex
	sessions map[*session]struct{} // guarded by smu: sessions set up on this connection

	ibuf []byte // interleaved read buffer, allocated on first use

	// bind is what the Digest nonces of this connection are issued to:
	// the client's address and the connection, so that a captured
	// Authorization header is refused on any other connection.
	bind string
}

func newConn(srv *Server, in io.Closer, br *bufio.Reader, out net.Conn, udp *udpPair) *conn {
	c := &conn{
		srv: srv, br: br, in: in, out: out, udp: udp, dw: directwrite.New(out),
		closed:   make(chan struct{}),
		sessions: make(map[*session]struct{}),
	}
	if ap, err := netip.ParseAddrPort(out.RemoteAddr().String()); err == nil {
		c.remote = ap.Addr().Unmap()
	}
	c.bind = c.remote.String() + " #" + strconv.FormatUint(srv.connSeq.Add(1), 10)
	if nc, ok := in.(net.Conn); ok {
		c.deadline = nc
	}
	return c
}

// close closes the connection; the read loop then ends the sessions that
// depend on it. Safe to call from any goroutine, any number of times.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.in.Close()
		c.out.Close()
	})
}

// serve reads requests until the connection ends.
func (c *conn) serve(ctx context.Context) {
	c.ctx = ctx
	srv := c.srv
	srv.mu.Lock()
	srv.conns[c] = struct{}{}
	srv.mu.Unlock()
	stop := context.AfterFunc(ctx, c.close)
	defer func() {
		// A panic is logged before the connection closes, so the line is
		// there when the client sees the connection end.
		if v := recover(); v != nil {
			srv.logPanic(c.out.RemoteAddr(), v)
		}
		stop()
		c.close()
		srv.mu.Lock()
		delete(srv.conns, c)
		srv.mu.Unlock()
		c.smu.Lock()
		var owned []*session
		for ss := range c.sessions {
			owned = append(owned, ss)
		}
		c.smu.Unlock()
		for _, ss := range owned {
			// Interleaved sessions die with their connection; UDP
			// sessions live on until TEARDOWN or their timeout
			// (RFC 2326 §1.1: a session is not tied to a connection).
			if ss.kind == transportTCP {
				ss.close("connection closed")
			}
		}
	}()
	// A tunnel's input is a pipe without deadlines: a watchdog closes a
	// tunnel that stays silent, so GETs that never get a POST (or whose
	// client went away behind a NAT) do not hold a tunnel slot forever.
	var watchdog *time.Timer
	if c.deadline == nil {
		watchdog = time.AfterFunc(min(srv.IdleTimeout, srv.UnauthenticatedTimeout), c.close)
		defer watchdog.Stop()
	}
	for first := true; ; first = false {
		d := srv.IdleTimeout
		if !c.authed {
			d = min(d, srv.UnauthenticatedTimeout)
		}
		if c.deadline != nil {
			if first {
				d = min(d, srv.FirstRequestTimeout)
			}
			_ = c.deadline.SetReadDeadline(time.Now().Add(d))
		} else {
			watchdog.Reset(d)
		}
		b, err := c.br.Peek(1)
		if err != nil {
			return
		}
		if b[0] == interleavedMagic {
			if c.ibuf == nil {
				c.ibuf = make([]byte, 65535)
			}
			if _, _, err = readInterleaved(c.br, c.ibuf); err != nil {
				return
			}
			// RTCP receiver reports from an interleaved client keep its
			// sessions alive.
			c.touchSessions()
			continue
		}
		req, err := readRequest(c.br)
		if err != nil {
			if errors.Is(err, errMessage) {
				srv.log.Info("bad request, closing connection", "remote", c.remote, "err", err)
				_ = c.writeResponse(&response{status: 400}, "")
			}
			return
		}
		if !req.supportedVersion() {
			// RFC 7826 §17.5.6; the client may retry with RTSP/1.0 on
			// the same connection.
			res := &response{status: 505, header: header{{"Content-Type", "text/plain"}}, body: []byte("only RTSP/1.0 is supported\n")}
			if err := c.writeResponse(res, req.header.get("CSeq")); err != nil {
				return
			}
			continue
		}
		res, after := c.handle(req)
		if err := c.writeResponse(res, req.header.get("CSeq")); err != nil {
			return
		}
		if after != nil {
			after()
		}
	}
}

// authenticated marks the connection (and its tunnel) as one whose client
// proved who it is.
func (c *conn) authenticated() {
	if c.authed {
		return
	}
	c.authed = true
	c.slot.SetEvictable(false)
	if c.tn != nil {
		c.tn.authenticated()
	}
}

func (c *conn) touchSessions() {
	c.smu.Lock()
	defer c.smu.Unlock()
	for ss := range c.sessions {
		ss.touch()
	}
}

func (c *conn) writeResponse(res *response, cseq string) error {
	res.header = append(header{{"Server", serverName}}, res.header...)
	b := res.appendTo(make([]byte, 0, 512+len(res.body)), cseq)
	return c.write(b)
}

// locked runs fn, which writes out, under wmu and within the write
// timeout, after what a producer left unsent (rest).
func (c *conn) locked(fn func() error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.out.SetWriteDeadline(time.Now().Add(writeTimeout))
	if len(c.rest) > 0 {
		_, err := c.out.Write(c.rest)
		c.rest = nil
		c.restUnit.release()
		c.restUnit = nil
		if err != nil {
			return err
		}
	}
	if fn == nil {
		return nil
	}
	return fn()
}

// write writes b after what a producer left unsent.
func (c *conn) write(b []byte) error {
	return c.locked(func() error {
		_, err := c.out.Write(b)
		return err
	})
}

// writeRest writes what a producer left unsent.
func (c *conn) writeRest() error { return c.locked(nil) }

// writeUnit sends b, unit u framed for st's channel (unit.interleaved),
// and counts it.
func (c *conn) writeUnit(st *sessionTrack, u *unit, b []byte) error {
	return c.locked(func() error {
		if _, err := c.out.Write(b); err != nil {
			return err
		}
		st.count(u, len(b))
		return nil
	})
}

// writeReport sends st's RTCP sender report on its second channel
// (RFC 2326 §10.12), with the counts of the units written before it.
func (c *conn) writeReport(st *sessionTrack) error {
	return c.locked(func() error {
		b, err := st.report(make([]byte, interleavedLen, 64))
		if err != nil {
			return err
		}
		appendInterleavedHeader(b[:0], st.channels[1], len(b)-interleavedLen)
		_, err = c.out.Write(b)
		return err
	})
}

// tryDirect writes b, unit u framed for st's session, in the producer's
// goroutine, when the connection is idle: no goroutine writes it, nothing
// of an earlier unit waits (rest), and the session has no unit queued for
// its writer, so that b cannot pass one. It reports whether b was written
// (and counted). When the socket took only a part of it (partial), the
// rest waits in rest for the next writer of the connection, and the
// caller must kick the session's writer. When it took nothing, b was not
// written: it goes through the queue as usual.
func (c *conn) tryDirect(st *sessionTrack, u *unit, b []byte) (sent, partial bool) {
	if !c.wmu.TryLock() {
		return false, false
	}
	defer c.wmu.Unlock()
	if len(c.rest) > 0 || st.s.pending.Load() != 0 {
		return false, false
	}
	if c.dw == nil {
		return false, false
	}
	// On an error (the connection failed, or the deadline that the last
	// write set has passed) nothing was written: the unit goes through
	// the queue, whose write sets a new deadline or meets the failure.
	n, err := c.dw.Try(b)
	if err != nil || n == 0 {
		return false, false
	}
	st.count(u, len(b))
	if n < len(b) {
		u.hold()
		c.rest, c.restUnit = b[n:], u
		return true, true
	}
	return true, false
}

// target is what a request URL names.
type target struct {
	path  *path
	media mediaKind // kindJPEG or kindH264
	track int       // trackID, -1 when the URL is the aggregate one
	base  string    // the aggregate URL as the client wrote it, no trailing slash
}

// resolve maps rtsp://host/<name>/<jpeg|h264>[/trackID=N] to a target.
func (c *conn) resolve(raw string) (target, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" {
		return target{}, false
	}
	p := strings.Trim(u.Path, "/")
	t := target{track: -1}
	if i := strings.LastIndexByte(p, '/'); i >= 0 && strings.HasPrefix(p[i+1:], "trackID=") {
		n, err := strconv.Atoi(p[i+1+len("trackID="):])
		if err != nil || n < 0 {
			return target{}, false
		}
		t.track = n
		p = p[:i]
	}
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return target{}, false
	}
	switch p[i+1:] {
	case StreamJPEG:
		t.media = kindJPEG
	case StreamH264:
		t.media = kindH264
	default:
		return target{}, false
	}
	t.path = c.srv.lookupPath(p[:i])
	if t.path == nil || t.media == kindH264 && t.path.src.NoH264 {
		return target{}, false
	}
	base := raw
	if q := strings.IndexByte(base, '?'); q >= 0 {
		base = base[:q]
	}
	base = strings.TrimSuffix(base, "/")
	if t.track >= 0 {
		// The track must be a segment of its own as written, not only
		// after decoding (cam%2Fjpeg%2FtrackID=0).
		i := strings.LastIndexByte(base, '/')
		if i < 0 || !strings.HasPrefix(base[i+1:], "trackID=") {
			return target{}, false
		}
		base = base[:i]
	}
	t.base = base
	return t, true
}

// mediaTrack returns the track with index i of the target's URL: 0 is the
// video, 1 the audio.
func (t target) mediaTrack(i int) *track {
	switch {
	case i == 0 && t.media == kindJPEG:
		return t.path.jpeg
	case i == 0:
		return t.path.h264.track
	case i == 1:
		return t.path.audio
	}
	return nil
}

func status(code int) *response { return &response{status: code} }

// handle answers one request. The returned function, if any, runs after the
// response has been written (PLAY starts the stream only then, so RTP never
// overtakes the response on an interleaved connection).
func (c *conn) handle(req *request) (*response, func()) {
	srv := c.srv
	var ss *session
	if id := sessionID(req.header.get("Session")); id != "" {
		ss = srv.lookupSession(id)
		if ss != nil && req.method != "TEARDOWN" {
			ss.touch()
		}
	}
	c.touchSessions()

	// The request authenticates against the source it names, or else
	// the source of its session: every camera has its own users.
	var p *path
	if t, ok := c.resolve(req.uri); ok {
		p = t.path
	} else if ss != nil {
		p = ss.path
	}
	auth := srv.authFor(p)
	if req.method == "OPTIONS" {
		if !auth.Required() {
			c.authenticated() // nothing to prove
		}
		return &response{status: 200, header: header{{"Public", publicMethods}}}, nil
	}
	switch req.method {
	case "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER":
	default:
		return &response{status: 501, header: header{{"Public", publicMethods}}}, nil
	}
	authz := req.header.get("Authorization")
	areq := httpauth.Request{Method: req.method, URI: c.digestURI(req.uri, authz), Authorization: authz, Bind: c.bind, Client: c.remote}
	user, err := auth.Check(areq)
	if err != nil {
		res := status(401)
		for _, ch := range auth.ChallengesFor(areq, err) {
			res.header.add("WWW-Authenticate", ch)
		}
		srv.log.Debug("authentication failed", "remote", c.remote, "method", req.method, "err", err)
		return res, nil
	}
	c.authenticated()
	if ss != nil && (ss.user != user || srv.authFor(ss.path) != auth) {
		// Another user's session id, or a session whose source has
		// other users: as if it did not exist.
		ss = nil
	}
	switch req.method {
	case "DESCRIBE":
		return c.describe(req), nil
	case "SETUP":
		return c.setup(req, ss, user), nil
	}
	if ss == nil {
		if req.method == "GET_PARAMETER" || req.method == "SET_PARAMETER" {
			if req.header.get("Session") == "" {
				return status(200), nil // a connection-level keep-alive
			}
		}
		return status(454), nil
	}
	sessHdr := header{{"Session", ss.id}}
	switch req.method {
	case "PLAY":
		return c.play(req, ss)
	case "PAUSE":
		ss.pause()
		return &response{status: 200, header: sessHdr}, nil
	case "TEARDOWN":
		c.forget(ss)
		ss.close("teardown")
		return &response{status: 200, header: sessHdr}, nil
	}
	return &response{status: 200, header: sessHdr}, nil // GET_PARAMETER, SET_PARAMETER
}

// digestURI returns the URI a Digest response must be computed over for a
// request for uri: the digest's own uri parameter when it names the same
// stream (the request URI, the stream's aggregate URL or its Content-Base,
// or the same track), else uri itself, which then fails the check unless
// the two match. live555 (VLC, openRTSP, many NVRs) signs every request
// with its base URL, the Content-Base, while the request line of SETUP
// names the track (RTSPClient::sendRequest calls createAuthenticatorString
// with fBaseURL). A digest for another stream or another camera never
// passes.
func (c *conn) digestURI(uri, authorization string) string {
	cr, err := httpauth.ParseCredentials(authorization)
	if err != nil || !strings.EqualFold(cr.Scheme, "Digest") {
		return uri
	}
	du, ok := cr.Get("uri")
	if !ok || du == uri {
		return uri
	}
	rt, ok1 := c.resolve(uri)
	dt, ok2 := c.resolve(du)
	if ok1 && ok2 && dt.path == rt.path && dt.media == rt.media && (dt.track < 0 || dt.track == rt.track) {
		return du
	}
	return uri
}

// sessionID returns the id of a Session header value ("id;timeout=60").
func sessionID(v string) string {
	id, _, _ := strings.Cut(v, ";")
	return strings.TrimSpace(id)
}

func (c *conn) forget(ss *session) {
	c.smu.Lock()
	defer c.smu.Unlock()
	delete(c.sessions, ss)
}

func (c *conn) describe(req *request) *response {
	t, ok := c.resolve(req.uri)
	if !ok || t.track >= 0 {
		return status(404)
	}
	sdp, err := c.srv.buildSDP(c.ctx, t, c.out.LocalAddr())
	if err != nil {
		c.srv.log.Error("cannot describe stream", "path", t.path.name, "media", t.media.String(), "err", err)
		return &response{status: 503, header: header{{"Content-Type", "text/plain"}}, body: []byte(err.Error() + "\n")}
	}
	return &response{status: 200, header: header{
		{"Content-Type", "application/sdp"},
		{"Content-Base", t.base + "/"},
	}, body: sdp}
}

func (c *conn) setup(req *request, ss *session, user string) *response {
	srv := c.srv
	t, ok := c.resolve(req.uri)
	if !ok {
		return status(404)
	}
	idx := max(t.track, 0)
	tr := t.mediaTrack(idx)
	if tr == nil {
		return status(404)
	}
	if t.media == kindH264 {
		if err := srv.checkH264(); err != nil {
			srv.log.Error("h264 unavailable", "err", err)
			return status(503)
		}
	}
	tp, err := parseTransport(req.header.get("Transport"))
	if err != nil {
		return &response{status: 461, body: []byte(err.Error() + "\n")}
	}
	if req.header.get("Session") != "" {
		if ss == nil {
			return status(454)
		}
		if ss.path != t.path || ss.media != t.media {
			return status(459)
		}
		if ss.kind != tp.kind {
			return status(461)
		}
	}
	if tp.kind == transportUDP && !c.remote.IsValid() {
		return status(461)
	}
	if tp.kind == transportUDP && (srv.ownUDPPort(c.remote, tp.clientPorts[0]) || srv.ownUDPPort(c.remote, tp.clientPorts[1])) {
		return &response{status: 461, body: []byte("client_port is a port of the server\n")}
	}
	created := ss == nil
	if created {
		ss = &session{
			id: newSessionID(), srv: srv, path: t.path, media: t.media, user: user,
			admin: t.path.src.Administrator != nil && t.path.src.Administrator(user),
			kind:  tp.kind, conn: c, udp: c.udp, tracks: make([]*sessionTrack, 2),
			queue: make(chan queued, queueLen), kick: make(chan struct{}, 1),
		}
		// The timer exists before the session can be found: close and
		// touch use it.
		ss.timer = time.AfterFunc(srv.SessionTimeout, func() { ss.close("timeout") })
		if err := srv.addSession(ss); err != nil {
			ss.timer.Stop()
			if errors.Is(err, errUserQuota) {
				srv.log.Debug("session limit of the user reached", "limit", srv.MaxSessionsPerUser, "user", user, "remote", c.remote)
				return &response{status: 503, header: header{{"Content-Type", "text/plain"}}, body: []byte("too many sessions for this user\n")}
			}
			srv.log.Warn("session limit reached", "limit", srv.MaxSessions, "remote", c.remote)
			return status(503)
		}
		c.smu.Lock()
		c.sessions[ss] = struct{}{}
		c.smu.Unlock()
	}
	st := &sessionTrack{s: ss, t: tr, index: idx}
	var th string
	ss.mu.Lock()
	if ss.playing || ss.closed {
		ss.mu.Unlock()
		return status(455)
	}
	if tp.kind == transportUDP {
		// RTP goes only to the address the request came from: a
		// destination= parameter would let anyone aim the stream at a
		// third party.
		st.rtpAddr = netip.AddrPortFrom(c.remote, uint16(tp.clientPorts[0]))
		st.rtcpAddr = netip.AddrPortFrom(c.remote, uint16(tp.clientPorts[1]))
		a, b := c.udp.ports()
		th = fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d;server_port=%d-%d;ssrc=%08X",
			tp.clientPorts[0], tp.clientPorts[1], a, b, tr.ssrc)
	} else {
		ch := tp.interleaved
		if !tp.hasChannels {
			ch = [2]int{2 * idx, 2*idx + 1}
		}
		for _, o := range ss.tracks {
			if o != nil && o.index != idx && (int(o.channels[0]) == ch[0] || int(o.channels[1]) == ch[1]) {
				ss.mu.Unlock()
				return &response{status: 461, body: []byte("interleaved channels already in use\n")}
			}
		}
		st.channels = [2]byte{byte(ch[0]), byte(ch[1])}
		th = fmt.Sprintf("RTP/AVP/TCP;unicast;interleaved=%d-%d;ssrc=%08X", ch[0], ch[1], tr.ssrc)
	}
	old := ss.tracks[idx]
	ss.tracks[idx] = st
	ss.mu.Unlock()

	srv.mu.Lock()
	if old != nil && srv.rtcpFrom[old.rtcpAddr] == old {
		delete(srv.rtcpFrom, old.rtcpAddr)
	}
	if tp.kind == transportUDP {
		srv.rtcpFrom[st.rtcpAddr] = st
	}
	srv.mu.Unlock()
	if created {
		srv.log.Info("session started", "session", ss.id, "path", t.path.name,
			"media", t.media.String(), "transport", tp.kind.String(), "remote", c.remote, "user", user)
	}
	timeout := int(srv.SessionTimeout / time.Second)
	return &response{status: 200, header: header{
		{"Transport", th},
		{"Session", ss.id + ";timeout=" + strconv.Itoa(max(timeout, 1))},
	}}
}

func (c *conn) play(req *request, ss *session) (*response, func()) {
	t, ok := c.resolve(req.uri)
	if !ok || t.path != ss.path || t.media != ss.media {
		return status(404), nil
	}
	ss.mu.Lock()
	var info []string
	now := time.Now()
	for _, st := range ss.tracks {
		if st != nil {
			info = append(info, fmt.Sprintf("url=%s/trackID=%d;seq=%d;rtptime=%d",
				t.base, st.index, st.t.nextSeq(), st.t.rtpTime(now)))
		}
	}
	ss.mu.Unlock()
	if len(info) == 0 {
		return status(455), nil
	}
	res := &response{status: 200, header: header{
		{"Session", ss.id},
		{"Range", "npt=now-"},
		{"RTP-Info", strings.Join(info, ",")},
	}}
	return res, ss.play
}
