package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/connlimit"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/onvif/discovery"
	"github.com/chinesium/chinesium/record"
	"github.com/chinesium/chinesium/rtsp"
	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/stream"
	"github.com/chinesium/chinesium/wsdl"
)

// Realm is the HTTP Digest realm of every endpoint.
const Realm = "chinesium"

// Paths of the ONVIF services on every camera's HTTP port. The device
// service path is fixed by ONVIF Core.
const (
	DeviceServicePath = onvif.DeviceServicePath
	MediaServicePath  = onvif.MediaServicePath
	EventsServicePath = onvif.EventsServicePath
	// ONVIFPathPrefix is where the ONVIF endpoint answers: every path
	// below it, the service paths and the event subscriptions
	// (onvif.DefaultSubscriptionPath) among them.
	ONVIFPathPrefix = "/onvif/"
)

// Bridge runs the virtual devices of all configured cameras. Create it
// with New, then Start it once and Close it once.
type Bridge struct {
	cfg    Config
	log    *slog.Logger
	rtsp   *rtsp.Server
	rtspLn net.Listener
	// rtspOn are the addresses RTSP listens on besides rtspLn's (those of
	// cameras with an address of their own); guarded by applyMu.
	rtspOn map[netip.Addr]bool
	// configured are the cameras as configured, before defaults (given
	// to New, then to Apply); guarded by applyMu.
	configured []CameraConfig

	camMu   sync.RWMutex
	cameras []*Camera // guarded by camMu; changed only under applyMu

	// applyMu serializes Apply (and the camera scan's additions) with
	// each other and with Close.
	applyMu sync.Mutex
	ctx     context.Context // Start's, done at Close
	scanned []CameraConfig  // the cameras the scan found (scan.go); guarded by applyMu

	discovery *discovery.Responder // nil when off
	h264Err   error                // why there is no H.264 (nil: there is, or no camera wants it); set by Start
	admin     *http.Server         // nil when off
	adminLn   net.Listener
	users     configuredUsers // Config.Users, for the admin server
	nonces    soap.NonceCache // WS-Security nonces of every camera

	cancel    context.CancelFunc
	closeOnce sync.Once
	wg        sync.WaitGroup
	mu        sync.Mutex
	errs      []error // background failures, reported by Close
}

// Camera is one camera's virtual device as the bridge runs it.
type Camera struct {
	// Config is the camera's configuration with defaults filled in.
	Config CameraConfig
	// Device is the ONVIF device model.
	Device *onvif.Device
	// Session is the camera session (nil before Start).
	Session *camsession.Session
	// Video and Audio carry the camera's frames and audio (Audio is nil
	// without audio).
	Video *stream.Hub
	Audio *stream.AudioHub
	// Path is the camera's RTSP path name.
	Path string

	bridge *Bridge
	ev     *cameraEvents    // events service, motion detector, online state (events.go)
	rec    *record.Recorder // nil when the camera is not recorded (record.go)
	http   *stream.Camera   // MJPEG, snapshot and WAV on the camera's port
	live   http.Handler     // the same for the admin page, behind its authentication
	onvif  *soap.Endpoint   // the ONVIF services
	// rtspAuth authenticates the camera's RTSP paths (its counters reach
	// the admin server).
	rtspAuth *httpauth.Authenticator
	ln       net.Listener
	srv      *http.Server
	// givenPort is the HTTP port as configured: 0 or AnyPort keep the
	// port the camera got across a reload (apply.go).
	givenPort int
	cancel    context.CancelFunc // stops what start started
	wg        sync.WaitGroup     // what start started

	metadata     atomic.Uint32 // WS-Discovery MetadataVersion
	discoverable atomic.Bool   // last announced discovery mode
	mu           sync.Mutex
	announced    string // scopes and mode last announced, guarded by mu
}

// New checks cfg and prepares the bridge; nothing is bound before Start.
func New(cfg Config) (*Bridge, error) {
	configured := slices.Clone(cfg.Cameras)
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Bridge{cfg: cfg, log: cfg.Logger, configured: configured, rtspOn: map[netip.Addr]bool{}}
	b.users.set(cfg.Users)
	return b, nil
}

