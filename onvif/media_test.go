package onvif

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/internal/xsdcheck"
)

// testURLs is a MediaURLs building URLs the way the bridge does.
type testURLs struct{}

func (testURLs) StreamURI(host, video, transport string) (string, error) {
	return "rtsp://" + host + ":8554/cam/" + video, nil
}

func (testURLs) SnapshotURI(host string) (string, error) {
	return "http://" + host + ":8000/snapshot.jpg", nil
}

func testDevice(t testing.TB, audio, h264 bool, path string) *Device {
	t.Helper()
	d := NewDevice("Test cam", "127.0.5.1")
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	d.Store = st
	d.Media = testURLs{}
	d.HasAudio, d.HasH264 = audio, h264
	return d
}

// mediaFixture serves the media service of a device, without
// authentication.
type mediaFixture struct {
	*testEndpoint
	d *Device
}

func newMedia(t testing.TB, d *Device) *mediaFixture {
	t.Helper()
	return &mediaFixture{testEndpoint: serve(t, nil, MediaService(d)), d: d}
}

// invoke posts the media operation op with the content inner (tt prefix
// declared) as a request that reached the device at 192.0.2.7.
func (m *mediaFixture) invoke(t testing.TB, op, inner string) result {
	t.Helper()
	return m.do(t, call{Path: MediaServicePath, Host: "192.0.2.7:8000", Body: "<trt:" + op + ">" + inner + "</trt:" + op + ">"})
}

// mustInvoke runs an operation that must succeed with a schema-valid
// answer and returns its response element.
func (m *mediaFixture) mustInvoke(t testing.TB, op, inner string) *etree.Element {
	t.Helper()
	return m.invoke(t, op, inner).ok(t)
}

func text(e *etree.Element, path string) string {
	x := e.FindElement(path)
	if x == nil {
		return ""
	}
	return x.Text()
}

// readOps are the read operations with the request content that makes
// them succeed on a device with audio and H.264.
var readOps = [][2]string{
	{"GetServiceCapabilities", ""},
	{"GetProfiles", ""},
	{"GetProfile", "<trt:ProfileToken>jpeg</trt:ProfileToken>"},
	{"GetVideoSources", ""},
	{"GetVideoSourceConfigurations", ""},
	{"GetVideoSourceConfiguration", "<trt:ConfigurationToken>vsc</trt:ConfigurationToken>"},
	{"GetCompatibleVideoSourceConfigurations", "<trt:ProfileToken>jpeg</trt:ProfileToken>"},
	{"GetVideoSourceConfigurationOptions", ""},
	{"GetVideoEncoderConfigurations", ""},
	{"GetVideoEncoderConfiguration", "<trt:ConfigurationToken>h264_enc</trt:ConfigurationToken>"},
	{"GetCompatibleVideoEncoderConfigurations", "<trt:ProfileToken>h264</trt:ProfileToken>"},
	{"GetVideoEncoderConfigurationOptions", ""},
	{"GetVideoEncoderConfigurationOptions", "<trt:ConfigurationToken>jpeg_enc</trt:ConfigurationToken><trt:ProfileToken>jpeg</trt:ProfileToken>"},
	{"GetGuaranteedNumberOfVideoEncoderInstances", "<trt:ConfigurationToken>vsc</trt:ConfigurationToken>"},
	{"GetAudioSources", ""},
	{"GetAudioSourceConfigurations", ""},
	{"GetAudioSourceConfiguration", "<trt:ConfigurationToken>asc</trt:ConfigurationToken>"},
	{"GetCompatibleAudioSourceConfigurations", "<trt:ProfileToken>jpeg</trt:ProfileToken>"},
	{"GetAudioSourceConfigurationOptions", ""},
	{"GetAudioEncoderConfigurations", ""},
	{"GetAudioEncoderConfiguration", "<trt:ConfigurationToken>g711</trt:ConfigurationToken>"},
	{"GetCompatibleAudioEncoderConfigurations", "<trt:ProfileToken>jpeg</trt:ProfileToken>"},
	{"GetAudioEncoderConfigurationOptions", ""},
	{"GetStreamUri", "<trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>UDP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>h264</trt:ProfileToken>"},
	{"GetSnapshotUri", "<trt:ProfileToken>jpeg</trt:ProfileToken>"},
	{"SetSynchronizationPoint", "<trt:ProfileToken>h264</trt:ProfileToken>"},
	{"GetOSDs", "<trt:ConfigurationToken>vsc</trt:ConfigurationToken>"},
	{"GetOSDs", ""},
	{"GetOSDOptions", "<trt:ConfigurationToken>vsc</trt:ConfigurationToken>"},
}

