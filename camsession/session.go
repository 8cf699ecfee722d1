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
	// LocalPortTries is how many ports from FirstLocalPort upward are
	// tried before the system picks any free port: enough for a bridge of
	// a thousand cameras on one local address to keep its ports across
	// restarts.
	LocalPortTries = 1024

	DefaultCopies       = 2                       // copies of every control message
	DefaultPortTimeout  = time.Second             // first wait for a port response
	DefaultMaxBackoff   = 10 * time.Second        // longest wait between port requests
	DefaultKeepAlive    = 2 * time.Second         // stream request period
	DefaultLoginRetry   = 1500 * time.Millisecond // resend login while no media
	DefaultMediaTimeout = 3 * time.Second         // silence before a new handshake

	// ReportInterval is the shortest interval between two calls of
	// Config.OnReceiveProblems.
	ReportInterval = 10 * time.Second

	// copyGap separates the copies of one control message (Rust: 20 ms).
	copyGap = 20 * time.Millisecond
	// fpsWindow is the window of Stats.FPS.
	fpsWindow = time.Second
	// maxCopies bounds Config.Copies.
	maxCopies = 20
)

// State is the connection state of a Session.
type State int

// Session states.
const (
	// StateConnecting: handshaking, no media received yet.
	StateConnecting State = iota
	// StateStreaming: media is arriving.
	StateStreaming
	// StateLost: media stopped for Config.MediaTimeout; the session is
	// handshaking again. Only silence leads here: a new handshake while
	// media keeps arriving (the camera closed the session, Restart) leaves
	// the state at StateStreaming.
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
//
// The session logs nothing: it reports through the On hooks, each called
// only when set. Hooks run on the session's goroutines and must not block;
// each says which goroutine calls it.
type Config struct {
	// Camera is the camera's IPv4 address. Datagrams from any other address
	// are counted (Stats.Foreign) and dropped.
	Camera netip.Addr
	// ControlPort is the camera's port for the port request. It defaults
	// to ControlPort (10104). Port responses are accepted from this port
	// only; everything else only from the data port the camera announced.
	ControlPort int
	// LocalIP is the local address to bind and to write into the login.
	// It defaults to the local address that routes to Camera.
	LocalIP netip.Addr
	// LocalPort is the local UDP port: 0 (the default) takes the first free
	// port from FirstLocalPort upward (stable across restarts; after
	// LocalPortTries busy ones, any free port), -1 any free port.
	LocalPort int
	// Copies is how many times every message of a command is sent (the
	// cameras drop datagrams). It defaults to DefaultCopies.
	Copies int
	// Audio asks for audio too (the mask-3 stream request).
	Audio bool
	// PasswordHash is the login's 12-character hash. It defaults to
	// DefaultPasswordHash.
	PasswordHash string

	// PortTimeout is the first wait for a port response; each unanswered
	// request doubles it up to MaxBackoff. It defaults to
	// DefaultPortTimeout. It is also the default Command.Timeout.
	PortTimeout time.Duration
	// KeepAlive is the period of the stream request that keeps media
	// flowing. It defaults to DefaultKeepAlive.
	KeepAlive time.Duration
	// LoginRetry: while no media arrives, login and stream request are sent
	// again this often. It defaults to DefaultLoginRetry.
	LoginRetry time.Duration
	// MediaTimeout: after this long without media the camera is lost and
	// the whole handshake is redone, since the data port may have changed;
	// the same when no media follows a login for this long. It defaults to
	// DefaultMediaTimeout.
	MediaTimeout time.Duration
	// MaxBackoff caps the wait between port requests while the camera is
	// unreachable (and any Command's wait with Backoff). It defaults to
	// DefaultMaxBackoff.
	MaxBackoff time.Duration
	// MaxFrameSize caps the bytes of one frame. It defaults to
	// DefaultMaxFrameSize.
	MaxFrameSize int
	// MaxFramesInFlight caps partial frames kept for reordering. It
	// defaults to DefaultMaxFramesInFlight.
	MaxFramesInFlight int
	// FrameRoom is left around each frame's JPEG in its allocation, for
	// the consumer that frames every JPEG to do so without copying it
	// (Frame.Framed); zero leaves none.
	FrameRoom FrameRoom

	// OnFrame is called on the receive goroutine for each complete frame.
	// The Frame is immutable and may be kept.
	OnFrame func(*Frame)
	// OnAudio is called on the receive goroutine for each audio packet. The
	// Audio is immutable and may be kept.
	OnAudio func(*Audio)
	// OnState is called on every state change, in order, from one
	// goroutine.
	OnState func(State)
	// OnUnreachable is called on the control goroutine each time a port
	// request went unanswered for waited. attempt counts the port requests
	// of the current handshake from 1; the session keeps asking, each time
	// waiting twice as long, up to MaxBackoff.
	OnUnreachable func(attempt int, waited time.Duration)
	// OnCameraAnswered is called on the control goroutine when the camera
	// answered the port request with its name and data port; the login
	// follows.
	OnCameraAnswered func(name string, dataPort uint16)
	// OnLoginRetry is called on the control goroutine when login number
	// attempt of a handshake brought no media within LoginRetry; login and
	// stream request are sent again.
	OnLoginRetry func(attempt int)
	// OnNoMedia is called on the control goroutine when no media followed
	// the login for waited (MediaTimeout): the camera answers but does not
	// stream (it may still serve another client), so the handshake is
	// redone.
	OnNoMedia func(waited time.Duration)
	// OnMediaStopped is called when media that was flowing stopped for
	// silence (MediaTimeout), just before the state becomes StateLost; the
	// handshake is redone.
	OnMediaStopped func(silence time.Duration)
	// OnDeviceClosed is called on the control goroutine when the camera
	// sent "device closed" (1TEG 0x10) from its data port; the handshake is
	// redone.
	OnDeviceClosed func()
	// OnReceiveProblems is called with the counters when any of the
	// problem counters (BadPackets, Foreign, FramesDropped, Duplicates,
	// Reorders, Late, ReceiveErrors) changed, at most every ReportInterval:
	// a summary, never one call per packet.
	OnReceiveProblems func(Stats)
	// OnReceiveError is called on the receive goroutine when reading the
	// socket fails after the last read succeeded; repetitions are counted
	// in Stats.ReceiveErrors.
	OnReceiveError func(error)
	// OnSendError is called, on the goroutine that runs the command, when a
	// datagram could not be sent (the command's other copies and tries go
	// on).
	OnSendError func(error)

	// System functions.

	// ListenPacket opens the session's socket. It defaults to
	// net.ListenPacket. The connection must be a *net.UDPConn or have its
	// ReadFromUDPAddrPort and WriteToUDPAddrPort methods.
	ListenPacket func(network, address string) (net.PacketConn, error)
}

// withDefaults checks c and returns it with every zero value replaced by
// its default.
func (c Config) withDefaults() (Config, error) {
	c.Camera = c.Camera.Unmap()
	if !c.Camera.Is4() || c.Camera.IsUnspecified() {
		return c, fmt.Errorf("camsession: camera address %q is not an IPv4 address (example: 192.168.1.30)", c.Camera)
	}
	if c.ControlPort == 0 {
		c.ControlPort = ControlPort
	}
	if c.ControlPort < 1 || c.ControlPort > 65535 {
		return c, fmt.Errorf("camsession: control port %d out of range 1..65535", c.ControlPort)
	}
	if c.LocalIP.IsValid() {
		c.LocalIP = c.LocalIP.Unmap()
		if !c.LocalIP.Is4() {
			return c, fmt.Errorf("camsession: local address %v is not IPv4", c.LocalIP)
		}
	}
	if c.LocalPort < -1 || c.LocalPort > 65535 {
		return c, fmt.Errorf("camsession: local port %d out of range (0 = from %d upward, -1 = any)", c.LocalPort, FirstLocalPort)
	}
	if c.Copies == 0 {
		c.Copies = DefaultCopies
	}
	if c.Copies < 1 || c.Copies > maxCopies {
		return c, fmt.Errorf("camsession: copies %d out of range 1..%d", c.Copies, maxCopies)
	}
	if c.PasswordHash == "" {
		c.PasswordHash = DefaultPasswordHash
	}
	if len(c.PasswordHash) > 12 {
		return c, fmt.Errorf("camsession: password hash %q longer than 12 characters", c.PasswordHash)
	}
	if c.PortTimeout == 0 {
		c.PortTimeout = DefaultPortTimeout
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.LoginRetry == 0 {
		c.LoginRetry = DefaultLoginRetry
	}
	if c.MediaTimeout == 0 {
		c.MediaTimeout = DefaultMediaTimeout
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	for name, d := range map[string]time.Duration{
		"PortTimeout": c.PortTimeout, "KeepAlive": c.KeepAlive, "LoginRetry": c.LoginRetry,
		"MediaTimeout": c.MediaTimeout, "MaxBackoff": c.MaxBackoff,
	} {
		if d < 0 {
			return c, fmt.Errorf("camsession: %s must not be negative", name)
		}
	}
	c.MaxBackoff = max(c.MaxBackoff, c.PortTimeout)
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = DefaultMaxFrameSize
	}
	if c.MaxFramesInFlight == 0 {
		c.MaxFramesInFlight = DefaultMaxFramesInFlight
	}
	if c.MaxFrameSize < 0 || c.MaxFramesInFlight < 0 {
		return c, errors.New("camsession: MaxFrameSize and MaxFramesInFlight must not be negative")
	}
	if c.ListenPacket == nil {
		c.ListenPacket = net.ListenPacket
	}
	return c, nil
}

// Stats are a Session's counters since New.
type Stats struct {
	Packets        uint64 // datagrams accepted from the camera
	BadPackets     uint64 // malformed datagrams from the camera, dropped
	Foreign        uint64 // datagrams from other addresses or from the wrong port for their kind, dropped
	FramesComplete uint64 // frames delivered
	FramesDropped  uint64 // frames lost: missing packets, too large, not a JPEG
	Duplicates     uint64 // duplicate packets ignored
	Reorders       uint64 // packets that arrived after a later one
	Late           uint64 // packets of finished frames, discarded
	Reconnects     uint64 // handshakes redone after the first
	AudioPackets   uint64 // audio packets delivered
	ReceiveErrors  uint64 // failed reads of the socket
	FPS            float64
	LastFrame      time.Time // zero until the first frame
}

// problems returns the counters OnReceiveProblems watches.
func (st Stats) problems() [7]uint64 {
	return [7]uint64{st.BadPackets, st.Foreign, st.FramesDropped, st.Duplicates, st.Reorders, st.Late, st.ReceiveErrors}
}

// LogValue implements slog.LogValuer: the counters as a group, for the one
// log line that summarizes them.
func (st Stats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Uint64("frames", st.FramesComplete), slog.Float64("fps", math.Round(st.FPS*10)/10),
		slog.Uint64("dropped_frames", st.FramesDropped), slog.Uint64("bad_packets", st.BadPackets),
		slog.Uint64("foreign", st.Foreign), slog.Uint64("duplicates", st.Duplicates),
		slog.Uint64("reorders", st.Reorders), slog.Uint64("late", st.Late),
		slog.Uint64("receive_errors", st.ReceiveErrors), slog.Uint64("reconnects", st.Reconnects))
}

// udpConn is what the session needs of its socket; *net.UDPConn has it.
// The AddrPort methods read and write without allocating.
type udpConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	LocalAddr() net.Addr
	Close() error
}

