package onvif

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/wsdl"
)

// Media is the media service (ver10, Profile S) of one device. Its
// handlers read the device model and its Store; they never block. Build
// the SOAP operation table with Ops.
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
type Media struct {
	// Device is the device this service belongs to.
	Device *Device
}

// call is one media request: the request element (first Body child) and
// the host the client used (Host header without the port; IPv6 in
// brackets).
type call struct {
	body *etree.Element
	host string
}

// mediaFault is a fault raised by a media handler, mapped to a SOAP fault
// by the service glue. Receiver selects env:Receiver over env:Sender.
type mediaFault struct {
	receiver bool
	code     string // first ter subcode: InvalidArgVal, Action, ActionNotSupported
	sub      string // second ter subcode, may be ""
	reason   string
}

func (f *mediaFault) Error() string {
	s := "onvif: " + f.code
	if f.sub != "" {
		s += "/" + f.sub
	}
	return s + ": " + f.reason
}

func argFault(sub, reason string) error {
	return &mediaFault{code: "InvalidArgVal", sub: sub, reason: reason}
}

func actionFault(sub, reason string) error {
	return &mediaFault{receiver: true, code: "Action", sub: sub, reason: reason}
}

func noProfile(token string) error {
	return argFault("NoProfile", "no profile with token "+strconv.Quote(token))
}

func noConfig(token string) error {
	return argFault("NoConfig", "no configuration with token "+strconv.Quote(token))
}

var errNoAudio = &mediaFault{receiver: true, code: "ActionNotSupported", sub: "AudioNotSupported", reason: "the camera has no audio enabled"}

// mediaHandler handles one media operation.
type mediaHandler func(m *Media, c *call) (*etree.Element, error)

// mediaHandlers maps operation names (media.wsdl) to handlers. Operations
// of media.wsdl that are not here are answered with ActionNotSupported.
var mediaHandlers = map[string]mediaHandler{
	wsdl.MediaGetServiceCapabilities:                     (*Media).getServiceCapabilities,
	wsdl.MediaGetProfiles:                                (*Media).getProfiles,
	wsdl.MediaGetProfile:                                 (*Media).getProfile,
	wsdl.MediaCreateProfile:                              (*Media).createProfile,
	wsdl.MediaDeleteProfile:                              (*Media).deleteProfile,
	wsdl.MediaAddVideoSourceConfiguration:                addConfig(kindVideoSource),
	wsdl.MediaAddVideoEncoderConfiguration:               addConfig(kindVideoEncoder),
	wsdl.MediaAddAudioSourceConfiguration:                addConfig(kindAudioSource),
	wsdl.MediaAddAudioEncoderConfiguration:               addConfig(kindAudioEncoder),
	wsdl.MediaRemoveVideoSourceConfiguration:             removeConfig(kindVideoSource),
	wsdl.MediaRemoveVideoEncoderConfiguration:            removeConfig(kindVideoEncoder),
	wsdl.MediaRemoveAudioSourceConfiguration:             removeConfig(kindAudioSource),
	wsdl.MediaRemoveAudioEncoderConfiguration:            removeConfig(kindAudioEncoder),
	wsdl.MediaGetVideoSources:                            (*Media).getVideoSources,
	wsdl.MediaGetVideoSourceConfigurations:               (*Media).getVideoSourceConfigurations,
	wsdl.MediaGetVideoSourceConfiguration:                (*Media).getVideoSourceConfiguration,
	wsdl.MediaGetCompatibleVideoSourceConfigurations:     (*Media).getCompatibleVideoSourceConfigurations,
	wsdl.MediaGetVideoSourceConfigurationOptions:         (*Media).getVideoSourceConfigurationOptions,
	wsdl.MediaSetVideoSourceConfiguration:                (*Media).setVideoSourceConfiguration,
	wsdl.MediaGetVideoEncoderConfigurations:              (*Media).getVideoEncoderConfigurations,
	wsdl.MediaGetVideoEncoderConfiguration:               (*Media).getVideoEncoderConfiguration,
	wsdl.MediaGetCompatibleVideoEncoderConfigurations:    (*Media).getCompatibleVideoEncoderConfigurations,
	wsdl.MediaGetVideoEncoderConfigurationOptions:        (*Media).getVideoEncoderConfigurationOptions,
	wsdl.MediaSetVideoEncoderConfiguration:               (*Media).setVideoEncoderConfiguration,
	wsdl.MediaGetGuaranteedNumberOfVideoEncoderInstances: (*Media).getGuaranteedNumberOfVideoEncoderInstances,
	wsdl.MediaGetAudioSources:                            (*Media).getAudioSources,
	wsdl.MediaGetAudioSourceConfigurations:               (*Media).getAudioSourceConfigurations,
	wsdl.MediaGetAudioSourceConfiguration:                (*Media).getAudioSourceConfiguration,
	wsdl.MediaGetCompatibleAudioSourceConfigurations:     (*Media).getCompatibleAudioSourceConfigurations,
	wsdl.MediaGetAudioSourceConfigurationOptions:         (*Media).getAudioSourceConfigurationOptions,
	wsdl.MediaSetAudioSourceConfiguration:                (*Media).setAudioSourceConfiguration,
	wsdl.MediaGetAudioEncoderConfigurations:              (*Media).getAudioEncoderConfigurations,
	wsdl.MediaGetAudioEncoderConfiguration:               (*Media).getAudioEncoderConfiguration,
	wsdl.MediaGetCompatibleAudioEncoderConfigurations:    (*Media).getCompatibleAudioEncoderConfigurations,
	wsdl.MediaGetAudioEncoderConfigurationOptions:        (*Media).getAudioEncoderConfigurationOptions,
	wsdl.MediaSetAudioEncoderConfiguration:               (*Media).setAudioEncoderConfiguration,
	wsdl.MediaGetStreamUri:                               (*Media).getStreamURI,
	wsdl.MediaGetSnapshotUri:                             (*Media).getSnapshotURI,
	wsdl.MediaSetSynchronizationPoint:                    (*Media).setSynchronizationPoint,
}

