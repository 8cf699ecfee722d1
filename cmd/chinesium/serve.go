package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/config"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/rtsp"
)

const serveHelp = `
Runs the whole bridge: every camera becomes its own ONVIF Profile S device on
its own HTTP port (ONVIF services, MJPEG stream, JPEG snapshot, WAV audio), and
all cameras share one RTSP server (JPEG, and H.264 when ffmpeg with libx264 is
installed). The ONVIF device service, RTSP and MJPEG URLs of every camera are
printed at start. Identity (UUID, serial number, MAC) derives from the camera's
IP, and what ONVIF clients change (profiles, scopes, users) is kept in the
state directory, so NVRs see the same devices after a restart.

The cameras and settings come from the command line, or from a YAML file
(-config; "chinesium config example" prints one with every key), or from
CHINESIUM_* environment variables: flags override the environment, which
overrides the file. Cameras given on the command line replace the file's.

Without -user (or users in the file) everything is open to anyone who can
reach the ports.

A camera that does not answer (wrong IP, powered off) is logged once and
retried in the background; its ONVIF device stays up and reports SignalLoss,
and its snapshot answers 503 until frames arrive. Motion is detected by the
bridge itself (ONVIF MotionAlarm and CellMotionDetector events): tune it with
-motion-sensitivity and -motion-hold, or turn it off with -no-motion.

SIGHUP reloads the configuration (the file, the environment and the flags
again): cameras added to it start, removed ones stop, changed ones restart,
and the others, with their viewers, carry on untouched; the users change
at once. A configuration with a mistake is refused with the reason in the
log, and the running one stays. Settings that need a restart (ports,
bind address, ...) are named in the log.

Ctrl-C or SIGTERM stops cleanly: WS-Discovery Bye, camera sessions closed,
exit status 0. A second Ctrl-C quits at once.

-discover finds the cameras on the LAN with the broadcast port request (as
"chinesium discover" does), at start and then every scan.interval, and
serves every camera that answers and is not configured, named and
identified by its UID so that it stays the same device when its address
changes. No camera needs to be given then.

NVRs that tell devices apart by IP (UniFi Protect) need one address per
camera: write CAMERA@ADDRESS to serve that camera's ONVIF endpoint and
streams on a local ADDRESS of its own (add the addresses to the host first).

Examples:
  chinesium serve -user admin -password secret 10.10.1.30 10.10.1.31
  chinesium serve -user admin -password secret 10.10.1.30@192.168.1.201 10.10.1.31@192.168.1.202
  chinesium serve -config chinesium.yaml
  chinesium serve -discover -discover-broadcast 192.168.1.255:10104`

// settingFlag is a command-line flag that sets a configuration key.
type settingFlag struct {
	name string
	key  string
	// boolean flags need no value (-audio); inverted ones (-no-motion)
	// set their key to the opposite.
	boolean, inverted bool
	usage             string
}

// settingFlags are the flags of serve and demo. Every one sets a key of
// the configuration (see package config), over the file and the
// environment.
var settingFlags = []settingFlag{
	{name: "user", key: config.KeyUser, usage: "administrator `user` for ONVIF, RTSP and HTTP (with -password; replaces the file's users)"},
	{name: "password", key: config.KeyPassword, usage: "the administrator's `password`"},
	{name: "http-port", key: "listen.http_base_port", usage: "HTTP `port` of the first camera; the next cameras take the next free ports"},
	{name: "rtsp-port", key: "listen.rtsp_port", usage: "RTSP `port` shared by all cameras"},
	{name: "bind", key: "listen.bind", usage: "IPv4 `address` to listen on (empty: all interfaces)"},
	{name: "admin-port", key: "listen.admin_port", usage: "`port` of the web page, /metrics, /healthz and /api/cameras (0: off)"},
	{name: "audio", key: "audio", boolean: true, usage: "ask the cameras for audio and serve it (G.711 over RTSP, WAV over HTTP)"},
	{name: "no-h264", key: "h264", boolean: true, inverted: true, usage: "do not offer the H.264 profile even if ffmpeg can encode it"},
	{name: "discovery", key: "discovery.enabled", boolean: true, usage: "announce the cameras with WS-Discovery so NVRs find them (multicast on every interface)"},
	{name: "discovery-interfaces", key: "discovery.interfaces", usage: "comma-separated network `interfaces` for WS-Discovery, e.g. eth0,wlan0 (default: every multicast interface, re-scanned)"},
	{name: "discover", key: "scan.enabled", boolean: true, usage: "find cameras on the LAN with the broadcast port request (as discover does), now and every scan.interval, and serve each one found"},
	{name: "discover-broadcast", key: "scan.broadcast", usage: "broadcast `address:port` of -discover, e.g. 192.168.1.255:10104"},
	{name: "state-dir", key: "state_dir", usage: "`directory` for the persisted ONVIF state (default $XDG_STATE_HOME/chinesium or ~/.local/state/chinesium)"},
	{name: "motion-sensitivity", key: "motion.sensitivity", usage: fmt.Sprintf("motion detection `sensitivity`, %d (only large, strong changes) to %d (small, faint ones)", motion.MinSensitivity, motion.MaxSensitivity)},
	{name: "motion-hold", key: "motion.hold", usage: "how long motion stays on after it was last seen (a `duration` such as 5s)"},
	{name: "no-motion", key: "motion.enabled", boolean: true, inverted: true, usage: "turn motion detection off (saves the JPEG decoding; the motion events stay false)"},
	{name: "strict-auth-faults", key: "onvif.strict_auth_faults", boolean: true, usage: "answer an unauthenticated CreateProfile with NotAuthorized (by default it gets a MaxNVTProfiles fault, which Synology Surveillance Station needs)"},
	{name: "log-format", key: "log.format", usage: "log `format` on stderr: text or json"},
	{name: "log-level", key: "log.level", usage: "lowest `level` logged: debug, info, warn or error (-v is debug)"},
}

