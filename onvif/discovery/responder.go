// Package discovery is the WS-Discovery (2005/04, as profiled by ONVIF) target service:
// one responder on 239.255.255.250:3702 answers Probe and Resolve for every virtual
// device of the bridge, and multicasts Hello and Bye when devices come and go.
//
// Answers are sent from, and advertise, the address of the interface the request came
// in on (IP_PKTINFO). Malformed datagrams are counted and ignored; no fault is ever sent.
// Answers are size-bounded and rate-limited per source address, so the responder cannot
// be used as an amplifier.
package discovery

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chinesium/chinesium/internal/sockopt"
	"github.com/google/uuid"
	"golang.org/x/net/ipv4"
)

// Target is what the responder announces: one ONVIF virtual device.
type Target interface {
	// EndpointUUID is the stable endpoint identity, advertised as urn:uuid:<uuid>.
	EndpointUUID() uuid.UUID
	// Scopes are the device's scope URIs.
	Scopes() []string
	// XAddrs are the device service URLs reachable through the local address local.
	XAddrs(local netip.Addr) []string
	// Discoverable is false in ONVIF NonDiscoverable mode: the target stays silent.
	Discoverable() bool
	// MetadataVersion increases whenever scopes or XAddrs change.
	MetadataVersion() uint32
}

// DefaultGroup is the WS-Discovery IPv4 multicast group and port.
var DefaultGroup = netip.MustParseAddrPort("239.255.255.250:3702")

// Defaults of Config's fields.
const (
	// DefaultMaxDelay bounds the random delay before a multicast answer
	// (WS-Discovery APP_MAX_DELAY).
	DefaultMaxDelay = 500 * time.Millisecond
	// DefaultRatePerSource is how many requests per second one source
	// address gets answered.
	DefaultRatePerSource = 10.0
	// DefaultMaxAnswerRate bounds the answer datagrams sent per second to
	// all sources together: a probe gets one per camera, so a handful of
	// NVRs probing a large bridge at once stay below it, while a flood
	// from many (spoofed) sources cannot make the bridge send more.
	DefaultMaxAnswerRate = 200.0
	// DefaultMaxAnswerSize bounds an answer datagram, in bytes.
	DefaultMaxAnswerSize = 8192
	// DefaultRepeat is how many extra copies of each Hello and Bye are
	// sent (SOAP-over-UDP MULTICAST_UDP_REPEAT).
	DefaultRepeat = 1
	// DefaultRescan is the interval of the interface re-scan.
	DefaultRescan = 30 * time.Second
)

// Config configures a Responder. The zero value is ready to use: zero
// fields take their defaults.
type Config struct {
	// Interfaces names the interfaces to join the group on. Empty means every interface
	// that is up, multicast-capable, not loopback and has an IPv4 address; the set is
	// re-scanned every Rescan so interfaces that appear later are joined (and announced
	// with Hello), as are interfaces whose address changed.
	Interfaces []string
	// Group is the multicast group and port. It defaults to DefaultGroup. A port of 0
	// binds an ephemeral port (tests).
	Group netip.AddrPort
	// MaxDelay is the upper bound of the random delay before answering a multicast
	// Probe or Resolve (WS-Discovery APP_MAX_DELAY). It defaults to DefaultMaxDelay
	// (500 ms); a negative value answers at once.
	MaxDelay time.Duration
	// RatePerSource is how many requests per second one source address may get answered
	// (token bucket with a burst of twice the rate). It defaults to
	// DefaultRatePerSource (10).
	RatePerSource float64
	// MaxAnswerRate is how many answer datagrams per second the responder
	// sends to all sources together (token bucket with a burst of twice
	// the rate); a request whose answers do not fit is dropped. It
	// defaults to DefaultMaxAnswerRate (200).
	MaxAnswerRate float64
	// MaxAnswerSize bounds an answer datagram; a larger one is not sent. It defaults
	// to DefaultMaxAnswerSize (8192 bytes).
	MaxAnswerSize int
	// Repeat is how many extra copies of each Hello and Bye are sent, each 50-250 ms
	// after the previous one (SOAP-over-UDP MULTICAST_UDP_REPEAT), since a lost
	// datagram on WiFi would otherwise go unnoticed. It defaults to DefaultRepeat (1);
	// a negative value sends none.
	Repeat int
	// Rescan is the interval of the interface re-scan. It defaults to DefaultRescan
	// (30 s).
	Rescan time.Duration
	// Listen is the address to bind. It defaults to 0.0.0.0 (needed for multicast).
	Listen netip.Addr
	// UnicastOnly answers only directed (unicast) Probe and Resolve sent to Listen:
	// no group membership, no Hello or Bye. For networks multicast cannot cross
	// (container bridges) and for tests.
	UnicastOnly bool
	// Logger receives the responder's logs, tagged component=discovery. Nil
	// discards them.
	Logger *slog.Logger
}

