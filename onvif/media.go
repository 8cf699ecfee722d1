package onvif

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// MediaService returns the media service (ver10, Profile S) of d. Its
// handlers read the device model and its Store; they never block.
// GetServiceCapabilities is PRE_AUTH, the other reads READ_MEDIA, and
// everything that changes a profile or configuration ACTUATE (Media spec
// access classes); the operations of media.wsdl not in the table are
// classed the same way by what they would do (soap.Policy) and answered
// with env:Receiver/ter:ActionNotSupported.
//
// Stream URIs: every transport a client asks for in GetStreamUri gets the
// device's RTSP URL on the bridge's RTSP port. RTP-Unicast over UDP, TCP
// (interleaved) and RTSP all use that URL as is; for Protocol HTTP the same
// URL is returned as well, because the RTSP server accepts the
// RTSP-over-HTTP tunnel (Apple's GET/POST pair) on the same port, and
// clients that tunnel (VLC with --rtsp-http, ODM) turn the rtsp:// URL into
// the tunnel themselves. The MJPEG-over-HTTP stream is not a Profile S
// stream URI; the bridge prints it and GetSnapshotUri points to the JPEG
// snapshot.
//
// Call Device.SyncFixedProfiles once before serving, so the persisted
// fixed profiles match the device's current features.
func MediaService(d *Device) soap.Service {
	m := &mediaService{d: d}
	return soap.Service{
		Namespace:     wsdl.NSMedia,
		Path:          MediaServicePath,
		Version:       serviceVersion,
		Declared:      wsdl.MediaOperations(),
		Unimplemented: soap.Policy{Read: soap.ReadMedia, Write: soap.Actuate},
		Capabilities:  m.capabilities,
		Ops: []soap.Op{
			{Name: wsdl.MediaGetServiceCapabilities, Access: soap.PreAuth, Handle: m.getServiceCapabilities},
			{Name: wsdl.MediaGetProfiles, Access: soap.ReadMedia, Handle: m.getProfiles},
			{Name: wsdl.MediaGetProfile, Access: soap.ReadMedia, Handle: m.getProfile},
			{Name: wsdl.MediaCreateProfile, Access: soap.Actuate, Handle: m.createProfile},
			{Name: wsdl.MediaDeleteProfile, Access: soap.Actuate, Handle: m.deleteProfile},
			{Name: wsdl.MediaAddVideoSourceConfiguration, Access: soap.Actuate, Handle: m.addConfig(kindVideoSource)},
			{Name: wsdl.MediaAddVideoEncoderConfiguration, Access: soap.Actuate, Handle: m.addConfig(kindVideoEncoder)},
			{Name: wsdl.MediaAddAudioSourceConfiguration, Access: soap.Actuate, Handle: m.addConfig(kindAudioSource)},
			{Name: wsdl.MediaAddAudioEncoderConfiguration, Access: soap.Actuate, Handle: m.addConfig(kindAudioEncoder)},
			{Name: wsdl.MediaRemoveVideoSourceConfiguration, Access: soap.Actuate, Handle: m.removeConfig(kindVideoSource)},
			{Name: wsdl.MediaRemoveVideoEncoderConfiguration, Access: soap.Actuate, Handle: m.removeConfig(kindVideoEncoder)},
			{Name: wsdl.MediaRemoveAudioSourceConfiguration, Access: soap.Actuate, Handle: m.removeConfig(kindAudioSource)},
			{Name: wsdl.MediaRemoveAudioEncoderConfiguration, Access: soap.Actuate, Handle: m.removeConfig(kindAudioEncoder)},
			{Name: wsdl.MediaGetVideoSources, Access: soap.ReadMedia, Handle: m.getVideoSources},
			{Name: wsdl.MediaGetVideoSourceConfigurations, Access: soap.ReadMedia, Handle: m.getVideoSourceConfigurations},
			{Name: wsdl.MediaGetVideoSourceConfiguration, Access: soap.ReadMedia, Handle: m.getVideoSourceConfiguration},
			{Name: wsdl.MediaGetCompatibleVideoSourceConfigurations, Access: soap.ReadMedia, Handle: m.getCompatibleVideoSourceConfigurations},
			{Name: wsdl.MediaGetVideoSourceConfigurationOptions, Access: soap.ReadMedia, Handle: m.getVideoSourceConfigurationOptions},
			{Name: wsdl.MediaSetVideoSourceConfiguration, Access: soap.Actuate, Handle: m.setVideoSourceConfiguration},
			{Name: wsdl.MediaGetVideoEncoderConfigurations, Access: soap.ReadMedia, Handle: m.getVideoEncoderConfigurations},
			{Name: wsdl.MediaGetVideoEncoderConfiguration, Access: soap.ReadMedia, Handle: m.getVideoEncoderConfiguration},
			{Name: wsdl.MediaGetCompatibleVideoEncoderConfigurations, Access: soap.ReadMedia, Handle: m.getCompatibleVideoEncoderConfigurations},
			{Name: wsdl.MediaGetVideoEncoderConfigurationOptions, Access: soap.ReadMedia, Handle: m.getVideoEncoderConfigurationOptions},
			{Name: wsdl.MediaSetVideoEncoderConfiguration, Access: soap.Actuate, Handle: m.setVideoEncoderConfiguration},
			{Name: wsdl.MediaGetGuaranteedNumberOfVideoEncoderInstances, Access: soap.ReadMedia, Handle: m.getGuaranteedNumberOfVideoEncoderInstances},
			{Name: wsdl.MediaGetAudioSources, Access: soap.ReadMedia, Handle: m.getAudioSources},
			{Name: wsdl.MediaGetAudioSourceConfigurations, Access: soap.ReadMedia, Handle: m.getAudioSourceConfigurations},
			{Name: wsdl.MediaGetAudioSourceConfiguration, Access: soap.ReadMedia, Handle: m.getAudioSourceConfiguration},
			{Name: wsdl.MediaGetCompatibleAudioSourceConfigurations, Access: soap.ReadMedia, Handle: m.getCompatibleAudioSourceConfigurations},
			{Name: wsdl.MediaGetAudioSourceConfigurationOptions, Access: soap.ReadMedia, Handle: m.getAudioSourceConfigurationOptions},
			{Name: wsdl.MediaSetAudioSourceConfiguration, Access: soap.Actuate, Handle: m.setAudioSourceConfiguration},
			{Name: wsdl.MediaGetAudioEncoderConfigurations, Access: soap.ReadMedia, Handle: m.getAudioEncoderConfigurations},
			{Name: wsdl.MediaGetAudioEncoderConfiguration, Access: soap.ReadMedia, Handle: m.getAudioEncoderConfiguration},
			{Name: wsdl.MediaGetCompatibleAudioEncoderConfigurations, Access: soap.ReadMedia, Handle: m.getCompatibleAudioEncoderConfigurations},
			{Name: wsdl.MediaGetAudioEncoderConfigurationOptions, Access: soap.ReadMedia, Handle: m.getAudioEncoderConfigurationOptions},
			{Name: wsdl.MediaSetAudioEncoderConfiguration, Access: soap.Actuate, Handle: m.setAudioEncoderConfiguration},
			{Name: wsdl.MediaGetStreamUri, Access: soap.ReadMedia, Handle: m.getStreamURI},
			{Name: wsdl.MediaGetSnapshotUri, Access: soap.ReadMedia, Handle: m.getSnapshotURI},
			{Name: wsdl.MediaSetSynchronizationPoint, Access: soap.Actuate, Handle: m.setSynchronizationPoint},
			{Name: wsdl.MediaGetOSDs, Access: soap.ReadMedia, Handle: m.getOSDs},
			{Name: wsdl.MediaGetOSDOptions, Access: soap.ReadMedia, Handle: m.getOSDOptions},
		},
	}
}

