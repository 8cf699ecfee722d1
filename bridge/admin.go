package bridge

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/connlimit"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/stream"
)

// listenAdmin binds the admin server's port (unless it is off).
func (b *Bridge) listenAdmin() error {
	if b.cfg.NoAdmin {
		return nil
	}
	ln, err := net.Listen("tcp4", listenAddr(b.cfg.Bind, b.cfg.AdminPort))
	if err != nil {
		return fmt.Errorf("bridge: admin port: %w", err)
	}
	b.adminLn = ln
	return nil
}

// serveAdmin serves the web page, /metrics, /healthz and /api/cameras on
// the admin port, reading the Stats of every camera's session and HTTP
// streams, the RTSP server and the WS-Discovery responder. The users of
// the bridge's configuration log in there; the users created over ONVIF
// belong to one camera each and do not.
func (b *Bridge) serveAdmin() {
	if b.adminLn == nil {
		return
	}
	cfg := admin.Config{
		Cameras: b.adminCameras,
		RTSP:    b.rtsp,
		Logger:  b.log,
	}
	if b.discovery != nil {
		cfg.Discovery = b.discovery
	}
	// Always an authenticator: it is open while no user is configured,
	// and follows the users a reload configures.
	cfg.Auth = httpauth.New(Realm, &b.users)
	h, err := admin.New(cfg)
	if err != nil {
		panic(err) // only a missing Cameras fails, and it is set
	}
	b.admin = &http.Server{
		Handler:           http.MaxBytesHandler(h, MaxRequestBody),
		ReadHeaderTimeout: b.cfg.ReadHeaderTimeout,
		IdleTimeout:       b.cfg.IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(b.log.With("component", "admin").Handler(), slog.LevelDebug),
		ConnState:         connlimit.ConnState,
		ConnContext:       stream.ConnContext, // the live pictures
	}
	b.wg.Go(func() { b.report("admin", b.admin.Serve(limitConns(b.adminLn))) })
	b.log.Info("admin page ready", "url", "http://"+hostPort(b.adminHost(), b.AdminPort())+"/")
}

// AdminPort returns the port of the admin server, 0 when it is off.
func (b *Bridge) AdminPort() int {
	if b.adminLn == nil {
		return 0
	}
	return portOf(b.adminLn.Addr())
}

// AdminURL returns the admin page's URL, "" when the admin server is off.
func (b *Bridge) AdminURL() string {
	if b.adminLn == nil {
		return ""
	}
	return "http://" + hostPort(b.adminHost(), b.AdminPort()) + "/"
}

// adminHost is the host to print in the admin page's URL: the bind
// address, else the address the first camera's URLs use.
func (b *Bridge) adminHost() string {
	if b.cfg.Bind.IsValid() && !b.cfg.Bind.IsUnspecified() {
		return b.cfg.Bind.String()
	}
	for _, c := range b.Cameras() {
		if !c.Config.BindIP.IsValid() || c.Config.BindIP.IsUnspecified() {
			return c.Host()
		}
	}
	return "localhost"
}

// adminCameras describes the cameras to the admin server.
func (b *Bridge) adminCameras() []admin.Camera {
	cams := b.Cameras()
	out := make([]admin.Camera, 0, len(cams))
	for _, c := range cams {
		ac := admin.Camera{
			ID:       c.Path,
			Name:     c.Config.Name,
			IP:       c.Config.IP,
			Session:  c.Session,
			HTTP:     c.http,
			RTSPPath: c.Path,
			ONVIF:    c.onvif,
			Events:   c.ev.events,
			HTTPAuth: c.http.Auth,
			RTSPAuth: c.rtspAuth,
			URLs:     c.adminURLs,
			Live:     c.live,
		}
		if !b.cfg.NoMotion {
			ac.Motion = c.ev.motion
		}
		if c.rec != nil {
			ac.Recorder = c.rec
		}
		out = append(out, ac)
	}
	return out
}

// adminURLs returns the camera's URLs for a client that reached the admin
// page at host: at the camera's own address when it has one, else at host.
func (c *Camera) adminURLs(host string) admin.URLs {
	if c.Config.BindIP.IsValid() && !c.Config.BindIP.IsUnspecified() {
		host = c.Config.BindIP.String()
	}
	u := admin.URLs{
		ONVIF:    c.DeviceServiceURL(host),
		RTSPJPEG: c.RTSPURL(host, "jpeg"),
		MJPEG:    c.MJPEGURL(host),
		Snapshot: c.SnapshotURL(host),
	}
	if c.Device.HasH264 {
		u.RTSPH264 = c.RTSPURL(host, "h264")
	}
	return u
}

// configuredUsers is the users of the configuration as an httpauth.Users,
// replaced as a whole when the configuration changes.
type configuredUsers struct {
	m atomic.Pointer[httpauth.StaticUsers]
}

func (u *configuredUsers) set(users []onvif.User) {
	m := httpauth.StaticUsers{}
	for _, x := range users {
		m[x.Name] = x.Password
	}
	u.m.Store(&m)
}

// Password implements httpauth.Users.
func (u *configuredUsers) Password(name string) (string, bool) {
	if m := u.m.Load(); m != nil {
		return m.Password(name)
	}
	return "", false
}

// Len implements httpauth.Users' optional Len: no users, no login.
func (u *configuredUsers) Len() int {
	if m := u.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}
