package rtsp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/connlimit"
	"github.com/chinesium/chinesium/stream"
)

// Defaults of the Server's fields.
const (
	// DefaultSessionTimeout is the session timeout announced in the
	// Session header and enforced.
	DefaultSessionTimeout = 60 * time.Second
	// DefaultFirstRequestTimeout is how long a new connection may take to
	// send its first request; a silent connection is closed.
	DefaultFirstRequestTimeout = 10 * time.Second
	// DefaultMaxConns bounds the connections served at once.
	DefaultMaxConns = 512
	// DefaultMaxConnsPerAddr bounds the connections of one client
	// address: an NVR recording the main and sub streams of 32 cameras
	// through HTTP tunnels (two connections each) stays within it.
	DefaultMaxConnsPerAddr = 128
	// DefaultMaxTunnels bounds the RTSP-over-HTTP tunnels open at once.
	DefaultMaxTunnels = 256
	// DefaultMaxTunnelsPerAddr bounds the tunnels of one client address.
	DefaultMaxTunnelsPerAddr = 64
	// DefaultUnauthenticatedTimeout is how long a connection on which no
	// request has authenticated yet may stay silent.
	DefaultUnauthenticatedTimeout = 5 * time.Second
	// DefaultMaxSessions bounds the number of open sessions; SETUP beyond
	// it gets 503 (sessions that never play still hold resources until
	// their timeout).
	DefaultMaxSessions = 1000
	// DefaultMaxSessionsPerUser bounds the sessions of one user of a
	// source: an NVR recording a camera opens one or two, a person
	// watching a few more.
	DefaultMaxSessionsPerUser = 16
	// DefaultFFmpeg is the ffmpeg executable, looked up in PATH.
	DefaultFFmpeg = "ffmpeg"
)

// Source is what the server streams for one camera.
type Source struct {
	// Video carries the camera's JPEG frames. Required.
	Video *stream.Hub
	// Audio carries the camera's IMA ADPCM blocks; nil means no audio
	// track.
	Audio *stream.AudioHub
	// Auth authenticates every request on this source's URLs (and on
	// sessions set up on them) instead of Server.Auth. Nil means
	// Server.Auth applies. An authenticator with no users leaves the
	// source open even when Server.Auth has users.
	Auth *httpauth.Authenticator
	// NoH264 turns the source's StreamH264 URL off (404).
	NoH264 bool
	// Administrator reports whether user (authenticated by this
	// source's authenticator) is an administrator: when the sessions are
	// at MaxSessions, an administrator's SETUP ends the oldest session
	// of a user who is not one instead of being refused. Nil means
	// nobody is.
	Administrator func(user string) bool
}