// mediaService implements the media operations of one Device.
type mediaService struct {
	d *Device
}

// noAudio is the fault of an audio operation on a device without audio.
func noAudio() error {
	return soap.Receiver("the camera has no audio enabled", "ActionNotSupported", "AudioNotSupported")
}

// requiredToken returns the required token argument name of the request.
func requiredToken(req *soap.Request, name string) (string, error) {
	t, ok := childText(req.Body, name)
	if !ok || t == "" {
		return "", soap.InvalidArgVal("missing " + name)
	}
	return t, nil
}

func addIntRange(parent *etree.Element, tag string, lo, hi int) {
	r := add(parent, tag)
	add(r, "tt:Min", itoa(lo))
	add(r, "tt:Max", itoa(hi))
}

func addResolution(parent *etree.Element, tag string) {
	r := add(parent, tag)
	add(r, "tt:Width", itoa(Width))
	add(r, "tt:Height", itoa(Height))
}

func addMulticast(parent *etree.Element) {
	m := add(parent, "tt:Multicast")
	a := add(m, "tt:Address")
	add(a, "tt:Type", "IPv4")
	add(a, "tt:IPv4Address", "0.0.0.0")
	add(m, "tt:Port", "0")
	add(m, "tt:TTL", "0")
	add(m, "tt:AutoStart", "false")
}

// --- entity writers ---

// state returns the store state with the fixed profiles ensured and the
// profiles clients see.
func (m *mediaService) state() (State, []Profile, error) {
	st, err := m.d.ensureProfiles()
	if err != nil {
		return State{}, nil, storeFault(err)
	}
	return st, m.d.visibleProfiles(st), nil
}

// addConfigElement adds the element every configuration starts with: its token,
// name and use count among the profiles ps.
func addConfigElement(parent *etree.Element, tag string, kind configKind, token, name string, ps []Profile) *etree.Element {
	e := add(parent, tag)
	e.CreateAttr("token", token)
	add(e, "tt:Name", name)
	add(e, "tt:UseCount", itoa(useCount(ps, kind, token)))
	return e
}

func (m *mediaService) writeVideoSourceConfig(parent *etree.Element, tag string, ps []Profile) {
	e := addConfigElement(parent, tag, kindVideoSource, VideoSourceConfigToken, "VideoSource", ps)
	add(e, "tt:SourceToken", VideoSourceToken)
	b := add(e, "tt:Bounds")
	b.CreateAttr("x", "0")
	b.CreateAttr("y", "0")
	b.CreateAttr("width", itoa(Width))
	b.CreateAttr("height", itoa(Height))
}

// writeVideoEncoder writes enc as it is served: a frame-rate limit and a
// GOV length that are not set are reported as the stream's rate and one
// second's worth of frames at it.
func (m *mediaService) writeVideoEncoder(parent *etree.Element, tag string, enc VideoEncoder, ps []Profile) {
	e := addConfigElement(parent, tag, kindVideoEncoder, enc.Token, enc.Name, ps)
	add(e, "tt:Encoding", enc.Encoding)
	addResolution(e, "tt:Resolution")
	add(e, "tt:Quality", formatFloat(enc.Quality))
	rate := m.d.servedRate(enc.Stream())
	frl := enc.FrameRateLimit
	if frl == 0 {
		frl = rate
	}
	rc := add(e, "tt:RateControl")
	add(rc, "tt:FrameRateLimit", itoa(frl))
	add(rc, "tt:EncodingInterval", "1")
	add(rc, "tt:BitrateLimit", itoa(enc.BitrateLimit))
	if enc.Encoding == EncodingH264 {
		gov := enc.GovLength
		if gov == 0 {
			gov = min(rate, frl)
		}
		h := add(e, "tt:H264")
		add(h, "tt:GovLength", itoa(gov))
		add(h, "tt:H264Profile", enc.H264Profile)
	}
	addMulticast(e)
	add(e, "tt:SessionTimeout", enc.SessionTimeout)
}

