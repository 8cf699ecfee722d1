package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession/fakecam"
)

const demoHelp = `
Try the bridge without a camera: starts two fake cameras on 127.0.0.2 and
127.0.0.3 and the full bridge on them (ONVIF devices, RTSP, MJPEG, snapshots,
audio), listening on 127.0.0.1 only, and prints the URLs. Open them with VLC,
ffplay or ONVIF Device Manager; stop with Ctrl-C.

Example: go run ./cmd/chinesium demo
         ffplay rtsp://127.0.0.1:8554/demo-1/jpeg`

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[flags]", demoHelp)
	var sf serveFlags
	sf.register(fs, "127.0.0.1", true, false)
	ipFlag := fs.String("ip", "127.0.0.2", "IP of the first fake camera; the second takes the next address")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("demo takes no arguments (got %q)", pos)
	}
	cfg, err := sf.config(fs, e)
	if err != nil {
		return err
	}
	first, err := netip.ParseAddr(*ipFlag)
	if err != nil || !first.Is4() || !first.IsLoopback() {
		return usagef("-ip %q: give a loopback IPv4 address such as 127.0.0.2", *ipFlag)
	}
	demoIPs := []netip.Addr{first, first.Next()}
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
		cc := bridge.CameraConfig{IP: ip, Name: fmt.Sprintf("demo-%d", i+1)}
		if cfg.Bind.IsValid() && !cfg.Bind.IsUnspecified() {
			// The fake cameras stream to the bridge's own address, so a
			// demo on its own loopback address needs none of the
			// receive ports (41773 upward) of 127.0.0.1.
			cc.LocalIP = cfg.Bind
		}
		cfg.Cameras = append(cfg.Cameras, cc)
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
	err = runBridge(ctx, e, cfg, func(i int) string { return "fake camera " + demoIPs[i].String() })
	cancel()
	wg.Wait()
	return errors.Join(append([]error{err}, errs...)...)
}