// writeOps change state; run in this order they all succeed.
var writeOps = [][2]string{
	{"CreateProfile", "<trt:Name>SynoProfile</trt:Name>"},
	{"CreateProfile", "<trt:Name>Mine</trt:Name><trt:Token>mine</trt:Token>"},
	{"AddVideoSourceConfiguration", "<trt:ProfileToken>mine</trt:ProfileToken><trt:ConfigurationToken>vsc</trt:ConfigurationToken>"},
	{"AddVideoEncoderConfiguration", "<trt:ProfileToken>mine</trt:ProfileToken><trt:ConfigurationToken>h264_enc</trt:ConfigurationToken>"},
	{"AddAudioSourceConfiguration", "<trt:ProfileToken>mine</trt:ProfileToken><trt:ConfigurationToken>asc</trt:ConfigurationToken>"},
	{"AddAudioEncoderConfiguration", "<trt:ProfileToken>mine</trt:ProfileToken><trt:ConfigurationToken>g711</trt:ConfigurationToken>"},
	{"RemoveAudioEncoderConfiguration", "<trt:ProfileToken>mine</trt:ProfileToken>"},
	{"RemoveAudioSourceConfiguration", "<trt:ProfileToken>mine</trt:ProfileToken>"},
	{"RemoveVideoEncoderConfiguration", "<trt:ProfileToken>mine</trt:ProfileToken>"},
	{"RemoveVideoSourceConfiguration", "<trt:ProfileToken>mine</trt:ProfileToken>"},
	{"SetVideoSourceConfiguration", `<trt:Configuration token="vsc"><tt:Name>VideoSource</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>src</tt:SourceToken><tt:Bounds x="0" y="0" width="640" height="480"/></trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`},
	{"SetVideoEncoderConfiguration", `<trt:Configuration token="jpeg_enc"><tt:Name>Main</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>JPEG</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width><tt:Height>480</tt:Height></tt:Resolution><tt:Quality>80</tt:Quality><tt:RateControl><tt:FrameRateLimit>10</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl><tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout></trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`},
	{"SetAudioSourceConfiguration", `<trt:Configuration token="asc"><tt:Name>A</tt:Name><tt:UseCount>1</tt:UseCount><tt:SourceToken>audio_src</tt:SourceToken></trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`},
	{"SetAudioEncoderConfiguration", `<trt:Configuration token="g711"><tt:Name>A</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>G711</tt:Encoding><tt:Bitrate>64</tt:Bitrate><tt:SampleRate>8</tt:SampleRate></trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`},
	{"DeleteProfile", "<trt:ProfileToken>mine</trt:ProfileToken>"},
}

// TestMediaResponsesValidate runs every implemented operation and checks
// each response against the official schemas, for a device with audio and
// H.264 and for a plain JPEG-only device.
func TestMediaResponsesValidate(t *testing.T) {
	t.Parallel()
	xsdcheck.Require(t)
	covered := map[string]bool{}
	for _, full := range []bool{true, false} {
		m := newMedia(t, testDevice(t, full, full, ""))
		ops := append(append([][2]string{}, readOps...), writeOps...)
		for _, op := range ops {
			r := m.invoke(t, op[0], op[1])
			if !full && r.status != http.StatusOK && strings.Contains(r.codes(), "/") {
				continue // audio/H.264 tokens on a plain device: a fault with subcodes
			}
			if r.status != http.StatusOK {
				t.Errorf("%s %s: %d %s", op[0], op[1], r.status, r.body)
				continue
			}
			covered[op[0]] = true
			r.ok(t) // validated against the schemas when the test ends
		}
	}
	for _, op := range MediaService(testDevice(t, true, true, "")).Ops {
		if !covered[op.Name] {
			t.Errorf("operation %s has no schema-validated test", op.Name)
		}
	}
}

