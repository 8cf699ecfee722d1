package main

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/chinesium/chinesium/camsession/fakecam"
)

func runFakecam(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "fakecam", "[flags]", `
Runs fake cameras that speak the cameras' protocol, until interrupted
(Ctrl-C). Each binds its own IP (port 10104), so several run side by side
on 127.0.0.2, 127.0.0.3, ... Try it with

  chinesium fakecam -n 2 &
  chinesium stream 127.0.0.2 | ffplay -probesize 32 -f mjpeg -
  chinesium discover -broadcast 127.255.255.255:10104`)
	ipFlag := fs.String("ip", "127.0.0.2", "IP of the first camera; the others take the next addresses")
	n := fs.Int("n", 1, "number of cameras")
	name := fs.String("name", "", "camera name (default FAKECAM-<IP in hex>); with -n > 1 the number is appended")
	fps := fs.Float64("fps", fakecam.DefaultFPS, "frames per second")
	loss := fs.Float64("loss", 0, "probability of dropping a packet, e.g. 0.05")
	dup := fs.Float64("dup", 0, "probability of sending a video packet twice")
	reorder := fs.Float64("reorder", 0, "probability of sending a video packet after the next one")
	seed := fs.Int64("seed", 1, "seed of the loss, duplication and reordering")
	audio := fs.Bool("audio", false, "send IMA ADPCM audio (a 440 Hz tone) to clients that ask for it")
	motion := fs.Bool("motion", true, "moving picture (false: a still scene)")
	linger := fs.Duration("linger", fakecam.DefaultLinger, "keep streaming this long to a client that went quiet")
	packetSize := fs.Int("packet-size", fakecam.DefaultPacketSize, "largest JPEG piece per packet, in bytes")
	controlPort := fs.Int("control-port", 10104, "port answering port requests")
	dataPort := fs.Int("data-port", 0, "data port of the first camera, the next ones count up (0 = random)")
	discovery := fs.Bool("discovery", true, "also answer broadcast discovery (binds the broadcast address with SO_REUSEADDR)")
	quiet := fs.Bool("quiet", false, "do not send the optional login reply, control responses and heartbeats")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("fakecam takes no arguments (got %q); set the address with -ip", pos)
	}
	ip, err := netip.ParseAddr(*ipFlag)
	if err != nil || !ip.Unmap().Is4() {
		return usagef("invalid -ip %q: give an IPv4 address of this machine, e.g. 127.0.0.2", *ipFlag)
	}
	ip = ip.Unmap()
	if *n < 1 || *n > 250 {
		return usagef("-n must be in 1..250")
	}
	for _, p := range []float64{*loss, *dup, *reorder} {
		if p < 0 || p > 1 {
			return usagef("-loss, -dup and -reorder are probabilities between 0 and 1")
		}
	}
	if *fps <= 0 || *fps > 1000 {
		return usagef("-fps must be in (0, 1000]")
	}
	log := fs.logger(e)

	var cams []*fakecam.Camera
	for i := range *n {
		cfg := fakecam.Config{
			IP: ip, ControlPort: *controlPort, FPS: *fps, PacketSize: *packetSize,
			Loss: *loss, Duplicate: *dup, Reorder: *reorder, Seed: *seed + int64(i),
			Linger: *linger, Audio: *audio, Discovery: *discovery, Quiet: *quiet,
			Logger: log,
		}
		if *dataPort != 0 {
			cfg.DataPort = *dataPort + i
		}
		if *name != "" {
			cfg.Name = *name
			if *n > 1 {
				cfg.Name += "-" + strconv.Itoa(i+1)
			}
		}
		c, err := fakecam.New(cfg)
		if err != nil {
			for _, c := range cams {
				c.Close()
			}
			return err
		}
		c.SetMotion(*motion)
		cams = append(cams, c)
		if ip = ip.Next(); !ip.Is4() {
			break
		}
	}

	if *motion {
		// Encode the moving scene before streaming, on every core.
		var pwg sync.WaitGroup
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		for _, c := range cams {
			sem <- struct{}{}
			pwg.Go(func() {
				defer func() { <-sem }()
				c.Prepare()
			})
		}
		pwg.Wait()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var once sync.Once
	var runErr error
	for _, c := range cams {
		log.Info("fake camera ready", "ip", c.IP().String(), "name", c.Name(), "control_port", *controlPort, "data_port", c.DataPort())
		wg.Go(func() {
			if err := c.Run(ctx); err != nil {
				once.Do(func() { runErr = err })
				cancel()
			}
		})
	}
	first := cams[0].IP()
	log.Info(fmt.Sprintf("try: chinesium stream %v | ffplay -probesize 32 -f mjpeg -", first))
	log.Info("stop with Ctrl-C")
	start := time.Now()
	wg.Wait()
	log.Info("fake cameras stopped", "ran", time.Since(start).Round(time.Second).String())
	return runErr
}