// Session receives whole JPEG frames (and audio) from one camera over one
// UDP socket, and keeps the stream alive: handshake with back-off,
// keep-alives, login retries and a new handshake when media stops
// (PROTOCOL.md §4). Commands to the camera go through Do.
type Session struct {
	cfg      Config
	conn     udpConn
	local    netip.AddrPort // written into the login: where media must go
	camera   netip.Addr
	ctrlPort uint16
	ra       *Reassembler // owned by the receive goroutine
	timeNow  func() time.Time

	portRequest, login, keepAlive Command

	closed    chan struct{}
	closeOnce sync.Once
	running   atomic.Bool

	state     atomic.Int32
	name      atomic.Pointer[string]
	dataPort  atomic.Uint32 // the camera's data port, 0 until it answered
	resetRA   atomic.Bool
	packets   atomic.Uint64
	media     atomic.Uint64
	bad       atomic.Uint64
	foreign   atomic.Uint64
	reconn    atomic.Uint64
	audio     atomic.Uint64
	recvErrs  atomic.Uint64
	lastFrame atomic.Int64 // unix nanoseconds

	roundMu sync.Mutex
	round   context.CancelCauseFunc // guarded by roundMu: ends the current login and keep-alive phase

	waitMu   sync.Mutex
	waiters  []*waiter    // guarded by waitMu: commands waiting for a reply
	nWaiters atomic.Int32 // len(waiters), read on the receive path without the lock

	fpsMu    sync.Mutex
	fpsTimes [256]int64 // guarded by fpsMu: completion times, a ring
	fpsNext  int        // guarded by fpsMu
}