func TestGetProfilesAGSHCompatible(t *testing.T) {
	m := newMedia(t, testDevice(t, true, true, ""))
	r := m.mustInvoke(t, "GetProfiles", "")
	profiles := r.SelectElements("Profiles")
	if len(profiles) != 2 {
		t.Fatalf("%d profiles, want jpeg and h264", len(profiles))
	}
	srcs := m.mustInvoke(t, "GetVideoSources", "").SelectElements("VideoSources")
	if len(srcs) != 1 {
		t.Fatalf("%d video sources", len(srcs))
	}
	srcToken := srcs[0].SelectAttrValue("token", "")
	encodings := map[string]string{}
	for _, p := range profiles {
		if got := text(p, "VideoSourceConfiguration/SourceToken"); got != srcToken {
			t.Errorf("profile %s: SourceToken %q, video source token %q (agsh: Unrecognized configuration)",
				p.SelectAttrValue("token", ""), got, srcToken)
		}
		if p.SelectAttrValue("fixed", "") != "true" {
			t.Errorf("profile %s not fixed", p.SelectAttrValue("token", ""))
		}
		encodings[p.SelectAttrValue("token", "")] = text(p, "VideoEncoderConfiguration/Encoding")
		for _, path := range []string{"VideoEncoderConfiguration/UseCount", "VideoEncoderConfiguration/Quality",
			"VideoEncoderConfiguration/RateControl/FrameRateLimit", "VideoEncoderConfiguration/SessionTimeout",
			"AudioEncoderConfiguration/Encoding", "AudioSourceConfiguration/SourceToken"} {
			if text(p, path) == "" {
				t.Errorf("profile %s lacks %s", p.SelectAttrValue("token", ""), path)
			}
		}
	}
	if encodings["jpeg"] != "JPEG" || encodings["h264"] != "H264" {
		t.Errorf("encodings %v", encodings)
	}
	if got := text(profiles[0], "VideoEncoderConfiguration/UseCount"); got != "1" {
		t.Errorf("UseCount of the JPEG encoder %s, want 1", got)
	}
	if got := text(profiles[0], "AudioEncoderConfiguration/SampleRate"); got != "8" {
		t.Errorf("audio sample rate %s kHz, want 8", got)
	}

	plain := newMedia(t, testDevice(t, false, false, ""))
	r = plain.mustInvoke(t, "GetProfiles", "")
	profiles = r.SelectElements("Profiles")
	if len(profiles) != 1 || profiles[0].SelectElement("AudioEncoderConfiguration") != nil {
		t.Fatalf("plain device profiles: %d, audio %v", len(profiles), profiles[0].SelectElement("AudioEncoderConfiguration") != nil)
	}
}

func TestProfileLifecyclePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cam.json")
	m := newMedia(t, testDevice(t, false, true, path))
	r := m.mustInvoke(t, "CreateProfile", "<trt:Name>SynoTestProfile</trt:Name>")
	token := r.FindElement("Profile").SelectAttrValue("token", "")
	if token == "" || r.FindElement("Profile").SelectAttrValue("fixed", "") != "false" {
		t.Fatalf("created profile %q", token)
	}
	m.mustInvoke(t, "AddVideoSourceConfiguration", "<trt:ProfileToken>"+token+"</trt:ProfileToken><trt:ConfigurationToken>vsc</trt:ConfigurationToken>")
	m.mustInvoke(t, "AddVideoEncoderConfiguration", "<trt:ProfileToken>"+token+"</trt:ProfileToken><trt:ConfigurationToken>h264_enc</trt:ConfigurationToken>")

	m.invoke(t, "CreateProfile", "<trt:Name>Again</trt:Name><trt:Token>"+token+"</trt:Token>").fault(t, 400, "Sender/InvalidArgVal/ProfileExists")
	m.invoke(t, "AddVideoEncoderConfiguration", "<trt:ProfileToken>"+token+"</trt:ProfileToken><trt:ConfigurationToken>nope</trt:ConfigurationToken>").fault(t, 400, "Sender/InvalidArgVal/NoConfig")
	m.invoke(t, "AddAudioEncoderConfiguration", "<trt:ProfileToken>"+token+"</trt:ProfileToken><trt:ConfigurationToken>g711</trt:ConfigurationToken>").fault(t, 500, "Receiver/ActionNotSupported/AudioNotSupported")

	// A restart: the same state file, a new service.
	m2 := newMedia(t, testDevice(t, false, true, path))
	p := m2.mustInvoke(t, "GetProfile", "<trt:ProfileToken>"+token+"</trt:ProfileToken>").FindElement("Profile")
	if got := text(p, "Name"); got != "SynoTestProfile" {
		t.Errorf("name after restart %q", got)
	}
	if got := text(p, "VideoEncoderConfiguration/Encoding"); got != "H264" {
		t.Errorf("encoder after restart %q", got)
	}
	uri := m2.mustInvoke(t, "GetStreamUri", "<trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>"+token+"</trt:ProfileToken>")
	if got := text(uri, "MediaUri/Uri"); got != "rtsp://192.0.2.7:8554/cam/h264" {
		t.Errorf("stream URI of the created H.264 profile %q", got)
	}
	enc := m2.mustInvoke(t, "GetVideoEncoderConfiguration", "<trt:ConfigurationToken>h264_enc</trt:ConfigurationToken>")
	if got := text(enc, "Configuration/UseCount"); got != "2" {
		t.Errorf("UseCount of the H.264 encoder with two profiles %s", got)
	}

	m2.mustInvoke(t, "DeleteProfile", "<trt:ProfileToken>"+token+"</trt:ProfileToken>")
	m2.invoke(t, "GetProfile", "<trt:ProfileToken>"+token+"</trt:ProfileToken>").fault(t, 400, "Sender/InvalidArgVal/NoProfile")
	m2.invoke(t, "DeleteProfile", "<trt:ProfileToken>jpeg</trt:ProfileToken>").fault(t, 500, "Receiver/Action/DeletionOfFixedProfile")
	m2.invoke(t, "DeleteProfile", "<trt:ProfileToken>"+token+"</trt:ProfileToken>").fault(t, 400, "Sender/InvalidArgVal/NoProfile")

	// Factory reset brings the fixed profiles back.
	if err := m2.d.Store.Reset(); err != nil {
		t.Fatal(err)
	}
	if n := len(m2.mustInvoke(t, "GetProfiles", "").SelectElements("Profiles")); n != 2 {
		t.Errorf("%d profiles after reset, want 2", n)
	}
}

func TestMaxProfiles(t *testing.T) {
	m := newMedia(t, testDevice(t, false, false, ""))
	for i := 1; i < MaxProfiles; i++ {
		m.mustInvoke(t, "CreateProfile", "<trt:Name>p</trt:Name>")
	}
	m.invoke(t, "CreateProfile", "<trt:Name>one too many</trt:Name>").fault(t, 500, "Receiver/Action/MaxNVTProfiles")
}

