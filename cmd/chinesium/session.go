package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession"
)

// frameQueue is how many frames may wait for a slow output before frames
// are dropped (the session's goroutine must never block).
const frameQueue = 32

// puller runs one camera session and hands its frames and audio to the
// command's goroutine through bounded queues.
type puller struct {
	camera  netip.Addr
	sess    *camsession.Session
	frames  chan *camsession.Frame
	audio   chan *camsession.Audio
	dropped atomic.Uint64
	cancel  context.CancelFunc
	done    chan error
	log     *slog.Logger // the session's lines
}

// newPuller binds the session's socket; a busy port or bad address fails
// here. log receives the session's lines. Call start, then stop.
func newPuller(cfg camsession.Config, log *slog.Logger) (*puller, error) {
	p := &puller{
		camera: cfg.Camera,
		frames: make(chan *camsession.Frame, frameQueue),
		audio:  make(chan *camsession.Audio, 4*frameQueue),
		done:   make(chan error, 1),
		log:    log,
	}
	bridge.LogSession(log, &cfg, bridge.HintCommand)
	cfg.OnFrame = func(f *camsession.Frame) {
		select {
		case p.frames <- f:
		default:
			p.dropped.Add(1)
		}
	}
	if cfg.Audio {
		cfg.OnAudio = func(a *camsession.Audio) {
			select {
			case p.audio <- a:
			default:
				p.dropped.Add(1)
			}
		}
	}
	sess, err := camsession.New(cfg)
	if err != nil {
		return nil, err
	}
	p.sess = sess
	return p, nil
}

// openPuller applies the local-address flags to cfg, makes the session
// report to the command's logger and binds its socket: the common start of
// the commands that pull from one camera.
func openPuller(e *env, fs *flagSet, local localFlags, cfg camsession.Config) (*puller, *slog.Logger, error) {
	if err := local.config(&cfg); err != nil {
		return nil, nil, err
	}
	log := fs.logger(e)
	p, err := newPuller(cfg, log.With("camera", cfg.Camera.String()))
	if err != nil {
		return nil, nil, err
	}
	return p, log, nil
}

// start runs the session until stop or ctx.
func (p *puller) start(ctx context.Context) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.log.Info("session started", "local", p.sess.LocalAddr().String())
	go func() { p.done <- p.sess.Run(ctx) }()
}

// stop ends the session and waits until its socket is closed.
func (p *puller) stop() error {
	if p.cancel == nil {
		return p.sess.Close()
	}
	p.cancel()
	return <-p.done
}

// noPicture explains why no frame arrived within timeout and what to do.
func (p *puller) noPicture(timeout time.Duration) error {
	if name := p.sess.CameraName(); name != "" {
		return fmt.Errorf("camera %v (%s) answered but sent no picture within %v: another client may still hold it; stop other programs streaming from it, wait a few seconds and retry",
			p.camera, name, timeout)
	}
	return fmt.Errorf("no answer from camera %v within %v: check that it is powered on, that %v is its address (chinesium discover lists cameras) and that this machine is on its network",
		p.camera, timeout, p.camera)
}