// Why a login and keep-alive phase ends early (the cause of its context).
var (
	errDeviceClosed = errors.New("camsession: the camera closed the session")
	errRestart      = errors.New("camsession: restart requested")
	errMediaStopped = errors.New("camsession: media stopped")
	errNoMedia      = errors.New("camsession: no media after the login")
)

// New validates cfg and binds the session's socket, so that a bad address
// or a busy port fails here rather than in Run.
func New(cfg Config) (*Session, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	loginIP := cfg.LocalIP
	if !loginIP.IsValid() || loginIP.IsUnspecified() {
		ip, ipErr := localIPFor(cfg.Camera, cfg.ControlPort)
		if ipErr != nil {
			return nil, ipErr
		}
		loginIP = ip
		if !cfg.LocalIP.IsValid() {
			cfg.LocalIP = ip
		}
	}
	conn, err := bindSession(cfg.ListenPacket, cfg.LocalIP, cfg.LocalPort)
	if err != nil {
		return nil, err
	}
	if rb, ok := conn.(interface{ SetReadBuffer(int) error }); ok {
		_ = rb.SetReadBuffer(4 << 20) // a burst of frames must not overflow it
	}
	bound, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("camsession: local address of the socket: %w", err)
	}
	port := bound.Port()
	s := &Session{
		cfg:      cfg,
		conn:     conn,
		local:    netip.AddrPortFrom(loginIP, port),
		camera:   cfg.Camera,
		ctrlPort: uint16(cfg.ControlPort),
		ra:       NewReassembler(cfg.MaxFrameSize, cfg.MaxFramesInFlight),
		timeNow:  time.Now,
		closed:   make(chan struct{}),
	}
	s.ra.Room = cfg.FrameRoom
	s.portRequest = PortRequest()
	s.portRequest.Backoff = true
	s.portRequest.OnNoReply = cfg.OnUnreachable
	streams := []uint32{MaskVideo}
	if cfg.Audio {
		streams = append(streams, MaskVideoAudio)
	}
	s.login = loginCommand(Login{Addr: s.local, PasswordHash: cfg.PasswordHash}, streams, cfg.LoginRetry)
	if cfg.OnLoginRetry != nil {
		s.login.OnNoReply = func(try int, _ time.Duration) { cfg.OnLoginRetry(try) }
	}
	s.keepAlive = keepAliveCommand(streams)
	empty := ""
	s.name.Store(&empty)
	return s, nil
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
// of LocalPortTries from FirstLocalPort upward, else any; -1: any port).
func bindSession(listen func(network, address string) (net.PacketConn, error), ip netip.Addr, port int) (udpConn, error) {
	try := func(p int) (udpConn, error) {
		pc, err := listen("udp4", netip.AddrPortFrom(ip, uint16(p)).String())
		if err != nil {
			return nil, err
		}
		c, ok := pc.(udpConn)
		if !ok {
			pc.Close()
			return nil, fmt.Errorf("camsession: ListenPacket returned a %T, which lacks ReadFromUDPAddrPort and WriteToUDPAddrPort", pc)
		}
		return c, nil
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
		for p := FirstLocalPort; p < FirstLocalPort+LocalPortTries; p++ {
			c, err := try(p)
			if err == nil {
				return c, nil
			}
			if !errors.Is(err, syscall.EADDRINUSE) {
				return nil, explain(p, err)
			}
		}
		// All taken: any free port still works, it only is not the same
		// after a restart.
		c, err := try(0)
		if err != nil {
			return nil, fmt.Errorf("camsession: local ports %d..%d all busy and no other free: %w",
				FirstLocalPort, FirstLocalPort+LocalPortTries-1, err)
		}
		return c, nil
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

// DataPort returns the camera's data port from the last port response, 0
// until the camera answered.
func (s *Session) DataPort() uint16 { return uint16(s.dataPort.Load()) }

// State returns the current connection state.
func (s *Session) State() State { return State(s.state.Load()) }

// Restart forces a full new handshake, as after a camera reboot. It does
// not block. The state stays StateStreaming while media keeps arriving. A
// session that is handshaking already carries on.
func (s *Session) Restart() { s.interrupt(errRestart) }

// interrupt ends the current login and keep-alive phase, if any, with
// cause: the control loop starts a new handshake.
func (s *Session) interrupt(cause error) {
	s.roundMu.Lock()
	defer s.roundMu.Unlock()
	if s.round != nil {
		s.round(cause)
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
		ReceiveErrors:  s.recvErrs.Load(),
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
// reconnection, while a receive goroutine delivers frames and audio and a
// monitor follows the media. It returns nil when ctx is cancelled; the
// socket is closed on return. Run may be called only once.
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
	wg.Go(func() { s.monitor(ctx) })
	s.control(ctx)
	s.Close()
	wg.Wait()
	return nil
}

// receiveBuffer is the first size of a session's receive buffer: a media
// packet is at most 1032 bytes of payload plus its headers (PROTOCOL.md
// §3.7). A datagram that fills it may have been cut short; the buffer then
// grows to MaxDatagram for good, so a camera with larger packets loses one.
const receiveBuffer = 2048

// receive reads datagrams until the socket is closed. It allocates nothing
// per packet; only completed frames and audio packets are allocated.
func (s *Session) receive() {
	buf := make([]byte, receiveBuffer)
	failing := false
	for {
		err := s.receiveOne(&buf)
		if err == nil {
			failing = false
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		s.recvErrs.Add(1)
		if !failing && s.cfg.OnReceiveError != nil {
			s.cfg.OnReceiveError(fmt.Errorf("camsession: receive: %w", err))
		}
		failing = true
		time.Sleep(10 * time.Millisecond)
	}
}

// receiveOne reads and handles one datagram, using *buf as the receive
// buffer, and grows *buf when the datagram filled it.
func (s *Session) receiveOne(buf *[]byte) error {
	n, src, err := s.conn.ReadFromUDPAddrPort(*buf)
	if err != nil {
		return err
	}
	s.handle((*buf)[:n], src)
	if n == len(*buf) && n < MaxDatagram {
		*buf = make([]byte, MaxDatagram)
	}
	return nil
}

// handle processes one datagram from src. b is reused after it returns.
//
// Only the camera's address is accepted, and from it port responses only
// from the control port, everything else only from the data port the
// camera announced: anyone else on the camera's address (or forging it
// from another port) is counted as foreign.
func (s *Session) handle(b []byte, src netip.AddrPort) {
	if src.Addr().Unmap() != s.camera {
		s.foreign.Add(1)
		return
	}
	port := src.Port()
	fromData := port != 0 && uint32(port) == s.dataPort.Load()
	if !fromData && port != s.ctrlPort {
		s.foreign.Add(1)
		return
	}
	msg, err := Decode(b)
	if err != nil {
		s.packets.Add(1)
		s.bad.Add(1)
		return
	}
	// A port response comes from the control port, the rest from the data
	// port.
	if msg.Kind == KindPortResponse && port != s.ctrlPort || msg.Kind != KindPortResponse && !fromData {
		s.foreign.Add(1)
		return
	}
	s.packets.Add(1)
	switch msg.Kind {
	case KindMedia:
		s.media.Add(1)
		if s.nWaiters.Load() != 0 {
			s.answer(msg.Kind, PortData, b, src)
		}
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
		if _, err := ParsePortResponse(b); err != nil {
			s.bad.Add(1)
			return
		}
		s.answer(msg.Kind, PortControl, b, src)
	case KindDeviceClosed:
		s.interrupt(errDeviceClosed)
	default:
		s.answer(msg.Kind, PortData, b, src)
	}
}

// setState records st and reports a change. Only the monitor goroutine
// calls it, so OnState sees the changes in order.
func (s *Session) setState(st State) {
	if State(s.state.Swap(int32(st))) != st && s.cfg.OnState != nil {
		s.cfg.OnState(st)
	}
}

// monitorTick is how often the monitor looks at the media counter.
func (s *Session) monitorTick() time.Duration {
	return max(5*time.Millisecond, min(s.cfg.MediaTimeout/8, 100*time.Millisecond))
}

// mediaWatch is the monitor's memory.
type mediaWatch struct {
	seen     uint64    // media packets counted at the last check
	last     time.Time // when the media counter last moved
	reportAt time.Time // the last report (or the start)
	reported [7]uint64 // problem counters at the last report
}

// monitor follows the media until ctx is done: StateStreaming when media
// arrives, StateLost (and a new handshake) when it stopped for
// MediaTimeout, and the periodic receive-problems report.
func (s *Session) monitor(ctx context.Context) {
	t := time.NewTicker(s.monitorTick())
	defer t.Stop()
	w := mediaWatch{reportAt: s.timeNow()}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.check(&w, s.timeNow())
		}
	}
}

// check is one look of the monitor at time now.
func (s *Session) check(w *mediaWatch, now time.Time) {
	if n := s.media.Load(); n != w.seen {
		w.seen, w.last = n, now
		s.setState(StateStreaming)
	} else if s.State() == StateStreaming && now.Sub(w.last) >= s.cfg.MediaTimeout {
		if s.cfg.OnMediaStopped != nil {
			s.cfg.OnMediaStopped(now.Sub(w.last))
		}
		s.setState(StateLost)
		s.interrupt(errMediaStopped)
	}
	if now.Sub(w.reportAt) < ReportInterval {
		return
	}
	w.reportAt = now
	st := s.Stats()
	if p := st.problems(); p != w.reported {
		w.reported = p
		if s.cfg.OnReceiveProblems != nil {
			s.cfg.OnReceiveProblems(st)
		}
	}
}

// control is the session's control loop: handshake, stream, and again.
func (s *Session) control(ctx context.Context) {
	for n := 0; ; n++ {
		if n > 0 {
			s.reconn.Add(1)
			s.resetRA.Store(true)
		}
		r, err := s.Do(ctx, s.portRequest)
		if err != nil {
			return // only the end of ctx stops an endless command
		}
		pr, _ := ParsePortResponse(r.Message) // checked by the receive path
		s.dataPort.Store(uint32(pr.DataPort))
		if old := s.CameraName(); old != pr.Name {
			s.name.Store(&pr.Name)
		}
		if s.cfg.OnCameraAnswered != nil {
			s.cfg.OnCameraAnswered(pr.Name, pr.DataPort)
		}
		if !s.stream(ctx) {
			return
		}
	}
}

// stream logs in on the data port until media arrives, then keeps it
// flowing until it stops, the camera closes the session or Restart is
// called. It returns false when ctx is done.
func (s *Session) stream(ctx context.Context) bool {
	rctx, cancel := context.WithCancelCause(ctx)
	s.roundMu.Lock()
	s.round = cancel
	s.roundMu.Unlock()
	defer func() {
		s.roundMu.Lock()
		s.round = nil
		s.roundMu.Unlock()
		cancel(nil)
	}()

	lctx, lcancel := context.WithTimeoutCause(rctx, s.cfg.MediaTimeout, errNoMedia)
	_, err := s.Do(lctx, s.login)
	lcancel()
	if err == nil {
		t := time.NewTicker(s.cfg.KeepAlive)
		defer t.Stop()
	keepAlive:
		for {
			select {
			case <-rctx.Done():
				break keepAlive
			case <-t.C:
				_, _ = s.Do(rctx, s.keepAlive) // send errors go to OnSendError
			}
		}
	}
	if ctx.Err() != nil {
		return false
	}
	switch cause := context.Cause(rctx); {
	case errors.Is(cause, errDeviceClosed):
		if s.cfg.OnDeviceClosed != nil {
			s.cfg.OnDeviceClosed()
		}
	case cause == nil && errors.Is(context.Cause(lctx), errNoMedia):
		if s.cfg.OnNoMedia != nil {
			s.cfg.OnNoMedia(s.cfg.MediaTimeout)
		}
	}
	return true
}
