// Package admin is the bridge-wide admin HTTP server: a web page with every
// camera live, a JSON status API (/api/cameras), Prometheus metrics
// (/metrics) and a health check (/healthz).
//
// The server counts nothing itself. Every component that counts has a
// Stats method returning a plain struct of its counters (the Stats
// interface); the server reads them when a request or a scrape comes in, so
// every number has exactly one owner and nothing is counted twice.
package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/onvif/discovery"
	"github.com/chinesium/chinesium/record"
	"github.com/chinesium/chinesium/rtsp"
	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/stream"
)

// DefaultPort is the admin server's TCP port.
const DefaultPort = 8080

// Routes of the admin server.
const (
	// PagePath is the web page.
	PagePath = "/"
	// CamerasPath answers the status of every camera as JSON.
	CamerasPath = "/api/cameras"
	// MetricsPath answers the metrics in the Prometheus text format.
	MetricsPath = "/metrics"
	// HealthPath answers 200 when every camera streams, 503 otherwise.
	HealthPath = "/healthz"
	// LivePrefix is followed by a camera's ID and a path of its Live
	// handler: /cameras/<id>/stream.mjpeg, /cameras/<id>/snapshot.jpg;
	// and, for a recorded camera, by /cameras/<id>/recordings/<file>, one
	// recording to download, and /cameras/<id>/recordings/<file>/play,
	// the recording played as MJPEG for a browser.
	LivePrefix = "/cameras/"
)

// Limits on the recordings played at once (Config.MaxPlayers,
// Config.MaxPlayersPerClient). A browser keeps at most six connections to
// a server, and the page's live pictures take up to four.
const (
	DefaultMaxPlayers          = 16
	DefaultMaxPlayersPerClient = 2
)

// Stats is implemented by every component that counts: Stats returns a
// snapshot of its counters as a plain struct. It must be safe to call from
// any goroutine at any time.
type Stats[T any] interface {
	Stats() T
}

// Session is a camera session as the admin server reads it.
type Session interface {
	Stats() camsession.Stats
	State() camsession.State
}

// URLs are the addresses clients use for one camera, as shown on the page
// for copying.
type URLs struct {
	ONVIF    string `json:"onvif"`               // the ONVIF device service
	RTSPJPEG string `json:"rtsp_jpeg"`           // RTSP with the camera's JPEG frames
	RTSPH264 string `json:"rtsp_h264,omitempty"` // RTSP H.264; empty when not offered
	MJPEG    string `json:"mjpeg"`               // multipart MJPEG over HTTP
	Snapshot string `json:"snapshot"`            // one JPEG
}

// Camera is one camera as the admin server shows it. The fields are read at
// every request; the components behind them are read through their Stats.
type Camera struct {
	// ID names the camera in the admin server's URLs: letters, digits,
	// '-', '_' and '.'. Required and unique.
	ID string
	// Name is the camera's display name and its metrics label. It
	// defaults to ID.
	Name string
	// IP is the camera's address.
	IP netip.Addr
	// Session is the camera session. Required.
	Session Session
	// HTTP counts the camera's MJPEG, snapshot and WAV viewers; nil when
	// it has none.
	HTTP Stats[stream.Stats]
	// RTSPPath is the camera's path in Config.RTSP's Stats; empty when it
	// has no RTSP streams.
	RTSPPath string
	// ONVIF counts the requests of the camera's ONVIF services; Events
	// its event subscriptions. nil when it has none.
	ONVIF  Stats[soap.Stats]
	Events Stats[onvif.EventsStats]
	// HTTPAuth and RTSPAuth count the refused logins of the camera's HTTP
	// streams and RTSP paths (the ONVIF ones are in ONVIF's Stats); nil
	// when they have no authentication.
	HTTPAuth, RTSPAuth Stats[httpauth.Stats]
	// Motion reports whether motion is seen now; nil when motion
	// detection is off.
	Motion interface{ Motion() bool }
	// URLs returns the camera's URLs for a client that reached the admin
	// server at host (an IP or name, IPv6 in brackets); nil shows none.
	URLs func(host string) URLs
	// Live serves the camera's /stream.mjpeg and /snapshot.jpg for the
	// page, behind the admin server's authentication; nil shows no
	// picture.
	Live http.Handler
	// Recorder is the camera's recorder; nil when it is not recorded.
	// Its state is in /api/cameras and its counters in /metrics; its
	// recordings are listed by /api/cameras/<id>/recordings and served
	// by /cameras/<id>/recordings/<file>.
	Recorder Recorder
}

// Recorder is a camera's recorder as the admin server reads it
// (record.Recorder).
type Recorder interface {
	Stats() record.Stats
	List() ([]record.Recording, error)
}

