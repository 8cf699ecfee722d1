// Package bridge wires the bridge together: one virtual ONVIF device per
// camera. For every camera it runs a camera session feeding a video (and
// audio) hub, an HTTP server on the camera's own port with the ONVIF
// services and the MJPEG, snapshot and WAV streams, and registers the
// camera with the shared RTSP server. Identity (UUID, serial, MAC) derives
// from the camera's IP or a configured id and settable ONVIF state is
// persisted in a state directory, so both survive restarts.
package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/onvif/discovery"
	"github.com/chinesium/chinesium/record"
	"github.com/chinesium/chinesium/rtsp"
	"github.com/chinesium/chinesium/soap"
)

// Default ports.
const (
	// DefaultHTTPBasePort is the HTTP port of the first camera; camera i
	// (from 0) gets DefaultHTTPBasePort+i unless it has its own port.
	DefaultHTTPBasePort = 8000
	// DefaultRTSPPort is the port of the shared RTSP server.
	DefaultRTSPPort = 8554
	// AnyPort asks for any free port (tests).
	AnyPort = -1
)

// Defaults of the cameras' HTTP servers.
const (
	// DefaultReadHeaderTimeout is Config.ReadHeaderTimeout's default.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout is Config.IdleTimeout's default.
	DefaultIdleTimeout = 2 * time.Minute
	// MaxRequestBody bounds any request body on a camera's HTTP port (the
	// SOAP service applies its own, equal limit before parsing).
	MaxRequestBody = soap.DefaultMaxBodySize
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes = 64 << 10
	// MaxHTTPConns bounds the connections of one camera's HTTP port (and
	// of the admin port): beyond it a new connection closes the one that
	// has waited longest without a request in progress (one that never
	// sent a request, or idle between requests), or is closed itself.
	// Streams being served are never closed for another.
	MaxHTTPConns = 256
	// MaxHTTPConnsPerAddr bounds the connections of one client address on
	// one HTTP port, in the same way; a browser opens 6, an NVR one per
	// stream and a few for snapshots and ONVIF.
	MaxHTTPConnsPerAddr = 32
)

// CameraConfig configures one camera.
type CameraConfig struct {
	// IP is the camera's IPv4 address. Required.
	IP netip.Addr
	// Name is the camera's display name (ONVIF name scope, RTSP path). It
	// defaults to DefaultName(IP): "cam-" and the IP with dashes, e.g.
	// cam-192-168-1-50.
	Name string
	// ID is the identity the device's UUID, serial number and MAC derive
	// from. It defaults to the IP; set it to keep the identity when the
	// camera's IP changes.
	ID string
	// HTTPPort is this camera's HTTP port (ONVIF and streams); AnyPort
	// takes a free one. 0 takes the lowest port from Config.HTTPBasePort
	// up that no other camera uses (at Start, in configuration order, so
	// without explicit ports camera i gets HTTPBasePort+i); a camera keeps
	// its port while it runs, also when others are added or removed.
	HTTPPort int
	// BindIP is the address this camera's HTTP server listens on, for NVRs
	// that identify devices by IP. It defaults to Config.Bind.
	BindIP netip.Addr
	// Audio asks the camera for audio and serves it (G.711 over RTSP, WAV
	// over HTTP, audio configurations in ONVIF).
	Audio bool
	// NoH264 turns this camera's H.264 profile and RTSP stream off. The
	// profile is offered only when ffmpeg can encode H.264.
	NoH264 bool
	// ControlPort is the camera's control port; it defaults to
	// camsession.ControlPort.
	ControlPort int
	// LocalIP and LocalPort are the session's local address (see
	// camsession.Config); zero values take its defaults.
	LocalIP   netip.Addr
	LocalPort int
	// Record, if not nil, records the camera while the bridge serves it
	// into Record.Dir (see record.Config): the bridge sets Name (the
	// camera's path name, which names its folder) and Logger. With
	// Record.Audio the camera is asked for audio even without Audio;
	// Record.Motion records on the bridge's motion detector, which
	// Config.NoMotion must then not turn off.
	Record *record.Config
	// RTSPAnonymous are the clients that may read the camera's RTSP
	// streams and its snapshot without credentials (0.0.0.0/0 and ::/0:
	// every client), for NVRs that never send RTSP credentials (UniFi
	// Protect). Credentials a client sends are still checked; ONVIF and
	// the MJPEG and WAV streams always need them. Empty: none.
	RTSPAnonymous []netip.Prefix
}