// Stats counts what the responder saw and did.
type Stats struct {
	Received    uint64 // datagrams read
	Malformed   uint64 // not parseable as a WS-Discovery message
	Ignored     uint64 // parsed but not for us (other actions, unmatched types)
	Probes      uint64
	Resolves    uint64
	Answers     uint64 // ProbeMatches/ResolveMatches datagrams sent
	RateLimited uint64 // requests dropped by the per-source limit or the limit of all answers
	OffLink     uint64 // requests from a source outside the receiving interface's subnets (and not link-local)
	Duplicates  uint64 // retransmitted requests (same source and MessageID) ignored
	Oversize    uint64 // answers not sent because they were too large
	Announced   uint64 // Hello/Bye datagrams sent
	SendErrors  uint64
}

// Responder is the WS-Discovery target service shared by all virtual devices.
type Responder struct {
	cfg      Config
	log      *slog.Logger
	conn     *net.UDPConn
	pc       *ipv4.PacketConn
	group    *net.UDPAddr
	instance uint32
	msgNum   atomic.Uint32
	limiter  *limiter
	answerMu sync.Mutex
	answerB  bucket // all answers; guarded by answerMu

	mu      sync.Mutex
	targets []Target
	ifaces  map[int]*net.Interface // joined interfaces by index
	// ifaceAddrs is the advertised address of each joined interface at the last scan.
	ifaceAddrs map[int]netip.Addr
	running    bool

	pending sync.WaitGroup
	closing atomic.Bool
	repeats chan repeat // delayed copies of Hello and Bye, sent by Run's repeater

	received, malformed, ignored, probes, resolves, answers,
	rateLimited, oversize, announced, sendErrors, duplicates, offLink atomic.Uint64

	seenMu sync.Mutex
	seen   map[string]time.Time // source+MessageID of recent requests
}

// New opens the UDP socket and joins the multicast group on the configured interfaces.
// It fails when the socket cannot be bound or no interface could join.
func New(cfg Config) (*Responder, error) {
	cfg.setDefaults()
	lc := net.ListenConfig{Control: sockopt.ReuseAddr}
	pconn, err := lc.ListenPacket(context.Background(), "udp4", netip.AddrPortFrom(cfg.Listen, cfg.Group.Port()).String())
	if err != nil {
		return nil, fmt.Errorf("discovery: listen: %w", err)
	}
	conn := pconn.(*net.UDPConn)
	r := &Responder{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "discovery"),
		conn:       conn,
		pc:         ipv4.NewPacketConn(conn),
		group:      &net.UDPAddr{IP: cfg.Group.Addr().AsSlice(), Port: conn.LocalAddr().(*net.UDPAddr).Port},
		instance:   uint32(time.Now().Unix()),
		limiter:    newLimiter(cfg.RatePerSource, 2*cfg.RatePerSource),
		answerB:    bucket{tokens: 2 * cfg.MaxAnswerRate, last: time.Now()},
		ifaces:     map[int]*net.Interface{},
		ifaceAddrs: map[int]netip.Addr{},
		repeats:    make(chan repeat, 1024),
		seen:       map[string]time.Time{},
	}
	if err := r.pc.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
		conn.Close()
		return nil, fmt.Errorf("discovery: IP_PKTINFO: %w", err)
	}
	if cfg.UnicastOnly {
		return r, nil
	}
	_ = r.pc.SetMulticastTTL(1)
	if _, err := r.join(); err != nil {
		conn.Close()
		return nil, err
	}
	return r, nil
}

