package camsession

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Session defaults (PROTOCOL.md §4).
const (
	// FirstLocalPort is where the search for a free local port starts when
	// Config.LocalPort is 0, as the Delphi client does: a restarted process
	// gets the same port back and is fed at once by the camera, which keeps
	// streaming to the old address for a few seconds.
	FirstLocalPort = 41773
	// localPortTries is how many ports from FirstLocalPort upward are tried.
	localPortTries = 64

	DefaultCopies       = 2                       // copies of every control message
	DefaultPortTimeout  = time.Second             // first wait for a port response
	DefaultMaxBackoff   = 10 * time.Second        // longest wait between port requests
	DefaultKeepAlive    = 2 * time.Second         // stream request period
	DefaultLoginRetry   = 1500 * time.Millisecond // resend login while no media
	DefaultMediaTimeout = 3 * time.Second         // silence before a new handshake

	// copyGap separates the copies of one control message (Rust: 20 ms).
	copyGap = 20 * time.Millisecond
	// logEvery is the period of the receive-problem summary in the log.
	logEvery = 10 * time.Second
	// fpsWindow is the window of Stats.FPS.
	fpsWindow = time.Second
)

// State is the connection state of a Session.
type State int

// Session states.
const (
	// StateConnecting: handshaking, no media received yet.
	StateConnecting State = iota
	// StateStreaming: media is arriving.
	StateStreaming
	// StateLost: media stopped (or the camera closed the session); the
	// session is handshaking again.
	StateLost
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateStreaming:
		return "streaming"
	case StateLost:
		return "lost"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Config configures a Session. Only Camera is required; every zero value
// takes the documented default.
type Config struct {
	// Camera is the camera's IPv4 address. Datagrams from any other address
	// are counted (Stats.Foreign) and dropped.
	Camera netip.Addr
	// ControlPort is the camera's port for the port request; default 10104.
	ControlPort int
	// LocalIP is the local address to bind and to write into the login.
	// Default: the local address that routes to Camera.
	LocalIP netip.Addr
	// LocalPort is the local UDP port: 0 takes the first free port from
	// 41773 upward (stable across restarts), -1 any free port.
	LocalPort int
	// Copies is how many times every control message is sent; default 2.
	Copies int
	// Audio asks for audio too (the mask-3 stream request).
	Audio bool
	// PasswordHash is the login's 12-character hash; default
	// DefaultPasswordHash.
	PasswordHash string
	// OnFrame is called on the session's receive goroutine for each complete
	// frame; it must not block. The Frame is immutable and may be kept.
	OnFrame func(*Frame)
	// OnAudio is called on the receive goroutine for each audio packet; it
	// must not block. The Audio is immutable and may be kept.
	OnAudio func(*Audio)
	// OnState is called on the session's control goroutine on every state
	// change; it must not block.
	OnState func(State)
	// Logger receives connection events and, about every 10 s when they
	// changed, counters of receive problems; never one line per packet.
	// Default: discard.
	Logger *slog.Logger

	// PortTimeout is the first wait for a port response; each unanswered
	// request doubles it up to MaxBackoff. Default 1 s.
	PortTimeout time.Duration
	// KeepAlive is the period of the stream request that keeps media
	// flowing. Default 2 s.
	KeepAlive time.Duration
	// LoginRetry: while no media arrives, login and stream request are sent
	// again this often. Default 1.5 s.
	LoginRetry time.Duration
	// MediaTimeout: after this long without media (or without any media
	// since the handshake) the whole handshake is redone, since the data port
	// may have changed. Default 3 s.
	MediaTimeout time.Duration
	// MaxBackoff caps the wait between port requests while the camera is
	// unreachable. Default 10 s.
	MaxBackoff time.Duration
	// MaxFrameSize caps the bytes of one frame; default 1 MiB.
	MaxFrameSize int
	// MaxFramesInFlight caps partial frames kept for reordering; default 4.
	MaxFramesInFlight int
}

// Stats are a Session's counters since New.
type Stats struct {
	Packets        uint64 // datagrams from the camera
	BadPackets     uint64 // malformed datagrams from the camera, dropped
	Foreign        uint64 // datagrams from other addresses, dropped
	FramesComplete uint64 // frames delivered
	FramesDropped  uint64 // frames lost: missing packets, too large, not a JPEG
	Duplicates     uint64 // duplicate packets ignored
	Reorders       uint64 // packets that arrived after a later one
	Late           uint64 // packets of finished frames, discarded
	Reconnects     uint64 // handshakes redone after the first
	AudioPackets   uint64 // audio packets delivered
	FPS            float64
	LastFrame      time.Time // zero until the first frame
}

// Session receives whole JPEG frames (and audio) from one camera over one
// UDP socket, and keeps the stream alive: handshake with back-off,
// keep-alives, login retries and a new handshake when media stops
// (PROTOCOL.md §4).
type Session struct {
	cfg    Config
	log    *slog.Logger
	conn   *net.UDPConn
	local  netip.AddrPort // written into the login: where media must go
	camera netip.Addr
	ra     *Reassembler // owned by the receive goroutine

	portReq, login, streamVideo, streamAudio []byte

	events    chan event
	restart   chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
	running   atomic.Bool

	state     atomic.Int32
	name      atomic.Pointer[string]
	resetRA   atomic.Bool
	packets   atomic.Uint64
	media     atomic.Uint64
	bad       atomic.Uint64
	foreign   atomic.Uint64
	reconn    atomic.Uint64
	audio     atomic.Uint64
	lastFrame atomic.Int64 // unix nanoseconds

	fpsMu    sync.Mutex
	fpsTimes [256]int64 // guarded by fpsMu: completion times, a ring
	fpsNext  int        // guarded by fpsMu
}

type eventKind int

const (
	evPortResponse eventKind = iota
	evDeviceClosed
)

type event struct {
	kind eventKind
	port PortResponse
}

// New validates cfg and binds the session's socket, so that a bad address
// or a busy port fails here rather than in Run.
func New(cfg Config) (*Session, error) {
	if err := sessionDefaults(&cfg); err != nil {
		return nil, err
	}
	loginIP := cfg.LocalIP
	if !loginIP.IsValid() || loginIP.IsUnspecified() {
		ip, err := localIPFor(cfg.Camera, cfg.ControlPort)
		if err != nil {
			return nil, err
		}
		loginIP = ip
		if !cfg.LocalIP.IsValid() {
			cfg.LocalIP = ip
		}
	}
	conn, err := bindSession(cfg.LocalIP, cfg.LocalPort)
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(4 << 20) // a burst of frames must not overflow it
	port := conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	s := &Session{
		cfg:     cfg,
		log:     cfg.Logger.With("camera", cfg.Camera.String()),
		conn:    conn,
		local:   netip.AddrPortFrom(loginIP, port),
		camera:  cfg.Camera,
		ra:      NewReassembler(cfg.MaxFrameSize, cfg.MaxFramesInFlight),
		events:  make(chan event, 8),
		restart: make(chan struct{}, 1),
		closed:  make(chan struct{}),
	}
	s.portReq = AppendPortRequest(nil)
	s.login = AppendLogin(nil, Login{Addr: s.local, PasswordHash: cfg.PasswordHash})
	s.streamVideo = AppendStreamRequest(nil, MaskVideo)
	s.streamAudio = AppendStreamRequest(nil, MaskVideoAudio)
	empty := ""
	s.name.Store(&empty)
	return s, nil
}

func sessionDefaults(cfg *Config) error {
	cfg.Camera = cfg.Camera.Unmap()
	if !cfg.Camera.Is4() || cfg.Camera.IsUnspecified() {
		return fmt.Errorf("camsession: camera address %q is not an IPv4 address (example: 192.168.1.30)", cfg.Camera)
	}
	if cfg.ControlPort == 0 {
		cfg.ControlPort = ControlPort
	}
	if cfg.ControlPort < 1 || cfg.ControlPort > 65535 {
		return fmt.Errorf("camsession: control port %d out of range 1..65535", cfg.ControlPort)
	}
	if cfg.LocalIP.IsValid() {
		cfg.LocalIP = cfg.LocalIP.Unmap()
		if !cfg.LocalIP.Is4() {
			return fmt.Errorf("camsession: local address %v is not IPv4", cfg.LocalIP)
		}
	}
	if cfg.LocalPort < -1 || cfg.LocalPort > 65535 {
		return fmt.Errorf("camsession: local port %d out of range (0 = from %d upward, -1 = any)", cfg.LocalPort, FirstLocalPort)
	}
	if cfg.Copies == 0 {
		cfg.Copies = DefaultCopies
	}
	if cfg.Copies < 1 || cfg.Copies > 20 {
		return fmt.Errorf("camsession: copies %d out of range 1..20", cfg.Copies)
	}
	if cfg.PasswordHash != "" && len(cfg.PasswordHash) > 12 {
		return fmt.Errorf("camsession: password hash %q longer than 12 characters", cfg.PasswordHash)
	}
	for _, d := range []struct {
		p    *time.Duration
		def  time.Duration
		name string
	}{
		{&cfg.PortTimeout, DefaultPortTimeout, "PortTimeout"},
		{&cfg.KeepAlive, DefaultKeepAlive, "KeepAlive"},
		{&cfg.LoginRetry, DefaultLoginRetry, "LoginRetry"},
		{&cfg.MediaTimeout, DefaultMediaTimeout, "MediaTimeout"},
		{&cfg.MaxBackoff, DefaultMaxBackoff, "MaxBackoff"},
	} {
		if *d.p < 0 {
			return fmt.Errorf("camsession: %s must not be negative", d.name)
		}
		if *d.p == 0 {
			*d.p = d.def
		}
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.PortTimeout)
	if cfg.MaxFrameSize < 0 || cfg.MaxFramesInFlight < 0 {
		return errors.New("camsession: MaxFrameSize and MaxFramesInFlight must not be negative")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// localIPFor returns the local IPv4 address the kernel would use to reach the
// camera. No packet is sent.
func localIPFor(camera netip.Addr, port int) (netip.Addr, error) {
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(camera, uint16(port))))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("camsession: no route to camera %v (check the address and the network): %w", camera, err)
	}
	defer c.Close()
	ip := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	if !ip.Is4() || ip.IsUnspecified() {
		return netip.Addr{}, fmt.Errorf("camsession: no local IPv4 address routes to camera %v", camera)
	}
	return ip, nil
}