// --- XML helpers ---

// response returns an empty trt response element with the trt and tt
// namespaces declared, so it stands alone wherever it is inserted.
func response(name string) *etree.Element {
	e := etree.NewElement("trt:" + name)
	e.CreateAttr("xmlns:trt", wsdl.NSMedia)
	e.CreateAttr("xmlns:tt", wsdl.NSSchema)
	return e
}

// add appends a child with the given prefixed tag and optional text.
func add(parent *etree.Element, tag string, text ...string) *etree.Element {
	e := parent.CreateElement(tag)
	if len(text) > 0 {
		e.SetText(text[0])
	}
	return e
}

func itoa(i int) string { return strconv.Itoa(i) }

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// childText returns the trimmed text of the first child with the given
// local name (any namespace prefix), and whether it exists.
func childText(e *etree.Element, name string) (string, bool) {
	c := child(e, name)
	if c == nil {
		return "", false
	}
	return strings.TrimSpace(c.Text()), true
}

// child returns the first child element with the given local name.
func child(e *etree.Element, name string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if c.Tag == name {
			return c
		}
	}
	return nil
}

// requiredToken returns the required token argument name of the request.
func requiredToken(c *call, name string) (string, error) {
	t, ok := childText(c.body, name)
	if !ok || t == "" {
		return "", argFault("", "missing "+name)
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
func (m *Media) state() (State, []Profile, error) {
	st, err := m.Device.ensureProfiles()
	if err != nil {
		return State{}, nil, &mediaFault{receiver: true, code: "Action", reason: err.Error()}
	}
	return st, m.Device.visibleProfiles(st), nil
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

func (m *Media) writeVideoSourceConfig(parent *etree.Element, tag string, ps []Profile) {
	e := addConfigElement(parent, tag, kindVideoSource, VideoSourceConfigToken, "VideoSource", ps)
	add(e, "tt:SourceToken", VideoSourceToken)
	b := add(e, "tt:Bounds")
	b.CreateAttr("x", "0")
	b.CreateAttr("y", "0")
	b.CreateAttr("width", itoa(Width))
	b.CreateAttr("height", itoa(Height))
}

func (m *Media) writeVideoEncoder(parent *etree.Element, tag string, enc videoEncoder, ps []Profile) {
	e := addConfigElement(parent, tag, kindVideoEncoder, enc.Token, enc.Name, ps)
	add(e, "tt:Encoding", enc.Encoding)
	addResolution(e, "tt:Resolution")
	add(e, "tt:Quality", formatFloat(enc.Quality))
	rc := add(e, "tt:RateControl")
	add(rc, "tt:FrameRateLimit", itoa(enc.FrameRateLimit))
	add(rc, "tt:EncodingInterval", "1")
	add(rc, "tt:BitrateLimit", itoa(enc.BitrateLimit))
	if enc.Encoding == EncodingH264 {
		h := add(e, "tt:H264")
		add(h, "tt:GovLength", itoa(enc.GovLength))
		add(h, "tt:H264Profile", enc.H264Profile)
	}
	addMulticast(e)
	add(e, "tt:SessionTimeout", enc.SessionTimeout)
}

func (m *Media) writeAudioSourceConfig(parent *etree.Element, tag string, ps []Profile) {
	e := addConfigElement(parent, tag, kindAudioSource, AudioSourceConfigToken, "AudioSource", ps)
	add(e, "tt:SourceToken", AudioSourceToken)
}

func (m *Media) writeAudioEncoder(parent *etree.Element, tag string, ps []Profile) {
	e := addConfigElement(parent, tag, kindAudioEncoder, AudioEncoderToken, "G711", ps)
	add(e, "tt:Encoding", "G711")
	add(e, "tt:Bitrate", itoa(AudioBitrate))
	add(e, "tt:SampleRate", itoa(AudioSampleRate))
	addMulticast(e)
	add(e, "tt:SessionTimeout", SessionTimeout)
}

func (m *Media) writeProfile(parent *etree.Element, tag string, p Profile, st State, ps []Profile) {
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
		for _, enc := range m.Device.videoEncoders(st) {
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

func (m *Media) getServiceCapabilities(*call) (*etree.Element, error) {
	r := response("GetServiceCapabilitiesResponse")
	c := add(r, "trt:Capabilities")
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
	return r, nil
}

func (m *Media) getProfiles(*call) (*etree.Element, error) {
	st, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	r := response("GetProfilesResponse")
	for _, p := range ps {
		m.writeProfile(r, "trt:Profiles", p, st, ps)
	}
	return r, nil
}

// profile returns the visible profile with the token in the request's
// ProfileToken.
func (m *Media) profile(c *call) (Profile, State, []Profile, error) {
	token, err := requiredToken(c, "ProfileToken")
	if err != nil {
		return Profile{}, State{}, nil, err
	}
	st, ps, err := m.state()
	if err != nil {
		return Profile{}, State{}, nil, err
	}
	i := slices.IndexFunc(ps, func(p Profile) bool { return p.Token == token })
	if i < 0 {
		return Profile{}, State{}, nil, noProfile(token)
	}
	return ps[i], st, ps, nil
}

func (m *Media) getProfile(c *call) (*etree.Element, error) {
	p, st, ps, err := m.profile(c)
	if err != nil {
		return nil, err
	}
	r := response("GetProfileResponse")
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

func (m *Media) createProfile(c *call) (*etree.Element, error) {
	name, _ := childText(c.body, "Name")
	if name == "" || len(name) > 64 {
		return nil, argFault("", "a profile needs a name of 1 to 64 characters")
	}
	token, hasToken := childText(c.body, "Token")
	if hasToken && !validToken(token) {
		return nil, argFault("", "invalid profile token")
	}
	var created Profile
	err := m.update(func(st *State) error {
		if hasToken {
			if slices.ContainsFunc(st.Profiles, func(p Profile) bool { return p.Token == token }) {
				return argFault("ProfileExists", "a profile with token "+strconv.Quote(token)+" exists")
			}
		} else {
			token = newProfileToken(st.Profiles)
		}
		if len(st.Profiles) >= MaxProfiles {
			return actionFault("MaxNVTProfiles", "the device has the maximum number of profiles")
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
	r := response("CreateProfileResponse")
	m.writeProfile(r, "trt:Profile", created, st, ps)
	return r, nil
}

// update ensures the fixed profiles are stored, then changes the stored
// state with fn; errors that are not media faults become receiver faults.
func (m *Media) update(fn func(*State) error) error {
	if _, _, err := m.state(); err != nil {
		return err
	}
	if err := m.Device.Store.Update(fn); err != nil {
		return storeFault(err)
	}
	return nil
}

// updateProfile is update for the stored profile token: fn gets the state
// and the profile's index in st.Profiles. An unknown token is a NoProfile
// fault.
func (m *Media) updateProfile(token string, fn func(st *State, i int) error) error {
	return m.update(func(st *State) error {
		i := slices.IndexFunc(st.Profiles, func(p Profile) bool { return p.Token == token })
		if i < 0 {
			return noProfile(token)
		}
		return fn(st, i)
	})
}

// storeFault passes media faults through and turns store errors into a
// receiver fault.
func storeFault(err error) error {
	var f *mediaFault
	if errors.As(err, &f) {
		return f
	}
	return &mediaFault{receiver: true, code: "Action", reason: err.Error()}
}

func (m *Media) deleteProfile(c *call) (*etree.Element, error) {
	token, err := requiredToken(c, "ProfileToken")
	if err != nil {
		return nil, err
	}
	err = m.updateProfile(token, func(st *State, i int) error {
		if st.Profiles[i].Fixed {
			return actionFault("DeletionOfFixedProfile", "fixed profiles cannot be deleted")
		}
		st.Profiles = slices.Delete(st.Profiles, i, i+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return response("DeleteProfileResponse"), nil
}

var addNames = map[configKind]string{
	kindVideoSource:  "AddVideoSourceConfigurationResponse",
	kindVideoEncoder: "AddVideoEncoderConfigurationResponse",
	kindAudioSource:  "AddAudioSourceConfigurationResponse",
	kindAudioEncoder: "AddAudioEncoderConfigurationResponse",
}

var removeNames = map[configKind]string{
	kindVideoSource:  "RemoveVideoSourceConfigurationResponse",
	kindVideoEncoder: "RemoveVideoEncoderConfigurationResponse",
	kindAudioSource:  "RemoveAudioSourceConfigurationResponse",
	kindAudioEncoder: "RemoveAudioEncoderConfigurationResponse",
}

// addConfig handles Add*Configuration: the configuration replaces the
// profile's configuration of that kind.
func addConfig(kind configKind) mediaHandler {
	return func(m *Media, c *call) (*etree.Element, error) {
		ptoken, err := requiredToken(c, "ProfileToken")
		if err != nil {
			return nil, err
		}
		ctoken, err := requiredToken(c, "ConfigurationToken")
		if err != nil {
			return nil, err
		}
		if (kind == kindAudioSource || kind == kindAudioEncoder) && !m.Device.HasAudio {
			return nil, errNoAudio
		}
		if !m.Device.hasConfig(kind, ctoken) {
			return nil, noConfig(ctoken)
		}
		if err := m.setSlot(ptoken, kind, ctoken); err != nil {
			return nil, err
		}
		return response(addNames[kind]), nil
	}
}

// setSlot sets the configuration of the given kind of the stored profile
// ptoken to ctoken ("" removes it).
func (m *Media) setSlot(ptoken string, kind configKind, ctoken string) error {
	return m.updateProfile(ptoken, func(st *State, i int) error {
		*kind.slot(&st.Profiles[i]) = ctoken
		return nil
	})
}

// removeConfig handles Remove*Configuration.
func removeConfig(kind configKind) mediaHandler {
	return func(m *Media, c *call) (*etree.Element, error) {
		ptoken, err := requiredToken(c, "ProfileToken")
		if err != nil {
			return nil, err
		}
		if err := m.setSlot(ptoken, kind, ""); err != nil {
			return nil, err
		}
		return response(removeNames[kind]), nil
	}
}

// --- video source ---

func (m *Media) getVideoSources(*call) (*etree.Element, error) {
	r := response("GetVideoSourcesResponse")
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
func (m *Media) configs(name string, available bool, write configWriter) (*etree.Element, error) {
	r := response(name)
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
func (m *Media) config(c *call, name, token string, available bool, write configWriter) (*etree.Element, error) {
	t, err := requiredToken(c, "ConfigurationToken")
	if err != nil {
		return nil, err
	}
	if !available || t != token {
		return nil, noConfig(t)
	}
	_, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	r := response(name)
	write(r, "trt:Configuration", ps)
	return r, nil
}

// compatible answers GetCompatible*Configurations for a kind with one
// configuration, which exists when available.
func (m *Media) compatible(c *call, name string, available bool, write configWriter) (*etree.Element, error) {
	_, _, ps, err := m.profile(c)
	if err != nil {
		return nil, err
	}
	r := response(name)
	if available {
		write(r, "trt:Configurations", ps)
	}
	return r, nil
}

func (m *Media) getVideoSourceConfigurations(*call) (*etree.Element, error) {
	return m.configs("GetVideoSourceConfigurationsResponse", true, m.writeVideoSourceConfig)
}

func (m *Media) getVideoSourceConfiguration(c *call) (*etree.Element, error) {
	return m.config(c, "GetVideoSourceConfigurationResponse", VideoSourceConfigToken, true, m.writeVideoSourceConfig)
}

func (m *Media) getCompatibleVideoSourceConfigurations(c *call) (*etree.Element, error) {
	return m.compatible(c, "GetCompatibleVideoSourceConfigurationsResponse", true, m.writeVideoSourceConfig)
}

// checkOptionalTokens faults when the request names a configuration or
// profile that does not exist (the *Options operations).
func (m *Media) checkOptionalTokens(c *call, kind configKind) error {
	if t, ok := childText(c.body, "ConfigurationToken"); ok && t != "" && !m.Device.hasConfig(kind, t) {
		return noConfig(t)
	}
	if t, ok := childText(c.body, "ProfileToken"); ok && t != "" {
		_, ps, err := m.state()
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(ps, func(p Profile) bool { return p.Token == t }) {
			return noProfile(t)
		}
	}
	return nil
}

func (m *Media) getVideoSourceConfigurationOptions(c *call) (*etree.Element, error) {
	if err := m.checkOptionalTokens(c, kindVideoSource); err != nil {
		return nil, err
	}
	r := response("GetVideoSourceConfigurationOptionsResponse")
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
func setConfiguration(c *call, want string) (*etree.Element, error) {
	cfg := child(c.body, "Configuration")
	if cfg == nil {
		return nil, argFault("", "missing Configuration")
	}
	if t := cfg.SelectAttrValue("token", ""); want != "" && t != want {
		return nil, noConfig(t)
	}
	return cfg, nil
}

// setVideoSourceConfiguration accepts the one configuration the camera has
// when it asks for what the camera does: its source and full-frame bounds.
func (m *Media) setVideoSourceConfiguration(c *call) (*etree.Element, error) {
	cfg, err := setConfiguration(c, VideoSourceConfigToken)
	if err != nil {
		return nil, err
	}
	if s, _ := childText(cfg, "SourceToken"); s != VideoSourceToken {
		return nil, argFault("ConfigModify", "the source token must be "+VideoSourceToken)
	}
	if b := child(cfg, "Bounds"); b != nil {
		if b.SelectAttrValue("x", "0") != "0" || b.SelectAttrValue("y", "0") != "0" ||
			b.SelectAttrValue("width", "") != itoa(Width) || b.SelectAttrValue("height", "") != itoa(Height) {
			return nil, argFault("ConfigModify", "the camera only delivers the full 640x480 frame")
		}
	}
	return response("SetVideoSourceConfigurationResponse"), nil
}

// --- video encoder ---

func (m *Media) getVideoEncoderConfigurations(*call) (*etree.Element, error) {
	st, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	r := response("GetVideoEncoderConfigurationsResponse")
	for _, enc := range m.Device.videoEncoders(st) {
		m.writeVideoEncoder(r, "trt:Configurations", enc, ps)
	}
	return r, nil
}

func (m *Media) getVideoEncoderConfiguration(c *call) (*etree.Element, error) {
	token, err := requiredToken(c, "ConfigurationToken")
	if err != nil {
		return nil, err
	}
	st, ps, err := m.state()
	if err != nil {
		return nil, err
	}
	for _, enc := range m.Device.videoEncoders(st) {
		if enc.Token == token {
			r := response("GetVideoEncoderConfigurationResponse")
			m.writeVideoEncoder(r, "trt:Configuration", enc, ps)
			return r, nil
		}
	}
	return nil, noConfig(token)
}

func (m *Media) getCompatibleVideoEncoderConfigurations(c *call) (*etree.Element, error) {
	_, st, ps, err := m.profile(c)
	if err != nil {
		return nil, err
	}
	r := response("GetCompatibleVideoEncoderConfigurationsResponse")
	for _, enc := range m.Device.videoEncoders(st) {
		m.writeVideoEncoder(r, "trt:Configurations", enc, ps)
	}
	return r, nil
}

// Quality and GOV ranges the video encoders accept.
const (
	minQuality, maxQuality = 1, 100
	minGov, maxGov         = 1, 300
)

func (m *Media) getVideoEncoderConfigurationOptions(c *call) (*etree.Element, error) {
	if err := m.checkOptionalTokens(c, kindVideoEncoder); err != nil {
		return nil, err
	}
	// Options of the named configuration, else of the named profile's
	// encoder, else of every encoder.
	jpeg, h264 := true, m.Device.HasH264
	enc, _ := childText(c.body, "ConfigurationToken")
	if pt, _ := childText(c.body, "ProfileToken"); enc == "" && pt != "" {
		if p, _, _, err := m.profile(c); err == nil {
			enc = p.VideoEncoder
		}
	}
	if enc != "" {
		jpeg, h264 = enc == JPEGEncoderToken, enc == H264EncoderToken
	}
	r := response("GetVideoEncoderConfigurationOptionsResponse")
	o := add(r, "trt:Options")
	o.CreateAttr("GuaranteedFrameRateSupported", "false")
	addIntRange(o, "tt:QualityRange", minQuality, maxQuality)
	if jpeg {
		j := add(o, "tt:JPEG")
		addResolution(j, "tt:ResolutionsAvailable")
		addIntRange(j, "tt:FrameRateRange", 1, MaxFPS)
		addIntRange(j, "tt:EncodingIntervalRange", 1, 1)
	}
	if h264 {
		h := add(o, "tt:H264")
		addResolution(h, "tt:ResolutionsAvailable")
		addIntRange(h, "tt:GovLengthRange", minGov, maxGov)
		addIntRange(h, "tt:FrameRateRange", 1, MaxFPS)
		addIntRange(h, "tt:EncodingIntervalRange", 1, 1)
		for _, p := range h264Profiles {
			add(h, "tt:H264ProfilesSupported", p)
		}
	}
	return r, nil
}

// setVideoEncoderConfiguration accepts settings the camera can honour: its
// one resolution, the encoder's own encoding, quality, frame rate and
// bitrate within the advertised ranges. Multicast settings are ignored
// (multicast is not offered). Accepted settings are persisted and reported
// back; they do not change the streams (the JPEG stream is the camera's own
// and the H.264 transcode has fixed settings), which clients that set the
// camera to what it reports (NVRs adding a device) never notice.
func (m *Media) setVideoEncoderConfiguration(c *call) (*etree.Element, error) {
	cfg, err := setConfiguration(c, "")
	if err != nil {
		return nil, err
	}
	token := cfg.SelectAttrValue("token", "")
	st, _, err := m.state()
	if err != nil {
		return nil, err
	}
	var cur *videoEncoder
	encs := m.Device.videoEncoders(st)
	for i := range encs {
		if encs[i].Token == token {
			cur = &encs[i]
		}
	}
	if cur == nil {
		return nil, noConfig(token)
	}
	modify := func(reason string) error { return argFault("ConfigModify", reason) }
	set := VideoEncoderSettings{}
	if name, ok := childText(cfg, "Name"); ok {
		if len(name) > 64 {
			return nil, modify("name too long")
		}
		set.Name = name
	}
	if enc, _ := childText(cfg, "Encoding"); enc != cur.Encoding {
		return nil, modify("encoder " + token + " only does " + cur.Encoding)
	}
	if res := child(cfg, "Resolution"); res != nil {
		w, _ := childText(res, "Width")
		h, _ := childText(res, "Height")
		if w != itoa(Width) || h != itoa(Height) {
			return nil, modify("the camera only delivers 640x480")
		}
	}
	if q, ok := childText(cfg, "Quality"); ok {
		f, err := strconv.ParseFloat(q, 64)
		if err != nil || f < minQuality || f > maxQuality {
			return nil, modify("quality out of range")
		}
		set.Quality = f
	}
	if rc := child(cfg, "RateControl"); rc != nil {
		if v, ok := childText(rc, "FrameRateLimit"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxFPS {
				return nil, modify("frame rate out of range")
			}
			set.FrameRateLimit = n
		}
		if v, ok := childText(rc, "EncodingInterval"); ok && v != "1" {
			return nil, modify("encoding interval must be 1")
		}
		if v, ok := childText(rc, "BitrateLimit"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, modify("invalid bitrate")
			}
			set.BitrateLimit = n
		}
	}
	if h := child(cfg, "H264"); h != nil {
		if cur.Encoding != EncodingH264 {
			return nil, modify("H264 settings on a JPEG encoder")
		}
		if v, ok := childText(h, "GovLength"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < minGov || n > maxGov {
				return nil, modify("GOV length out of range")
			}
			set.GovLength = n
		}
		if p, ok := childText(h, "H264Profile"); ok && !slices.Contains(h264Profiles, p) {
			return nil, modify("unsupported H.264 profile")
		}
	}
	if v, ok := childText(cfg, "SessionTimeout"); ok {
		if !validDuration(v) {
			return nil, modify("invalid session timeout")
		}
		set.SessionTimeout = v
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
	return response("SetVideoEncoderConfigurationResponse"), nil
}

func (m *Media) getGuaranteedNumberOfVideoEncoderInstances(c *call) (*etree.Element, error) {
	token, err := requiredToken(c, "ConfigurationToken")
	if err != nil {
		return nil, err
	}
	if token != VideoSourceConfigToken {
		return nil, noConfig(token)
	}
	r := response("GetGuaranteedNumberOfVideoEncoderInstancesResponse")
	add(r, "trt:TotalNumber", itoa(MaxProfiles))
	add(r, "trt:JPEG", itoa(MaxProfiles))
	if m.Device.HasH264 {
		add(r, "trt:H264", itoa(MaxProfiles))
	}
	return r, nil
}

// --- audio ---

func (m *Media) getAudioSources(*call) (*etree.Element, error) {
	r := response("GetAudioSourcesResponse")
	if m.Device.HasAudio {
		a := add(r, "trt:AudioSources")
		a.CreateAttr("token", AudioSourceToken)
		add(a, "tt:Channels", "1")
	}
	return r, nil
}

func (m *Media) getAudioSourceConfigurations(*call) (*etree.Element, error) {
	return m.configs("GetAudioSourceConfigurationsResponse", m.Device.HasAudio, m.writeAudioSourceConfig)
}

func (m *Media) getAudioSourceConfiguration(c *call) (*etree.Element, error) {
	return m.config(c, "GetAudioSourceConfigurationResponse", AudioSourceConfigToken, m.Device.HasAudio, m.writeAudioSourceConfig)
}

func (m *Media) getCompatibleAudioSourceConfigurations(c *call) (*etree.Element, error) {
	return m.compatible(c, "GetCompatibleAudioSourceConfigurationsResponse", m.Device.HasAudio, m.writeAudioSourceConfig)
}

// audioOptions checks a Get*ConfigurationOptions request for an audio
// configuration kind and returns the empty response.
func (m *Media) audioOptions(c *call, kind configKind, name string) (*etree.Element, error) {
	if !m.Device.HasAudio {
		return nil, errNoAudio
	}
	if err := m.checkOptionalTokens(c, kind); err != nil {
		return nil, err
	}
	return response(name), nil
}

func (m *Media) getAudioSourceConfigurationOptions(c *call) (*etree.Element, error) {
	r, err := m.audioOptions(c, kindAudioSource, "GetAudioSourceConfigurationOptionsResponse")
	if err != nil {
		return nil, err
	}
	o := add(r, "trt:Options")
	add(o, "tt:InputTokensAvailable", AudioSourceToken)
	return r, nil
}

func (m *Media) setAudioSourceConfiguration(c *call) (*etree.Element, error) {
	if !m.Device.HasAudio {
		return nil, errNoAudio
	}
	cfg, err := setConfiguration(c, AudioSourceConfigToken)
	if err != nil {
		return nil, err
	}
	if s, _ := childText(cfg, "SourceToken"); s != AudioSourceToken {
		return nil, argFault("ConfigModify", "the source token must be "+AudioSourceToken)
	}
	return response("SetAudioSourceConfigurationResponse"), nil
}

func (m *Media) getAudioEncoderConfigurations(*call) (*etree.Element, error) {
	return m.configs("GetAudioEncoderConfigurationsResponse", m.Device.HasAudio, m.writeAudioEncoder)
}

func (m *Media) getAudioEncoderConfiguration(c *call) (*etree.Element, error) {
	return m.config(c, "GetAudioEncoderConfigurationResponse", AudioEncoderToken, m.Device.HasAudio, m.writeAudioEncoder)
}

func (m *Media) getCompatibleAudioEncoderConfigurations(c *call) (*etree.Element, error) {
	return m.compatible(c, "GetCompatibleAudioEncoderConfigurationsResponse", m.Device.HasAudio, m.writeAudioEncoder)
}

func (m *Media) getAudioEncoderConfigurationOptions(c *call) (*etree.Element, error) {
	r, err := m.audioOptions(c, kindAudioEncoder, "GetAudioEncoderConfigurationOptionsResponse")
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
// G.711 at 64 kbit/s, 8 kHz.
func (m *Media) setAudioEncoderConfiguration(c *call) (*etree.Element, error) {
	if !m.Device.HasAudio {
		return nil, errNoAudio
	}
	cfg, err := setConfiguration(c, AudioEncoderToken)
	if err != nil {
		return nil, err
	}
	if e, _ := childText(cfg, "Encoding"); e != "G711" {
		return nil, argFault("ConfigModify", "the audio encoder only does G711")
	}
	if b, ok := childText(cfg, "Bitrate"); ok && b != itoa(AudioBitrate) {
		return nil, argFault("ConfigModify", "the audio bitrate is 64 kbit/s")
	}
	if s, ok := childText(cfg, "SampleRate"); ok && s != itoa(AudioSampleRate) {
		return nil, argFault("ConfigModify", "the audio sample rate is 8 kHz")
	}
	return response("SetAudioEncoderConfigurationResponse"), nil
}

// --- URIs ---

// streamName returns the RTSP stream name of a video encoder token.
func streamName(encoderToken string) string {
	if encoderToken == H264EncoderToken {
		return H264ProfileToken
	}
	return JPEGProfileToken
}

func (m *Media) getStreamURI(c *call) (*etree.Element, error) {
	setup := child(c.body, "StreamSetup")
	if setup == nil {
		return nil, argFault("InvalidStreamSetup", "missing StreamSetup")
	}
	kind, _ := childText(setup, "Stream")
	if kind != "RTP-Unicast" {
		return nil, argFault("InvalidStreamSetup", "only RTP-Unicast streams are offered")
	}
	transport := "RTSP"
	if tr := child(setup, "Transport"); tr != nil {
		transport, _ = childText(tr, "Protocol")
	}
	switch transport {
	case "UDP", "TCP", "RTSP", "HTTP":
	default:
		return nil, argFault("InvalidStreamSetup", "unknown transport protocol")
	}
	p, _, _, err := m.profile(c)
	if err != nil {
		return nil, err
	}
	if p.VideoEncoder == "" {
		return nil, actionFault("IncompleteConfiguration", "the profile has no video encoder configuration")
	}
	if m.Device.Media == nil {
		return nil, actionFault("", "streaming is not available")
	}
	uri, err := m.Device.Media.StreamURI(c.host, streamName(p.VideoEncoder), transport)
	if err != nil {
		return nil, actionFault("", err.Error())
	}
	r := response("GetStreamUriResponse")
	writeMediaURI(r, uri)
	return r, nil
}

func (m *Media) getSnapshotURI(c *call) (*etree.Element, error) {
	if _, _, _, err := m.profile(c); err != nil {
		return nil, err
	}
	if m.Device.Media == nil {
		return nil, actionFault("", "snapshots are not available")
	}
	uri, err := m.Device.Media.SnapshotURI(c.host)
	if err != nil {
		return nil, actionFault("", err.Error())
	}
	r := response("GetSnapshotUriResponse")
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
func (m *Media) setSynchronizationPoint(c *call) (*etree.Element, error) {
	if _, _, _, err := m.profile(c); err != nil {
		return nil, err
	}
	return response("SetSynchronizationPointResponse"), nil
}

// RequestHost returns the host part of an HTTP Host header value (the
// authority the client used), keeping the brackets of an IPv6 literal, for
// building URLs that reach the bridge the same way.
func RequestHost(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return hostport
}
