package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/onvif/discovery"
)

const serveHelp = `
Runs the whole bridge: every camera becomes its own ONVIF Profile S device on
its own HTTP port (ONVIF services, MJPEG stream, JPEG snapshot, WAV audio), and
all cameras share one RTSP server (JPEG, and H.264 when ffmpeg with libx264 is
installed). The ONVIF device service, RTSP and MJPEG URLs of every camera are
printed at start. Identity (UUID, serial number, MAC) derives from the camera's
IP, and what ONVIF clients change (profiles, scopes, users) is kept in the
state directory, so NVRs see the same devices after a restart.

Without -user everything is open to anyone who can reach the ports.

NVRs that tell devices apart by IP (UniFi Protect) need one address per
camera: write CAMERA@ADDRESS to serve that camera's ONVIF endpoint and
streams on a local ADDRESS of its own (add the addresses to the host first).

Examples:
  chinesium serve -user admin -password secret 10.10.1.30 10.10.1.31
  chinesium serve -user admin -password secret 10.10.1.30@192.168.1.201 10.10.1.31@192.168.1.202`

// serveFlags are the flags serve and demo share.
type serveFlags struct {
	user, password string
	httpPort       int
	rtspPort       int
	bind           string
	audio          bool
	noH264         bool
	discovery      bool
	stateDir       string
}

func (sf *serveFlags) register(fs *flagSet, bindDefault string, audioDefault, discoveryDefault bool) {
	fs.StringVar(&sf.user, "user", "", "administrator user for ONVIF, RTSP and HTTP (default: none, everything open)")
	fs.StringVar(&sf.password, "password", "", "the administrator's password")
	fs.IntVar(&sf.httpPort, "http-port", bridge.DefaultHTTPBasePort, "HTTP port of the first camera; camera N gets this port + N-1")
	fs.IntVar(&sf.rtspPort, "rtsp-port", bridge.DefaultRTSPPort, "RTSP port shared by all cameras")
	fs.StringVar(&sf.bind, "bind", bindDefault, "IPv4 address to listen on (empty: all interfaces)")
	fs.BoolVar(&sf.audio, "audio", audioDefault, "ask the cameras for audio and serve it (G.711 over RTSP, WAV over HTTP)")
	fs.BoolVar(&sf.noH264, "no-h264", false, "do not offer the H.264 profile even if ffmpeg can encode it")
	fs.BoolVar(&sf.discovery, "discovery", discoveryDefault, "announce the cameras with WS-Discovery so NVRs find them (multicast on every interface)")
	fs.StringVar(&sf.stateDir, "state-dir", "", "directory for the persisted ONVIF state (default $XDG_STATE_HOME/chinesium or ~/.local/state/chinesium)")
}

// config turns the flags into a bridge configuration.
func (sf *serveFlags) config(fs *flagSet, e *env) (bridge.Config, error) {
	cfg := bridge.Config{
		HTTPBasePort: sf.httpPort,
		RTSPPort:     sf.rtspPort,
		User:         sf.user,
		Password:     sf.password,
		Audio:        sf.audio,
		NoH264:       sf.noH264,
		StateDir:     sf.stateDir,
		Logger:       fs.logger(e),
	}
	if sf.discovery {
		cfg.Discovery = &discovery.Config{}
	}
	if sf.user == "" && sf.password != "" {
		return cfg, usagef("-password needs -user")
	}
	if sf.user != "" && sf.password == "" {
		return cfg, usagef("-user needs -password")
	}
	if sf.httpPort <= 0 || sf.httpPort > 65535 || sf.rtspPort <= 0 || sf.rtspPort > 65535 {
		return cfg, usagef("ports must be between 1 and 65535")
	}
	if sf.bind != "" {
		ip, err := netip.ParseAddr(sf.bind)
		if err != nil || !ip.Is4() {
			return cfg, usagef("-bind %q is not an IPv4 address", sf.bind)
		}
		cfg.Bind = ip
	}
	return cfg, nil
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[flags] IP[@BIND] [IP[@BIND]...]", serveHelp)
	var sf serveFlags
	sf.register(fs, "", false, true)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("give the IP of at least one camera, e.g. chinesium serve 10.10.1.30 (chinesium discover lists cameras)")
	}
	cfg, err := sf.config(fs, e)
	if err != nil {
		return err
	}
	for _, a := range pos {
		camIP, bind, hasBind := strings.Cut(a, "@")
		ip, err := parseCameraIP("serve", camIP)
		if err != nil {
			return err
		}
		cc := bridge.CameraConfig{IP: ip}
		if hasBind {
			b, err := netip.ParseAddr(bind)
			if err != nil || !b.Is4() || b.IsUnspecified() {
				return usagef("%q: the address after @ must be a local IPv4 address for this camera's endpoint", a)
			}
			cc.BindIP = b
		}
		cfg.Cameras = append(cfg.Cameras, cc)
	}
	return runBridge(ctx, e, cfg, nil)
}

// runBridge starts the bridge, prints the cameras' URLs, and serves until
// ctx is done. label, if set, names what each camera is (for the demo).
func runBridge(ctx context.Context, e *env, cfg bridge.Config, label func(i int) string) error {
	b, err := bridge.New(cfg)
	if err != nil {
		return err
	}
	if err := b.Start(ctx); err != nil {
		return err
	}
	printCameras(e.stdout, b, cfg, label)
	<-ctx.Done()
	return b.Close()
}

// printCameras prints every camera's URLs.
func printCameras(w io.Writer, b *bridge.Bridge, cfg bridge.Config, label func(i int) string) {
	for i, c := range b.Cameras() {
		h := c.Host()
		what := "camera " + c.Config.IP.String()
		if label != nil {
			what = label(i)
		}
		fmt.Fprintf(w, "%s (%s)\n", c.Config.Name, what)
		fmt.Fprintf(w, "  ONVIF     %s\n", c.DeviceServiceURL(h))
		fmt.Fprintf(w, "  RTSP      %s\n", c.RTSPURL(h, "jpeg"))
		if c.Device.HasH264 {
			fmt.Fprintf(w, "  RTSP H264 %s\n", c.RTSPURL(h, "h264"))
		}
		fmt.Fprintf(w, "  MJPEG     %s\n", c.MJPEGURL(h))
		fmt.Fprintf(w, "  snapshot  %s\n", c.SnapshotURL(h))
		if c.Device.HasAudio {
			fmt.Fprintf(w, "  audio     http://%s:%d/audio.wav\n", h, c.HTTPPort())
		}
	}
	if cfg.User == "" {
		fmt.Fprintln(w, "No user set: anyone who can reach these ports can watch. Use -user and -password.")
	} else {
		fmt.Fprintf(w, "Log in as %q (ONVIF, RTSP and HTTP).\n", cfg.User)
	}
}