// bindSession opens the session's socket on ip:port (port 0: the first free port
// from FirstLocalPort upward; -1: any port).
func bindSession(ip netip.Addr, port int) (*net.UDPConn, error) {
	try := func(p int) (*net.UDPConn, error) {
		return net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(p))))
	}
	explain := func(p int, err error) error {
		switch {
		case errors.Is(err, syscall.EADDRINUSE):
			return fmt.Errorf("camsession: local port %d busy: another program (or chinesium) uses it; stop it or choose another port: %w", p, err)
		case errors.Is(err, syscall.EADDRNOTAVAIL):
			return fmt.Errorf("camsession: local address %v is not an address of this machine: %w", ip, err)
		}
		return fmt.Errorf("camsession: bind %v:%d: %w", ip, p, err)
	}
	switch port {
	case -1:
		c, err := try(0)
		if err != nil {
			return nil, explain(0, err)
		}
		return c, nil
	case 0:
		for p := FirstLocalPort; p < FirstLocalPort+localPortTries; p++ {
			c, err := try(p)
			if err == nil {
				return c, nil
			}
			if !errors.Is(err, syscall.EADDRINUSE) {
				return nil, explain(p, err)
			}
		}
		return nil, fmt.Errorf("camsession: local ports %d..%d all busy; set a local port explicitly",
			FirstLocalPort, FirstLocalPort+localPortTries-1)
	}
	c, err := try(port)
	if err != nil {
		return nil, explain(port, err)
	}
	return c, nil
}

