// Package fakecam is the device side of the IWFCam "xTEG" protocol: a fake
// camera for tests and for users without hardware.
//
// A Camera listens on IP:ControlPort (10104) for port requests and answers
// with its data port, IP and name; on the data port it accepts logins and
// stream requests and streams 640×480 JPEG frames (and IMA ADPCM audio) to
// the address written in the login, as PROTOCOL.md describes. It reproduces
// the quirks clients must survive: it keeps streaming to a client that went
// quiet for Linger, ignores a login from another address meanwhile, sends
// messages the client must ignore, and can lose, duplicate and reorder
// packets deterministically from a seed.
//
// Several cameras run side by side on 127.0.0.2, 127.0.0.3, ...: each binds
// its own IP. Every frame carries a COM marker naming the camera and the
// frame's sequence number; FrameSeq reads it back from any JPEG that came out
// of a pipeline.
package fakecam

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/internal/sockopt"
)

// Defaults of Config.
const (
	DefaultFPS        = 15
	DefaultPacketSize = 1032 // the vendor library's piece size (PROTOCOL.md §3.7)
	DefaultLinger     = 5 * time.Second
	// audioPeriod is the interval between audio packets: AudioSamples at
	// AudioRate.
	audioPeriod = time.Second * AudioSamples / AudioRate
	// heartbeatPeriod is how often the camera sends its harmless 2TEG 0x01
	// heartbeat to a logged-in client (unless Config.Quiet).
	heartbeatPeriod = time.Second
	// ext0Len is the extension of video packet 0: u32 frame length, u32
	// packet count, u16, u16, u32 time stamp (PROTOCOL.md §3.7).
	ext0Len = 16
	// loginReplyLen is the total size of the 1TEG 0x0e login reply (§3.4).
	loginReplyLen = 92
	// liveParamsLen is the size of the live-parameter block in the control
	// response to a stream request (§3.6).
	liveParamsLen = 84
)

// Login reply results (PROTOCOL.md §3.4).
const (
	loginOK     = 0
	loginNoSlot = 2
)

// FrameSent describes one frame the camera sent, reported to Config.OnFrame.
type FrameSent struct {
	// Index is the frame index on the wire.
	Index uint16
	// Seq is the sequence number in the frame's COM marker, from 1.
	Seq uint64
	// JPEG is the frame exactly as its packets carry it, COM marker included.
	// It must not be modified.
	JPEG []byte
	// Damaged is true when at least one packet of the frame was dropped by the
	// injected loss, so a correct client can never deliver this frame.
	Damaged bool
}

// Config configures a Camera. Only IP is required.
type Config struct {
	// IP is the camera's IPv4 address; the camera binds it.
	IP netip.Addr
	// ControlPort is the port answering port requests. Defaults to 10104.
	ControlPort int
	// DataPort is the data port; 0 picks a random free port.
	DataPort int
	// Name is sent in the port response and drawn on the frames (at most 28
	// bytes). Defaults to "FAKECAM-" and the IP in hex, e.g. FAKECAM-7F000002.
	Name string
	// FPS is the frame rate. Defaults to 15.
	FPS float64
	// PacketSize is the maximum payload per media packet. Defaults to 1032.
	PacketSize int
	// Frames are the JPEGs to cycle through (each from SOI to EOI). Defaults
	// to generated 640×480 test patterns (see Camera.SetMotion).
	Frames [][]byte
	// Loss, Duplicate and Reorder are per-packet probabilities (0..1) of
	// dropping a video packet, sending it twice, and sending it after the
	// next packet (possibly the next frame's). Audio packets only suffer Loss.
	Loss, Duplicate, Reorder float64
	// Seed seeds the impairments and the first frame index, so the same seed
	// gives the same packet sequence.
	Seed int64
	// Linger is how long the camera keeps streaming to the last login address
	// after the client went quiet. A login from another address is ignored
	// until then. Defaults to 5s.
	Linger time.Duration
	// Audio enables IMA ADPCM audio packets (a 440 Hz tone, 256 samples every
	// 32 ms) when the client asks for them with the mask-3 stream request.
	Audio bool
	// Discovery makes the camera also answer port requests broadcast to
	// Broadcast:ControlPort (PROTOCOL.md §8). On Linux a socket bound to the
	// camera's own IP does not receive broadcasts, so the camera binds a
	// second socket to the broadcast address with SO_REUSEADDR (all cameras
	// on the host share it) and answers from its own IP.
	Discovery bool
	// Broadcast is the address the discovery socket binds. Defaults to
	// 127.255.255.255 for a loopback IP and 255.255.255.255 otherwise.
	Broadcast netip.Addr
	// Quiet turns off the optional messages a real camera sends and a client
	// must ignore: the 1TEG 0x0e login reply, 2TEG 0x02 control responses and
	// the 2TEG 0x01 heartbeat every second.
	Quiet bool
	// Logger receives connection events (never one line per packet).
	// Defaults to discarding.
	Logger *slog.Logger
	// OnFrame, if set, is called for every frame before its packets are sent,
	// on the camera's streaming goroutine; it must not block.
	OnFrame func(FrameSent)
	// OnLastPacket, if set, is called for every frame right before its
	// last packet is sent (or dropped by the impairments), on the camera's
	// streaming goroutine; it must not block. Latency measurements start
	// there.
	OnLastPacket func(FrameSent)
}