// TestSetVideoEncoderConfiguration: what the bridge can serve is accepted
// and read back the same by every Get; everything else is a ConfigModify
// fault and changes nothing.
func TestSetVideoEncoderConfiguration(t *testing.T) {
	m := newMedia(t, testDevice(t, false, true, ""))
	cfg := func(token, enc, w, extra string) string {
		return `<trt:Configuration token="` + token + `"><tt:Name>n</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>` + enc +
			`</tt:Encoding><tt:Resolution><tt:Width>` + w + `</tt:Width><tt:Height>480</tt:Height></tt:Resolution>` + extra +
			`</trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`
	}
	rc := func(attr, fps, bitrate string) string {
		return `<tt:Quality>80</tt:Quality><tt:RateControl` + attr + `><tt:FrameRateLimit>` + fps +
			`</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>` + bitrate + `</tt:BitrateLimit></tt:RateControl>`
	}
	before := m.mustInvoke(t, "GetVideoEncoderConfigurations", "")
	for _, bad := range []struct{ name, body string }{
		{"other encoding", cfg("jpeg_enc", "H264", "640", "")},
		{"other resolution", cfg("jpeg_enc", "JPEG", "1280", "")},
		{"quality out of range", cfg("jpeg_enc", "JPEG", "640", "<tt:Quality>500</tt:Quality>")},
		{"another quality", cfg("h264_enc", "H264", "640", "<tt:Quality>30</tt:Quality>")},
		{"frame rate", cfg("jpeg_enc", "JPEG", "640", rc("", "120", "4096"))},
		{"JPEG bitrate", cfg("jpeg_enc", "JPEG", "640", rc("", "5", "256"))},
		{"H.264 bitrate too low", cfg("h264_enc", "H264", "640", rc("", "5", "8"))},
		{"CBR", cfg("h264_enc", "H264", "640", rc(` ConstantBitRate="true"`, "5", "256"))},
		{"encoding interval", cfg("h264_enc", "H264", "640", `<tt:Quality>80</tt:Quality><tt:RateControl><tt:FrameRateLimit>5</tt:FrameRateLimit><tt:EncodingInterval>2</tt:EncodingInterval><tt:BitrateLimit>256</tt:BitrateLimit></tt:RateControl>`)},
		{"gov", cfg("h264_enc", "H264", "640", "<tt:Quality>80</tt:Quality><tt:H264><tt:GovLength>0</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>")},
		{"profile", cfg("h264_enc", "H264", "640", "<tt:Quality>80</tt:Quality><tt:H264><tt:GovLength>10</tt:GovLength><tt:H264Profile>Extended</tt:H264Profile></tt:H264>")},
		{"H264 block on JPEG", cfg("jpeg_enc", "JPEG", "640", "<tt:Quality>80</tt:Quality><tt:H264><tt:GovLength>10</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>")},
		{"multicast", cfg("h264_enc", "H264", "640", "<tt:Quality>80</tt:Quality><tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>239.1.2.3</tt:IPv4Address></tt:Address><tt:Port>5000</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>true</tt:AutoStart></tt:Multicast>")},
		{"session timeout", cfg("h264_enc", "H264", "640", "<tt:Quality>80</tt:Quality><tt:SessionTimeout>PT30S</tt:SessionTimeout>")},
		{"guaranteed frame rate", strings.Replace(cfg("h264_enc", "H264", "640", ""), `token="h264_enc"`, `token="h264_enc" GuaranteedFrameRate="true"`, 1)},
	} {
		t.Run(bad.name, func(t *testing.T) {
			m.invoke(t, "SetVideoEncoderConfiguration", bad.body).fault(t, 400, "Sender/InvalidArgVal/ConfigModify")
		})
	}
	m.invoke(t, "SetVideoEncoderConfiguration", cfg("nope", "JPEG", "640", "")).fault(t, 400, "Sender/InvalidArgVal/NoConfig")
	if after := m.mustInvoke(t, "GetVideoEncoderConfigurations", ""); !xmlEqual(before, after) {
		t.Error("refused settings changed the encoder configurations")
	}

	m.mustInvoke(t, "SetVideoEncoderConfiguration", cfg("h264_enc", "H264", "640",
		rc(` ConstantBitRate="false"`, "10", "512")+"<tt:H264><tt:GovLength>20</tt:GovLength><tt:H264Profile>High</tt:H264Profile></tt:H264><tt:SessionTimeout>PT1M</tt:SessionTimeout>"))
	m.mustInvoke(t, "SetVideoEncoderConfiguration", cfg("jpeg_enc", "JPEG", "640", rc("", "5", "4096")))
	want := map[string]map[string]string{
		"h264_enc": {"Name": "n", "Quality": "80", "RateControl/FrameRateLimit": "10", "RateControl/BitrateLimit": "512",
			"H264/GovLength": "20", "H264/H264Profile": "High", "SessionTimeout": "PT60S"},
		"jpeg_enc": {"Name": "n", "Quality": "80", "RateControl/FrameRateLimit": "5", "RateControl/BitrateLimit": "4096"},
	}
	check := func(from string, c *etree.Element) {
		t.Helper()
		for path, w := range want[c.SelectAttrValue("token", "")] {
			if got := text(c, path); got != w {
				t.Errorf("%s %s: %s = %q, want %q", from, c.SelectAttrValue("token", ""), path, got, w)
			}
		}
	}
	for token := range want {
		check("GetVideoEncoderConfiguration", m.mustInvoke(t, "GetVideoEncoderConfiguration", "<trt:ConfigurationToken>"+token+"</trt:ConfigurationToken>").FindElement("Configuration"))
	}
	for _, c := range m.mustInvoke(t, "GetVideoEncoderConfigurations", "").SelectElements("Configurations") {
		check("GetVideoEncoderConfigurations", c)
	}
	for _, c := range m.mustInvoke(t, "GetCompatibleVideoEncoderConfigurations", "<trt:ProfileToken>h264</trt:ProfileToken>").SelectElements("Configurations") {
		check("GetCompatibleVideoEncoderConfigurations", c)
	}
	for _, p := range m.mustInvoke(t, "GetProfiles", "").SelectElements("Profiles") {
		check("GetProfiles", p.SelectElement("VideoEncoderConfiguration"))
	}
	for _, token := range []string{"jpeg", "h264"} {
		p := m.mustInvoke(t, "GetProfile", "<trt:ProfileToken>"+token+"</trt:ProfileToken>").FindElement("Profile")
		check("GetProfile", p.SelectElement("VideoEncoderConfiguration"))
	}
}