// LocalAddr returns the address written into the login: the local IPv4
// address and port where the camera sends media.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// CameraName returns the name from the last port response, "" until known.
func (s *Session) CameraName() string { return *s.name.Load() }

// State returns the current connection state.
func (s *Session) State() State { return State(s.state.Load()) }

// Restart forces a full new handshake, as after a camera reboot. It does
// not block.
func (s *Session) Restart() {
	select {
	case s.restart <- struct{}{}:
	default:
	}
}

// Close releases the socket. It is only needed for a Session whose Run is
// never called; Run closes the socket when it returns, and a running
// session is stopped by cancelling Run's context (Close also stops it).
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.conn.Close()
	})
	return nil
}

// Stats returns a snapshot of the counters. It may be called from any
// goroutine.
func (s *Session) Stats() Stats {
	r := s.ra.Stats()
	st := Stats{
		Packets:        s.packets.Load(),
		BadPackets:     s.bad.Load(),
		Foreign:        s.foreign.Load(),
		FramesComplete: r.FramesComplete,
		FramesDropped:  r.FramesDropped,
		Duplicates:     r.Duplicates,
		Reorders:       r.Reorders,
		Late:           r.Late,
		Reconnects:     s.reconn.Load(),
		AudioPackets:   s.audio.Load(),
		FPS:            s.fps(time.Now()),
	}
	if ns := s.lastFrame.Load(); ns != 0 {
		st.LastFrame = time.Unix(0, ns)
	}
	return st
}