// client is the camera's single client slot, keyed by the login address
// (PROTOCOL.md §9.6).
type client struct {
	active bool
	dest   netip.AddrPort // media destination, from the login
	src    netip.AddrPort // source address of the login
	mask   uint32         // media mask from the stream requests
	last   time.Time      // last datagram heard from the client
}

// heldPacket is a packet delayed by the reorder impairment.
type heldPacket struct {
	conn *net.UDPConn
	dest netip.AddrPort
	b    []byte
	ok   bool
}

// Camera is one fake camera. Create it with New, run it with Run.
type Camera struct {
	cfg   Config
	log   *slog.Logger
	start time.Time
	set   *frameSet // generated frames, nil when cfg.Frames is used

	motion atomic.Bool
	frozen atomic.Bool

	mu       sync.Mutex
	ctrl     *net.UDPConn // guarded by mu; nil when closed
	disc     *net.UDPConn // guarded by mu; nil without discovery or when closed
	data     *net.UDPConn // guarded by mu; replaced by SetDataPort
	dataPort int          // guarded by mu: the bound (or last bound) data port
	wantPort int          // guarded by mu: the data port to bind next; 0 = random
	running  bool         // guarded by mu
	slot     client       // guarded by mu

	// Streaming state, owned by the streaming goroutine.
	rng        *rand.Rand
	audioRng   *rand.Rand
	seq        uint64
	index      uint16
	audioIndex uint16
	enc        audio.IMAState
	tone       tone
	held       heldPacket
	pkt        []byte
	heartbeats uint16
}

// New validates cfg, prepares the frames and binds the camera's sockets, so
// a busy address fails here.
func New(cfg Config) (*Camera, error) {
	if err := setDefaults(&cfg); err != nil {
		return nil, err
	}
	c := &Camera{
		cfg:      cfg,
		log:      cfg.Logger.With("cam", cfg.Name),
		start:    time.Now(),
		wantPort: cfg.DataPort,
		rng:      rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed_f00d)),
		audioRng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0xa0d10)),
	}
	// Start close to the wrap so that clients meet 65535 → 0 within the
	// first few seconds; the exact value depends on the seed.
	c.index = uint16(65536 - 40 - c.rng.IntN(60))
	if cfg.Frames == nil {
		set, err := generatedFrames(cfg.Name)
		if err != nil {
			return nil, err
		}
		c.set = set
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.bindLocked(); err != nil {
		return nil, err
	}
	return c, nil
}