// TestVideoEncoderOptionsOfferWhatIsServed: the options name the one
// quality and resolution, and for H.264 the bitrates of the transcode; a
// value at each end of every range offered is accepted.
func TestVideoEncoderOptionsOfferWhatIsServed(t *testing.T) {
	m := newMedia(t, testDevice(t, false, true, ""))
	o := m.mustInvoke(t, "GetVideoEncoderConfigurationOptions", "<trt:ConfigurationToken>h264_enc</trt:ConfigurationToken>").FindElement("Options")
	for path, want := range map[string]string{
		"QualityRange/Min": "80", "QualityRange/Max": "80",
		"H264/FrameRateRange/Min": "1", "H264/FrameRateRange/Max": "30",
		"H264/GovLengthRange/Max": "300", "Extension/H264/BitrateRange/Min": "32", "Extension/H264/BitrateRange/Max": "8192",
	} {
		if got := text(o, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if o.SelectElement("JPEG") != nil {
		t.Error("JPEG options for the H.264 encoder")
	}
	for _, v := range [][3]string{{"1", "32", "1"}, {"30", "8192", "300"}} {
		m.mustInvoke(t, "SetVideoEncoderConfiguration", `<trt:Configuration token="h264_enc"><tt:Name>H264</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width><tt:Height>480</tt:Height></tt:Resolution><tt:Quality>80</tt:Quality><tt:RateControl><tt:FrameRateLimit>`+v[0]+`</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>`+v[1]+`</tt:BitrateLimit></tt:RateControl><tt:H264><tt:GovLength>`+v[2]+`</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264></trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`)
	}
}

// TestUnsetRatesReportTheServedRate: without a frame-rate limit or GOV
// length the encoder configurations report the rate the stream is served
// at and one second's worth of frames, not a made-up number.
func TestUnsetRatesReportTheServedRate(t *testing.T) {
	d := testDevice(t, false, true, "")
	d.FrameRate = func(video string) float64 {
		if video == "h264" {
			return 11.8
		}
		return 24.6
	}
	m := newMedia(t, d)
	for _, c := range m.mustInvoke(t, "GetVideoEncoderConfigurations", "").SelectElements("Configurations") {
		want := map[string]string{"jpeg_enc": "25", "h264_enc": "12"}[c.SelectAttrValue("token", "")]
		if got := text(c, "RateControl/FrameRateLimit"); got != want {
			t.Errorf("%s: FrameRateLimit %s, want %s", c.SelectAttrValue("token", ""), got, want)
		}
		if c.SelectAttrValue("token", "") == "h264_enc" {
			if got := text(c, "H264/GovLength"); got != "12" {
				t.Errorf("GovLength %s, want 12 (one second)", got)
			}
		}
	}
}

func TestStreamURI(t *testing.T) {
	m := newMedia(t, testDevice(t, false, false, ""))
	setup := func(stream, proto string) string {
		return "<trt:StreamSetup><tt:Stream>" + stream + "</tt:Stream><tt:Transport><tt:Protocol>" + proto +
			"</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>jpeg</trt:ProfileToken>"
	}
	for _, proto := range []string{"UDP", "TCP", "RTSP", "HTTP"} {
		r := m.mustInvoke(t, "GetStreamUri", setup("RTP-Unicast", proto))
		if got := text(r, "MediaUri/Uri"); got != "rtsp://192.0.2.7:8554/cam/jpeg" {
			t.Errorf("%s: %q", proto, got)
		}
		if text(r, "MediaUri/InvalidAfterConnect") != "false" || text(r, "MediaUri/InvalidAfterReboot") != "false" || text(r, "MediaUri/Timeout") != "PT0S" {
			t.Errorf("%s: validity fields %s", proto, text(r, "MediaUri"))
		}
	}
	m.invoke(t, "GetStreamUri", setup("RTP-Multicast", "UDP")).fault(t, 400, "Sender/InvalidArgVal/InvalidStreamSetup")
	m.invoke(t, "GetStreamUri", strings.Replace(setup("RTP-Unicast", "UDP"), ">jpeg<", ">h264<", 1)).fault(t, 400, "Sender/InvalidArgVal/NoProfile")

	m.mustInvoke(t, "CreateProfile", "<trt:Name>empty</trt:Name><trt:Token>empty</trt:Token>")
	m.invoke(t, "GetStreamUri", strings.Replace(setup("RTP-Unicast", "UDP"), ">jpeg<", ">empty<", 1)).fault(t, 500, "Receiver/Action/IncompleteConfiguration")

	r := m.mustInvoke(t, "GetSnapshotUri", "<trt:ProfileToken>jpeg</trt:ProfileToken>")
	if got := text(r, "MediaUri/Uri"); got != "http://192.0.2.7:8000/snapshot.jpg" {
		t.Errorf("snapshot URI %q", got)
	}
}

func TestRequestHost(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:8000": "192.0.2.1",
		"cam.local":      "cam.local",
		"[fe80::1]:80":   "[fe80::1]",
		"example:8080":   "example",
	} {
		if got := RequestHost(in); got != want {
			t.Errorf("RequestHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidDuration(t *testing.T) {
	for s, want := range map[string]bool{
		"PT60S": true, "PT0S": true, "P1DT2H": true, "PT1.5S": true, "P": false, "PT": false,
		"60": false, "PTS": false, "PT5X": false, "PT1M2H": false, "": false,
	} {
		if got := validDuration(s); got != want {
			t.Errorf("validDuration(%q) = %v", s, got)
		}
	}
}

// TestAudioTurnedOnLater: fixed profiles persisted while audio was off get
// the audio configurations when the device starts with audio on, and a
// client may still remove them.
func TestAudioTurnedOnLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cam.json")
	m := newMedia(t, testDevice(t, false, false, path))
	if p := m.mustInvoke(t, "GetProfile", "<trt:ProfileToken>jpeg</trt:ProfileToken>"); p.FindElement("Profile/AudioEncoderConfiguration") != nil {
		t.Fatal("audio without audio")
	}
	d := testDevice(t, true, false, path)
	if err := d.SyncFixedProfiles(); err != nil {
		t.Fatal(err)
	}
	m = newMedia(t, d)
	if p := m.mustInvoke(t, "GetProfile", "<trt:ProfileToken>jpeg</trt:ProfileToken>"); p.FindElement("Profile/AudioEncoderConfiguration") == nil {
		t.Fatal("fixed profile has no audio after audio was turned on")
	}
	m.mustInvoke(t, "RemoveAudioEncoderConfiguration", "<trt:ProfileToken>jpeg</trt:ProfileToken>")
	if p := m.mustInvoke(t, "GetProfile", "<trt:ProfileToken>jpeg</trt:ProfileToken>"); p.FindElement("Profile/AudioEncoderConfiguration") != nil {
		t.Fatal("removed audio encoder came back")
	}
}

func TestVideoEncoderOptionsFollowTheRequest(t *testing.T) {
	m := newMedia(t, testDevice(t, false, true, ""))
	for _, tc := range []struct {
		inner      string
		jpeg, h264 bool
	}{
		{"", true, true},
		{"<trt:ConfigurationToken>jpeg_enc</trt:ConfigurationToken>", true, false},
		{"<trt:ConfigurationToken>h264_enc</trt:ConfigurationToken>", false, true},
		{"<trt:ProfileToken>h264</trt:ProfileToken>", false, true},
		{"<trt:ProfileToken>jpeg</trt:ProfileToken>", true, false},
	} {
		r := m.mustInvoke(t, "GetVideoEncoderConfigurationOptions", tc.inner)
		if got := r.FindElement("Options/JPEG") != nil; got != tc.jpeg {
			t.Errorf("%s: JPEG block %v", tc.inner, got)
		}
		if got := r.FindElement("Options/H264") != nil; got != tc.h264 {
			t.Errorf("%s: H264 block %v", tc.inner, got)
		}
	}
}

// xmlEqual reports whether two elements serialize the same.
func xmlEqual(a, b *etree.Element) bool {
	str := func(e *etree.Element) string {
		doc := etree.NewDocument()
		doc.SetRoot(e.Copy())
		s, _ := doc.WriteToString()
		return s
	}
	return str(a) == str(b)
}