// fps counts the frames completed within the last fpsWindow.
func (s *Session) fps(now time.Time) float64 {
	from := now.Add(-fpsWindow).UnixNano()
	s.fpsMu.Lock()
	defer s.fpsMu.Unlock()
	n := 0
	for _, t := range s.fpsTimes {
		if t > from {
			n++
		}
	}
	return float64(n) / fpsWindow.Seconds()
}

// Run runs the session until ctx is done: handshake, keep-alives and
// reconnection, while a receive goroutine delivers frames and audio. It
// returns nil when ctx is cancelled; the socket is closed on return. Run may
// be called only once.
func (s *Session) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("camsession: Run called twice")
	}
	select {
	case <-s.closed:
		return errors.New("camsession: session closed")
	default:
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()

	var wg sync.WaitGroup
	wg.Go(s.receive)
	s.log.Info("session started", "local", s.local.String())
	s.control(ctx)
	s.Close()
	wg.Wait()
	s.log.Info("session stopped", "frames", s.ra.Stats().FramesComplete)
	return nil
}

// receive reads datagrams until the socket is closed. It allocates nothing
// per packet; only completed frames and audio packets are allocated.
func (s *Session) receive() {
	buf := make([]byte, MaxDatagram)
	var fails int
	for {
		err := s.receiveOne(buf)
		if err == nil {
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		fails++
		if fails%100 == 1 {
			s.log.Warn("receive error", "err", err, "count", fails)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// receiveOne reads and handles one datagram, using buf as the receive
// buffer.
func (s *Session) receiveOne(buf []byte) error {
	n, src, err := s.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return err
	}
	s.handle(buf[:n], src)
	return nil
}

// handle processes one datagram from src. b is reused after it returns.
func (s *Session) handle(b []byte, src netip.AddrPort) {
	if src.Addr().Unmap() != s.camera {
		s.foreign.Add(1)
		return
	}
	s.packets.Add(1)
	msg, err := Decode(b)
	if err != nil {
		s.bad.Add(1)
		return
	}
	switch msg.Kind {
	case KindMedia:
		s.media.Add(1)
		m := msg.Media
		if m.Audio {
			s.audio.Add(1)
			if s.cfg.OnAudio != nil {
				s.cfg.OnAudio(&Audio{ADPCM: bytes.Clone(m.Payload), Index: m.Frame, Time: time.Now()})
			}
			return
		}
		if s.resetRA.Load() && s.resetRA.CompareAndSwap(true, false) {
			s.ra.Reset()
		}
		if f := s.ra.Push(m); f != nil {
			t := f.Time.UnixNano()
			s.lastFrame.Store(t)
			s.fpsMu.Lock()
			s.fpsTimes[s.fpsNext] = t
			s.fpsNext = (s.fpsNext + 1) % len(s.fpsTimes)
			s.fpsMu.Unlock()
			if s.cfg.OnFrame != nil {
				s.cfg.OnFrame(f)
			}
		}
	case KindPortResponse:
		pr, err := ParsePortResponse(b)
		if err != nil {
			s.bad.Add(1)
			return
		}
		s.post(event{kind: evPortResponse, port: pr})
	case KindDeviceClosed:
		s.post(event{kind: evDeviceClosed})
	}
}

// post hands an event to the control goroutine without blocking.
func (s *Session) post(e event) {
	select {
	case s.events <- e:
	default:
	}
}

func (s *Session) setState(st State) {
	if State(s.state.Swap(int32(st))) != st {
		s.log.Info("state", "state", st.String())
		if s.cfg.OnState != nil {
			s.cfg.OnState(st)
		}
	}
}

// control is the session's control loop: handshake, stream, and again.
func (s *Session) control(ctx context.Context) {
	lg := &problemLog{s: s}
	for n := 0; ctx.Err() == nil; n++ {
		if n > 0 {
			s.reconn.Add(1)
			s.resetRA.Store(true)
			if s.State() == StateStreaming {
				s.setState(StateLost)
			}
		}
		port, ok := s.handshake(ctx, lg)
		if !ok {
			return
		}
		s.stream(ctx, port, lg)
	}
}

// handshake sends port requests with back-off until the camera answers.
func (s *Session) handshake(ctx context.Context, lg *problemLog) (dataPort uint16, ok bool) {
	dst := netip.AddrPortFrom(s.camera, uint16(s.cfg.ControlPort))
	wait := s.cfg.PortTimeout
	for attempt := 1; ; attempt++ {
		// Forget answers to earlier requests.
		for len(s.events) > 0 {
			<-s.events
		}
		if !s.send(ctx, s.portReq, dst) {
			return 0, false
		}
		deadline := time.NewTimer(wait)
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				deadline.Stop()
				return 0, false
			case <-s.restart:
			case e := <-s.events:
				if e.kind != evPortResponse || e.port.DataPort == 0 {
					continue
				}
				deadline.Stop()
				name := e.port.Name
				if old := s.CameraName(); old != name {
					s.name.Store(&name)
				}
				s.log.Info("camera answered", "name", name, "data_port", e.port.DataPort, "attempts", attempt)
				return e.port.DataPort, true
			case <-deadline.C:
				waiting = false
			}
		}
		lg.maybe(time.Now())
		if attempt == 1 || wait < s.cfg.MaxBackoff {
			s.log.Warn("camera does not answer the port request; retrying", "control", dst.String(), "attempt", attempt, "wait", wait.String())
		}
		wait = min(wait*2, s.cfg.MaxBackoff)
	}
}

// stream logs in on the data port and keeps media flowing until it stops,
// the camera closes the session, Restart is called or ctx is done.
func (s *Session) stream(ctx context.Context, port uint16, lg *problemLog) {
	dst := netip.AddrPortFrom(s.camera, port)
	requests := func() bool {
		if !s.send(ctx, s.streamVideo, dst) {
			return false
		}
		return !s.cfg.Audio || s.send(ctx, s.streamAudio, dst)
	}
	seen := s.media.Load() // before the login: media may follow at once
	start := time.Now()
	if !s.send(ctx, s.login, dst) || !requests() {
		return
	}
	loginAt, keepAt := start, start
	var lastMedia time.Time // zero: no media since this handshake

	tick := min(s.cfg.KeepAlive, s.cfg.LoginRetry, s.cfg.MediaTimeout) / 8
	tick = max(5*time.Millisecond, min(tick, 100*time.Millisecond))
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.restart:
			s.log.Info("restart requested: new handshake")
			return
		case e := <-s.events:
			if e.kind == evDeviceClosed {
				s.log.Info("camera closed the session: new handshake")
				return
			}
		case now := <-t.C:
			if m := s.media.Load(); m != seen {
				seen, lastMedia = m, now
				s.setState(StateStreaming)
			}
			switch {
			case !lastMedia.IsZero() && now.Sub(lastMedia) >= s.cfg.MediaTimeout:
				s.log.Warn("media stopped: new handshake", "silence", now.Sub(lastMedia).Round(time.Millisecond).String())
				return
			case lastMedia.IsZero() && now.Sub(start) >= s.cfg.MediaTimeout:
				s.log.Warn("no media after login: new handshake", "waited", now.Sub(start).Round(time.Millisecond).String())
				return
			case lastMedia.IsZero() && now.Sub(loginAt) >= s.cfg.LoginRetry:
				s.log.Debug("no media yet: login again")
				if !s.send(ctx, s.login, dst) || !requests() {
					return
				}
				loginAt, keepAt = now, now
			case now.Sub(keepAt) >= s.cfg.KeepAlive:
				if !requests() {
					return
				}
				keepAt = now
			}
			lg.maybe(now)
		}
	}
}

