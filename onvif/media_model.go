package onvif

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Tokens of the media entities every device has. Profile tokens of the
// fixed profiles double as the RTSP stream names ("jpeg", "h264").
const (
	// VideoSourceToken is the camera's only video source.
	VideoSourceToken = "src"
	// VideoSourceConfigToken is the only video source configuration.
	VideoSourceConfigToken = "vsc"
	// JPEGEncoderToken is the JPEG (pass-through) video encoder
	// configuration.
	JPEGEncoderToken = "jpeg_enc"
	// H264EncoderToken is the H.264 (transcoded) video encoder
	// configuration; it exists when Device.HasH264.
	H264EncoderToken = "h264_enc"
	// AudioSourceToken is the camera's microphone; it exists when
	// Device.HasAudio.
	AudioSourceToken = "audio_src"
	// AudioSourceConfigToken is the only audio source configuration.
	AudioSourceConfigToken = "asc"
	// AudioEncoderToken is the G.711 µ-law audio encoder configuration.
	AudioEncoderToken = "g711"
	// JPEGProfileToken is the fixed JPEG profile.
	JPEGProfileToken = "jpeg"
	// H264ProfileToken is the fixed H.264 profile (when Device.HasH264).
	H264ProfileToken = "h264"
)

// Camera capabilities reported by the media service.
const (
	// Width and Height are the camera's only resolution.
	Width, Height = 640, 480
	// NativeFPS is the camera's usual frame rate, reported as the frame
	// rate of a stream without a frame-rate limit until the camera's own
	// rate is known (Device.FrameRate).
	NativeFPS = 15
	// MaxFPS is the highest FrameRateLimit a client may set. A limit
	// above the camera's rate sends every camera frame.
	MaxFPS = 30
	// MaxProfiles bounds the media profiles, fixed ones included.
	MaxProfiles = 16
	// AudioBitrate (kbit/s) and AudioSampleRate (kHz) of the G.711 encoder,
	// in the units of ONVIF media ver10.
	AudioBitrate, AudioSampleRate = 64, 8
	// SessionTimeout is the RTSP session timeout reported in the encoder
	// configurations: the RTSP server's (rtsp.DefaultSessionTimeout). It
	// cannot be changed.
	SessionTimeout = "PT60S"
)

// Settings of the video encoders that clients cannot change and ranges of
// those they can. The ranges are those of the RTSP server's
// rtsp.VideoSettings, which the bridge applies.
const (
	// Quality is the quality of both encoders: the JPEG stream carries
	// the camera's own pictures and the H.264 transcode's quality follows
	// from its bitrate, so there is nothing to set. QualityRange offers
	// this one value.
	Quality = 80
	// JPEGBitrateLimit (kbit/s) is the BitrateLimit reported for the JPEG
	// stream: about what the camera's 640x480 pictures come to at its
	// frame rate. The bridge passes the camera's pictures on without
	// encoding them again, so it cannot change their size; a client may
	// only set this value.
	JPEGBitrateLimit = 4096
	// DefaultH264Bitrate (kbit/s) is the H.264 transcode's bitrate ceiling
	// until a client sets another.
	DefaultH264Bitrate = 1024
	// MinH264Bitrate and MaxH264Bitrate bound the H.264 BitrateLimit.
	MinH264Bitrate, MaxH264Bitrate = 32, 8192
	// DefaultH264Profile is the H.264 profile until a client sets another:
	// Baseline, which every decoder plays.
	DefaultH264Profile = "Baseline"
)

// Encodings (tt:VideoEncoding) of the two video encoders.
const (
	EncodingJPEG = "JPEG"
	EncodingH264 = "H264"
)

// H264Profiles are the H.264 profiles the transcode can be set to.
var H264Profiles = []string{"Baseline", "Main", "High"}

// VideoEncoder is a video encoder configuration with the persisted
// settings applied: what the stream it names is served with.
type VideoEncoder struct {
	Token, Name, Encoding string
	// Quality is always Quality.
	Quality float64
	// FrameRateLimit is the set limit in frames per second; 0 when none
	// is set (every camera frame, reported as the rate served).
	FrameRateLimit int
	// BitrateLimit is the bitrate in kbit/s: the H.264 transcode's
	// ceiling (it is encoded VBR, never above it), JPEGBitrateLimit for
	// the JPEG stream.
	BitrateLimit int
	// GovLength is the frames from one H.264 keyframe to the next; 0 when
	// none is set (one second's worth at the rate served).
	GovLength int
	// H264Profile is one of H264Profiles ("" for JPEG).
	H264Profile    string
	SessionTimeout string
}

