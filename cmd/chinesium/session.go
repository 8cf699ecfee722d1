package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

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
	logSession(log, &cfg)
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

// logSession makes the session report to log what the user of stream or
// snapshot needs: one warning when the camera does not answer (the
// repetitions with -v), why a handshake is redone, and the receive
// problems as one summary line every camsession.ReportInterval at most.
func logSession(log *slog.Logger, cfg *camsession.Config) {
	cfg.OnUnreachable = func(attempt int, waited time.Duration) {
		if attempt == 1 {
			log.Warn("camera does not answer: check that it is powered on and that this is its address (chinesium discover lists cameras); retrying")
			return
		}
		log.Debug("camera does not answer the port request; retrying", "attempt", attempt, "waited", waited.String())
	}
	cfg.OnCameraAnswered = func(name string, dataPort uint16) {
		log.Info("camera answered", "name", name, "data_port", dataPort)
	}
	cfg.OnState = func(st camsession.State) { log.Info("state", "state", st.String()) }
	cfg.OnLoginRetry = func(attempt int) { log.Debug("no media yet: login again", "attempt", attempt+1) }
	cfg.OnNoMedia = func(waited time.Duration) {
		log.Warn("camera answers but sends no video: new handshake (another client may still hold it)", "waited", waited.String())
	}
	cfg.OnMediaStopped = func(silence time.Duration) {
		log.Warn("media stopped: new handshake", "silence", silence.Round(time.Millisecond).String())
	}
	cfg.OnDeviceClosed = func() { log.Info("camera closed the session: new handshake") }
	cfg.OnReceiveProblems = func(st camsession.Stats) { log.Info("receive counters", slog.Any("", st)) }
	cfg.OnReceiveError = func(err error) { log.Warn("receive error", "err", err) }
	cfg.OnSendError = func(err error) { log.Debug("send failed", "err", err) }
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
