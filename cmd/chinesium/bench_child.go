package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/config"
	"github.com/chinesium/chinesium/record"
)

// benchChild is a bridge process of the record section ("bench -child
// IP,IP...[@DIR]"): the bridge serve would run on these cameras (motion
// on, no H.264, no discovery), recording every camera into DIR if given.
// It prints "streaming" once every camera streams and runs until its
// stdin closes or it is interrupted.
func benchChild(ctx context.Context, e *env, spec string) error {
	ipList, dir, _ := strings.Cut(spec, "@")
	cfg := config.Default()
	cfg.Listen.Bind = recordBind.String()
	cfg.H264 = false
	cfg.Discovery.Enabled = false
	for ip := range strings.SplitSeq(ipList, ",") {
		if _, err := netip.ParseAddr(ip); err != nil {
			return usagef("-child: bad camera IP %q", ip)
		}
		cfg.Cameras = append(cfg.Cameras, config.Camera{IP: ip})
	}
	state, err := os.MkdirTemp("", "chinesium-bench-state-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(state)
	cfg.StateDir = state
	if verr := cfg.Validate(); verr != nil {
		return verr
	}
	bcfg := cfg.Bridge()
	bcfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	bcfg.NoAdmin = true
	bcfg.RTSPPort = bridge.AnyPort
	for i := range bcfg.Cameras {
		bcfg.Cameras[i].HTTPPort = bridge.AnyPort
		if dir != "" {
			bcfg.Cameras[i].Record = &record.Config{Dir: dir}
		}
	}
	applyMemoryLimit(e, cfg.MemoryLimitMiB, bcfg.Logger)
	b, err := bridge.New(bcfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		return err
	}
	defer b.Close()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		streaming := true
		for _, c := range b.Cameras() {
			streaming = streaming && c.Video.Published() > 0
		}
		if streaming {
			break
		}
		if time.Now().After(end) {
			return errors.New("bench: the cameras do not stream")
		}
	}
	fmt.Fprintln(e.stdout, "streaming")
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	<-ctx.Done()
	return nil
}