// Stream returns the name of the RTSP stream the encoder feeds ("jpeg" or
// "h264").
func (e VideoEncoder) Stream() string { return streamName(e.Token) }

// VideoEncoders returns the video encoder configurations the device has
// now, with the settings clients made.
func (d *Device) VideoEncoders() []VideoEncoder { return d.videoEncoders(d.Store.Get()) }

// videoEncoders returns the encoder configurations the device has now,
// with the persisted settings applied.
func (d *Device) videoEncoders(st State) []VideoEncoder {
	encs := []VideoEncoder{{
		Token: JPEGEncoderToken, Name: "JPEG", Encoding: EncodingJPEG,
		Quality: Quality, BitrateLimit: JPEGBitrateLimit, SessionTimeout: SessionTimeout,
	}}
	if d.HasH264 {
		encs = append(encs, VideoEncoder{
			Token: H264EncoderToken, Name: "H264", Encoding: EncodingH264,
			Quality: Quality, BitrateLimit: DefaultH264Bitrate,
			H264Profile: DefaultH264Profile, SessionTimeout: SessionTimeout,
		})
	}
	for i := range encs {
		s, ok := st.VideoEncoders[encs[i].Token]
		if !ok {
			continue
		}
		if s.Name != "" {
			encs[i].Name = s.Name
		}
		encs[i].FrameRateLimit = s.FrameRateLimit
		if encs[i].Encoding == EncodingH264 {
			if s.BitrateLimit > 0 {
				encs[i].BitrateLimit = s.BitrateLimit
			}
			encs[i].GovLength = s.GovLength
			if s.H264Profile != "" {
				encs[i].H264Profile = s.H264Profile
			}
		}
	}
	return encs
}

// servedRate returns the whole frames per second the named stream carries
// now without a limit of its own: Device.FrameRate rounded, or NativeFPS
// while it is not known.
func (d *Device) servedRate(video string) int {
	if d.FrameRate != nil {
		if r := int(math.Round(d.FrameRate(video))); r > 0 {
			return min(r, MaxFPS)
		}
	}
	return NativeFPS
}

// hasConfig reports whether the configuration token of the given kind
// exists on the device now.
func (d *Device) hasConfig(kind configKind, token string) bool {
	switch kind {
	case kindVideoSource:
		return token == VideoSourceConfigToken
	case kindVideoEncoder:
		return token == JPEGEncoderToken || (d.HasH264 && token == H264EncoderToken)
	case kindAudioSource:
		return d.HasAudio && token == AudioSourceConfigToken
	case kindAudioEncoder:
		return d.HasAudio && token == AudioEncoderToken
	}
	return false
}

// configKind names the four configuration slots of a profile.
type configKind int

const (
	kindVideoSource configKind = iota
	kindVideoEncoder
	kindAudioSource
	kindAudioEncoder
)

func (k configKind) slot(p *Profile) *string {
	switch k {
	case kindVideoSource:
		return &p.VideoSource
	case kindVideoEncoder:
		return &p.VideoEncoder
	case kindAudioSource:
		return &p.AudioSource
	default:
		return &p.AudioEncoder
	}
}

// fixedProfiles returns the fixed profiles the device has now.
func (d *Device) fixedProfiles() []Profile {
	audioSrc, audioEnc := "", ""
	if d.HasAudio {
		audioSrc, audioEnc = AudioSourceConfigToken, AudioEncoderToken
	}
	ps := []Profile{{
		Token: JPEGProfileToken, Name: "MJPEG 640x480", Fixed: true,
		VideoSource: VideoSourceConfigToken, VideoEncoder: JPEGEncoderToken,
		AudioSource: audioSrc, AudioEncoder: audioEnc,
	}}
	if d.HasH264 {
		ps = append(ps, Profile{
			Token: H264ProfileToken, Name: "H264 640x480", Fixed: true,
			VideoSource: VideoSourceConfigToken, VideoEncoder: H264EncoderToken,
			AudioSource: audioSrc, AudioEncoder: audioEnc,
		})
	}
	return ps
}