func setDefaults(cfg *Config) error {
	if !cfg.IP.Unmap().Is4() {
		return fmt.Errorf("fakecam: IP %v is not an IPv4 address", cfg.IP)
	}
	cfg.IP = cfg.IP.Unmap()
	if cfg.ControlPort == 0 {
		cfg.ControlPort = camsession.ControlPort
	}
	if cfg.ControlPort < 0 || cfg.ControlPort > 65535 || cfg.DataPort < 0 || cfg.DataPort > 65535 {
		return fmt.Errorf("fakecam: ports must be in 0..65535 (control %d, data %d)", cfg.ControlPort, cfg.DataPort)
	}
	if cfg.Name == "" {
		a := cfg.IP.As4()
		cfg.Name = fmt.Sprintf("FAKECAM-%02X%02X%02X%02X", a[0], a[1], a[2], a[3])
	}
	if len(cfg.Name) > camsession.NameLen {
		return fmt.Errorf("fakecam: name %q longer than %d bytes", cfg.Name, camsession.NameLen)
	}
	if cfg.FPS == 0 {
		cfg.FPS = DefaultFPS
	}
	if cfg.FPS < 0 || cfg.FPS > 1000 {
		return fmt.Errorf("fakecam: FPS %v out of range 0..1000", cfg.FPS)
	}
	if cfg.PacketSize == 0 {
		cfg.PacketSize = DefaultPacketSize
	}
	if cfg.PacketSize < 1 || cfg.PacketSize > 0xffff-camsession.MediaHeaderLen-ext0Len {
		return fmt.Errorf("fakecam: packet size %d out of range", cfg.PacketSize)
	}
	for _, p := range []float64{cfg.Loss, cfg.Duplicate, cfg.Reorder} {
		if p < 0 || p > 1 {
			return fmt.Errorf("fakecam: probability %v out of range 0..1", p)
		}
	}
	if cfg.Linger == 0 {
		cfg.Linger = DefaultLinger
	}
	for i, f := range cfg.Frames {
		if len(f) < 4 || f[0] != 0xFF || f[1] != 0xD8 || f[len(f)-2] != 0xFF || f[len(f)-1] != 0xD9 {
			return fmt.Errorf("fakecam: Frames[%d] is not a JPEG from SOI to EOI", i)
		}
	}
	if cfg.Frames != nil && len(cfg.Frames) == 0 {
		return errors.New("fakecam: Frames is empty")
	}
	if !cfg.Broadcast.IsValid() {
		if cfg.IP.IsLoopback() {
			cfg.Broadcast = netip.AddrFrom4([4]byte{127, 255, 255, 255})
		} else {
			cfg.Broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// bindLocked opens the sockets that are not open. c.mu must be held.
func (c *Camera) bindLocked() error {
	var err error
	if c.ctrl == nil {
		c.ctrl, err = listenUDP(netip.AddrPortFrom(c.cfg.IP, uint16(c.cfg.ControlPort)), false)
		if err != nil {
			return err
		}
	}
	if c.cfg.Discovery && c.disc == nil {
		c.disc, err = listenUDP(netip.AddrPortFrom(c.cfg.Broadcast, uint16(c.cfg.ControlPort)), true)
		if err != nil {
			c.closeLocked()
			return err
		}
	}
	if c.data == nil {
		c.data, err = c.listenData(c.wantPort, c.dataPort)
		if err != nil {
			c.closeLocked()
			return err
		}
		c.dataPort = c.data.LocalAddr().(*net.UDPAddr).Port
	}
	return nil
}

// listenData binds the data port; port 0 picks a random free port other
// than avoid.
func (c *Camera) listenData(port, avoid int) (*net.UDPConn, error) {
	for range 10 {
		conn, err := listenUDP(netip.AddrPortFrom(c.cfg.IP, uint16(port)), false)
		if err != nil || port != 0 || conn.LocalAddr().(*net.UDPAddr).Port != avoid {
			return conn, err
		}
		conn.Close()
	}
	return nil, fmt.Errorf("fakecam: no free data port on %v", c.cfg.IP)
}

// listenUDP binds a UDP socket, with SO_REUSEADDR for the shared broadcast
// socket, and explains a busy address.
func listenUDP(addr netip.AddrPort, reuse bool) (*net.UDPConn, error) {
	var lc net.ListenConfig
	if reuse {
		lc.Control = sockopt.ReuseAddr
	}
	pc, err := lc.ListenPacket(context.Background(), "udp4", addr.String())
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("fakecam: %v is already in use (another camera or program owns it; stop it or use another IP): %w", addr, err)
		}
		if errors.Is(err, syscall.EADDRNOTAVAIL) {
			return nil, fmt.Errorf("fakecam: %v is not an address of this machine (use a 127.x.y.z address or one of this host's IPs): %w", addr, err)
		}
		return nil, fmt.Errorf("fakecam: listen on %v: %w", addr, err)
	}
	return pc.(*net.UDPConn), nil
}

// closeLocked closes every socket. c.mu must be held.
func (c *Camera) closeLocked() {
	for _, p := range []**net.UDPConn{&c.ctrl, &c.disc, &c.data} {
		if *p != nil {
			(*p).Close()
			*p = nil
		}
	}
	c.slot = client{}
}

// Close releases the sockets of a camera that is not running (Run releases
// them itself when it returns). It returns an error while Run is running.
func (c *Camera) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return errors.New("fakecam: Close while running; cancel Run's context instead")
	}
	c.closeLocked()
	return nil
}