// setDefaults fills every zero field with its default.
func (c *Config) setDefaults() {
	if !c.Group.IsValid() {
		c.Group = DefaultGroup
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	if c.RatePerSource <= 0 {
		c.RatePerSource = DefaultRatePerSource
	}
	if c.MaxAnswerRate <= 0 {
		c.MaxAnswerRate = DefaultMaxAnswerRate
	}
	if c.MaxAnswerSize <= 0 {
		c.MaxAnswerSize = DefaultMaxAnswerSize
	}
	if c.Repeat == 0 {
		c.Repeat = DefaultRepeat
	}
	if c.Rescan <= 0 {
		c.Rescan = DefaultRescan
	}
	if !c.Listen.IsValid() {
		c.Listen = netip.IPv4Unspecified()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// LocalPort is the UDP port the responder listens on.
func (r *Responder) LocalPort() int { return r.group.Port }

// InstanceID is the AppSequence InstanceId of this responder (its start time in Unix seconds).
func (r *Responder) InstanceID() uint32 { return r.instance }

// Stats returns a snapshot of the counters.
func (r *Responder) Stats() Stats {
	return Stats{
		Received: r.received.Load(), Malformed: r.malformed.Load(), Ignored: r.ignored.Load(),
		Probes: r.probes.Load(), Resolves: r.resolves.Load(), Answers: r.answers.Load(),
		RateLimited: r.rateLimited.Load(), Oversize: r.oversize.Load(), Announced: r.announced.Load(),
		SendErrors: r.sendErrors.Load(), Duplicates: r.duplicates.Load(), OffLink: r.offLink.Load(),
	}
}

// join joins the group on every wanted interface not joined yet, forgets interfaces
// that are gone, and returns the interfaces that are new or whose advertised address
// changed (they need a Hello). With explicitly configured interfaces it fails when
// none could join; otherwise a host without a usable interface yet is only logged, and
// the periodic re-scan joins interfaces as they appear.
func (r *Responder) join() ([]*net.Interface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("discovery: interfaces: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var changed []*net.Interface
	var errs []error
	present := map[int]bool{}
	for i := range all {
		ifi := &all[i]
		if len(r.cfg.Interfaces) > 0 {
			if !slices.Contains(r.cfg.Interfaces, ifi.Name) {
				continue
			}
		} else if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		addr := ifaceAddr(ifi, netip.Addr{})
		if !addr.IsValid() {
			continue
		}
		present[ifi.Index] = true
		if _, ok := r.ifaces[ifi.Index]; ok {
			if r.ifaceAddrs[ifi.Index] != addr {
				r.log.Info("interface address changed", "interface", ifi.Name, "address", addr)
				r.ifaceAddrs[ifi.Index] = addr
				changed = append(changed, ifi)
			}
			continue
		}
		if err := r.pc.JoinGroup(ifi, r.group); err != nil {
			errs = append(errs, fmt.Errorf("join %s: %w", ifi.Name, err))
			continue
		}
		r.ifaces[ifi.Index] = ifi
		r.ifaceAddrs[ifi.Index] = addr
		changed = append(changed, ifi)
		r.log.Info("listening for WS-Discovery", "interface", ifi.Name, "address", addr)
	}
	for idx, ifi := range r.ifaces {
		if !present[idx] {
			r.log.Info("interface gone", "interface", ifi.Name)
			_ = r.pc.LeaveGroup(ifi, r.group)
			delete(r.ifaces, idx)
			delete(r.ifaceAddrs, idx)
		}
	}
	for _, e := range errs {
		r.log.Warn("multicast join failed", "err", e)
	}
	if len(r.ifaces) == 0 {
		err := noInterfaceError(r.cfg.Interfaces, errs)
		if len(r.cfg.Interfaces) > 0 {
			return nil, err
		}
		r.log.Warn("no multicast interface yet: WS-Discovery waits for one", "err", err)
	}
	return changed, nil
}

// ErrNoInterface means that no network interface could join the
// WS-Discovery group.
var ErrNoInterface = errors.New("discovery: no usable multicast interface")

// noInterfaceError says why no interface joined the group: the errors of
// the joins that failed, or else what an interface lacks (configured ones
// by name).
func noInterfaceError(configured []string, errs []error) error {
	switch {
	case len(errs) > 0:
		return fmt.Errorf("%w: %w", ErrNoInterface, errors.Join(errs...))
	case len(configured) > 0:
		return fmt.Errorf("%w: none of the configured interfaces (%s) exists with an IPv4 address",
			ErrNoInterface, strings.Join(configured, ", "))
	}
	return fmt.Errorf("%w: no interface other than loopback is up with multicast and an IPv4 address", ErrNoInterface)
}

// ifaceAddr picks the IPv4 address of ifi to advertise towards peer: the one whose
// subnet contains peer, else the first IPv4 address.
func ifaceAddr(ifi *net.Interface, peer netip.Addr) netip.Addr {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}
	}
	var first netip.Addr
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		pfx, ok := netipPrefix(ipn)
		if !ok || !pfx.Addr().Is4() {
			continue
		}
		if peer.IsValid() && pfx.Contains(peer) {
			return pfx.Addr()
		}
		if !first.IsValid() {
			first = pfx.Addr()
		}
	}
	return first
}

func netipPrefix(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

// Add registers a target and multicasts its Hello (when running and discoverable).
func (r *Responder) Add(t Target) {
	r.mu.Lock()
	if !slices.Contains(r.targets, t) {
		r.targets = append(r.targets, t)
	}
	running := r.running
	r.mu.Unlock()
	if running {
		r.Hello(t)
	}
}

// Remove multicasts a Bye for the target (when discoverable) and unregisters it.
func (r *Responder) Remove(t Target) {
	r.mu.Lock()
	i := slices.Index(r.targets, t)
	if i >= 0 {
		r.targets = slices.Delete(r.targets, i, i+1)
	}
	running := r.running
	r.mu.Unlock()
	if i >= 0 && running {
		r.Bye(t)
	}
}

// Hello multicasts a Hello for t on every joined interface, advertising that interface's
// XAddrs. Call it when t comes online, changes scopes or XAddrs, or becomes discoverable.
func (r *Responder) Hello(t Target) {
	if !t.Discoverable() {
		return
	}
	r.announce(ActionHello, t, nil)
}

// Bye multicasts a Bye for t on every joined interface. Call it when t goes offline or
// becomes non-discoverable.
func (r *Responder) Bye(t Target) { r.announce(ActionBye, t, nil) }

func (r *Responder) announce(a Action, t Target, only []*net.Interface) {
	if r.cfg.UnicastOnly {
		return
	}
	ifaces := only
	if ifaces == nil {
		r.mu.Lock()
		for _, ifi := range r.ifaces {
			ifaces = append(ifaces, ifi)
		}
		r.mu.Unlock()
	}
	for _, ifi := range ifaces {
		local := ifaceAddr(ifi, netip.Addr{})
		if !local.IsValid() {
			continue
		}
		m := r.match(t, local)
		b := AppendMessage(nil, a, r.header(ToDiscovery, ""), m)
		cm := &ipv4.ControlMessage{IfIndex: ifi.Index, Src: local.AsSlice()}
		r.sendMulticast(b, cm)
		at := time.Now()
		for range max(0, r.cfg.Repeat) {
			at = at.Add(50*time.Millisecond + randDuration(200*time.Millisecond))
			select {
			case r.repeats <- repeat{at: at, b: b, cm: cm}:
			default: // queue full: the copy is dropped
			}
		}
	}
}

// repeat is a delayed copy of a multicast datagram.
type repeat struct {
	at time.Time
	b  []byte
	cm *ipv4.ControlMessage
}

func (r *Responder) sendMulticast(b []byte, cm *ipv4.ControlMessage) {
	if _, err := r.pc.WriteTo(b, cm, r.group); err != nil {
		r.sendErrors.Add(1)
		r.log.Debug("multicast send failed", "interface", cm.IfIndex, "err", err)
		return
	}
	r.announced.Add(1)
}

// repeater sends the queued copies when they are due, until stop is closed; it then
// sends what is still queued (waiting for each to be due) and returns.
func (r *Responder) repeater(stop <-chan struct{}) {
	for {
		var rp repeat
		select {
		case rp = <-r.repeats:
		case <-stop:
			for {
				select {
				case rp = <-r.repeats:
					time.Sleep(time.Until(rp.at))
					r.sendMulticast(rp.b, rp.cm)
				default:
					return
				}
			}
		}
		time.Sleep(time.Until(rp.at))
		r.sendMulticast(rp.b, rp.cm)
	}
}

func (r *Responder) match(t Target, local netip.Addr) Match {
	return Match{
		Address:         "urn:uuid:" + t.EndpointUUID().String(),
		Types:           []xml.Name{TypeNVT, TypeDevice},
		Scopes:          t.Scopes(),
		XAddrs:          t.XAddrs(local),
		MetadataVersion: t.MetadataVersion(),
	}
}

func (r *Responder) header(to, relatesTo string) Header {
	return Header{
		MessageID:     "urn:uuid:" + uuid.NewString(),
		RelatesTo:     relatesTo,
		To:            to,
		InstanceID:    r.instance,
		MessageNumber: r.msgNum.Add(1),
	}
}

// Run multicasts Hello for every registered target, then answers requests until ctx is
// done; it then multicasts Bye for every target and closes the socket. It returns nil
// on cancellation.
func (r *Responder) Run(ctx context.Context) error {
	r.mu.Lock()
	r.running = true
	targets := slices.Clone(r.targets)
	r.mu.Unlock()
	for _, t := range targets {
		r.Hello(t)
	}
	stop := context.AfterFunc(ctx, func() { _ = r.conn.SetReadDeadline(time.Now()) })
	defer stop()
	stopRepeats := make(chan struct{})
	repeaterDone := make(chan struct{})
	go func() { defer close(repeaterDone); r.repeater(stopRepeats) }()
	// The re-scan ends before the Byes go out, so no Hello can follow them.
	rescanCtx, stopRescan := context.WithCancel(ctx)
	rescanDone := make(chan struct{})
	go func() { defer close(rescanDone); r.rescan(rescanCtx) }()

	buf := make([]byte, MaxMessageSize+1)
	var err error
	for {
		n, cm, src, rerr := r.pc.ReadFrom(buf)
		if rerr != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("discovery: read: %w", rerr)
			}
			break
		}
		r.received.Add(1)
		r.handle(buf[:n], cm, src)
	}
	stopRescan()
	<-rescanDone
	r.closing.Store(true)
	r.pending.Wait()
	r.mu.Lock()
	r.running = false
	targets = slices.Clone(r.targets)
	r.mu.Unlock()
	for _, t := range targets {
		if t.Discoverable() {
			r.Bye(t)
		}
	}
	close(stopRepeats)
	<-repeaterDone // the Byes' copies go out before the socket closes
	r.conn.Close()
	return err
}