// Server is an RTSP server (RFC 2326) for cameras registered with Handle.
// The zero value is ready to use. Set the fields before the first call of
// Handle or Serve and do not change them afterwards; zero fields take their
// defaults then.
type Server struct {
	// Auth authenticates every request except OPTIONS with Digest (or
	// Basic when it allows it), unless the request is for a source that
	// has an Auth of its own. Nil, or no users, means open access.
	Auth *httpauth.Authenticator
	// Logger receives session and error events, tagged component=rtsp.
	// Nil discards them.
	Logger *slog.Logger
	// SessionTimeout ends a session that sent no request and no RTCP
	// report for this long. It defaults to DefaultSessionTimeout (60 s).
	SessionTimeout time.Duration
	// IdleTimeout closes a connection that sends nothing (no request, no
	// interleaved RTCP, no tunnelled data) for this long. It defaults to
	// twice SessionTimeout plus 10 s, so that a client keeping its session
	// alive is never cut off.
	IdleTimeout time.Duration
	// FirstRequestTimeout closes a new connection that has not sent its
	// first request (or HTTP tunnel header) within this time, so that
	// silent connections do not hold one of the MaxConns slots. It
	// defaults to DefaultFirstRequestTimeout (10 s).
	FirstRequestTimeout time.Duration
	// UnauthenticatedTimeout closes a connection that sends nothing for
	// this long while none of its requests has authenticated (only
	// OPTIONS, or requests answered 401), so that anonymous clients do
	// not hold slots; FirstRequestTimeout still bounds the first request.
	// Where no authentication is required, the first request counts as
	// authenticated. It defaults to DefaultUnauthenticatedTimeout (5 s).
	UnauthenticatedTimeout time.Duration
	// FFmpeg is the ffmpeg executable that encodes H.264. It defaults to
	// DefaultFFmpeg (looked up in PATH).
	FFmpeg string
	// MaxConns bounds the TCP connections served at once (RTSP, and each
	// half of an HTTP tunnel) across all listeners; a connection beyond it
	// is closed as soon as it is accepted, unless a connection that has
	// not authenticated yet can be closed to make room (the one that has
	// waited longest). It defaults to DefaultMaxConns.
	MaxConns int
	// MaxConnsPerAddr bounds the connections of one client address, as
	// MaxConns does for all: a new connection beyond it closes the
	// address's oldest unauthenticated connection, or is closed itself.
	// It defaults to DefaultMaxConnsPerAddr.
	MaxConnsPerAddr int
	// MaxTunnels bounds the RTSP-over-HTTP tunnels open at once; a GET
	// beyond it gets 503 unless a tunnel that has not authenticated can
	// be closed to make room. It defaults to DefaultMaxTunnels.
	MaxTunnels int
	// MaxTunnelsPerAddr bounds the tunnels of one client address, in the
	// same way. It defaults to DefaultMaxTunnelsPerAddr.
	MaxTunnelsPerAddr int
	// MaxSessions bounds the sessions open at once; a SETUP beyond it gets
	// 503, unless it comes from an administrator (Source.Administrator),
	// whose SETUP ends the oldest session of a user who is not one. It
	// defaults to DefaultMaxSessions.
	MaxSessions int
	// MaxSessionsPerUser bounds the sessions of one authenticated user of
	// a source (users of different sources are different users); a
	// SETUP beyond it gets 503. Where no authentication is required it
	// does not apply. It defaults to DefaultMaxSessionsPerUser.
	MaxSessionsPerUser int

	initOnce sync.Once
	log      *slog.Logger // Logger with component=rtsp; set by init

	mu       sync.Mutex
	paths    map[string]*path                 // guarded by mu
	counters map[string]*pathCounters         // guarded by mu; by path name
	started  uint64                           // guarded by mu; sessions set up
	sessions map[string]*session              // guarded by mu
	tunnels  map[string]*tunnel               // guarded by mu; by x-sessioncookie
	rtcpFrom map[netip.AddrPort]*sessionTrack // guarded by mu; client RTCP address -> track
	conns    map[*conn]struct{}               // guarded by mu
	udps     map[*udpPair]struct{}            // guarded by mu; the UDP ports of every Serve

	limiter       connlimit.Limiter // the connections being served
	tunnelSeq     uint64            // guarded by mu; orders the tunnels by age
	connSeq       atomic.Uint64     // numbers the connections (Digest nonces are bound to one)
	lastRefused   atomic.Int64      // unix nanoseconds of the last logged refusal
	lastAcceptErr atomic.Int64      // unix nanoseconds of the last logged Accept error

	h264Once sync.Once
	h264Err  error
	probeMu  sync.Mutex // serializes probe encodes
}

// path is one camera: rtsp://host/<name>/jpeg and rtsp://host/<name>/h264.
type path struct {
	name     string
	src      Source
	counters *pathCounters // shared with the path it replaced
	jpeg     *track
	h264     *h264Track
	audio    *track // nil without audio; shared by both URLs

	// The streams' settings (SetVideoSettings); read by the producers.
	jpegSettings, h264Settings *settingsBox
}