// Name returns the camera's name.
func (c *Camera) Name() string { return c.cfg.Name }

// IP returns the camera's IP address.
func (c *Camera) IP() netip.Addr { return c.cfg.IP }

// DataPort returns the current data port (after Run returned, the last one).
func (c *Camera) DataPort() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dataPort
}

// SetMotion switches between the still scene (false, the default: every
// frame shows the same picture) and the moving scene (true: a box bouncing
// across the bars and a counter). It has no effect with Config.Frames.
// The images of the moving scene are encoded once per camera name, each
// when first sent.
func (c *Camera) SetMotion(on bool) {
	c.motion.Store(on)
}

// SetFrozen holds back video frames while on (the camera still answers,
// sends heartbeats and audio), as a camera whose picture stalls for a
// while; frames resume at the next tick after it is switched off.
func (c *Camera) SetFrozen(on bool) {
	c.frozen.Store(on)
}

// Prepare encodes every image of the moving scene now instead of the
// first time each is sent, so that the camera's first seconds of motion
// cost no more CPU than the rest (measurements start right away). Images
// given in Config.Frames need nothing.
func (c *Camera) Prepare() {
	if c.cfg.Frames != nil {
		return
	}
	for i := range uint64(motionFrames) {
		c.set.movingFrame(i)
	}
}

// SetDataPort moves the camera to another data port, as a camera reboot
// does: the client slot is cleared and the old data port closes. Port 0
// picks a random free port different from the current one. On a camera that
// is not running the port is used by the next Run.
func (c *Camera) SetDataPort(port int) error {
	if port < 0 || port > 65535 {
		return fmt.Errorf("fakecam: data port %d out of range", port)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wantPort = port
	if c.data == nil {
		return nil
	}
	old := c.data
	if port != 0 && port == c.dataPort {
		old.Close() // a reboot onto the same port: free it first
	}
	conn, err := c.listenData(port, c.dataPort)
	if err != nil {
		if port != 0 && port == c.dataPort {
			c.data = nil
		}
		return err
	}
	c.data = conn
	c.dataPort = conn.LocalAddr().(*net.UDPAddr).Port
	c.slot = client{}
	old.Close()
	c.log.Info("data port changed", "port", c.dataPort)
	return nil
}

// Run serves the protocol until ctx is done, then closes the sockets and
// returns nil. Run may be called again after it returned: the camera binds
// its sockets again (the data port of SetDataPort, or a new random one).
func (c *Camera) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return errors.New("fakecam: Run is already running")
	}
	if err := c.bindLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	c.running = true
	ctrl, disc := c.ctrl, c.disc
	c.log.Info("fake camera running", "control", ctrl.LocalAddr().String(), "data_port", c.dataPort)
	c.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.closeLocked()
	})
	defer stop()

	var wg sync.WaitGroup
	errc := make(chan error, 3)
	fail := func(err error) {
		if err != nil {
			errc <- err
			cancel()
		}
	}
	wg.Go(func() { fail(c.serveControl(ctx, ctrl, ctrl)) })
	if disc != nil {
		wg.Go(func() { fail(c.serveControl(ctx, disc, ctrl)) })
	}
	wg.Go(func() { fail(c.serveData(ctx)) })
	wg.Go(func() { c.stream(ctx) })
	wg.Wait()

	c.mu.Lock()
	c.closeLocked()
	c.running = false
	c.mu.Unlock()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// serveControl answers port requests arriving on conn from the control