func (r *Responder) rescan(ctx context.Context) {
	if r.cfg.UnicastOnly {
		return
	}
	tk := time.NewTicker(r.cfg.Rescan)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		added, err := r.join()
		if err != nil || len(added) == 0 {
			continue
		}
		r.mu.Lock()
		targets := slices.Clone(r.targets)
		r.mu.Unlock()
		for _, t := range targets {
			if t.Discoverable() {
				r.announce(ActionHello, t, added)
			}
		}
	}
}

func (r *Responder) handle(b []byte, cm *ipv4.ControlMessage, src net.Addr) {
	udp, ok := src.(*net.UDPAddr)
	if !ok || cm == nil || udp.Port == 0 {
		r.malformed.Add(1)
		return
	}
	srcAP := udp.AddrPort()
	srcAP = netip.AddrPortFrom(srcAP.Addr().Unmap(), srcAP.Port())
	msg, err := Parse(b)
	if err != nil {
		r.malformed.Add(1)
		r.log.Debug("ignored datagram", "from", srcAP, "err", err)
		return
	}
	switch msg.Action {
	case ActionProbe:
		r.probes.Add(1)
	case ActionResolve:
		r.resolves.Add(1)
	default:
		r.ignored.Add(1)
		return
	}
	if msg.MessageID == "" {
		r.malformed.Add(1)
		return
	}
	local := r.localAddr(cm, srcAP.Addr())
	if !local.IsValid() {
		r.ignored.Add(1)
		return
	}
	// WS-Discovery is for the local link: a request from elsewhere is
	// routed or spoofed, and answering it would make the bridge a
	// reflector towards any address.
	if !onLink(cm.IfIndex, srcAP.Addr()) {
		r.offLink.Add(1)
		return
	}
	if r.duplicate(srcAP.Addr(), msg.MessageID, time.Now()) {
		r.duplicates.Add(1)
		return
	}
	if !r.limiter.allow(srcAP.Addr(), time.Now()) {
		r.rateLimited.Add(1)
		return
	}
	r.mu.Lock()
	targets := slices.Clone(r.targets)
	r.mu.Unlock()
	var answers [][]byte
	for _, t := range targets {
		if !t.Discoverable() {
			continue
		}
		var a Action
		switch msg.Action {
		case ActionProbe:
			if !MatchTypes(msg.Types) || (len(msg.Scopes) > 0 && !MatchScopes(msg.MatchBy, msg.Scopes, t.Scopes())) {
				continue
			}
			a = ActionProbeMatches
		case ActionResolve:
			if msg.Address != "urn:uuid:"+t.EndpointUUID().String() {
				continue
			}
			a = ActionResolveMatches
		}
		out := AppendMessage(nil, a, r.header(ToAnonymous, msg.MessageID), r.match(t, local))
		if len(out) > r.cfg.MaxAnswerSize {
			r.oversize.Add(1)
			r.log.Warn("answer too large, not sent", "endpoint", t.EndpointUUID(), "size", len(out))
			continue
		}
		answers = append(answers, out)
	}
	if len(answers) == 0 {
		r.ignored.Add(1)
		return
	}
	if !r.takeAnswers(len(answers), time.Now()) {
		r.rateLimited.Add(1)
		return
	}
	send := func() {
		for _, out := range answers {
			wcm := &ipv4.ControlMessage{Src: local.AsSlice(), IfIndex: cm.IfIndex}
			if _, err := r.pc.WriteTo(out, wcm, net.UDPAddrFromAddrPort(srcAP)); err != nil {
				r.sendErrors.Add(1)
				r.log.Debug("answer send failed", "to", srcAP, "err", err)
				continue
			}
			r.answers.Add(1)
		}
	}
	multicast := cm.Dst != nil && cm.Dst.IsMulticast()
	if !multicast || r.cfg.MaxDelay < 0 || r.closing.Load() {
		send()
		return
	}
	r.pending.Add(1)
	time.AfterFunc(randDuration(r.cfg.MaxDelay), func() {
		defer r.pending.Done()
		send()
	})
}

