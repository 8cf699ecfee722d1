package onvif

import (
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
	// NativeFPS is the camera's usual frame rate.
	NativeFPS = 15
	// MaxFPS is the highest FrameRateLimit a client may set.
	MaxFPS = 30
	// MaxProfiles bounds the media profiles, fixed ones included.
	MaxProfiles = 16
	// AudioBitrate (kbit/s) and AudioSampleRate (kHz) of the G.711 encoder,
	// in the units of ONVIF media ver10.
	AudioBitrate, AudioSampleRate = 64, 8
	// SessionTimeout is the RTSP session timeout reported in the encoder
	// configurations.
	SessionTimeout = "PT60S"
)

// Encodings (tt:VideoEncoding) of the two video encoders.
const (
	EncodingJPEG = "JPEG"
	EncodingH264 = "H264"
)

// H.264 profiles a client may choose (reported; the transcoder decides).
var h264Profiles = []string{"Baseline", "Main", "High"}

// videoEncoder is a video encoder configuration as reported.
type videoEncoder struct {
	Token, Name, Encoding string
	Quality               float64
	FrameRateLimit        int
	BitrateLimit          int
	GovLength             int
	H264Profile           string
	SessionTimeout        string
}

// videoEncoders returns the encoder configurations the device has now,
// with the persisted settings applied.
func (d *Device) videoEncoders(st State) []videoEncoder {
	encs := []videoEncoder{{
		Token: JPEGEncoderToken, Name: "JPEG", Encoding: EncodingJPEG,
		Quality: 80, FrameRateLimit: NativeFPS, BitrateLimit: 4096, SessionTimeout: SessionTimeout,
	}}
	if d.HasH264 {
		encs = append(encs, videoEncoder{
			Token: H264EncoderToken, Name: "H264", Encoding: EncodingH264,
			Quality: 60, FrameRateLimit: NativeFPS, BitrateLimit: 1024, GovLength: NativeFPS,
			H264Profile: "Main", SessionTimeout: SessionTimeout,
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
		if s.Quality > 0 {
			encs[i].Quality = s.Quality
		}
		if s.FrameRateLimit > 0 {
			encs[i].FrameRateLimit = s.FrameRateLimit
		}
		if s.BitrateLimit > 0 {
			encs[i].BitrateLimit = s.BitrateLimit
		}
		if s.GovLength > 0 && encs[i].Encoding == EncodingH264 {
			encs[i].GovLength = s.GovLength
		}
		if s.SessionTimeout != "" {
			encs[i].SessionTimeout = s.SessionTimeout
		}
	}
	return encs
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
