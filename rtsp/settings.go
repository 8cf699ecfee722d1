package rtsp

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
)

// VideoSettings is how one video stream of a source is served: what an
// ONVIF client sets with SetVideoEncoderConfiguration. The zero value sends
// every camera frame and encodes H.264 with the defaults. Change a stream's
// settings with Server.SetVideoSettings.
type VideoSettings struct {
	// FrameRateLimit caps the frames per second of the stream. Frames are
	// dropped evenly by their capture time (a token bucket), not as every
	// n-th frame, so a limit that does not divide the camera's rate still
	// gives evenly spaced pictures. 0 sends every camera frame; a limit
	// above the camera's rate changes nothing.
	FrameRateLimit float64
	// BitrateKbps is the H.264 encoder's bitrate in kbit/s: the average
	// with CBR, the ceiling otherwise. 0 leaves the bitrate to the
	// picture (x264's constant quality, CRF 23). The JPEG stream carries
	// the camera's own frames and ignores it.
	BitrateKbps int
	// CBR makes the H.264 bitrate constant (HRD CBR, padded with filler
	// data when the picture needs less). Without it the bitrate follows
	// the picture, capped at BitrateKbps. Meaningless without
	// BitrateKbps.
	CBR bool
	// GOP is the number of frames from one H.264 keyframe to the next.
	// 0 means one second's worth at the stream's frame rate.
	GOP int
	// H264Profile is the H.264 profile: "Baseline", "Main" or "High" (the
	// ONVIF names, in any case). "" means DefaultH264Profile.
	H264Profile string
}

// Limits of VideoSettings, for the options a client is offered.
const (
	// MinFrameRateLimit and MaxFrameRateLimit bound a non-zero
	// FrameRateLimit.
	MinFrameRateLimit = 1
	MaxFrameRateLimit = 30
	// MinBitrateKbps and MaxBitrateKbps bound a non-zero BitrateKbps.
	MinBitrateKbps = 32
	MaxBitrateKbps = 8192
	// MaxGOP bounds GOP.
	MaxGOP = 300
	// DefaultH264Profile is the profile of the H.264 stream when
	// H264Profile is empty: Constrained Baseline, which every decoder
	// plays.
	DefaultH264Profile = "Baseline"
)

// H264Profiles lists the H.264 profiles the encoder produces, as
// VideoSettings.H264Profile takes them.
var H264Profiles = []string{"Baseline", "Main", "High"}

// ErrUnknownSource is returned by SetVideoSettings for a name that Handle
// has not registered.
var ErrUnknownSource = errors.New("rtsp: unknown source")

// Validate reports the first field that the server cannot honour, naming it.
func (v VideoSettings) Validate() error {
	switch {
	case math.IsNaN(v.FrameRateLimit) || v.FrameRateLimit < 0 ||
		v.FrameRateLimit > 0 && (v.FrameRateLimit < MinFrameRateLimit || v.FrameRateLimit > MaxFrameRateLimit):
		return fmt.Errorf("rtsp: FrameRateLimit %v out of range: 0 (every frame) or %d to %d", v.FrameRateLimit, MinFrameRateLimit, MaxFrameRateLimit)
	case v.BitrateKbps < 0 || v.BitrateKbps > 0 && (v.BitrateKbps < MinBitrateKbps || v.BitrateKbps > MaxBitrateKbps):
		return fmt.Errorf("rtsp: BitrateKbps %d out of range: 0 (constant quality) or %d to %d", v.BitrateKbps, MinBitrateKbps, MaxBitrateKbps)
	case v.CBR && v.BitrateKbps == 0:
		return errors.New("rtsp: CBR needs a BitrateKbps")
	case v.GOP < 0 || v.GOP > MaxGOP:
		return fmt.Errorf("rtsp: GOP %d out of range: 0 (one second) or 1 to %d", v.GOP, MaxGOP)
	}
	if v.H264Profile != "" && canonicalProfile(v.H264Profile) == "" {
		return fmt.Errorf("rtsp: H264Profile %q not supported: one of %s", v.H264Profile, strings.Join(H264Profiles, ", "))
	}
	return nil
}

// canonicalProfile returns the H264Profiles spelling of p, or "".
func canonicalProfile(p string) string {
	for _, q := range H264Profiles {
		if strings.EqualFold(p, q) {
			return q
		}
	}
	return ""
}

// settingsBox holds a stream's current settings; producers read it for
// every frame without a lock.
type settingsBox struct{ v atomic.Pointer[VideoSettings] }

func (b *settingsBox) load() VideoSettings {
	if v := b.v.Load(); v != nil {
		return *v
	}
	return VideoSettings{}
}

func (b *settingsBox) store(v VideoSettings) { b.v.Store(&v) }

// SetVideoSettings changes how stream (StreamJPEG or StreamH264) of the
// source handled as name is served, from the next frame on: the frame-rate
// limit applies at once; a change of the H.264 encoder's settings restarts
// the encoder while viewers stay connected (they see a pause of a few
// hundred milliseconds and go on from the new encoder's first keyframe).
// Settings that Validate rejects are refused and nothing changes. Settings
// survive a later Handle of the same name.
func (s *Server) SetVideoSettings(name, stream string, v VideoSettings) error {
	if err := v.Validate(); err != nil {
		return err
	}
	v.H264Profile = canonicalProfile(v.H264Profile)
	s.init()
	p := s.lookupPath(strings.Trim(name, "/"))
	if p == nil {
		return fmt.Errorf("%w %q", ErrUnknownSource, name)
	}
	switch stream {
	case StreamJPEG:
		p.jpegSettings.store(v)
	case StreamH264:
		if p.h264Settings.load() != v {
			p.h264Settings.store(v)
			// The parameter sets of the old settings must not go into
			// the SDP: the next DESCRIBE learns the new ones, from the
			// restarted encoder or a probe encode.
			p.h264.setParams(nil, nil)
		}
	default:
		return fmt.Errorf("rtsp: unknown stream %q: %q or %q", stream, StreamJPEG, StreamH264)
	}
	return nil
}

// VideoSettings returns the settings of stream (StreamJPEG or StreamH264)
// of the source handled as name, and whether there is such a source.
func (s *Server) VideoSettings(name, stream string) (VideoSettings, bool) {
	s.init()
	p := s.lookupPath(strings.Trim(name, "/"))
	if p == nil {
		return VideoSettings{}, false
	}
	switch stream {
	case StreamJPEG:
		return p.jpegSettings.load(), true
	case StreamH264:
		return p.h264Settings.load(), true
	}
	return VideoSettings{}, false
}

// FrameRate returns the frames per second stream (StreamJPEG or
// StreamH264) of the source handled as name carries now: the camera's
// rate, measured from its recent frames, or the stream's FrameRateLimit
// when that is lower. It is 0 when neither is known (the camera has sent
// no frames yet and no limit is set). An H.264 stream with GOP 0 has a
// keyframe every round(FrameRate) frames.
func (s *Server) FrameRate(name, stream string) float64 {
	v, ok := s.VideoSettings(name, stream)
	if !ok {
		return 0
	}
	p := s.lookupPath(strings.Trim(name, "/"))
	var c videoClock
	if p.src.Video != nil {
		c.observeRecent(p.src.Video)
	}
	return c.gridRate(v.FrameRateLimit)
}
