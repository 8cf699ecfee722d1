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
	// DefaultMaxSessions bounds the number of open sessions; SETUP beyond
	// it gets 503 (sessions that never play still hold resources until
	// their timeout).
	DefaultMaxSessions = 1000
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
	// FFmpeg is the ffmpeg executable that encodes H.264. It defaults to
	// DefaultFFmpeg (looked up in PATH).
	FFmpeg string
	// MaxConns bounds the TCP connections served at once (RTSP, and each
	// half of an HTTP tunnel) across all listeners; a connection beyond it
	// is closed as soon as it is accepted. It defaults to DefaultMaxConns.
	MaxConns int
	// MaxSessions bounds the sessions open at once; a SETUP beyond it gets
	// 503. It defaults to DefaultMaxSessions.
	MaxSessions int

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

	active        atomic.Int64  // connections being served
	connSeq       atomic.Uint64 // numbers the connections (Digest nonces are bound to one)
	lastRefused   atomic.Int64  // unix nanoseconds of the last logged refusal
	lastAcceptErr atomic.Int64  // unix nanoseconds of the last logged Accept error

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
		if s.active.Add(1) > int64(s.MaxConns) {
			s.active.Add(-1)
			// Logged before the close, so the line is there when the
			// client sees the connection end.
			s.logRefused(nc.RemoteAddr())
			nc.Close()
			continue
		}
		wg.Go(func() {
			defer s.active.Add(-1)
			s.serveConn(ctx, nc, udp)
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
	s.log.Warn("connection limit reached, refusing connections", "limit", s.MaxConns, "remote", remote.String())
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

// addSession registers ss unless the session limit is reached; the check
// and the insertion happen under one lock, so concurrent SETUPs cannot
// overshoot the limit.
func (s *Server) addSession(ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= s.MaxSessions {
		return false
	}
	s.sessions[ss.id] = ss
	s.started++
	return true
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

// serveConn tells RTSP from an HTTP tunnel request by the first bytes. A
// panic while serving the connection is logged with its stack and ends
// only this connection.
func (s *Server) serveConn(ctx context.Context, nc net.Conn, udp *udpPair) {
	defer func() {
		if v := recover(); v != nil {
			// Logged before the close, so the line is there when the
			// client sees the connection end.
			s.log.Error("panic serving connection, closed it", "remote", nc.RemoteAddr().String(),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			nc.Close()
		}
	}()
	br := bufio.NewReaderSize(nc, readBufferLen)
	// Clients send their first request (or tunnel header) right after
	// connecting; a connection that stays silent must not hold one of
	// the MaxConns slots for the whole idle timeout.
	_ = nc.SetReadDeadline(time.Now().Add(min(s.IdleTimeout, s.FirstRequestTimeout)))
	head, err := br.Peek(4)
	if err != nil {
		nc.Close()
		return
	}
	switch string(head) {
	case "GET ", "POST":
		s.serveTunnel(ctx, nc, br, udp)
		return
	}
	c := newConn(s, nc, br, nc, udp)
	c.serve(ctx)
}