// takeAnswers takes n tokens of the bucket of all answers, reporting false
// (and taking none) when it holds fewer.
func (r *Responder) takeAnswers(n int, now time.Time) bool {
	r.answerMu.Lock()
	defer r.answerMu.Unlock()
	b := &r.answerB
	b.tokens = min(2*r.cfg.MaxAnswerRate, b.tokens+now.Sub(b.last).Seconds()*r.cfg.MaxAnswerRate)
	b.last = now
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

// onLink reports whether src may be answered on the interface with index
// ifIndex: it is in one of the interface's IPv4 subnets, or link-local
// (169.254.0.0/16, a host without DHCP).
func onLink(ifIndex int, src netip.Addr) bool {
	if src.IsLinkLocalUnicast() {
		return true
	}
	ifi, err := net.InterfaceByIndex(ifIndex)
	if err != nil {
		return false
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if pfx, ok := netipPrefix(ipn); ok && pfx.Masked().Contains(src) {
				return true
			}
		}
	}
	return false
}

// dupWindow is how long a request's MessageID is remembered per source: clients
// retransmit a Probe a few times within a second or two (SOAP-over-UDP), and some
// reuse one MessageID for all their periodic probes, so the window stays short.
const dupWindow = 2 * time.Second

// duplicate reports whether src sent a request with this MessageID within dupWindow,
// and remembers it.
func (r *Responder) duplicate(src netip.Addr, id string, now time.Time) bool {
	key := src.String() + " " + id
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	if t, ok := r.seen[key]; ok && now.Sub(t) < dupWindow {
		return true
	}
	if len(r.seen) >= 1024 {
		for k, t := range r.seen {
			if now.Sub(t) >= dupWindow {
				delete(r.seen, k)
			}
		}
		if len(r.seen) >= 4096 {
			clear(r.seen)
		}
	}
	r.seen[key] = now
	return false
}

// localAddr is the address of the receiving interface to answer from and advertise.
func (r *Responder) localAddr(cm *ipv4.ControlMessage, peer netip.Addr) netip.Addr {
	if cm.Dst != nil && !cm.Dst.IsMulticast() {
		if a, ok := netip.AddrFromSlice(cm.Dst); ok && !a.Unmap().IsUnspecified() {
			return a.Unmap()
		}
	}
	r.mu.Lock()
	ifi := r.ifaces[cm.IfIndex]
	r.mu.Unlock()
	if ifi == nil {
		var err error
		if ifi, err = net.InterfaceByIndex(cm.IfIndex); err != nil {
			return netip.Addr{}
		}
	}
	return ifaceAddr(ifi, peer)
}

func randDuration(max time.Duration) time.Duration {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(max)+1))
	if err != nil {
		return max / 2
	}
	return time.Duration(n.Int64())
}