// Config configures a Bridge. Only Cameras is required.
type Config struct {
	// Cameras are the cameras to serve, in order.
	Cameras []CameraConfig
	// RTSPBasicAuth accepts HTTP Basic credentials on RTSP beside Digest
	// (and offers them in the challenge), for NVRs that only do Basic.
	// Basic over plain RTSP sends the password in clear text; off by
	// default.
	RTSPBasicAuth bool
	// Bind is the address the servers listen on; the zero value means all
	// interfaces.
	Bind netip.Addr
	// HTTPBasePort is the first camera's HTTP port; default
	// DefaultHTTPBasePort.
	HTTPBasePort int
	// RTSPPort is the RTSP server's port; default DefaultRTSPPort, AnyPort
	// for a free one.
	RTSPPort int
	// Users may log in to every camera (ONVIF, RTSP and the HTTP streams)
	// with their level; ONVIF clients cannot change or delete them. No
	// users leaves everything open (unless ONVIF users are created through
	// CreateUsers, which protects only the camera they were created on).
	Users []onvif.User
	// StateDir holds the persisted ONVIF state, one file per camera. It
	// defaults to DefaultStateDir().
	StateDir string
	// FFmpeg is the ffmpeg executable for the H.264 profile; it defaults
	// to rtsp.DefaultFFmpeg, from PATH. Without a usable ffmpeg only JPEG
	// is offered.
	FFmpeg string
	// MaxSnapshotAge is the oldest frame a snapshot may return; zero takes
	// the stream package's default.
	MaxSnapshotAge time.Duration
	// Discovery, if not nil, announces every camera with WS-Discovery
	// (Hello/Bye, Probe and Resolve answers) using this configuration. If
	// the responder cannot start (no multicast interface) the bridge logs a
	// warning and runs without it.
	Discovery *discovery.Config
	// Motion configures the motion detection behind the motion events
	// (analyses per second, sensitivity, hold time); zero fields take the
	// motion package's defaults. OnChange is set by the bridge.
	Motion motion.Config
	// NoMotion turns motion detection off (no frames are decoded); the
	// motion events then stay false.
	NoMotion bool
	// StrictAuthFaults answers every request that lacks credentials with
	// NotAuthorized. By default (false) an unauthenticated media
	// CreateProfile gets env:Receiver/ter:Action/ter:MaxNVTProfiles instead
	// (the operation is still not executed): Synology Surveillance Station
	// sends one CreateProfile without credentials and takes NotAuthorized
	// for a wrong password, while the MaxNVTProfiles fault lets it carry on
	// with the fixed profiles. Clients that create profiles must then send
	// WS-Security with the first CreateProfile (HTTP Digest gets no
	// challenge for it).
	StrictAuthFaults bool
	// TokenWindow is how far a WS-Security UsernameToken's Created may be
	// from the host clock, either way; every token's nonce is remembered
	// for that long, in one cache for all cameras, so that no token is
	// accepted twice by any of them. It defaults to soap.DefaultMaxSkew
	// (5 min); widen it only for clients that sign with a clock of their
	// own that is off.
	TokenWindow time.Duration
	// PushConsumers are the addresses, besides the subscriber's own, that
	// ONVIF push notifications (WS-BaseNotification Subscribe) may be
	// sent to. Without them an Operator or Administrator may subscribe
	// only an address of the host it subscribes from, so that nobody can
	// make the bridge post to other hosts or to its own loopback.
	PushConsumers []netip.Prefix
	// ReadHeaderTimeout bounds how long a client of a camera's HTTP port
	// (or of the admin server) may take to send its request headers
	// (slow clients holding connections open are cut off); default
	// DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// AdminPort is the port of the admin server (web page, /metrics,
	// /healthz, /api/cameras), which listens on Bind. It defaults to
	// admin.DefaultPort; AnyPort takes a free port.
	AdminPort int
	// NoAdmin turns the admin server off.
	NoAdmin bool
	// IdleTimeout closes idle keep-alive connections of a camera's HTTP
	// port (and of the admin server); default DefaultIdleTimeout. There is deliberately no overall
	// write timeout: streams are endless, and the stream handlers bound
	// each write themselves.
	IdleTimeout time.Duration
	// Scan, if not nil, finds cameras on the LAN and serves those that
	// are not in Cameras (see ScanConfig): at Start, then every
	// Scan.Interval. Cameras may then be empty.
	Scan *ScanConfig
	// Logger receives the bridge's logs; default slog.Default().
	Logger *slog.Logger
	// Session, if set, adjusts every camera's session configuration after
	// the bridge has filled it in (for example shorter timings in tests).
	Session func(*camsession.Config)
}

