package bridge

import (
	"log/slog"

	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/rtsp"
)

// serveEncoderSettings makes the video encoder configurations of the
// camera's ONVIF device what its RTSP streams are served with: now (the
// persisted state) and after every change of the device's state
// (SetVideoEncoderConfiguration, a factory reset). The device reports the
// streams' real frame rate where no limit is set.
func (c *Camera) serveEncoderSettings(log *slog.Logger) {
	srv, path := c.bridge.rtsp, c.Path
	c.Device.FrameRate = func(video string) float64 { return srv.FrameRate(path, video) }
	c.applyEncoderSettings(log)
	c.Device.Store.Watch(func() { c.applyEncoderSettings(log) })
}

// applyEncoderSettings hands every video encoder configuration to the RTSP
// server: the frame-rate limit to both streams, bitrate ceiling (VBR),
// GOV length and profile to the H.264 transcode. The media service has
// refused what the server cannot do, so an error here is a bug, logged.
func (c *Camera) applyEncoderSettings(log *slog.Logger) {
	for _, enc := range c.Device.VideoEncoders() {
		if err := c.bridge.rtsp.SetVideoSettings(c.Path, enc.Stream(), videoSettings(enc)); err != nil {
			log.Error("cannot serve the video encoder settings", "encoder", enc.Token, "err", err)
		}
	}
}

// videoSettings translates an ONVIF video encoder configuration into the
// RTSP server's settings of its stream.
func videoSettings(enc onvif.VideoEncoder) rtsp.VideoSettings {
	v := rtsp.VideoSettings{FrameRateLimit: float64(enc.FrameRateLimit)}
	if enc.Encoding == onvif.EncodingH264 {
		v.BitrateKbps, v.GOP, v.H264Profile = enc.BitrateLimit, enc.GovLength, enc.H264Profile
	}
	return v
}