// send sends Copies copies of b to dst, copyGap apart. It returns false
// when ctx is done.
func (s *Session) send(ctx context.Context, b []byte, dst netip.AddrPort) bool {
	for i := range s.cfg.Copies {
		if i > 0 {
			t := time.NewTimer(copyGap)
			select {
			case <-ctx.Done():
				t.Stop()
				return false
			case <-t.C:
			}
		}
		if _, err := s.conn.WriteToUDPAddrPort(b, dst); err != nil {
			if ctx.Err() != nil {
				return false
			}
			s.log.Debug("send failed", "to", dst.String(), "err", err)
		}
	}
	return ctx.Err() == nil
}

// problemLog reports per-packet problems as counters, at most every
// logEvery and only when they changed.
type problemLog struct {
	s    *Session
	at   time.Time
	last [6]uint64
}

func (l *problemLog) maybe(now time.Time) {
	if now.Sub(l.at) < logEvery {
		return
	}
	l.at = now
	st := l.s.Stats()
	cur := [6]uint64{st.BadPackets, st.Foreign, st.FramesDropped, st.Duplicates, st.Reorders, st.Late}
	if cur == l.last {
		return
	}
	l.last = cur
	l.s.log.Info("receive counters",
		"frames", st.FramesComplete, "fps", math.Round(st.FPS*10)/10,
		"dropped_frames", st.FramesDropped, "bad_packets", st.BadPackets, "foreign", st.Foreign,
		"duplicates", st.Duplicates, "reorders", st.Reorders, "late", st.Late, "reconnects", st.Reconnects)
}
