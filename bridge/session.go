package bridge

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/chinesium/chinesium/camsession"
)

// Hints of LogSession's warning when a camera does not answer.
const (
	// HintBridge is the bridge's: the camera's ONVIF device stays up.
	HintBridge = "check its IP address and that it is powered on and reachable; " +
		"retrying in the background (its ONVIF device stays up and reports SignalLoss)"
	// HintCommand is for a command that pulls one camera's stream.
	HintCommand = "check that it is powered on and that this is its address (chinesium discover lists cameras); retrying"
)

// LogSession makes a camera session report to log, the camera's logger
// (it carries camera=<name> and ip=<address>), what a user watching the
// bridge needs: one clear warning when the camera does not answer, ending
// in hint (the repetitions at debug level), each state change, why a
// handshake is redone, and the receive problems as one summary line every
// camsession.ReportInterval at most, never one line per packet. It is the
// one place that turns a session's hooks into log lines, for the bridge
// and the commands that pull a camera's stream.
func LogSession(log *slog.Logger, cfg *camsession.Config, hint string) {
	port := cfg.ControlPort
	if port == 0 {
		port = camsession.ControlPort
	}
	control := netip.AddrPortFrom(cfg.Camera, uint16(port)).String()
	cfg.OnUnreachable = func(attempt int, waited time.Duration) {
		if attempt == 1 {
			log.Warn("camera does not answer: "+hint, "control", control)
			return
		}
		log.Debug("camera does not answer the port request; retrying", "control", control, "attempt", attempt, "waited", waited.String())
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

// runSession runs the camera's session until ctx is done.
func (c *Camera) runSession(ctx context.Context) error {
	log := c.sessionLog()
	log.Info("session started", "local", c.Session.LocalAddr().String())
	err := c.Session.Run(ctx)
	log.Info("session stopped", "frames", c.Session.Stats().FramesComplete)
	return err
}

// restartSession redoes the camera's handshake (an ONVIF SystemReboot).
func (c *Camera) restartSession() {
	c.sessionLog().Info("restart requested: new handshake")
	c.Session.Restart()
}

// sessionLog is the logger of the camera's session lines.
func (c *Camera) sessionLog() *slog.Logger {
	return c.bridge.log.With("camera", c.Config.Name, "ip", c.Config.IP.String(), "component", "session")
}