// keyFlag is a settingFlag's flag.Value: every use appends a setting.
type keyFlag struct {
	f   settingFlag
	def string
	out *[]config.Setting
}

func (k *keyFlag) String() string {
	if k == nil || k.def == "false" {
		return "" // the flag package prints no default for it
	}
	return k.def
}

func (k *keyFlag) Set(s string) error {
	if k.f.boolean {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		s = strconv.FormatBool(b != k.f.inverted)
	}
	*k.out = append(*k.out, config.Setting{Key: k.f.key, Value: s, Origin: "-" + k.f.name})
	return nil
}

func (k *keyFlag) IsBoolFlag() bool { return k.f.boolean }

// registerSettings adds the setting flags to fs; their uses are appended
// to out. base gives the defaults shown by -h.
func registerSettings(fs *flagSet, base config.Config, out *[]config.Setting) {
	for _, f := range settingFlags {
		def, _ := base.Get(f.key)
		if f.inverted {
			def = strconv.FormatBool(def != "true")
		}
		fs.Var(&keyFlag{f: f, def: def, out: out}, f.name, f.usage)
	}
}

// verboseSetting is -v's setting: debug logs.
var verboseSetting = config.Setting{Key: "log.level", Value: "debug", Origin: "-v"}

// loadConfig builds and validates the configuration; its errors are
// usage errors (exit status 2). Warnings go to warn.
func loadConfig(base config.Config, src config.Sources, warn func(string)) (config.Config, error) {
	cfg, warnings, err := config.Load(base, src)
	for _, w := range warnings {
		if warn != nil {
			warn(w)
		}
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			msg = "bad configuration:\n  " + strings.ReplaceAll(msg, "\n", "\n  ")
		}
		return cfg, usageError{msg}
	}
	return cfg, nil
}

// newLogger returns the logger the configuration asks for, writing to w,
// at the level of level (set from cfg.Log.Level here, and again by a
// reload).
func newLogger(w io.Writer, l config.Log, level *slog.LevelVar) *slog.Logger {
	lv, _ := config.ParseLevel(l.Level)
	level.Set(lv)
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runServe(ctx context.Context, e *env, args []string) error {
	// SIGHUP must not end the bridge (its default action), from the start.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	fs := newFlags(e, "serve", "[flags] [IP[@BIND]...]", serveHelp)
	var settings []config.Setting
	registerSettings(fs, config.Default(), &settings)
	file := fs.String("config", "", "YAML configuration `file` (chinesium config example writes one); flags and CHINESIUM_* variables override it")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		settings = append(settings, config.Setting{Key: config.KeyCameras, Value: strings.Join(pos, " "), Origin: "the command line"})
	}
	if *fs.verbose {
		settings = append(settings, verboseSetting)
	}
	src := config.Sources{File: *file, Environ: e.environ, Settings: settings}
	var warnings []string
	cfg, err := loadConfig(config.Default(), src, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		return err
	}
	return runBridge(ctx, e, cfg, runOptions{warnings: warnings, hup: hup,
		// SIGHUP reads the file (and the environment and flags over it)
		// again.
		reload: func(warn func(string)) (config.Config, error) {
			return loadConfig(config.Default(), src, warn)
		},
	})
}

// runOptions are what serve and demo tell runBridge beside the
// configuration.
type runOptions struct {
	// label, if set, names what camera i is (for the demo).
	label func(i int) string
	// warnings are logged once the logger exists.
	warnings []string
	// hup delivers SIGHUP, which reloads the configuration.
	hup <-chan os.Signal
	// reload, if set, loads and validates the configuration again for
	// SIGHUP; nil means there is none to reload.
	reload func(warn func(string)) (config.Config, error)
	// adjust, if set, changes the bridge configuration before it starts.
	adjust func(*bridge.Config)
}