// Start opens every camera's state, binds every socket (a busy port or a
// bad address fails here, with nothing left open) and starts serving in
// the background until ctx is done or Close is called.
func (b *Bridge) Start(ctx context.Context) (err error) {
	if b.cancel != nil {
		return errors.New("bridge: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	b.ctx = ctx
	var closers []func()
	defer func() {
		if err != nil {
			cancel()
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
			b.cameras = nil
		}
	}()

	// No server-wide users: every camera's RTSP paths authenticate
	// against that camera's own users (rtsp.Source.Auth), like its ONVIF
	// and HTTP endpoints.
	b.rtsp = &rtsp.Server{
		Logger: b.log,
		FFmpeg: b.cfg.FFmpeg,
	}
	rtspAddr := listenAddr(b.cfg.Bind, b.cfg.RTSPPort)
	b.rtspLn, err = net.Listen("tcp4", rtspAddr)
	if err != nil {
		return fmt.Errorf("bridge: RTSP port: %w", err)
	}
	closers = append(closers, func() { b.rtspLn.Close() })
	wantH264 := slices.ContainsFunc(b.cfg.Cameras, func(c CameraConfig) bool { return !c.NoH264 })
	if wantH264 {
		b.h264Err = b.rtsp.H264Error()
	}
	hasH264 := wantH264 && b.h264Err == nil
	if b.h264Err != nil {
		b.log.Warn("no H.264 stream, only JPEG: Home Assistant and UniFi Protect will not take these cameras (they need H.264); "+
			"install ffmpeg with libx264 (Debian, Ubuntu: apt install ffmpeg) and restart", "err", b.h264Err)
	}

	for i, cc := range b.cfg.Cameras {
		c, cerr := b.newCamera(cc, hasH264)
		if cerr != nil {
			return fmt.Errorf("bridge: camera %d (%s): %w", i+1, cc.IP, cerr)
		}
		c.givenPort = b.configured[i].HTTPPort
		closers = append(closers, c.closeSockets)
		b.cameras = append(b.cameras, c)
	}
	if len(b.cfg.Users) == 0 {
		b.log.Warn("no user configured: ONVIF, RTSP and the HTTP streams are open to anyone who can reach them (set -user and -password, or users in the configuration file)")
	}

	// A camera with an address of its own gets RTSP there too (its clients
	// use that address for everything), on the same port.
	extra, err := b.extraRTSPListeners()
	for _, ln := range extra {
		closers = append(closers, func() { ln.Close() })
	}
	if err != nil {
		return err
	}
	if err := b.listenAdmin(); err != nil {
		return err
	}
	if b.adminLn != nil {
		closers = append(closers, func() { b.adminLn.Close() })
	}
	b.wg.Go(func() { b.report("rtsp", b.rtsp.Serve(ctx, b.rtspLn)) })
	for _, ln := range extra {
		b.wg.Go(func() { b.report("rtsp "+ln.Addr().String(), b.rtsp.Serve(ctx, ln)) })
	}
	b.startDiscovery(ctx) // before the sessions run: their state changes announce
	b.serveAdmin()
	for _, c := range b.cameras {
		c.start(ctx)
	}
	b.startScan(ctx)
	return nil
}

// H264Error says why the cameras have no H.264 stream and profile although
// some camera wants one (ffmpeg not found, or without libx264; it wraps
// rtsp.ErrNoH264), or returns nil. Valid after Start.
func (b *Bridge) H264Error() error { return b.h264Err }

// extraRTSPListeners listens on the RTSP port of every camera bind address
// that the main RTSP listener does not cover (it covers all of them when
// the bridge listens on all interfaces).
func (b *Bridge) extraRTSPListeners() ([]net.Listener, error) {
	if !b.cfg.Bind.IsValid() || b.cfg.Bind.IsUnspecified() {
		return nil, nil
	}
	port := b.RTSPPort()
	var lns []net.Listener
	for _, c := range b.cameras {
		ip := c.Config.BindIP
		if !ip.IsValid() || ip.IsUnspecified() || ip == b.cfg.Bind || b.rtspOn[ip] {
			continue
		}
		b.rtspOn[ip] = true
		ln, err := net.Listen("tcp4", listenAddr(ip, port))
		if err != nil {
			return lns, fmt.Errorf("bridge: RTSP port on %s: %w", ip, err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// startDiscovery runs the WS-Discovery responder for every camera when
// configured. A responder that cannot start is not fatal: the devices are
// still reachable by address.
func (b *Bridge) startDiscovery(ctx context.Context) {
	if b.cfg.Discovery == nil {
		return
	}
	dcfg := *b.cfg.Discovery
	if dcfg.Logger == nil {
		dcfg.Logger = b.log
	}
	r, err := discovery.New(dcfg)
	if err != nil {
		b.log.Warn("WS-Discovery is off: NVRs must be given the device service URL", "err", err)
		return
	}
	b.discovery = r
	for _, c := range b.cameras {
		r.Add(c)
		c.Device.Store.Watch(c.stateChanged)
	}
	b.wg.Go(func() { b.report("discovery", r.Run(ctx)) })
}

// DiscoveryPort returns the UDP port of the WS-Discovery responder, 0 when
// it is not running.
func (b *Bridge) DiscoveryPort() int {
	if b.discovery == nil {
		return 0
	}
	return b.discovery.LocalPort()
}

// Close stops everything Start started and waits for it. It returns the
// errors of background parts that failed while running; calling it again
// returns the same.
func (b *Bridge) Close() error {
	if b.cancel == nil {
		return nil
	}
	b.closeOnce.Do(b.close)
	b.mu.Lock()
	defer b.mu.Unlock()
	return errors.Join(b.errs...)
}

func (b *Bridge) close() {
	b.cancel()       // sessions stop, discovery sends its Byes
	b.applyMu.Lock() // an Apply under way ends first; none starts after
	defer b.applyMu.Unlock()
	for _, c := range b.cameras {
		// End what Shutdown would otherwise wait for: long-polling
		// PullMessages and the endless streams (their readers see the
		// closed hubs at once; publishing on a closed hub does nothing).
		c.ev.events.Close()
		c.Video.Close()
		if c.Audio != nil {
			c.Audio.Close()
		}
	}
	servers := []*http.Server{}
	for _, c := range b.cameras {
		servers = append(servers, c.srv)
	}
	if b.admin != nil {
		servers = append(servers, b.admin)
	}
	for _, srv := range servers {
		shutdown(srv)
	}
	for _, c := range b.cameras {
		c.wg.Wait()
	}
	b.wg.Wait()
}

// shutdown stops an HTTP server, waiting a little for its requests.
func shutdown(srv *http.Server) {
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = srv.Shutdown(shut)
	cancel()
	srv.Close()
}

// report records a background part's failure.
func (b *Bridge) report(what string, err error) {
	if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, context.Canceled) {
		return
	}
	b.log.Error("bridge: "+what+" stopped", "err", err)
	b.mu.Lock()
	b.errs = append(b.errs, fmt.Errorf("%s: %w", what, err))
	b.mu.Unlock()
}

// Cameras returns the running cameras in configuration order.
func (b *Bridge) Cameras() []*Camera {
	b.camMu.RLock()
	defer b.camMu.RUnlock()
	return append([]*Camera(nil), b.cameras...)
}

// RTSPPort returns the port the RTSP server listens on (after Start).
func (b *Bridge) RTSPPort() int { return portOf(b.rtspLn.Addr()) }

// newCamera builds one camera's device, store, session and HTTP listener.
func (b *Bridge) newCamera(cc CameraConfig, hasH264 bool) (*Camera, error) {
	dev := onvif.NewDevice(cc.Name, cc.ID)
	store, err := onvif.OpenStore(filepath.Join(b.cfg.StateDir, dev.UUID.String()+".json"))
	if err != nil {
		return nil, err
	}
	store.SetConfigured(b.cfg.Users)
	dev.Store = store
	dev.HasAudio = cc.Audio
	dev.HasH264 = hasH264 && !cc.NoH264
	c := &Camera{Config: cc, Device: dev, Video: stream.NewHub(), Path: rtsp.PathName(cc.Name), bridge: b}
	st := store.Get()
	c.discoverable.Store(st.DiscoveryMode != onvif.NonDiscoverable)
	c.announced = strings.Join(st.Scopes, " ") + "|" + st.DiscoveryMode
	if cc.Audio {
		c.Audio = stream.NewAudioHub()
	}
	log := b.log.With("camera", cc.Name, "ip", cc.IP.String())
	for _, r := range store.Repairs() {
		log.Warn("state file repaired: " + r)
	}

	scfg := camsession.Config{
		Camera:      cc.IP,
		ControlPort: cc.ControlPort,
		LocalIP:     cc.LocalIP,
		LocalPort:   cc.LocalPort,
		Audio:       cc.Audio,
		OnFrame:     c.Video.Publish,
		FrameRoom:   stream.PartRoom,
	}
	LogSession(log.With("component", "session"), &scfg, HintBridge)
	if c.Audio != nil {
		scfg.OnAudio = c.Audio.Publish
	}
	mcfg := b.cfg.Motion
	if err = c.hookRecorder(log, &scfg, &mcfg.OnChange); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	if b.cfg.Session != nil {
		b.cfg.Session(&scfg)
	}
	c.ev = newCameraEvents(log, mcfg, b.cfg.PushConsumers) // onvif.Events adds component=events itself
	c.hookSession(&scfg)
	c.Session, err = camsession.New(scfg)
	if err != nil {
		c.ev.events.Close()
		return nil, err
	}
	dev.Reboot = c.restartSession

	c.ln, err = net.Listen("tcp4", listenAddr(cc.BindIP, cc.HTTPPort))
	if err != nil {
		c.Session.Close()
		c.ev.events.Close()
		return nil, fmt.Errorf("HTTP port: %w", err)
	}
	dev.HTTPPort = portOf(c.ln.Addr())
	dev.RTSPPort = portOf(b.rtspLn.Addr())
	dev.Media = mediaURLs{rtspPort: dev.RTSPPort, httpPort: dev.HTTPPort, path: c.Path}

	if serr := dev.SyncFixedProfiles(); serr != nil {
		log.Warn("cannot update the fixed media profiles", "err", serr)
	}
	soapAuth := httpauth.New(Realm, store)
	soapAuth.AllowBasic = false // SOAP clients do Digest or WS-Security
	onvifEndpoint, err := soap.NewEndpoint(soap.EndpointConfig{
		// The services of the device, in the order GetServices lists them.
		Services: []soap.Service{onvif.DeviceService(dev), onvif.MediaService(dev), onvif.EventsService(c.ev.events)},
		Security: &soap.Security{
			Auth:                soapAuth,
			MaxSkew:             b.cfg.TokenWindow,
			Nonces:              &b.nonces, // one for every camera: a token works once, on one of them
			NoCredentialsFaults: noCredentialsFaults(b.cfg.StrictAuthFaults),
		},
		Logger: log,
	})
	if err != nil {
		c.ln.Close()
		c.Session.Close()
		c.ev.events.Close()
		return nil, err
	}
	c.onvif = onvifEndpoint
	r := mux.NewRouter()
	// Every /onvif/ path answers ONVIF (dispatch is on the request
	// element): go2rtc posts GetSnapshotUri to /onvif/imaging_service and
	// other clients use fixed paths whatever the XAddrs say. The event
	// subscription addresses are below it too.
	r.PathPrefix(ONVIFPathPrefix).Handler(onvifEndpoint)
	c.http = &stream.Camera{
		Video:          c.Video,
		Audio:          c.Audio,
		MaxSnapshotAge: b.cfg.MaxSnapshotAge,
		Auth:           httpauth.New(Realm, store),
		Logger:         log,
	}
	if len(cc.RTSPAnonymous) > 0 {
		// The snapshot is open to whom RTSP is: NVRs that read RTSP
		// without credentials fetch the snapshot the same way.
		c.http.SnapshotAuth = httpauth.New(Realm, store)
		c.http.SnapshotAuth.Anonymous = anonymous(cc.RTSPAnonymous)
	}
	c.http.Register(r)
	c.live = c.http.Handler()
	// No WriteTimeout: streams are endless and bound each write themselves.
	c.srv = &http.Server{
		Handler:           http.MaxBytesHandler(r, MaxRequestBody),
		ReadHeaderTimeout: b.cfg.ReadHeaderTimeout,
		IdleTimeout:       b.cfg.IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelDebug),
		ConnState:         connlimit.ConnState,
		ConnContext:       stream.ConnContext,
	}
	c.rtspAuth = httpauth.New(Realm, store)
	c.rtspAuth.AllowBasic = b.cfg.RTSPBasicAuth
	c.rtspAuth.Anonymous = anonymous(cc.RTSPAnonymous)
	b.rtsp.Handle(c.Path, rtsp.Source{Video: c.Video, Audio: c.Audio, Auth: c.rtspAuth, NoH264: !dev.HasH264,
		Administrator: func(user string) bool {
			level, ok := store.Level(user)
			return ok && level == onvif.LevelAdministrator
		}})
	c.serveEncoderSettings(log)
	store.WatchUsers(func(names []string) { c.usersChanged(log, names) })
	return c, nil
}

// usersChanged ends what was served to users on the strength of
// credentials they no longer have (deleted, another password or level, or
// "" for anonymous clients once the camera has users): their MJPEG and WAV
// streams, RTSP sessions and event subscriptions. They must log in again.
func (c *Camera) usersChanged(log *slog.Logger, names []string) {
	for _, n := range names {
		streams := c.http.CloseUser(n)
		sessions := c.bridge.rtsp.CloseUser(c.Path, n)
		subs := c.ev.events.CloseUser(n)
		if streams+sessions+subs > 0 {
			log.Info("credentials changed: closed what the user had open", "user", n,
				"http_streams", streams, "rtsp_sessions", sessions, "subscriptions", subs)
		}
	}
}

// noCredentialsFaults returns the soap.Security quirk table (see
// Config.StrictAuthFaults): an unauthenticated media CreateProfile gets
// env:Receiver/ter:Action/ter:MaxNVTProfiles, which Synology Surveillance
// Station accepts, instead of NotAuthorized, which it reports as a wrong
// password.
func noCredentialsFaults(strict bool) map[wsdl.Op]*soap.Fault {
	if strict {
		return nil
	}
	return map[wsdl.Op]*soap.Fault{
		{Namespace: wsdl.NSMedia, Name: wsdl.MediaCreateProfile}: soap.Action("maximum number of media profiles reached", "MaxNVTProfiles"),
	}
}

func (c *Camera) start(ctx context.Context) {
	b := c.bridge
	ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Go(func() { b.report(c.Config.Name+" session", c.runSession(ctx)) })
	c.wg.Go(func() { b.report(c.Config.Name+" http", c.srv.Serve(limitConns(c.ln))) })
	c.wg.Go(func() { b.report(c.Config.Name+" motion", c.runMotion(ctx)) })
	c.wg.Go(func() { b.report(c.Config.Name+" recording", c.runRecorder(ctx)) })
	b.log.Info("camera ready", "camera", c.Config.Name, "ip", c.Config.IP.String(), "onvif", c.DeviceServiceURL(c.Host()),
		"rtsp", c.RTSPURL(c.Host(), rtsp.StreamJPEG), "mjpeg", c.MJPEGURL(c.Host()))
}

// EndpointUUID implements discovery.Target: the device's UUID.
func (c *Camera) EndpointUUID() uuid.UUID { return c.Device.UUID }

// Scopes implements discovery.Target: fixed and configurable scopes.
func (c *Camera) Scopes() []string { return c.Device.Scopes() }

// XAddrs implements discovery.Target: the device service URL at the
// camera's own bind address, or at local when it listens on all addresses.
func (c *Camera) XAddrs(local netip.Addr) []string {
	host := local.String()
	if c.Config.BindIP.IsValid() && !c.Config.BindIP.IsUnspecified() {
		host = c.Config.BindIP.String()
	}
	return []string{c.DeviceServiceURL(host)}
}

// Discoverable implements discovery.Target: false in NonDiscoverable mode.
func (c *Camera) Discoverable() bool {
	return c.Device.Store.Get().DiscoveryMode != onvif.NonDiscoverable && !c.ev.offline.Load()
}

// MetadataVersion implements discovery.Target; it grows with every change
// of the device's settable state (scopes among them).
func (c *Camera) MetadataVersion() uint32 { return c.metadata.Load() + 1 }

// stateChanged runs after every store update. When the scopes or the
// discovery mode changed it bumps the metadata version and announces the
// device again: Hello, or Bye when it became non-discoverable.
func (c *Camera) stateChanged() {
	st := c.Device.Store.Get()
	now := st.DiscoveryMode != onvif.NonDiscoverable
	key := strings.Join(st.Scopes, " ") + "|" + st.DiscoveryMode
	c.mu.Lock()
	changed := key != c.announced
	c.announced = key
	c.mu.Unlock()
	if !changed {
		return
	}
	c.metadata.Add(1)
	r := c.bridge.discovery
	was := c.discoverable.Swap(now)
	switch {
	case now:
		r.Hello(c)
	case was:
		r.Bye(c)
	}
}

// closeSockets releases a camera that was never started.
func (c *Camera) closeSockets() {
	c.ln.Close()
	c.Session.Close()
	c.ev.events.Close()
}

// Host returns the address to print in this camera's URLs: its bind
// address, else the bridge's, else the local address the camera session
// uses (the interface facing the camera, which is usually the one NVRs
// reach too).
func (c *Camera) Host() string {
	if c.Config.BindIP.IsValid() && !c.Config.BindIP.IsUnspecified() {
		return c.Config.BindIP.String()
	}
	if a := c.Session.LocalAddr().Addr(); a.IsValid() && !a.IsUnspecified() {
		return a.String()
	}
	return "127.0.0.1"
}

// HTTPPort returns the camera's HTTP port.
func (c *Camera) HTTPPort() int { return c.Device.HTTPPort }

// DeviceServiceURL returns the ONVIF device service URL reached at host.
func (c *Camera) DeviceServiceURL(host string) string {
	return "http://" + hostPort(host, c.Device.HTTPPort) + DeviceServicePath
}

// RTSPURL returns the RTSP URL of the rtsp.StreamJPEG or rtsp.StreamH264
// stream at host.
func (c *Camera) RTSPURL(host, video string) string {
	u, _ := c.Device.Media.StreamURI(host, video, "RTSP")
	return u
}

// MJPEGURL returns the multipart MJPEG URL at host.
func (c *Camera) MJPEGURL(host string) string {
	return stream.URL(host, c.Device.HTTPPort, stream.MJPEGPath)
}

// AudioURL returns the WAV audio URL at host ("" without audio).
func (c *Camera) AudioURL(host string) string {
	if c.Audio == nil {
		return ""
	}
	return stream.URL(host, c.Device.HTTPPort, stream.AudioPath)
}

// SnapshotURL returns the JPEG snapshot URL at host.
func (c *Camera) SnapshotURL(host string) string {
	u, _ := c.Device.Media.SnapshotURI(host)
	return u
}

// mediaURLs implements onvif.MediaURLs for one camera.
type mediaURLs struct {
	rtspPort, httpPort int
	path               string
}

func (m mediaURLs) StreamURI(host, video, transport string) (string, error) {
	return rtsp.URL(host, m.rtspPort, m.path, video), nil
}

func (m mediaURLs) SnapshotURI(host string) (string, error) {
	return stream.URL(host, m.httpPort, stream.SnapshotPath), nil
}

// hostPort joins a host (IPv6 already in brackets, as onvif.RequestHost
// returns it) and a port.
func hostPort(host string, port int) string {
	return host + ":" + strconv.Itoa(port)
}

// limitConns admits the connections of ln within MaxHTTPConns and
// MaxHTTPConnsPerAddr; the server's ConnState must be connlimit.ConnState.
func limitConns(ln net.Listener) net.Listener {
	return &connlimit.Listener{Listener: ln, Limiter: &connlimit.Limiter{Max: MaxHTTPConns, MaxPerAddr: MaxHTTPConnsPerAddr}}
}

func listenAddr(ip netip.Addr, port int) string {
	if port == AnyPort {
		port = 0
	}
	h := ""
	if ip.IsValid() {
		h = ip.String()
	}
	return net.JoinHostPort(h, strconv.Itoa(port))
}

func portOf(a net.Addr) int {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.Port
	}
	return 0
}

// anonymous returns the httpauth.Authenticator.Anonymous of the clients in
// prefixes, nil for none.
func anonymous(prefixes []netip.Prefix) func(netip.Addr) bool {
	if len(prefixes) == 0 {
		return nil
	}
	prefixes = slices.Clone(prefixes)
	return func(client netip.Addr) bool {
		return slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(client.Unmap()) })
	}
}