// Config configures a Server. Cameras is required.
type Config struct {
	// Cameras returns the cameras to show, in display order. It is
	// called at every request, so cameras may come and go.
	Cameras func() []Camera
	// RTSP is the RTSP server the cameras share; nil when there is none.
	RTSP Stats[rtsp.Stats]
	// Discovery is the WS-Discovery responder; nil when it is off.
	Discovery Stats[discovery.Stats]
	// Auth protects everything except /healthz with HTTP Digest or Basic
	// when it has users; nil or no users leaves the server open.
	Auth *httpauth.Authenticator
	// MaxPlayers is how many recordings may play at once, and
	// MaxPlayersPerClient how many of them for one client address. They
	// default to DefaultMaxPlayers and DefaultMaxPlayersPerClient.
	MaxPlayers, MaxPlayersPerClient int
	// Logger receives the errors of metric scrapes, tagged
	// component=admin; nil discards.
	Logger *slog.Logger
}

// Server is the admin HTTP handler. Create it with New and serve it with
// an http.Server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	registry *prometheus.Registry
	players  players
}

//go:embed web
var webFS embed.FS

// New returns the admin server for cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "admin"), mux: http.NewServeMux(), registry: prometheus.NewRegistry(),
		players: players{max: cfg.MaxPlayers, perClient: cfg.MaxPlayersPerClient, byClient: map[netip.Addr]int{}}}
	if err := s.registry.Register(&collector{s: s}); err != nil {
		return nil, fmt.Errorf("admin: metrics: %w", err)
	}
	s.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	pageFiles, err := fs.Sub(webFS, "web")
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	static, err := staticHandler(pageFiles)
	if err != nil {
		return nil, err
	}
	protect := func(h http.Handler) http.Handler {
		if cfg.Auth.Required() {
			return cfg.Auth.Middleware(h)
		}
		return h
	}
	s.mux.Handle("GET "+PagePath+"{$}", protect(http.HandlerFunc(s.servePage)))
	s.mux.Handle("GET /static/", protect(static))
	s.mux.Handle("GET "+CamerasPath, protect(http.HandlerFunc(s.serveCameras)))
	s.mux.Handle("GET "+LivePrefix+"{id}/{file}", protect(http.HandlerFunc(s.serveLive)))
	s.mux.Handle("GET "+CamerasPath+"/{id}/recordings", protect(http.HandlerFunc(s.serveRecordings)))
	s.mux.Handle("GET "+LivePrefix+"{id}/recordings/{file}", protect(http.HandlerFunc(s.serveRecording)))
	s.mux.Handle("GET "+LivePrefix+"{id}/recordings/{file}/play", protect(http.HandlerFunc(s.servePlay)))
	s.mux.Handle("GET "+MetricsPath, protect(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})))
	// The health check stays open: container engines, systemd and load
	// balancers probe it without credentials. It tells only which
	// cameras stream.
	s.mux.HandleFunc("GET "+HealthPath, s.serveHealth)
	return s, nil
}

func (c *Config) setDefaults() error {
	if c.Cameras == nil {
		return errors.New("admin: Config.Cameras is required")
	}
	if c.MaxPlayers == 0 {
		c.MaxPlayers = DefaultMaxPlayers
	}
	if c.MaxPlayersPerClient == 0 {
		c.MaxPlayersPerClient = DefaultMaxPlayersPerClient
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// cameras returns the cameras with their defaults filled in.
func (s *Server) cameras() []Camera {
	cams := s.cfg.Cameras()
	for i := range cams {
		if cams[i].Name == "" {
			cams[i].Name = cams[i].ID
		}
	}
	return cams
}

// serveLive hands /cameras/<id>/stream.mjpeg and /cameras/<id>/snapshot.jpg
// to the camera's Live handler.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("id"), r.PathValue("file")
	if file != "stream.mjpeg" && file != "snapshot.jpg" {
		http.NotFound(w, r)
		return
	}
	for _, c := range s.cfg.Cameras() {
		if c.ID == id && c.Live != nil {
			http.StripPrefix(LivePrefix+id, c.Live).ServeHTTP(w, r)
			return
		}
	}
	http.Error(w, fmt.Sprintf("404 no camera %q", id), http.StatusNotFound)
}

// servePage serves the web page with a policy that allows nothing but this
// server's own scripts, styles, pictures and API.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	b, err := webFS.ReadFile("web/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	_, _ = w.Write(b)
}

// staticHandler serves the page's scripts, styles and icon from files.
// They change only with the binary; an ETag lets the browser revalidate
// them cheaply, so an upgrade never leaves an old script running.
func staticHandler(files fs.FS) (http.Handler, error) {
	type asset struct {
		body []byte
		etag string
	}
	assets := map[string]asset{}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name == "index.html" {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		assets["/static/"+name] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("admin: page files: %w", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", a.etag)
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, path.Base(r.URL.Path), time.Time{}, bytes.NewReader(a.body))
	}), nil
}
