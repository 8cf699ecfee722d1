package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/motion"
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

A camera that does not answer (wrong IP, powered off) is logged once and
retried in the background; its ONVIF device stays up and reports SignalLoss,
and its snapshot answers 503 until frames arrive. Motion is detected by the
bridge itself (ONVIF MotionAlarm and CellMotionDetector events): tune it with
-motion-sensitivity and -motion-hold, or turn it off with -no-motion.

Ctrl-C or SIGTERM stops cleanly: WS-Discovery Bye, camera sessions closed,
exit status 0. A second Ctrl-C quits at once.

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
	adminPort      int
	bind           string
	audio          bool
	noH264         bool
	discovery      bool
	discoveryIfs   string
	stateDir       string
	motionSens     int
	motionHold     time.Duration
	noMotion       bool
	strictAuth     bool
}

// Motion sensitivity scale of -motion-sensitivity.
const (
	minSensitivity     = 1
	maxSensitivity     = 100
	defaultSensitivity = 50 // the motion package's defaults
)

func (sf *serveFlags) register(fs *flagSet, bindDefault string, audioDefault, discoveryDefault bool) {
	fs.StringVar(&sf.user, "user", "", "administrator user for ONVIF, RTSP and HTTP (default: none, everything open)")
	fs.StringVar(&sf.password, "password", "", "the administrator's password")
	fs.IntVar(&sf.httpPort, "http-port", bridge.DefaultHTTPBasePort, "HTTP port of the first camera; camera N gets this port + N-1")
	fs.IntVar(&sf.rtspPort, "rtsp-port", bridge.DefaultRTSPPort, "RTSP port shared by all cameras")
	fs.IntVar(&sf.adminPort, "admin-port", admin.DefaultPort, "port of the web page, /metrics, /healthz and /api/cameras (0: off)")
	fs.StringVar(&sf.bind, "bind", bindDefault, "IPv4 address to listen on (empty: all interfaces)")
	fs.BoolVar(&sf.audio, "audio", audioDefault, "ask the cameras for audio and serve it (G.711 over RTSP, WAV over HTTP)")
	fs.BoolVar(&sf.noH264, "no-h264", false, "do not offer the H.264 profile even if ffmpeg can encode it")
	fs.BoolVar(&sf.discovery, "discovery", discoveryDefault, "announce the cameras with WS-Discovery so NVRs find them (multicast on every interface)")
	fs.StringVar(&sf.discoveryIfs, "discovery-interfaces", "", "comma-separated network interfaces for WS-Discovery, e.g. eth0,wlan0 (default: every multicast interface, re-scanned)")
	fs.StringVar(&sf.stateDir, "state-dir", "", "directory for the persisted ONVIF state (default $XDG_STATE_HOME/chinesium or ~/.local/state/chinesium)")
	fs.IntVar(&sf.motionSens, "motion-sensitivity", defaultSensitivity, fmt.Sprintf("motion detection sensitivity, %d (only large, strong changes) to %d (small, faint ones)", minSensitivity, maxSensitivity))
	fs.DurationVar(&sf.motionHold, "motion-hold", motion.DefaultHold, "how long motion stays on after it was last seen")
	fs.BoolVar(&sf.noMotion, "no-motion", false, "turn motion detection off (saves the JPEG decoding; the motion events stay false)")
	fs.BoolVar(&sf.strictAuth, "strict-auth-faults", false, "answer an unauthenticated CreateProfile with NotAuthorized (by default it gets a MaxNVTProfiles fault, which Synology Surveillance Station needs)")
}

// motionConfig maps a sensitivity (1-100, 50 = the motion package's
// defaults) to the detector's thresholds: every 25 steps up halve the
// luma change a cell needs and the share of cells that must change.
func motionConfig(sensitivity int, hold time.Duration) motion.Config {
	scale := math.Exp2(float64(defaultSensitivity-sensitivity) / 25)
	return motion.Config{
		Threshold: motion.DefaultThreshold * scale,
		MinArea:   motion.DefaultMinArea * scale,
		Hold:      hold,
	}
}

// config turns the flags into a bridge configuration.
func (sf *serveFlags) config(fs *flagSet, e *env) (bridge.Config, error) {
	cfg := bridge.Config{
		HTTPBasePort: sf.httpPort,
		RTSPPort:     sf.rtspPort,
		AdminPort:    sf.adminPort,
		NoAdmin:      sf.adminPort == 0,
		User:         sf.user,
		Password:     sf.password,
		Audio:        sf.audio,
		NoH264:       sf.noH264,
		StateDir:     sf.stateDir,
		Logger:       fs.logger(e),
		NoMotion:     sf.noMotion,
		Motion:       motionConfig(sf.motionSens, sf.motionHold),

		StrictAuthFaults: sf.strictAuth,
	}
	if sf.discovery {
		cfg.Discovery = &discovery.Config{}
		for name := range strings.SplitSeq(sf.discoveryIfs, ",") {
			if name = strings.TrimSpace(name); name != "" {
				cfg.Discovery.Interfaces = append(cfg.Discovery.Interfaces, name)
			}
		}
	} else if sf.discoveryIfs != "" {
		return cfg, usagef("-discovery-interfaces needs -discovery")
	}
	if sf.motionSens < minSensitivity || sf.motionSens > maxSensitivity {
		return cfg, usagef("-motion-sensitivity must be between %d and %d", minSensitivity, maxSensitivity)
	}
	if sf.motionHold <= 0 {
		return cfg, usagef("-motion-hold must be positive")
	}
	if sf.user == "" && sf.password != "" {
		return cfg, usagef("-password needs -user")
	}
	if sf.user != "" && sf.password == "" {
		return cfg, usagef("-user needs -password")
	}
	if sf.httpPort <= 0 || sf.httpPort > 65535 || sf.rtspPort <= 0 || sf.rtspPort > 65535 || sf.adminPort < 0 || sf.adminPort > 65535 {
		return cfg, usagef("ports must be between 1 and 65535 (-admin-port 0 turns the admin page off)")
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
	if serr := b.Start(ctx); serr != nil {
		return serr
	}
	printCameras(e.stdout, b, cfg, label)
	<-ctx.Done()
	// A second Ctrl-C (or SIGTERM) while shutting down quits at once.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-again; ok {
			fmt.Fprintln(e.stderr, "chinesium: second signal: quitting at once")
			os.Exit(1)
		}
	}()
	cfg.Logger.Info("shutting down: sending Bye, closing the camera sessions (Ctrl-C again quits at once)")
	err = b.Close()
	signal.Stop(again)
	close(again)
	if err == nil {
		cfg.Logger.Info("stopped")
	}
	return err
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
	if u := b.AdminURL(); u != "" {
		fmt.Fprintf(w, "Web page    %s  (also %smetrics, %shealthz)\n", u, u, u)
	}
	if cfg.User == "" {
		fmt.Fprintln(w, "No user set: anyone who can reach these ports can watch. Use -user and -password.")
	} else {
		fmt.Fprintf(w, "Log in as %q (ONVIF, RTSP and HTTP).\n", cfg.User)
	}
}