// socket reply (which is bound to the camera's own IP).
func (c *Camera) serveControl(ctx context.Context, conn, reply *net.UDPConn) error {
	buf := make([]byte, camsession.MaxDatagram)
	var out []byte
	for {
		n, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil //nolint:nilerr // stopped or closed: a clean end
			}
			return fmt.Errorf("fakecam: read control socket: %w", err)
		}
		h, err := camsession.ParseHeader(buf[:n])
		if err != nil || h.Sig != camsession.Sig1 || h.Cmd != camsession.CmdPortRequest {
			continue
		}
		out = camsession.AppendPortResponse(out[:0], camsession.PortResponse{
			DataPort: uint16(c.DataPort()),
			IP:       c.cfg.IP,
			Name:     c.cfg.Name,
		})
		// The camera answers to the source of the request (PROTOCOL.md §3.1).
		_, _ = reply.WriteToUDPAddrPort(out, unmap(src))
	}
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// dataConn returns the current data socket (nil when closed).
func (c *Camera) dataConn() *net.UDPConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.data
}

// serveData handles logins and control commands on the data port, following
// the socket across SetDataPort.
func (c *Camera) serveData(ctx context.Context) error {
	buf := make([]byte, camsession.MaxDatagram)
	for {
		conn := c.dataConn()
		if conn == nil || ctx.Err() != nil {
			return nil //nolint:nilerr // stopped: a clean end
		}
		n, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil //nolint:nilerr // stopped: a clean end
			}
			if errors.Is(err, net.ErrClosed) && c.dataConn() != conn {
				continue // replaced by SetDataPort
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("fakecam: read data socket: %w", err)
		}
		c.handleData(conn, buf[:n], unmap(src), time.Now())
	}
}

func (c *Camera) handleData(conn *net.UDPConn, b []byte, src netip.AddrPort, now time.Time) {
	h, err := camsession.ParseHeader(b)
	if err != nil {
		return
	}
	switch {
	case h.Sig == camsession.Sig1 && h.Cmd == camsession.CmdLogin:
		l, err := camsession.ParseLogin(b)
		if err != nil {
			return
		}
		c.login(conn, l, src, now)
	case h.Sig == camsession.Sig2 && h.Cmd == camsession.CmdControl:
		ctl, err := camsession.ParseControl(b)
		if err != nil {
			return
		}
		c.control(conn, ctl, src, now)
	}
}

// expireLocked frees the slot of a client that has been quiet for longer
// than Linger. c.mu must be held.
func (c *Camera) expireLocked(now time.Time) {
	if c.slot.active && now.Sub(c.slot.last) > c.cfg.Linger {
		c.log.Info("client went quiet, stopped streaming", "dest", c.slot.dest.String(), "quiet", now.Sub(c.slot.last).Round(time.Millisecond).String())
		c.slot = client{}
	}
}

// login handles 1TEG 0x0d. One client slot keyed by the login address: a
// repeated login from the same address is accepted at once, one from another
// address is ignored while the old client is still being served.
func (c *Camera) login(conn *net.UDPConn, l camsession.Login, src netip.AddrPort, now time.Time) {
	dest := unmap(l.Addr)
	if !dest.Addr().Is4() || dest.Addr().IsUnspecified() || dest.Port() == 0 {
		// A real camera would stream to this useless address; sending to
		// 0.0.0.0 would reach the local host, so send nothing instead.
		c.log.Warn("login with an unusable address ignored", "login_addr", dest.String(), "from", src.String())
		return
	}
	c.mu.Lock()
	c.expireLocked(now)
	result := loginOK
	switch {
	case !c.slot.active:
		c.slot = client{active: true, dest: dest, src: src, last: now}
		c.log.Info("client logged in", "dest", dest.String(), "from", src.String())
	case c.slot.dest == dest:
		c.slot.src, c.slot.last = src, now
	default:
		result = loginNoSlot
		c.log.Debug("login ignored: still streaming to the previous client", "login_addr", dest.String(), "busy_with", c.slot.dest.String())
	}
	c.mu.Unlock()
	if !c.cfg.Quiet {
		_, _ = conn.WriteToUDPAddrPort(c.loginReply(result, dest), src)
	}
}

