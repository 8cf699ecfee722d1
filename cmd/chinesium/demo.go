package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/config"
)

const demoHelp = `
Try the bridge without a camera: starts two fake cameras on 127.0.0.2 and
127.0.0.3 and the full bridge on them (ONVIF devices, RTSP, MJPEG, snapshots,
audio), listening on 127.0.0.1 only, and prints the URLs. Open them with VLC,
ffplay or ONVIF Device Manager; stop with Ctrl-C.

Example: go run ./cmd/chinesium demo
         ffplay rtsp://127.0.0.1:8554/demo-1/jpeg`

// demoDefaults is the demo's base configuration: everything on loopback,
// audio on, no WS-Discovery (the fake cameras are no devices for the LAN's
// NVRs).
func demoDefaults() config.Config {
	cfg := config.Default()
	cfg.Listen.Bind = "127.0.0.1"
	cfg.Audio = true
	cfg.Discovery.Enabled = false
	return cfg
}

func runDemo(ctx context.Context, e *env, args []string) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	fs := newFlags(e, "demo", "[flags]", demoHelp)
	var settings []config.Setting
	registerSettings(fs, demoDefaults(), &settings)
	ipFlag := fs.String("ip", "127.0.0.2", "IP of the first fake camera; the second takes the next address")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("demo takes no arguments (got %q)", pos)
	}
	first, err := netip.ParseAddr(*ipFlag)
	if err != nil || !first.Is4() || !first.IsLoopback() {
		return usagef("-ip %q: give a loopback IPv4 address such as 127.0.0.2", *ipFlag)
	}
	demoIPs := []netip.Addr{first, first.Next()}
	base := demoDefaults()
	for i, ip := range demoIPs {
		base.Cameras = append(base.Cameras, config.Camera{IP: ip.String(), Name: fmt.Sprintf("demo-%d", i+1)})
	}
	if *fs.verbose {
		settings = append(settings, verboseSetting)
	}
	// No file and no environment: the demo behaves the same everywhere.
	cfg, err := loadConfig(base, config.Sources{Settings: settings}, nil)
	if err != nil {
		return err
	}
	if cfg.StateDir == "" {
		d, derr := bridge.DefaultStateDir()
		if derr != nil {
			return derr
		}
		cfg.StateDir = filepath.Join(d, "demo") // never mixed with real cameras
	}
	// The fake cameras log what they do at info level; the demo is about
	// the bridge, so they only speak up on problems unless -v is given.
	camLog := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *fs.verbose {
		camLog = fs.logger(e)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var cams []*fakecam.Camera
	for i, ip := range demoIPs {
		c, cerr := fakecam.New(fakecam.Config{
			IP:     ip,
			Name:   fmt.Sprintf("DEMO-%d", i+1),
			Audio:  cfg.Audio,
			Logger: camLog.With("component", "fakecam"),
		})
		if cerr != nil {
			for _, c := range cams {
				c.Close()
			}
			return fmt.Errorf("fake camera on %s: %w (is another demo running?)", ip, cerr)
		}
		c.SetMotion(true)
		cams = append(cams, c)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(cams))
	for i, c := range cams {
		wg.Go(func() {
			if rerr := c.Run(ctx); rerr != nil && !errors.Is(rerr, context.Canceled) {
				errs[i] = rerr
				cancel()
			}
		})
	}
	err = runBridge(ctx, e, cfg, runOptions{
		label: func(i int) string { return "fake camera " + demoIPs[i].String() },
		hup:   hup,
		adjust: func(bc *bridge.Config) {
			if bc.Bind.IsValid() && !bc.Bind.IsUnspecified() {
				// The fake cameras stream to the bridge's own address, so
				// a demo on its own loopback address needs none of the
				// receive ports (41773 upward) of 127.0.0.1.
				for i := range bc.Cameras {
					bc.Cameras[i].LocalIP = bc.Bind
				}
			}
		},
	})
	cancel()
	wg.Wait()
	return errors.Join(append([]error{err}, errs...)...)
}