// setDefaults fills every zero field with its default.
func (s *Server) setDefaults() {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.SessionTimeout <= 0 {
		s.SessionTimeout = DefaultSessionTimeout
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = 2*s.SessionTimeout + 10*time.Second
	}
	if s.FirstRequestTimeout <= 0 {
		s.FirstRequestTimeout = DefaultFirstRequestTimeout
	}
	if s.FFmpeg == "" {
		s.FFmpeg = DefaultFFmpeg
	}
	if s.MaxConns <= 0 {
		s.MaxConns = DefaultMaxConns
	}
	if s.MaxSessions <= 0 {
		s.MaxSessions = DefaultMaxSessions
	}
	if s.MaxSessionsPerUser <= 0 {
		s.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if s.MaxConnsPerAddr <= 0 {
		s.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	}
	if s.MaxTunnels <= 0 {
		s.MaxTunnels = DefaultMaxTunnels
	}
	if s.MaxTunnelsPerAddr <= 0 {
		s.MaxTunnelsPerAddr = DefaultMaxTunnelsPerAddr
	}
	if s.UnauthenticatedTimeout <= 0 {
		s.UnauthenticatedTimeout = DefaultUnauthenticatedTimeout
	}
}

// init applies the defaults and makes the server's tables, once; every
// entry point (Handle, Serve, H264Available) calls it first.
func (s *Server) init() {
	s.initOnce.Do(func() {
		s.setDefaults()
		s.log = s.Logger.With("component", "rtsp")
		s.paths = make(map[string]*path)
		s.sessions = make(map[string]*session)
		s.tunnels = make(map[string]*tunnel)
		s.rtcpFrom = make(map[netip.AddrPort]*sessionTrack)
		s.conns = make(map[*conn]struct{})
		s.udps = make(map[*udpPair]struct{})
		s.counters = make(map[string]*pathCounters)
		s.limiter.Max, s.limiter.MaxPerAddr = s.MaxConns, s.MaxConnsPerAddr
	})
}

// authFor returns the authenticator of requests for p (nil p: requests
// that name no source and belong to no session).
func (s *Server) authFor(p *path) *httpauth.Authenticator {
	if p != nil && p.src.Auth != nil {
		return p.src.Auth
	}
	return s.Auth
}

// Handle serves src as rtsp://host:port/<name>/jpeg (RTP/JPEG) and
// rtsp://host:port/<name>/h264 (H.264 encoded by ffmpeg while watched),
// each with a G.711 µ-law audio track when src.Audio is not nil. Calling
// Handle again with the same name replaces the source for new sessions.
func (s *Server) Handle(name string, src Source) {
	s.init()
	name = strings.Trim(name, "/")
	p := &path{name: name, src: src, jpegSettings: &settingsBox{}, h264Settings: &settingsBox{}}
	if old := s.lookupPath(name); old != nil {
		// The settings belong to the name, not to this source.
		p.jpegSettings, p.h264Settings = old.jpegSettings, old.h264Settings
	}
	p.jpeg = newTrack(s, kindJPEG, 26, 90000, jpegProducer(src.Video, p.jpegSettings))
	p.h264 = newH264Track(s, src.Video, p.h264Settings)
	if src.Audio != nil {
		p.audio = newTrack(s, kindPCMU, 0, 8000, pcmuProducer(src.Audio))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counters[name] == nil {
		s.counters[name] = &pathCounters{}
	}
	p.counters = s.counters[name]
	s.paths[name] = p
}

func (s *Server) lookupPath(name string) *path {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paths[name]
}

// udpPair is the server's RTP and RTCP sockets for one listener.
type udpPair struct {
	rtp, rtcp *net.UDPConn
}

// listenUDPPair binds an even RTP port and the next odd RTCP port on ip
// (RFC 3550 §11).
func listenUDPPair(ip net.IP) (*udpPair, error) {
	var lastErr error
	for range 50 {
		rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err != nil {
			return nil, fmt.Errorf("rtsp: udp listen: %w", err)
		}
		port := rtp.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port == 65535 {
			rtp.Close()
			continue
		}
		rtcp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port + 1})
		if err != nil {
			lastErr = err
			rtp.Close()
			continue
		}
		return &udpPair{rtp: rtp, rtcp: rtcp}, nil
	}
	return nil, fmt.Errorf("rtsp: no free even/odd udp port pair: %w", lastErr)
}

func (u *udpPair) ports() (int, int) {
	return u.rtp.LocalAddr().(*net.UDPAddr).Port, u.rtcp.LocalAddr().(*net.UDPAddr).Port
}

func (u *udpPair) close() {
	u.rtp.Close()
	u.rtcp.Close()
}