// loginReply builds the optional 1TEG 0x0e reply with the SISTER layout
// (PROTOCOL.md §3.4).
func (c *Camera) loginReply(result int, dest netip.AddrPort) []byte {
	b := make([]byte, loginReplyLen)
	copy(b, "1TEG")
	binary.LittleEndian.PutUint16(b[4:], camsession.CmdLoginReply)
	binary.LittleEndian.PutUint16(b[6:], loginReplyLen-camsession.HeaderLen)
	binary.LittleEndian.PutUint32(b[20:], uint32(result))
	binary.LittleEndian.PutUint32(b[24:], 1)
	binary.BigEndian.PutUint16(b[34:], uint16(c.DataPort()))
	a := c.cfg.IP.As4()
	copy(b[36:40], a[:])
	if result == loginOK {
		binary.LittleEndian.PutUint16(b[46:], 1)
	}
	copy(b[48:79], c.cfg.Name)
	return b
}

// control handles 2TEG 0x01 from the logged-in client: stream requests
// (command 0), heartbeat (2) and peer closed (3). Commands from any other
// address are ignored, as the device accepts session packets only from a
// registered address.
func (c *Camera) control(conn *net.UDPConn, ctl camsession.Control, src netip.AddrPort, now time.Time) {
	c.mu.Lock()
	c.expireLocked(now)
	if !c.slot.active || (src != c.slot.src && src != c.slot.dest) {
		c.mu.Unlock()
		return
	}
	c.slot.last = now
	respond := false
	switch {
	case ctl.Command == 0 && len(ctl.Data) >= 8:
		m := binary.LittleEndian.Uint32(ctl.Data[4:8]) & 3
		switch ctl.Sub {
		case 1: // replace bits 0-1
			if c.slot.mask&3 != m {
				c.log.Info("stream request", "mask", m, "dest", c.slot.dest.String())
			}
			c.slot.mask = c.slot.mask&^3 | m
			respond = true
		case 0: // clear the given bits
			c.slot.mask &^= m
			respond = true
		}
	case ctl.Command == 3: // peer closed
		c.log.Info("client closed the session", "dest", c.slot.dest.String())
		c.slot = client{}
	}
	mask := c.slot.mask
	c.mu.Unlock()
	if respond && !c.cfg.Quiet {
		params := make([]byte, liveParamsLen)
		binary.LittleEndian.PutUint32(params[16:], Width)
		binary.LittleEndian.PutUint32(params[20:], Height)
		resp := camsession.AppendControl(nil, camsession.Control{Response: true, Session: 1, Command: 0, Sub: mask, Data: params})
		_, _ = conn.WriteToUDPAddrPort(resp, src)
	}
}

// target returns where to stream now, after expiring a quiet client.
func (c *Camera) target(now time.Time) (conn *net.UDPConn, dest netip.AddrPort, mask uint32, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(now)
	if !c.slot.active || c.data == nil {
		return nil, netip.AddrPort{}, 0, false
	}
	return c.data, c.slot.dest, c.slot.mask, true
}

// stream is the camera's clock: frames at FPS, audio every 32 ms and the
// heartbeat every second, each to the logged-in client if it asked for it.
func (c *Camera) stream(ctx context.Context) {
	ft := time.NewTicker(time.Duration(float64(time.Second) / c.cfg.FPS))
	defer ft.Stop()
	var audioC, heartC <-chan time.Time
	if c.cfg.Audio {
		t := time.NewTicker(audioPeriod)
		defer t.Stop()
		audioC = t.C
	}
	if !c.cfg.Quiet {
		t := time.NewTicker(heartbeatPeriod)
		defer t.Stop()
		heartC = t.C
	}
	for {
		select {
		case <-ctx.Done():
			c.flushHeld()
			return
		case now := <-ft.C:
			conn, dest, mask, ok := c.target(now)
			if !ok || mask&camsession.MaskVideo == 0 {
				c.flushHeld()
				continue
			}
			if c.frozen.Load() {
				continue
			}
			c.sendFrame(conn, dest, now)
		case now := <-audioC:
			if conn, dest, mask, ok := c.target(now); ok && mask&2 != 0 {
				c.sendAudio(conn, dest, now)
			}
		case now := <-heartC:
			if conn, dest, _, ok := c.target(now); ok {
				c.sendHeartbeat(conn, dest)
			}
		}
	}
}

// timestamp is the camera's millisecond clock for the media extensions.
func (c *Camera) timestamp(now time.Time) uint32 {
	return uint32(now.Sub(c.start).Milliseconds())
}