// ensureProfiles makes sure the fixed profiles are in the store (a new
// device, or after a factory reset) and returns the state.
func (d *Device) ensureProfiles() (State, error) {
	st := d.Store.Get()
	missing := false
	for _, f := range d.fixedProfiles() {
		if !slices.ContainsFunc(st.Profiles, func(p Profile) bool { return p.Token == f.Token }) {
			missing = true
		}
	}
	if !missing {
		return st, nil
	}
	err := d.Store.Update(func(st *State) error {
		var fixed []Profile
		for _, f := range d.fixedProfiles() {
			if !slices.ContainsFunc(st.Profiles, func(p Profile) bool { return p.Token == f.Token }) {
				fixed = append(fixed, f)
			}
		}
		st.Profiles = append(fixed, st.Profiles...)
		return nil
	})
	if err != nil {
		return State{}, err
	}
	return d.Store.Get(), nil
}

// SyncFixedProfiles brings the persisted fixed profiles in line with the
// device's features; call it once before the media service serves. With
// audio on, a fixed profile stored without any audio configuration (audio
// was off when it was created) gets the audio configurations, as a new
// device's fixed profiles have. A client that removes them later keeps
// them removed until the next start.
func (d *Device) SyncFixedProfiles() error {
	if !d.HasAudio {
		return nil
	}
	if _, err := d.ensureProfiles(); err != nil {
		return err
	}
	st := d.Store.Get()
	need := false
	for _, p := range st.Profiles {
		if p.Fixed && p.AudioSource == "" && p.AudioEncoder == "" {
			need = true
		}
	}
	if !need {
		return nil
	}
	return d.Store.Update(func(st *State) error {
		for i := range st.Profiles {
			p := &st.Profiles[i]
			if p.Fixed && p.AudioSource == "" && p.AudioEncoder == "" {
				p.AudioSource, p.AudioEncoder = AudioSourceConfigToken, AudioEncoderToken
			}
		}
		return nil
	})
}

// visibleProfiles returns the profiles clients see: configurations that do
// not exist now (H.264 without ffmpeg, audio switched off) are left out of
// every profile, and a fixed profile whose encoder is gone is hidden.
func (d *Device) visibleProfiles(st State) []Profile {
	var out []Profile
	for _, p := range st.Profiles {
		if p.Fixed && p.Token == H264ProfileToken && !d.HasH264 {
			continue
		}
		for _, k := range []configKind{kindVideoSource, kindVideoEncoder, kindAudioSource, kindAudioEncoder} {
			if s := k.slot(&p); *s != "" && !d.hasConfig(k, *s) {
				*s = ""
			}
		}
		out = append(out, p)
	}
	return out
}

// useCount returns how many visible profiles use the configuration.
func useCount(ps []Profile, kind configKind, token string) int {
	n := 0
	for i := range ps {
		if *kind.slot(&ps[i]) == token {
			n++
		}
	}
	return n
}

// newProfileToken returns a token not used by any profile.
func newProfileToken(ps []Profile) string {
	for i := 1; ; i++ {
		t := "profile_" + strconv.Itoa(i)
		if !slices.ContainsFunc(ps, func(p Profile) bool { return p.Token == t }) {
			return t
		}
	}
}

// validDuration checks an xs:duration lexically (PnYnMnDTnHnMnS, at least
// one field); it is enough to refuse garbage before persisting it.
func validDuration(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return false
	}
	date, tim, hasT := strings.Cut(s[1:], "T")
	if hasT && tim == "" {
		return false
	}
	check := func(part, units string) bool {
		for part != "" {
			i := strings.IndexAny(part, units)
			if i <= 0 {
				return false
			}
			if _, err := strconv.ParseFloat(part[:i], 64); err != nil || strings.ContainsAny(part[:i], "+-eE") {
				return false
			}
			units = units[strings.IndexByte(units, part[i])+1:]
			part = part[i+1:]
		}
		return true
	}
	return check(date, "YMD") && check(tim, "HMS")
}

// formatFloat prints a float the way xs:float expects.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 32) }