// Serve accepts RTSP connections on ln until ctx is done, then closes ln
// and every connection and session it started, and returns nil. On the
// same port it accepts RTSP with interleaved RTP and RTSP tunnelled in HTTP
// (a GET and a POST with the same x-sessioncookie). RTP over UDP uses an
// even/odd port pair bound on the listener's address.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.init()
	var ip net.IP
	if ta, ok := ln.Addr().(*net.TCPAddr); ok {
		ip = ta.IP
	}
	udp, err := listenUDPPair(ip)
	if err != nil {
		ln.Close()
		return err
	}
	s.mu.Lock()
	s.udps[udp] = struct{}{}
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.readUDP(udp.rtcp, true) })
	wg.Go(func() { s.readUDP(udp.rtp, false) })
	wg.Go(func() {
		<-ctx.Done()
		ln.Close()
	})
	defer func() {
		cancel()
		s.mu.Lock()
		delete(s.udps, udp)
		s.mu.Unlock()
		udp.close()
		s.closeAll(udp)
		wg.Wait()
		s.waitIdleProducers()
	}()
	var backoff time.Duration // after a failed Accept, as net/http's Server.Serve
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !temporary(err) {
				return fmt.Errorf("rtsp: accept: %w", err)
			}
			// Out of file descriptors (EMFILE, ENFILE), or a
			// connection reset before it was accepted: the condition
			// passes (connections end), so wait and try again rather
			// than stop serving RTSP.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logAcceptError(err, backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		// A connection that has to make room for this one is closed:
		// its reader and writer fail and its goroutine ends it.
		slot := s.limiter.Admit(remoteAddr(nc), func() { nc.Close() })
		if slot == nil {
			// Logged before the close, so the line is there when the
			// client sees the connection end.
			s.logRefused(nc.RemoteAddr())
			nc.Close()
			continue
		}
		wg.Go(func() {
			defer slot.Release()
			s.serveConn(ctx, nc, udp, slot)
		})
	}
}

// temporary reports whether an Accept error is one that passes: a timeout,
// or an error the net package calls temporary (EMFILE, ENFILE, EINTR, and
// ECONNABORTED or ECONNRESET of a connection reset before it was
// accepted), as net/http's Server.Serve decides.
func temporary(err error) bool {
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// logAcceptError logs a failed Accept that will be retried, at most once
// every ten seconds.
func (s *Server) logAcceptError(err error, retry time.Duration) {
	now := time.Now().UnixNano()
	last := s.lastAcceptErr.Load()
	if now-last < int64(10*time.Second) || !s.lastAcceptErr.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn("cannot accept connections, retrying", "err", err, "retry_in", retry)
}

// ownUDPPort reports whether RTP or RTCP sent to port on addr would reach
// one of the server's own UDP sockets: a client naming such a port as its
// client_port would have the session's RTCP sender reports come back as
// its own receiver reports and keep the session alive forever.
func (s *Server) ownUDPPort(addr netip.Addr, port int) bool {
	s.mu.Lock()
	own := false
	for u := range s.udps {
		a, b := u.ports()
		own = own || port == a || port == b
	}
	s.mu.Unlock()
	return own && isLocalAddr(addr)
}

// isLocalAddr reports whether addr is an address of this host.
func isLocalAddr(addr netip.Addr) bool {
	if addr.IsLoopback() || addr.IsUnspecified() {
		return true
	}
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // cannot tell: assume the worst
	}
	for _, a := range ifAddrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == addr {
				return true
			}
		}
	}
	return false
}

// logRefused logs a connection refused for the connection limit, at most
// once every ten seconds (a flood must not flood the log too).
func (s *Server) logRefused(remote net.Addr) {
	now := time.Now().UnixNano()
	last := s.lastRefused.Load()
	if now-last < int64(10*time.Second) || !s.lastRefused.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn("connection limit reached, refusing connections", "limit", s.MaxConns, "per_address", s.MaxConnsPerAddr, "remote", remote.String())
}