// image returns the JPEG (without COM marker) of the frame with sequence
// number seq.
func (c *Camera) image(seq uint64) []byte {
	if c.cfg.Frames != nil {
		return c.cfg.Frames[(seq-1)%uint64(len(c.cfg.Frames))]
	}
	if c.motion.Load() {
		return c.set.movingFrame(seq - 1)
	}
	return c.set.still
}

// fate is what the impairments do to one packet.
type fate struct{ lost, dup, reorder bool }

func (c *Camera) sendFrame(conn *net.UDPConn, dest netip.AddrPort, now time.Time) {
	c.seq++
	idx := c.index
	c.index++
	jpg := MarkFrame(c.image(c.seq), c.cfg.Name, c.seq)
	ps := c.cfg.PacketSize
	n := (len(jpg) + ps - 1) / ps
	fates := make([]fate, n)
	damaged := false
	for i := range fates {
		// Always draw all three, so the sequence depends only on the seed.
		f := fate{
			lost:    c.rng.Float64() < c.cfg.Loss,
			dup:     c.rng.Float64() < c.cfg.Duplicate,
			reorder: c.rng.Float64() < c.cfg.Reorder,
		}
		fates[i] = f
		damaged = damaged || f.lost
	}
	sent := FrameSent{Index: idx, Seq: c.seq, JPEG: jpg, Damaged: damaged}
	if c.cfg.OnFrame != nil {
		c.cfg.OnFrame(sent)
	}

	var ext [ext0Len]byte
	binary.LittleEndian.PutUint32(ext[0:], uint32(len(jpg)))
	binary.LittleEndian.PutUint32(ext[4:], uint32(n))
	binary.LittleEndian.PutUint32(ext[12:], c.timestamp(now))
	for i, f := range fates {
		if i == len(fates)-1 && c.cfg.OnLastPacket != nil {
			c.cfg.OnLastPacket(sent)
		}
		if f.lost {
			continue
		}
		var e []byte
		if i == 0 {
			e = ext[:]
		}
		c.pkt = camsession.AppendMedia(c.pkt[:0], camsession.Media{
			Frame:   idx,
			Packet:  uint16(i),
			Payload: jpg[i*ps : min(len(jpg), (i+1)*ps)],
		}, e)
		if f.reorder && !c.held.ok {
			c.held = heldPacket{conn: conn, dest: dest, b: append(c.held.b[:0], c.pkt...), ok: true}
			continue
		}
		_, _ = conn.WriteToUDPAddrPort(c.pkt, dest)
		c.flushHeld()
		if f.dup {
			_, _ = conn.WriteToUDPAddrPort(c.pkt, dest)
		}
	}
}

// flushHeld sends the packet delayed by the reorder impairment, if any, to
// the destination it was meant for.
func (c *Camera) flushHeld() {
	if c.held.ok {
		_, _ = c.held.conn.WriteToUDPAddrPort(c.held.b, c.held.dest)
		c.held.ok = false
	}
}

func (c *Camera) sendAudio(conn *net.UDPConn, dest netip.AddrPort, now time.Time) {
	var samples [AudioSamples]int16
	c.tone.fill(samples[:])
	var payload [AudioBlockLen]byte
	block := audio.EncodeBlock(payload[:0], &c.enc, samples[:])
	idx := c.audioIndex
	c.audioIndex++
	if c.audioRng.Float64() < c.cfg.Loss {
		return
	}
	var ext [4]byte
	binary.LittleEndian.PutUint32(ext[:], c.timestamp(now))
	c.pkt = camsession.AppendMedia(c.pkt[:0], camsession.Media{Audio: true, Frame: idx, Payload: block}, ext[:])
	_, _ = conn.WriteToUDPAddrPort(c.pkt, dest)
}

// sendHeartbeat sends the device's 2TEG 0x01 heartbeat (command 2,
// sub-command 0, 8 bytes: u16 counter, u16 0, u32 0), which clients ignore.
func (c *Camera) sendHeartbeat(conn *net.UDPConn, dest netip.AddrPort) {
	var data [8]byte
	c.heartbeats++
	binary.LittleEndian.PutUint16(data[:], c.heartbeats)
	c.pkt = camsession.AppendControl(c.pkt[:0], camsession.Control{Session: 1, Command: 2, Sub: 0, Data: data[:]})
	_, _ = conn.WriteToUDPAddrPort(c.pkt, dest)
}