func (m *mediaService) writeAudioSourceConfig(parent *etree.Element, tag string, ps []Profile) {
	e := addConfigElement(parent, tag, kindAudioSource, AudioSourceConfigToken, "AudioSource", ps)
	add(e, "tt:SourceToken", AudioSourceToken)
}

func (m *mediaService) writeAudioEncoder(parent *etree.Element, tag string, ps []Profile) {
	e := addConfigElement(parent, tag, kindAudioEncoder, AudioEncoderToken, "G711", ps)
	add(e, "tt:Encoding", "G711")
	add(e, "tt:Bitrate", itoa(AudioBitrate))
	add(e, "tt:SampleRate", itoa(AudioSampleRate))
	addMulticast(e)
	add(e, "tt:SessionTimeout", SessionTimeout)
}

func (m *mediaService) writeProfile(parent *etree.Element, tag string, p Profile, st State, ps []Profile) {
	e := add(parent, tag)
	e.CreateAttr("token", p.Token)
	e.CreateAttr("fixed", boolText(p.Fixed))
	add(e, "tt:Name", p.Name)
	if p.VideoSource != "" {
		m.writeVideoSourceConfig(e, "tt:VideoSourceConfiguration", ps)
	}
	if p.AudioSource != "" {
		m.writeAudioSourceConfig(e, "tt:AudioSourceConfiguration", ps)
	}
	if p.VideoEncoder != "" {
		for _, enc := range m.d.videoEncoders(st) {
			if enc.Token == p.VideoEncoder {
				m.writeVideoEncoder(e, "tt:VideoEncoderConfiguration", enc, ps)
			}
		}
	}
	if p.AudioEncoder != "" {
		m.writeAudioEncoder(e, "tt:AudioEncoderConfiguration", ps)
	}
}

// --- capabilities and profiles ---

func (m *mediaService) getServiceCapabilities(_ context.Context, req *soap.Request) (*etree.Element, error) {
	r := response("trt:GetServiceCapabilitiesResponse")
	r.AddChild(m.capabilities(req))
	return r, nil
}

// capabilities is trt:Capabilities. OSD is false: the camera draws no
// on-screen display.
func (m *mediaService) capabilities(*soap.Request) *etree.Element {
	c := etree.NewElement("trt:Capabilities")
	c.CreateAttr("SnapshotUri", "true")
	c.CreateAttr("Rotation", "false")
	c.CreateAttr("VideoSourceMode", "false")
	c.CreateAttr("OSD", "false")
	c.CreateAttr("TemporaryOSDText", "false")
	c.CreateAttr("EXICompression", "false")
	pc := add(c, "trt:ProfileCapabilities")
	pc.CreateAttr("MaximumNumberOfProfiles", itoa(MaxProfiles))
	sc := add(c, "trt:StreamingCapabilities")
	sc.CreateAttr("RTPMulticast", "false")
	sc.CreateAttr("RTP_TCP", "true")
	sc.CreateAttr("RTP_RTSP_TCP", "true")
	sc.CreateAttr("NonAggregateControl", "false")
	sc.CreateAttr("NoRTSPStreaming", "false")
	return c
}

func (m *mediaService) getProfiles(_ context.Context, _ *soap.Request) (*etree.Element, error) {
	st, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	r := response("trt:GetProfilesResponse")
	for _, p := range ps {
		m.writeProfile(r, "trt:Profiles", p, st, ps)
	}
	return r, nil
}

// profile returns the visible profile with the token in the request's
// ProfileToken.
func (m *mediaService) profile(req *soap.Request) (Profile, State, []Profile, error) {
	token, err := requiredToken(req, "ProfileToken")
	if err != nil {
		return Profile{}, State{}, nil, err
	}
	st, ps, err := m.state()
	if err != nil {
		return Profile{}, State{}, nil, err
	}
	i := slices.IndexFunc(ps, func(p Profile) bool { return p.Token == token })
	if i < 0 {
		return Profile{}, State{}, nil, soap.NoProfile(token)
	}
	return ps[i], st, ps, nil
}

func (m *mediaService) getProfile(_ context.Context, req *soap.Request) (*etree.Element, error) {
	p, st, ps, err := m.profile(req)
	if err != nil {
		return nil, err
	}
	r := response("trt:GetProfileResponse")
	m.writeProfile(r, "trt:Profile", p, st, ps)
	return r, nil
}

