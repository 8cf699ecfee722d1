package bridge

import (
	"context"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/onvif"
)

// cameraEvents is the event side of one camera: its ONVIF events service, the motion
// detector feeding it, and whether the camera is offline (which also silences its
// WS-Discovery announcements).
type cameraEvents struct {
	events  *onvif.Events
	motion  *motion.Detector
	offline atomic.Bool
}

// newCameraEvents creates the events service and motion detector of a camera
// (whose changes go to the events service, then to mcfg.OnChange if set); log is
// the camera's logger (the events service and the detector tag their records with
// their component). Until the session reports frames, SignalLoss is true.
func newCameraEvents(log *slog.Logger, mcfg motion.Config, pushConsumers []netip.Prefix) *cameraEvents {
	ce := &cameraEvents{events: onvif.NewEvents(onvif.EventsConfig{Logger: log, PushConsumers: pushConsumers})}
	also := mcfg.OnChange // the recorder's, when it records on motion
	mcfg.OnChange = func(m bool) {
		ce.events.SetMotion(m)
		if also != nil {
			also(m)
		}
	}
	if mcfg.Logger == nil {
		mcfg.Logger = log
	}
	ce.motion = motion.New(mcfg)
	ce.events.SetSignalLoss(true)
	ce.events.SetMotion(false)
	return ce
}

// runMotion analyses the camera's frames for motion until ctx is done (at once
// with Config.NoMotion).
func (c *Camera) runMotion(ctx context.Context) error {
	if c.bridge.cfg.NoMotion {
		return nil
	}
	return c.ev.motion.Run(ctx, c.Video)
}

// sessionState turns the camera session's state into the SignalLoss event and the
// WS-Discovery online/offline announcements (Bye when the camera is lost, Hello when
// it streams again).
func (c *Camera) sessionState(s camsession.State) {
	ce := c.ev
	switch s {
	case camsession.StateStreaming:
		ce.events.SetSignalLoss(false)
		if ce.offline.Swap(false) {
			if r := c.bridge.discovery; r != nil {
				r.Hello(c)
			}
		}
	case camsession.StateLost:
		ce.events.SetSignalLoss(true)
		ce.motion.Reset(time.Now())
		announced := c.Discoverable() // before going offline, which makes it false
		if !ce.offline.Swap(true) && announced {
			if r := c.bridge.discovery; r != nil {
				r.Bye(c)
			}
		}
	}
}

// Events returns the camera's events service.
func (c *Camera) Events() *onvif.Events { return c.ev.events }

// hookSession makes the session report its state changes to sessionState, after any
// OnState already configured.
func (c *Camera) hookSession(scfg *camsession.Config) {
	prev := scfg.OnState
	scfg.OnState = func(s camsession.State) {
		if prev != nil {
			prev(s)
		}
		c.sessionState(s)
	}
}