// runBridge starts the bridge, prints the cameras' URLs, and serves until
// ctx is done.
func runBridge(ctx context.Context, e *env, cfg config.Config, opt runOptions) error {
	var level slog.LevelVar
	log := newLogger(e.stderr, cfg.Log, &level)
	for _, w := range opt.warnings {
		log.Warn(w)
	}
	applyMemoryLimit(e, cfg.MemoryLimitMiB, log)
	bcfg := cfg.Bridge()
	bcfg.Logger = log
	if opt.adjust != nil {
		opt.adjust(&bcfg)
	}
	b, err := bridge.New(bcfg)
	if err != nil {
		return err
	}
	if serr := b.Start(ctx); serr != nil {
		return serr
	}
	printCameras(e.stdout, b, bcfg, opt.label)
	running := cfg
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-opt.hup:
			running = reload(e, log, &level, b, cfg, running, opt)
		}
	}
	// A second Ctrl-C (or SIGTERM) while shutting down quits at once.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-again; ok {
			fmt.Fprintln(e.stderr, "chinesium: second signal: quitting at once")
			os.Exit(1)
		}
	}()
	log.Info("shutting down: sending Bye, closing the camera sessions (Ctrl-C again quits at once)")
	err = b.Close()
	signal.Stop(again)
	close(again)
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// reload answers SIGHUP: it loads the configuration again and applies it
// to the bridge b, which was started with started and runs running now
// (its cameras, users and live keys). It returns what runs afterwards.
// A configuration that cannot be read or fails Validate is refused with
// the reason, and the running one stays.
func reload(e *env, log *slog.Logger, level *slog.LevelVar, b *bridge.Bridge, started, running config.Config, opt runOptions) config.Config {
	if opt.reload == nil {
		log.Warn("SIGHUP: nothing to reload (no configuration file); the bridge carries on")
		return running
	}
	log.Info("SIGHUP: reloading the configuration")
	next, err := opt.reload(func(w string) { log.Warn(w) })
	if err != nil {
		log.Error("SIGHUP: configuration refused; the running one stays", "err", strings.TrimPrefix(err.Error(), "bad configuration:\n  "))
		return running
	}
	if keys := next.RestartKeys(started); len(keys) > 0 {
		log.Warn("SIGHUP: these settings changed but take effect only when chinesium is restarted; they keep their running values until then",
			"keys", strings.Join(keys, ","))
	}
	if next.Log.Level != running.Log.Level {
		lv, _ := config.ParseLevel(next.Log.Level)
		level.Set(lv)
	}
	if next.MemoryLimitMiB != running.MemoryLimitMiB {
		applyMemoryLimit(e, next.MemoryLimitMiB, log)
	}
	bcfg := next.Bridge()
	bcfg.Logger = log
	if opt.adjust != nil {
		opt.adjust(&bcfg)
	}
	ch, err := b.Apply(bcfg)
	if err != nil && !errors.Is(err, bridge.ErrCameraNotStarted) {
		log.Error("SIGHUP: configuration refused; the running one stays", "err", err)
		return running
	}
	log.Info("configuration reloaded", "added", strings.Join(ch.Added, ","), "restarted", strings.Join(ch.Restarted, ","),
		"removed", strings.Join(ch.Removed, ","), "users_changed", ch.Users)
	if err != nil {
		log.Error("SIGHUP: configuration applied but for some cameras", "err", err)
	}
	return next
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
		fmt.Fprintf(w, "  RTSP      %s\n", c.RTSPURL(h, rtsp.StreamJPEG))
		if c.Device.HasH264 {
			fmt.Fprintf(w, "  RTSP H264 %s\n", c.RTSPURL(h, rtsp.StreamH264))
		}
		fmt.Fprintf(w, "  MJPEG     %s\n", c.MJPEGURL(h))
		fmt.Fprintf(w, "  snapshot  %s\n", c.SnapshotURL(h))
		if u := c.AudioURL(h); u != "" {
			fmt.Fprintf(w, "  audio     %s\n", u)
		}
	}
	if sc := cfg.Scan; sc != nil {
		fmt.Fprintf(w, "Looking for cameras on %s every %v: each one found is served, its URLs in the log (\"camera ready\") and on the web page.\n", sc.Broadcast, sc.Interval)
	}
	if u := b.AdminURL(); u != "" {
		fmt.Fprintf(w, "Web page    %s  (also %smetrics, %shealthz)\n", u, u, u)
	}
	if err := b.H264Error(); err != nil {
		fmt.Fprintf(w, "No H.264 stream, only JPEG (%v).\n", err)
		fmt.Fprintln(w, "  Home Assistant and UniFi Protect will not add these cameras: they need H.264. VLC, ffmpeg, Frigate")
		fmt.Fprintln(w, "  and most NVRs can use the JPEG stream. To fix it, install ffmpeg with libx264 (Debian, Ubuntu:")
		fmt.Fprintln(w, "  apt install ffmpeg) and restart chinesium.")
	}
	var names []string
	for _, u := range cfg.Users {
		names = append(names, strconv.Quote(u.Name))
	}
	switch len(names) {
	case 0:
		fmt.Fprintln(w, "No user set: anyone who can reach these ports can watch. Use -user and -password, or users in a configuration file.")
	case 1:
		fmt.Fprintf(w, "Log in as %s (ONVIF, RTSP and HTTP).\n", names[0])
	default:
		fmt.Fprintf(w, "Log in as one of %s (ONVIF, RTSP and HTTP).\n", strings.Join(names, ", "))
	}
}