// validToken reports whether t is a usable tt:ReferenceToken (at most 64
// characters, no spaces or control characters).
func validToken(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for _, r := range t {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

func (m *mediaService) createProfile(_ context.Context, req *soap.Request) (*etree.Element, error) {
	name, _ := childText(req.Body, "Name")
	if name == "" || len(name) > 64 {
		return nil, soap.InvalidArgVal("a profile needs a name of 1 to 64 characters")
	}
	token, hasToken := childText(req.Body, "Token")
	if hasToken && !validToken(token) {
		return nil, soap.InvalidArgVal("invalid profile token")
	}
	var created Profile
	err := m.update(func(st *State) error {
		if hasToken {
			if slices.ContainsFunc(st.Profiles, func(p Profile) bool { return p.Token == token }) {
				return soap.InvalidArgVal("a profile with token "+strconv.Quote(token)+" exists", "ProfileExists")
			}
		} else {
			token = newProfileToken(st.Profiles)
		}
		if len(st.Profiles) >= MaxProfiles {
			return soap.Action("the device has the maximum number of profiles", "MaxNVTProfiles")
		}
		created = Profile{Token: token, Name: name}
		st.Profiles = append(st.Profiles, created)
		return nil
	})
	if err != nil {
		return nil, err
	}
	st, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	r := response("trt:CreateProfileResponse")
	m.writeProfile(r, "trt:Profile", created, st, ps)
	return r, nil
}

// update ensures the fixed profiles are stored, then changes the stored
// state with fn; errors that are not SOAP faults become receiver faults.
func (m *mediaService) update(fn func(*State) error) error {
	if _, _, err := m.state(); err != nil {
		return err
	}
	if err := m.d.Store.Update(fn); err != nil {
		return storeFault(err)
	}
	return nil
}

// updateProfile is update for the stored profile token: fn gets the state
// and the profile's index in st.Profiles. An unknown token is a NoProfile
// fault.
func (m *mediaService) updateProfile(token string, fn func(st *State, i int) error) error {
	return m.update(func(st *State) error {
		i := slices.IndexFunc(st.Profiles, func(p Profile) bool { return p.Token == token })
		if i < 0 {
			return soap.NoProfile(token)
		}
		return fn(st, i)
	})
}

// storeFault passes SOAP faults through and turns a store error into
// env:Receiver/ter:Action.
func storeFault(err error) error {
	var f *soap.Fault
	if errors.As(err, &f) {
		return f
	}
	return &soap.Fault{Code: soap.CodeReceiver, Subcodes: []string{"Action"}, Reason: err.Error(), Err: err}
}

func (m *mediaService) deleteProfile(_ context.Context, req *soap.Request) (*etree.Element, error) {
	token, err := requiredToken(req, "ProfileToken")
	if err != nil {
		return nil, err
	}
	err = m.updateProfile(token, func(st *State, i int) error {
		if st.Profiles[i].Fixed {
			return soap.Action("fixed profiles cannot be deleted", "DeletionOfFixedProfile")
		}
		st.Profiles = slices.Delete(st.Profiles, i, i+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return response("trt:DeleteProfileResponse"), nil
}

// addConfig handles Add*Configuration: the configuration replaces the
// profile's configuration of that kind.
func (m *mediaService) addConfig(kind configKind) soap.Handler {
	return func(_ context.Context, req *soap.Request) (*etree.Element, error) {
		ptoken, err := requiredToken(req, "ProfileToken")
		if err != nil {
			return nil, err
		}
		ctoken, err := requiredToken(req, "ConfigurationToken")
		if err != nil {
			return nil, err
		}
		if (kind == kindAudioSource || kind == kindAudioEncoder) && !m.d.HasAudio {
			return nil, noAudio()
		}
		if !m.d.hasConfig(kind, ctoken) {
			return nil, soap.NoConfig(ctoken)
		}
		if err := m.setSlot(ptoken, kind, ctoken); err != nil {
			return nil, err
		}
		return response("trt:" + req.Op.Name + "Response"), nil
	}
}

// setSlot sets the configuration of the given kind of the stored profile
// ptoken to ctoken ("" removes it).
func (m *mediaService) setSlot(ptoken string, kind configKind, ctoken string) error {
	return m.updateProfile(ptoken, func(st *State, i int) error {
		*kind.slot(&st.Profiles[i]) = ctoken
		return nil
	})
}

// removeConfig handles Remove*Configuration.
func (m *mediaService) removeConfig(kind configKind) soap.Handler {
	return func(_ context.Context, req *soap.Request) (*etree.Element, error) {
		ptoken, err := requiredToken(req, "ProfileToken")
		if err != nil {
			return nil, err
		}
		if err := m.setSlot(ptoken, kind, ""); err != nil {
			return nil, err
		}
		return response("trt:" + req.Op.Name + "Response"), nil
	}
}

// --- video source ---

func (m *mediaService) getVideoSources(_ context.Context, _ *soap.Request) (*etree.Element, error) {
	r := response("trt:GetVideoSourcesResponse")
	v := add(r, "trt:VideoSources")
	v.CreateAttr("token", VideoSourceToken)
	add(v, "tt:Framerate", itoa(NativeFPS))
	addResolution(v, "tt:Resolution")
	return r, nil
}

// configWriter writes the one configuration of a kind the device has, as
// parent's child tag.
type configWriter func(parent *etree.Element, tag string, ps []Profile)

// configs answers Get*Configurations for a kind with one configuration,
// which exists when available.
func (m *mediaService) configs(name string, available bool, write configWriter) (*etree.Element, error) {
	r := response("trt:" + name)
	if !available {
		return r, nil
	}
	_, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	write(r, "trt:Configurations", ps)
	return r, nil
}

// config answers Get*Configuration for a kind whose one configuration has
// the given token and exists when available.
func (m *mediaService) config(req *soap.Request, name, token string, available bool, write configWriter) (*etree.Element, error) {
	t, err := requiredToken(req, "ConfigurationToken")
	if err != nil {
		return nil, err
	}
	if !available || t != token {
		return nil, soap.NoConfig(t)
	}
	_, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	r := response("trt:" + name)
	write(r, "trt:Configuration", ps)
	return r, nil
}

// compatible answers GetCompatible*Configurations for a kind with one
// configuration, which exists when available.
func (m *mediaService) compatible(req *soap.Request, name string, available bool, write configWriter) (*etree.Element, error) {
	_, _, ps, err := m.profile(req)
	if err != nil {
		return nil, err
	}
	r := response("trt:" + name)
	if available {
		write(r, "trt:Configurations", ps)
	}
	return r, nil
}

func (m *mediaService) getVideoSourceConfigurations(_ context.Context, _ *soap.Request) (*etree.Element, error) {
	return m.configs("GetVideoSourceConfigurationsResponse", true, m.writeVideoSourceConfig)
}

func (m *mediaService) getVideoSourceConfiguration(_ context.Context, req *soap.Request) (*etree.Element, error) {
	return m.config(req, "GetVideoSourceConfigurationResponse", VideoSourceConfigToken, true, m.writeVideoSourceConfig)
}

func (m *mediaService) getCompatibleVideoSourceConfigurations(_ context.Context, req *soap.Request) (*etree.Element, error) {
	return m.compatible(req, "GetCompatibleVideoSourceConfigurationsResponse", true, m.writeVideoSourceConfig)
}

// checkOptionalTokens faults when the request names a configuration or
// profile that does not exist (the *Options operations).
func (m *mediaService) checkOptionalTokens(req *soap.Request, kind configKind) error {
	if t, ok := childText(req.Body, "ConfigurationToken"); ok && t != "" && !m.d.hasConfig(kind, t) {
		return soap.NoConfig(t)
	}
	if t, ok := childText(req.Body, "ProfileToken"); ok && t != "" {
		_, ps, err := m.state()
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(ps, func(p Profile) bool { return p.Token == t }) {
			return soap.NoProfile(t)
		}
	}
	return nil
}

func (m *mediaService) getVideoSourceConfigurationOptions(_ context.Context, req *soap.Request) (*etree.Element, error) {
	if err := m.checkOptionalTokens(req, kindVideoSource); err != nil {
		return nil, err
	}
	r := response("trt:GetVideoSourceConfigurationOptionsResponse")
	o := add(r, "trt:Options")
	o.CreateAttr("MaximumNumberOfProfiles", itoa(MaxProfiles))
	b := add(o, "tt:BoundsRange")
	addIntRange(b, "tt:XRange", 0, 0)
	addIntRange(b, "tt:YRange", 0, 0)
	addIntRange(b, "tt:WidthRange", Width, Width)
	addIntRange(b, "tt:HeightRange", Height, Height)
	add(o, "tt:VideoSourceTokensAvailable", VideoSourceToken)
	return r, nil
}

// setConfiguration returns the Configuration argument of a Set*Configuration
// request, which must have the token want unless want is "".
func setConfiguration(req *soap.Request, want string) (*etree.Element, error) {
	cfg := child(req.Body, "Configuration")
	if cfg == nil {
		return nil, soap.InvalidArgVal("missing Configuration")
	}
	if t := cfg.SelectAttrValue("token", ""); want != "" && t != want {
		return nil, soap.NoConfig(t)
	}
	return cfg, nil
}

// setVideoSourceConfiguration accepts the one configuration the camera has
// when it asks for what the camera does: its source and full-frame bounds.
func (m *mediaService) setVideoSourceConfiguration(_ context.Context, req *soap.Request) (*etree.Element, error) {
	cfg, err := setConfiguration(req, VideoSourceConfigToken)
	if err != nil {
		return nil, err
	}
	if s, _ := childText(cfg, "SourceToken"); s != VideoSourceToken {
		return nil, soap.ConfigModify("the source token must be " + VideoSourceToken)
	}
	if b := child(cfg, "Bounds"); b != nil {
		if b.SelectAttrValue("x", "0") != "0" || b.SelectAttrValue("y", "0") != "0" ||
			b.SelectAttrValue("width", "") != itoa(Width) || b.SelectAttrValue("height", "") != itoa(Height) {
			return nil, soap.ConfigModify("the camera only delivers the full 640x480 frame")
		}
	}
	return response("trt:SetVideoSourceConfigurationResponse"), nil
}

// --- video encoder ---

func (m *mediaService) getVideoEncoderConfigurations(_ context.Context, _ *soap.Request) (*etree.Element, error) {
	st, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	r := response("trt:GetVideoEncoderConfigurationsResponse")
	for _, enc := range m.d.videoEncoders(st) {
		m.writeVideoEncoder(r, "trt:Configurations", enc, ps)
	}
	return r, nil
}

func (m *mediaService) getVideoEncoderConfiguration(_ context.Context, req *soap.Request) (*etree.Element, error) {
	token, err := requiredToken(req, "ConfigurationToken")
	if err != nil {
		return nil, err
	}
	st, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	for _, enc := range m.d.videoEncoders(st) {
		if enc.Token == token {
			r := response("trt:GetVideoEncoderConfigurationResponse")
			m.writeVideoEncoder(r, "trt:Configuration", enc, ps)
			return r, nil
		}
	}
	return nil, soap.NoConfig(token)
}

func (m *mediaService) getCompatibleVideoEncoderConfigurations(_ context.Context, req *soap.Request) (*etree.Element, error) {
	_, st, ps, err := m.profile(req)
	if err != nil {
		return nil, err
	}
	r := response("trt:GetCompatibleVideoEncoderConfigurationsResponse")
	for _, enc := range m.d.videoEncoders(st) {
		m.writeVideoEncoder(r, "trt:Configurations", enc, ps)
	}
	return r, nil
}

// GOV range the H.264 encoder accepts (rtsp.MaxGOP).
const minGov, maxGov = 1, 300

// getVideoEncoderConfigurationOptions offers only what the bridge does:
// the one resolution, the one Quality, frame-rate limits for both
// encoders, and for H.264 the GOV lengths, profiles and (in the
// extension, as H264Options2) the bitrates of the transcode. Encoding
// intervals other than 1 and guaranteed frame rates are not offered.
func (m *mediaService) getVideoEncoderConfigurationOptions(_ context.Context, req *soap.Request) (*etree.Element, error) {
	if err := m.checkOptionalTokens(req, kindVideoEncoder); err != nil {
		return nil, err
	}
	// Options of the named configuration, else of the named profile's
	// encoder, else of every encoder.
	jpeg, h264 := true, m.d.HasH264
	enc, _ := childText(req.Body, "ConfigurationToken")
	if pt, _ := childText(req.Body, "ProfileToken"); enc == "" && pt != "" {
		if p, _, _, err := m.profile(req); err == nil {
			enc = p.VideoEncoder
		}
	}
	if enc != "" {
		jpeg, h264 = enc == JPEGEncoderToken, enc == H264EncoderToken
	}
	r := response("trt:GetVideoEncoderConfigurationOptionsResponse")
	o := add(r, "trt:Options")
	o.CreateAttr("GuaranteedFrameRateSupported", "false")
	addIntRange(o, "tt:QualityRange", Quality, Quality)
	if jpeg {
		j := add(o, "tt:JPEG")
		addResolution(j, "tt:ResolutionsAvailable")
		addIntRange(j, "tt:FrameRateRange", 1, MaxFPS)
		addIntRange(j, "tt:EncodingIntervalRange", 1, 1)
	}
	h264Options := func(parent *etree.Element) *etree.Element {
		h := add(parent, "tt:H264")
		addResolution(h, "tt:ResolutionsAvailable")
		addIntRange(h, "tt:GovLengthRange", minGov, maxGov)
		addIntRange(h, "tt:FrameRateRange", 1, MaxFPS)
		addIntRange(h, "tt:EncodingIntervalRange", 1, 1)
		for _, p := range H264Profiles {
			add(h, "tt:H264ProfilesSupported", p)
		}
		return h
	}
	if h264 {
		h264Options(o)
		addIntRange(h264Options(add(o, "tt:Extension")), "tt:BitrateRange", MinH264Bitrate, MaxH264Bitrate)
	}
	return r, nil
}

// setVideoEncoderConfiguration accepts what the bridge can serve and
// refuses everything else with ter:ConfigModify, so that nothing a client
// sets is silently ignored: the encoder's own encoding at the one
// resolution, Quality unchanged, a frame-rate limit (both encoders; frames
// are dropped evenly), for H.264 a bitrate ceiling, GOV length and
// profile (the transcode is VBR: a ConstantBitRate attribute of true, as
// clients of Media2 send it, is refused), the JPEG stream's bitrate
// unchanged, no multicast, the RTSP session timeout unchanged. What is
// accepted is persisted and reported back by every Get; the bridge applies
// it to the RTSP streams when the store changes.
func (m *mediaService) setVideoEncoderConfiguration(_ context.Context, req *soap.Request) (*etree.Element, error) {
	cfg, err := setConfiguration(req, "")
	if err != nil {
		return nil, err
	}
	token := cfg.SelectAttrValue("token", "")
	st, _, err := m.state()
	if err != nil {
		return nil, err
	}
	var cur *VideoEncoder
	encs := m.d.videoEncoders(st)
	for i := range encs {
		if encs[i].Token == token {
			cur = &encs[i]
		}
	}
	if cur == nil {
		return nil, soap.NoConfig(token)
	}
	h264 := cur.Encoding == EncodingH264
	set := st.VideoEncoders[token]
	if perr := parseVideoEncoder(cfg, *cur, &set); perr != nil {
		return nil, soap.ConfigModify(perr.Error())
	}
	if !h264 {
		set.BitrateLimit, set.GovLength, set.H264Profile = 0, 0, ""
	}
	err = m.update(func(st *State) error {
		if st.VideoEncoders == nil {
			st.VideoEncoders = map[string]VideoEncoderSettings{}
		}
		st.VideoEncoders[token] = set
		return nil
	})
	if err != nil {
		return nil, err
	}
	return response("trt:SetVideoEncoderConfigurationResponse"), nil
}

// parseVideoEncoder reads the tt:VideoEncoderConfiguration cfg for the
// encoder cur into set, or says what the bridge cannot do.
func parseVideoEncoder(cfg *etree.Element, cur VideoEncoder, set *VideoEncoderSettings) error {
	h264 := cur.Encoding == EncodingH264
	if name, ok := childText(cfg, "Name"); ok {
		if len(name) > 64 {
			return errors.New("name too long")
		}
		set.Name = name
	}
	if enc, _ := childText(cfg, "Encoding"); enc != cur.Encoding {
		return errors.New("encoder " + cur.Token + " only does " + cur.Encoding)
	}
	if res := child(cfg, "Resolution"); res != nil {
		w, _ := childText(res, "Width")
		h, _ := childText(res, "Height")
		if w != itoa(Width) || h != itoa(Height) {
			return errors.New("the camera only delivers 640x480")
		}
	}
	if q, ok := childText(cfg, "Quality"); ok {
		f, perr := strconv.ParseFloat(q, 64)
		if perr != nil || f != Quality {
			return errors.New("the quality is fixed at " + itoa(Quality))
		}
	}
	if g := cfg.SelectAttrValue("GuaranteedFrameRate", "false"); g != "false" && g != "0" {
		return errors.New("no guaranteed frame rate")
	}
	if rc := child(cfg, "RateControl"); rc != nil {
		if err := parseRateControl(rc, cur, set); err != nil {
			return err
		}
	}
	if h := child(cfg, "H264"); h != nil {
		if !h264 {
			return errors.New("H264 settings on a JPEG encoder")
		}
		if v, ok := childText(h, "GovLength"); ok {
			n, perr := strconv.Atoi(v)
			if perr != nil || n < minGov || n > maxGov {
				return errors.New("GOV length out of range")
			}
			set.GovLength = n
		}
		if p, ok := childText(h, "H264Profile"); ok {
			if !slices.Contains(H264Profiles, p) {
				return errors.New("unsupported H.264 profile: Baseline, Main or High")
			}
			set.H264Profile = p
		}
	}
	if mc := child(cfg, "Multicast"); mc != nil && !noMulticast(mc) {
		return errors.New("multicast is not offered")
	}
	if v, ok := childText(cfg, "SessionTimeout"); ok {
		d, perr := ParseXSDuration(v)
		if want, _ := ParseXSDuration(SessionTimeout); perr != nil || d != want {
			return errors.New("the RTSP session timeout is " + SessionTimeout)
		}
	}
	return nil
}

// parseRateControl reads tt:RateControl into set.
func parseRateControl(rc *etree.Element, cur VideoEncoder, set *VideoEncoderSettings) error {
	h264 := cur.Encoding == EncodingH264
	if c := rc.SelectAttrValue("ConstantBitRate", "false"); c != "false" && c != "0" {
		return errors.New("the H.264 transcode is VBR, capped at BitrateLimit; no constant bitrate")
	}
	if v, ok := childText(rc, "FrameRateLimit"); ok {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > MaxFPS {
			return errors.New("frame rate limit out of range: 1 to " + itoa(MaxFPS))
		}
		set.FrameRateLimit = n
	}
	if v, ok := childText(rc, "EncodingInterval"); ok && v != "1" {
		return errors.New("encoding interval must be 1")
	}
	if v, ok := childText(rc, "BitrateLimit"); ok {
		n, perr := strconv.Atoi(v)
		switch {
		case perr != nil:
			return errors.New("invalid bitrate")
		case !h264 && n != JPEGBitrateLimit:
			return errors.New("the JPEG stream carries the camera's own pictures: its bitrate cannot be set")
		case h264 && (n < MinH264Bitrate || n > MaxH264Bitrate):
			return errors.New("bitrate out of range: " + itoa(MinH264Bitrate) + " to " + itoa(MaxH264Bitrate) + " kbit/s")
		}
		if h264 {
			set.BitrateLimit = n
		}
	}
	return nil
}

// noMulticast reports whether a tt:MulticastConfiguration says what the
// device reports: no address, port or TTL, no automatic start.
func noMulticast(mc *etree.Element) bool {
	if a := child(mc, "Address"); a != nil {
		v4, _ := childText(a, "IPv4Address")
		v6, _ := childText(a, "IPv6Address")
		if (v4 != "" && v4 != "0.0.0.0") || (v6 != "" && v6 != "::") {
			return false
		}
	}
	for _, f := range []string{"Port", "TTL"} {
		if v, ok := childText(mc, f); ok && v != "0" {
			return false
		}
	}
	v, _ := childText(mc, "AutoStart")
	return v == "" || v == "false" || v == "0"
}

func (m *mediaService) getGuaranteedNumberOfVideoEncoderInstances(_ context.Context, req *soap.Request) (*etree.Element, error) {
	token, err := requiredToken(req, "ConfigurationToken")
	if err != nil {
		return nil, err
	}
	if token != VideoSourceConfigToken {
		return nil, soap.NoConfig(token)
	}
	r := response("trt:GetGuaranteedNumberOfVideoEncoderInstancesResponse")
	add(r, "trt:TotalNumber", itoa(MaxProfiles))
	add(r, "trt:JPEG", itoa(MaxProfiles))
	if m.d.HasH264 {
		add(r, "trt:H264", itoa(MaxProfiles))
	}
	return r, nil
}

// --- audio ---

func (m *mediaService) getAudioSources(_ context.Context, _ *soap.Request) (*etree.Element, error) {
	r := response("trt:GetAudioSourcesResponse")
	if m.d.HasAudio {
		a := add(r, "trt:AudioSources")
		a.CreateAttr("token", AudioSourceToken)
		add(a, "tt:Channels", "1")
	}
	return r, nil
}

func (m *mediaService) getAudioSourceConfigurations(_ context.Context, _ *soap.Request) (*etree.Element, error) {
	return m.configs("GetAudioSourceConfigurationsResponse", m.d.HasAudio, m.writeAudioSourceConfig)
}

func (m *mediaService) getAudioSourceConfiguration(_ context.Context, req *soap.Request) (*etree.Element, error) {
	return m.config(req, "GetAudioSourceConfigurationResponse", AudioSourceConfigToken, m.d.HasAudio, m.writeAudioSourceConfig)
}

func (m *mediaService) getCompatibleAudioSourceConfigurations(_ context.Context, req *soap.Request) (*etree.Element, error) {
	return m.compatible(req, "GetCompatibleAudioSourceConfigurationsResponse", m.d.HasAudio, m.writeAudioSourceConfig)
}

// audioOptions checks a Get*ConfigurationOptions request for an audio
// configuration kind and returns the empty response.
func (m *mediaService) audioOptions(req *soap.Request, kind configKind, name string) (*etree.Element, error) {
	if !m.d.HasAudio {
		return nil, noAudio()
	}
	if err := m.checkOptionalTokens(req, kind); err != nil {
		return nil, err
	}
	return response("trt:" + name), nil
}

func (m *mediaService) getAudioSourceConfigurationOptions(_ context.Context, req *soap.Request) (*etree.Element, error) {
	r, err := m.audioOptions(req, kindAudioSource, "GetAudioSourceConfigurationOptionsResponse")
	if err != nil {
		return nil, err
	}
	o := add(r, "trt:Options")
	add(o, "tt:InputTokensAvailable", AudioSourceToken)
	return r, nil
}

func (m *mediaService) setAudioSourceConfiguration(_ context.Context, req *soap.Request) (*etree.Element, error) {
	if !m.d.HasAudio {
		return nil, noAudio()
	}
	cfg, err := setConfiguration(req, AudioSourceConfigToken)
	if err != nil {
		return nil, err
	}
	if s, _ := childText(cfg, "SourceToken"); s != AudioSourceToken {
		return nil, soap.ConfigModify("the source token must be " + AudioSourceToken)
	}
	return response("trt:SetAudioSourceConfigurationResponse"), nil
}

func (m *mediaService) getAudioEncoderConfigurations(_ context.Context, _ *soap.Request) (*etree.Element, error) {
	return m.configs("GetAudioEncoderConfigurationsResponse", m.d.HasAudio, m.writeAudioEncoder)
}

func (m *mediaService) getAudioEncoderConfiguration(_ context.Context, req *soap.Request) (*etree.Element, error) {
	return m.config(req, "GetAudioEncoderConfigurationResponse", AudioEncoderToken, m.d.HasAudio, m.writeAudioEncoder)
}

func (m *mediaService) getCompatibleAudioEncoderConfigurations(_ context.Context, req *soap.Request) (*etree.Element, error) {
	return m.compatible(req, "GetCompatibleAudioEncoderConfigurationsResponse", m.d.HasAudio, m.writeAudioEncoder)
}

func (m *mediaService) getAudioEncoderConfigurationOptions(_ context.Context, req *soap.Request) (*etree.Element, error) {
	r, err := m.audioOptions(req, kindAudioEncoder, "GetAudioEncoderConfigurationOptionsResponse")
	if err != nil {
		return nil, err
	}
	o := add(add(r, "trt:Options"), "tt:Options")
	add(o, "tt:Encoding", "G711")
	add(add(o, "tt:BitrateList"), "tt:Items", itoa(AudioBitrate))
	add(add(o, "tt:SampleRateList"), "tt:Items", itoa(AudioSampleRate))
	return r, nil
}

// setAudioEncoderConfiguration accepts the one thing the encoder does:
// G.711 µ-law at 64 kbit/s, 8 kHz. The encoding may also be named PCMU,
// its RTP name, which Scrypted sends (it writes Media2's names into media
// ver10 requests); it is reported as G711 all the same.
func (m *mediaService) setAudioEncoderConfiguration(_ context.Context, req *soap.Request) (*etree.Element, error) {
	if !m.d.HasAudio {
		return nil, noAudio()
	}
	cfg, err := setConfiguration(req, AudioEncoderToken)
	if err != nil {
		return nil, err
	}
	if e, _ := childText(cfg, "Encoding"); e != "G711" && e != "PCMU" {
		return nil, soap.ConfigModify("the audio encoder only does G711")
	}
	if b, ok := childText(cfg, "Bitrate"); ok && b != itoa(AudioBitrate) {
		return nil, soap.ConfigModify("the audio bitrate is 64 kbit/s")
	}
	if s, ok := childText(cfg, "SampleRate"); ok && s != itoa(AudioSampleRate) {
		return nil, soap.ConfigModify("the audio sample rate is 8 kHz")
	}
	return response("trt:SetAudioEncoderConfigurationResponse"), nil
}

// --- URIs ---

// streamName returns the RTSP stream name of a video encoder token.
func streamName(encoderToken string) string {
	if encoderToken == H264EncoderToken {
		return H264ProfileToken
	}
	return JPEGProfileToken
}

func (m *mediaService) getStreamURI(_ context.Context, req *soap.Request) (*etree.Element, error) {
	setup := child(req.Body, "StreamSetup")
	if setup == nil {
		return nil, soap.InvalidArgVal("missing StreamSetup", "InvalidStreamSetup")
	}
	kind, _ := childText(setup, "Stream")
	if kind != "RTP-Unicast" {
		return nil, soap.InvalidArgVal("only RTP-Unicast streams are offered", "InvalidStreamSetup")
	}
	transport := "RTSP"
	if tr := child(setup, "Transport"); tr != nil {
		transport, _ = childText(tr, "Protocol")
	}
	switch transport {
	case "UDP", "TCP", "RTSP", "HTTP":
	default:
		return nil, soap.InvalidArgVal("unknown transport protocol", "InvalidStreamSetup")
	}
	p, _, _, err := m.profile(req)
	if err != nil {
		return nil, err
	}
	if p.VideoEncoder == "" {
		return nil, soap.Action("the profile has no video encoder configuration", "IncompleteConfiguration")
	}
	if m.d.Media == nil {
		return nil, soap.Action("streaming is not available")
	}
	uri, err := m.d.Media.StreamURI(requestHost(req.HTTP), streamName(p.VideoEncoder), transport)
	if err != nil {
		return nil, soap.Action(err.Error())
	}
	r := response("trt:GetStreamUriResponse")
	writeMediaURI(r, uri)
	return r, nil
}

func (m *mediaService) getSnapshotURI(_ context.Context, req *soap.Request) (*etree.Element, error) {
	if _, _, _, err := m.profile(req); err != nil {
		return nil, err
	}
	if m.d.Media == nil {
		return nil, soap.Action("snapshots are not available")
	}
	uri, err := m.d.Media.SnapshotURI(requestHost(req.HTTP))
	if err != nil {
		return nil, soap.Action(err.Error())
	}
	r := response("trt:GetSnapshotUriResponse")
	writeMediaURI(r, uri)
	return r, nil
}

func writeMediaURI(r *etree.Element, uri string) {
	u := add(r, "trt:MediaUri")
	add(u, "tt:Uri", uri)
	add(u, "tt:InvalidAfterConnect", "false")
	add(u, "tt:InvalidAfterReboot", "false")
	add(u, "tt:Timeout", "PT0S")
}

// setSynchronizationPoint is accepted for any existing profile: JPEG frames
// are all key frames, and the H.264 transcode sends a key frame with its
// parameter sets in-band about every second (its GOP is NativeFPS frames).
func (m *mediaService) setSynchronizationPoint(_ context.Context, req *soap.Request) (*etree.Element, error) {
	if _, _, _, err := m.profile(req); err != nil {
		return nil, err
	}
	return response("trt:SetSynchronizationPointResponse"), nil
}

// getOSDs answers that the camera draws no on-screen display: an empty
// list, for its video source configuration or, without a token, for all.
// Hikvision and Dahua NVRs call it when they add a device and mark the
// device offline when it fails.
func (m *mediaService) getOSDs(_ context.Context, req *soap.Request) (*etree.Element, error) {
	if t, _ := childText(req.Body, "ConfigurationToken"); t != "" && t != VideoSourceConfigToken {
		return nil, soap.NoConfig(t)
	}
	return response("trt:GetOSDsResponse"), nil
}

// getOSDOptions answers that the video source configuration takes no OSD:
// MaximumNumberOfOSDs is 0 in total and for every type. The schema still
// requires a Type and a PositionOption, which ONVIF says are ignored when
// the maximum is zero.
func (m *mediaService) getOSDOptions(_ context.Context, req *soap.Request) (*etree.Element, error) {
	t, err := requiredToken(req, "ConfigurationToken")
	if err != nil {
		return nil, err
	}
	if t != VideoSourceConfigToken {
		return nil, soap.NoConfig(t)
	}
	r := response("trt:GetOSDOptionsResponse")
	o := add(r, "trt:OSDOptions")
	limit := add(o, "tt:MaximumNumberOfOSDs")
	for _, a := range []string{"Total", "Image", "PlainText", "Date", "Time", "DateAndTime"} {
		limit.CreateAttr(a, "0")
	}
	add(o, "tt:Type", "Text")
	add(o, "tt:PositionOption", "UpperLeft")
	return r, nil
}
