package bridge

import (
	"context"
	"errors"
	"log/slog"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/record"
)

// hookRecorder creates the camera's recorder when its configuration asks
// for recording, and feeds it from the session (scfg) and the motion
// detector (mcfg), after what they already do. The recordings go to
// CameraConfig.Record.Dir, in a folder named after the camera's path name.
func (c *Camera) hookRecorder(log *slog.Logger, scfg *camsession.Config, onMotion *func(bool)) error {
	if c.Config.Record == nil {
		return nil
	}
	rcfg := *c.Config.Record
	rcfg.Name = c.Path
	rcfg.Logger = log
	rec, err := record.New(rcfg)
	if err != nil {
		return err
	}
	c.rec = rec
	publish := scfg.OnFrame
	scfg.OnFrame = func(f *camsession.Frame) {
		publish(f)
		rec.AddFrame(f)
	}
	if rcfg.Audio {
		scfg.Audio = true
		serve := scfg.OnAudio
		scfg.OnAudio = func(a *camsession.Audio) {
			if serve != nil {
				serve(a)
			}
			rec.AddAudio(a)
		}
	}
	if rcfg.Motion {
		*onMotion = rec.SetMotion
	}
	return nil
}

// runRecorder records the camera until ctx is done (at once when it does
// not record).
func (c *Camera) runRecorder(ctx context.Context) error {
	if c.rec == nil {
		return nil
	}
	return c.rec.Run(ctx)
}

// Recorder returns the camera's recorder, nil when it does not record.
func (c *Camera) Recorder() *record.Recorder { return c.rec }

// errNotRecording is returned by Recordings for a camera that does not
// record.
var errNotRecording = errors.New("bridge: the camera is not recorded")

// Recordings lists the camera's recordings, oldest first: each segment
// file's path, start, duration and size.
func (c *Camera) Recordings() ([]record.Recording, error) {
	if c.rec == nil {
		return nil, errNotRecording
	}
	return c.rec.List()
}