// DefaultName returns the name of a camera that has none: "cam-" and its
// IP with dashes, e.g. cam-192-168-1-50.
func DefaultName(ip netip.Addr) string {
	return "cam-" + strings.ReplaceAll(ip.String(), ".", "-")
}

// DefaultStateDir returns $XDG_STATE_HOME/chinesium, or
// ~/.local/state/chinesium when XDG_STATE_HOME is not set.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "chinesium"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("bridge: no state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "chinesium"), nil
}

// withDefaults validates cfg and returns it with every default filled in,
// cameras' HTTP ports included.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Cameras) == 0 && cfg.Scan == nil {
		return cfg, errors.New("bridge: no camera configured")
	}
	if cfg.Scan != nil {
		sc := cfg.Scan.withDefaults()
		cfg.Scan = &sc
	}
	if cfg.HTTPBasePort == 0 {
		cfg.HTTPBasePort = DefaultHTTPBasePort
	}
	if cfg.RTSPPort == 0 {
		cfg.RTSPPort = DefaultRTSPPort
	}
	if cfg.AdminPort == 0 {
		cfg.AdminPort = admin.DefaultPort
	}
	for _, u := range cfg.Users {
		if err := checkUser(u); err != nil {
			return cfg, err
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.StateDir == "" {
		d, err := DefaultStateDir()
		if err != nil {
			return cfg, err
		}
		cfg.StateDir = d
	}
	if cfg.Bind.IsValid() && !cfg.Bind.Is4() {
		return cfg, fmt.Errorf("bridge: bind address %s is not IPv4", cfg.Bind)
	}
	cams := make([]CameraConfig, len(cfg.Cameras))
	names := map[string]bool{}
	ids := map[string]bool{}
	for i, given := range cfg.Cameras {
		c, err := cfg.cameraDefaults(given)
		if err != nil {
			return cfg, fmt.Errorf("bridge: camera %d: %w", i+1, err)
		}
		slug := rtsp.PathName(c.Name)
		if names[slug] {
			return cfg, fmt.Errorf("bridge: two cameras named %q", c.Name)
		}
		if ids[c.ID] {
			return cfg, fmt.Errorf("bridge: two cameras with id %q", c.ID)
		}
		names[slug], ids[c.ID] = true, true
		cams[i] = c
	}
	// Automatic ports skip the RTSP and admin ports too.
	used := []int{cfg.RTSPPort, cfg.AdminPort}
	for _, c := range cams {
		if c.HTTPPort != 0 {
			used = append(used, c.HTTPPort)
		}
	}
	for i := range cams {
		if cams[i].HTTPPort == 0 {
			cams[i].HTTPPort = freePort(cfg.HTTPBasePort, used)
			used = append(used, cams[i].HTTPPort)
		}
	}
	cfg.Cameras = cams
	return cfg, nil
}

// cameraDefaults checks one camera and fills in its defaults, all but an
// automatic HTTP port.
func (cfg *Config) cameraDefaults(c CameraConfig) (CameraConfig, error) {
	if !c.IP.IsValid() || !c.IP.Is4() {
		return c, fmt.Errorf("%q is not an IPv4 address", c.IP)
	}
	if c.ID == "" {
		c.ID = c.IP.String()
	}
	if c.Name == "" {
		c.Name = DefaultName(c.IP)
	}
	if !c.BindIP.IsValid() {
		c.BindIP = cfg.Bind
	}
	if c.Record != nil && c.Record.Motion && cfg.NoMotion {
		return c, errors.New("recording on motion needs motion detection, which is off")
	}
	return c, nil
}

// freePort returns the lowest port from base up that is not in used.
func freePort(base int, used []int) int {
	p := base
	for slices.Contains(used, p) {
		p++
	}
	return p
}

// checkUser checks a configured user as the ONVIF user operations would.
func checkUser(u onvif.User) error {
	switch {
	case u.Name == "":
		return errors.New("bridge: a user needs a name")
	case u.Password == "":
		return fmt.Errorf("bridge: user %q needs a password", u.Name)
	}
	switch u.Level {
	case onvif.LevelAdministrator, onvif.LevelOperator, onvif.LevelUser:
		return nil
	}
	return fmt.Errorf("bridge: user %q: level %q is not %s, %s or %s", u.Name, u.Level,
		onvif.LevelAdministrator, onvif.LevelOperator, onvif.LevelUser)
}
