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
	"strings"
	"time"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/onvif/discovery"
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
	// HTTPPort is this camera's HTTP port (ONVIF and streams). 0 takes
	// Config.HTTPBasePort + the camera's index; AnyPort a free port.
	HTTPPort int
	// BindIP is the address this camera's HTTP server listens on, for NVRs
	// that identify devices by IP. It defaults to Config.Bind.
	BindIP netip.Addr
	// ControlPort is the camera's control port; default 10104.
	ControlPort int
	// LocalIP and LocalPort are the session's local address (see
	// camsession.Config); zero values take its defaults.
	LocalIP   netip.Addr
	LocalPort int
}

// Config configures a Bridge. Only Cameras is required.
type Config struct {
	// Cameras are the cameras to serve, in order.
	Cameras []CameraConfig
	// Bind is the address the servers listen on; the zero value means all
	// interfaces.
	Bind netip.Addr
	// HTTPBasePort is the first camera's HTTP port; default
	// DefaultHTTPBasePort.
	HTTPBasePort int
	// RTSPPort is the RTSP server's port; default DefaultRTSPPort, AnyPort
	// for a free one.
	RTSPPort int
	// User and Password are the administrator for ONVIF, RTSP and the HTTP
	// streams of every camera. An empty User leaves everything open
	// (unless ONVIF users are created through CreateUsers, which protects
	// only the camera they were created on).
	User, Password string
	// Audio asks the cameras for audio and serves it (G.711 over RTSP, WAV
	// over HTTP, audio configurations in ONVIF).
	Audio bool
	// StateDir holds the persisted ONVIF state, one file per camera. It
	// defaults to DefaultStateDir().
	StateDir string
	// FFmpeg is the ffmpeg executable for the H.264 profile; default
	// "ffmpeg" from PATH. Without a usable ffmpeg only JPEG is offered.
	FFmpeg string
	// NoH264 turns the H.264 profile off even when ffmpeg can encode.
	NoH264 bool
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

// withDefaults validates cfg and returns it with every default filled in.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Cameras) == 0 {
		return cfg, errors.New("bridge: no camera configured")
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
	if cfg.User == "" && cfg.Password != "" {
		return cfg, errors.New("bridge: a password needs a user")
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
	for i, c := range cfg.Cameras {
		if !c.IP.IsValid() || !c.IP.Is4() {
			return cfg, fmt.Errorf("bridge: camera %d: %q is not an IPv4 address", i+1, c.IP)
		}
		if c.ID == "" {
			c.ID = c.IP.String()
		}
		if c.Name == "" {
			c.Name = DefaultName(c.IP)
		}
		if c.HTTPPort == 0 {
			c.HTTPPort = cfg.HTTPBasePort + i
		}
		if !c.BindIP.IsValid() {
			c.BindIP = cfg.Bind
		}
		slug := pathName(c.Name)
		if names[slug] {
			return cfg, fmt.Errorf("bridge: two cameras named %q", c.Name)
		}
		if ids[c.ID] {
			return cfg, fmt.Errorf("bridge: two cameras with id %q", c.ID)
		}
		names[slug], ids[c.ID] = true, true
		cams[i] = c
	}
	cfg.Cameras = cams
	return cfg, nil
}

// pathName makes a camera name usable as one RTSP path segment: letters,
// digits, '-', '_' and '.' are kept, anything else becomes '-'.
func pathName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		return "cam"
	}
	return s
}