// closeAll ends the connections and sessions that use udp.
func (s *Server) closeAll(udp *udpPair) {
	s.mu.Lock()
	var conns []*conn
	for c := range s.conns {
		if c.udp == udp {
			conns = append(conns, c)
		}
	}
	var sessions []*session
	for _, ss := range s.sessions {
		if ss.udp == udp {
			sessions = append(sessions, ss)
		}
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	for _, ss := range sessions {
		ss.close("server stopped")
	}
}

// waitIdleProducers waits until the producers of tracks nobody plays any
// more (among them ffmpeg children) have exited and been reaped.
func (s *Server) waitIdleProducers() {
	s.mu.Lock()
	var tracks []*track
	for _, p := range s.paths {
		tracks = append(tracks, p.jpeg, p.h264.track)
		if p.audio != nil {
			tracks = append(tracks, p.audio)
		}
	}
	s.mu.Unlock()
	for _, t := range tracks {
		if t.readerCount() == 0 {
			<-t.stopped()
		}
	}
}

// readUDP reads RTCP receiver reports (and hole-punching RTP packets) from
// clients; each counts as a keep-alive for the session that sends to that
// address.
func (s *Server) readUDP(pc *net.UDPConn, isRTCP bool) {
	buf := make([]byte, 2048)
	for {
		_, from, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !isRTCP {
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		s.mu.Lock()
		st := s.rtcpFrom[from]
		s.mu.Unlock()
		if st != nil {
			st.s.touch()
		}
	}
}

// Why addSession refused a session.
var (
	errSessionsFull = errors.New("rtsp: session limit reached")
	errUserQuota    = errors.New("rtsp: the user's session limit reached")
)

// addSession registers ss unless its user has MaxSessionsPerUser sessions
// already, or the server MaxSessions and ss is not an administrator's
// (an administrator's takes the place of the oldest session of a user who
// is not one, which addSession closes). The checks and the insertion
// happen under one lock, so concurrent SETUPs cannot overshoot the limits.
func (s *Server) addSession(ss *session) error {
	var victim *session
	defer func() {
		if victim != nil {
			victim.close("replaced by an administrator's session")
			if victim.kind == transportTCP {
				victim.conn.close()
			}
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	auth := s.authFor(ss.path)
	if ss.user != "" && auth.Required() {
		n := 0
		for _, o := range s.sessions {
			if o.user == ss.user && s.authFor(o.path) == auth {
				n++
			}
		}
		if n >= s.MaxSessionsPerUser {
			return errUserQuota
		}
	}
	if len(s.sessions) >= s.MaxSessions {
		if !ss.admin {
			return errSessionsFull
		}
		for _, o := range s.sessions {
			if !o.admin && (victim == nil || o.seq < victim.seq) {
				victim = o
			}
		}
		if victim == nil {
			return errSessionsFull
		}
		delete(s.sessions, victim.id) // closed once mu is let go
	}
	s.started++
	ss.seq = s.started
	s.sessions[ss.id] = ss
	return nil
}

func (s *Server) lookupSession(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

func (s *Server) removeSession(ss *session, tracks []*sessionTrack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	for _, st := range tracks {
		if st != nil && s.rtcpFrom[st.rtcpAddr] == st {
			delete(s.rtcpFrom, st.rtcpAddr)
		}
	}
}

// SessionCount returns the number of open RTSP sessions.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// logPanic logs a panic that ended the connection from remote, with the
// stack of the goroutine that panicked.
func (s *Server) logPanic(remote net.Addr, v any) {
	s.log.Error("panic serving connection, closed it", "remote", remote.String(),
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

// serveConn tells RTSP from an HTTP tunnel request by the first bytes. A
// panic while serving the connection is logged with its stack and ends
// only this connection.
func (s *Server) serveConn(ctx context.Context, nc net.Conn, udp *udpPair, slot *connlimit.Slot) {
	defer func() {
		if v := recover(); v != nil {
			// Logged before the close, so the line is there when the
			// client sees the connection end. (A plain RTSP connection's
			// own panics are logged by conn.serve, before it closes.)
			s.logPanic(nc.RemoteAddr(), v)
			nc.Close()
		}
	}()
	br := bufio.NewReaderSize(nc, readBufferLen)
	// Clients send their first request (or tunnel header) right after
	// connecting; a connection that stays silent must not hold one of
	// the MaxConns slots for the whole idle timeout.
	_ = nc.SetReadDeadline(time.Now().Add(min(s.IdleTimeout, s.FirstRequestTimeout, s.UnauthenticatedTimeout)))
	head, err := br.Peek(4)
	if err != nil {
		nc.Close()
		return
	}
	switch string(head) {
	case "GET ", "POST":
		s.serveTunnel(ctx, nc, br, udp, slot)
		return
	}
	c := newConn(s, nc, br, nc, udp)
	c.slot = slot
	c.serve(ctx)
}
