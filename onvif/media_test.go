package onvif

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/internal/xsdcheck"
	"github.com/chinesium/chinesium/wsdl"
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

// request parses a request body element; inner is the XML inside the
// trt:<op> element (tt prefix declared).
func request(op, inner string) *etree.Element {
	doc := etree.NewDocument()
	src := fmt.Sprintf(`<trt:%s xmlns:trt=%q xmlns:tt=%q>%s</trt:%s>`, op, wsdl.NSMedia, wsdl.NSSchema, inner, op)
	if err := doc.ReadFromString(src); err != nil {
		panic(err)
	}
	return doc.Root()
}

// invoke runs one media operation as a request from host 192.0.2.7.
func invoke(t *testing.T, m *Media, op, inner string) (*etree.Element, error) {
	t.Helper()
	h, ok := mediaHandlers[op]
	if !ok {
		t.Fatalf("no handler for %s", op)
	}
	return h(m, &call{body: request(op, inner), host: "192.0.2.7"})
}

// mustInvoke runs an operation that must succeed and returns its response.
func mustInvoke(t *testing.T, m *Media, op, inner string) *etree.Element {
	t.Helper()
	r, err := invoke(t, m, op, inner)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	if want := op + "Response"; r.Tag != want || r.NamespaceURI() != wsdl.NSMedia {
		t.Fatalf("%s answered {%s}%s", op, r.NamespaceURI(), r.Tag)
	}
	return r
}

// envelope wraps a response element in a SOAP 1.2 envelope.
func envelope(t *testing.T, r *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	env := doc.CreateElement("env:Envelope")
	env.CreateAttr("xmlns:env", wsdl.NSSOAP12)
	env.CreateElement("env:Body").AddChild(r.Copy())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantFault(t *testing.T, err error, code, sub string) {
	t.Helper()
	var f *mediaFault
	if !errors.As(err, &f) {
		t.Fatalf("got %v, want fault %s/%s", err, code, sub)
	}
	if f.code != code || f.sub != sub {
		t.Fatalf("got fault %s/%s (%s), want %s/%s", f.code, f.sub, f.reason, code, sub)
	}
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
	{"SetVideoEncoderConfiguration", `<trt:Configuration token="jpeg_enc"><tt:Name>Main</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>JPEG</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width><tt:Height>480</tt:Height></tt:Resolution><tt:Quality>50</tt:Quality><tt:RateControl><tt:FrameRateLimit>10</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>2000</tt:BitrateLimit></tt:RateControl><tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:SessionTimeout>PT30S</tt:SessionTimeout></trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`},
	{"SetAudioSourceConfiguration", `<trt:Configuration token="asc"><tt:Name>A</tt:Name><tt:UseCount>1</tt:UseCount><tt:SourceToken>audio_src</tt:SourceToken></trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`},
	{"SetAudioEncoderConfiguration", `<trt:Configuration token="g711"><tt:Name>A</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>G711</tt:Encoding><tt:Bitrate>64</tt:Bitrate><tt:SampleRate>8</tt:SampleRate></trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`},
	{"DeleteProfile", "<trt:ProfileToken>mine</trt:ProfileToken>"},
}

// TestMediaResponsesValidate runs every implemented operation and checks
// each response against the official schemas, for a device with audio and
// H.264 and for a plain JPEG-only device.
func TestMediaResponsesValidate(t *testing.T) {
	t.Parallel()
	v := xsdcheck.Require(t)
	covered := map[string]bool{}
	for _, full := range []bool{true, false} {
		m := &Media{Device: testDevice(t, full, full, "")}
		ops := append(append([][2]string{}, readOps...), writeOps...)
		for _, op := range ops {
			r, err := invoke(t, m, op[0], op[1])
			if !full {
				var f *mediaFault
				if errors.As(err, &f) {
					continue // audio/H.264 tokens on a plain device
				}
			}
			if err != nil {
				t.Errorf("%s %s: %v", op[0], op[1], err)
				continue
			}
			covered[op[0]] = true
			if err := v.Validate(envelope(t, r), "{"+wsdl.NSMedia+"}"+op[0]+"Response"); err != nil {
				t.Errorf("full=%v %s: %v", full, op[0], err)
			}
		}
	}
	for op := range mediaHandlers {
		if !covered[op] {
			t.Errorf("operation %s has no schema-validated test", op)
		}
	}
}

func TestGetProfilesAGSHCompatible(t *testing.T) {
	m := &Media{Device: testDevice(t, true, true, "")}
	r := mustInvoke(t, m, "GetProfiles", "")
	profiles := r.SelectElements("Profiles")
	if len(profiles) != 2 {
		t.Fatalf("%d profiles, want jpeg and h264", len(profiles))
	}
	srcs := mustInvoke(t, m, "GetVideoSources", "").SelectElements("VideoSources")
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

	plain := &Media{Device: testDevice(t, false, false, "")}
	r = mustInvoke(t, plain, "GetProfiles", "")
	profiles = r.SelectElements("Profiles")
	if len(profiles) != 1 || profiles[0].SelectElement("AudioEncoderConfiguration") != nil {
		t.Fatalf("plain device profiles: %d, audio %v", len(profiles), profiles[0].SelectElement("AudioEncoderConfiguration") != nil)
	}
}

func TestProfileLifecyclePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cam.json")
	m := &Media{Device: testDevice(t, false, true, path)}
	r := mustInvoke(t, m, "CreateProfile", "<trt:Name>SynoTestProfile</trt:Name>")
	token := r.FindElement("Profile").SelectAttrValue("token", "")
	if token == "" || r.FindElement("Profile").SelectAttrValue("fixed", "") != "false" {
		t.Fatalf("created profile %q", token)
	}
	mustInvoke(t, m, "AddVideoSourceConfiguration", "<trt:ProfileToken>"+token+"</trt:ProfileToken><trt:ConfigurationToken>vsc</trt:ConfigurationToken>")
	mustInvoke(t, m, "AddVideoEncoderConfiguration", "<trt:ProfileToken>"+token+"</trt:ProfileToken><trt:ConfigurationToken>h264_enc</trt:ConfigurationToken>")

	_, err := invoke(t, m, "CreateProfile", "<trt:Name>Again</trt:Name><trt:Token>"+token+"</trt:Token>")
	wantFault(t, err, "InvalidArgVal", "ProfileExists")
	_, err = invoke(t, m, "AddVideoEncoderConfiguration", "<trt:ProfileToken>"+token+"</trt:ProfileToken><trt:ConfigurationToken>nope</trt:ConfigurationToken>")
	wantFault(t, err, "InvalidArgVal", "NoConfig")
	_, err = invoke(t, m, "AddAudioEncoderConfiguration", "<trt:ProfileToken>"+token+"</trt:ProfileToken><trt:ConfigurationToken>g711</trt:ConfigurationToken>")
	wantFault(t, err, "ActionNotSupported", "AudioNotSupported")

	// A restart: the same state file, a new service.
	m2 := &Media{Device: testDevice(t, false, true, path)}
	p := mustInvoke(t, m2, "GetProfile", "<trt:ProfileToken>"+token+"</trt:ProfileToken>").FindElement("Profile")
	if got := text(p, "Name"); got != "SynoTestProfile" {
		t.Errorf("name after restart %q", got)
	}
	if got := text(p, "VideoEncoderConfiguration/Encoding"); got != "H264" {
		t.Errorf("encoder after restart %q", got)
	}
	uri := mustInvoke(t, m2, "GetStreamUri", "<trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>"+token+"</trt:ProfileToken>")
	if got := text(uri, "MediaUri/Uri"); got != "rtsp://192.0.2.7:8554/cam/h264" {
		t.Errorf("stream URI of the created H.264 profile %q", got)
	}
	enc := mustInvoke(t, m2, "GetVideoEncoderConfiguration", "<trt:ConfigurationToken>h264_enc</trt:ConfigurationToken>")
	if got := text(enc, "Configuration/UseCount"); got != "2" {
		t.Errorf("UseCount of the H.264 encoder with two profiles %s", got)
	}

	mustInvoke(t, m2, "DeleteProfile", "<trt:ProfileToken>"+token+"</trt:ProfileToken>")
	_, err = invoke(t, m2, "GetProfile", "<trt:ProfileToken>"+token+"</trt:ProfileToken>")
	wantFault(t, err, "InvalidArgVal", "NoProfile")
	_, err = invoke(t, m2, "DeleteProfile", "<trt:ProfileToken>jpeg</trt:ProfileToken>")
	wantFault(t, err, "Action", "DeletionOfFixedProfile")
	_, err = invoke(t, m2, "DeleteProfile", "<trt:ProfileToken>"+token+"</trt:ProfileToken>")
	wantFault(t, err, "InvalidArgVal", "NoProfile")

	// Factory reset brings the fixed profiles back.
	if err := m2.Device.Store.Reset(); err != nil {
		t.Fatal(err)
	}
	if n := len(mustInvoke(t, m2, "GetProfiles", "").SelectElements("Profiles")); n != 2 {
		t.Errorf("%d profiles after reset, want 2", n)
	}
}

func TestMaxProfiles(t *testing.T) {
	m := &Media{Device: testDevice(t, false, false, "")}
	for i := 1; i < MaxProfiles; i++ {
		mustInvoke(t, m, "CreateProfile", "<trt:Name>p</trt:Name>")
	}
	_, err := invoke(t, m, "CreateProfile", "<trt:Name>one too many</trt:Name>")
	wantFault(t, err, "Action", "MaxNVTProfiles")
}

func TestSetVideoEncoderConfiguration(t *testing.T) {
	m := &Media{Device: testDevice(t, false, true, "")}
	cfg := func(token, enc, w, extra string) string {
		return `<trt:Configuration token="` + token + `"><tt:Name>n</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>` + enc +
			`</tt:Encoding><tt:Resolution><tt:Width>` + w + `</tt:Width><tt:Height>480</tt:Height></tt:Resolution>` + extra +
			`</trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence>`
	}
	for _, bad := range []struct{ name, body string }{
		{"other encoding", cfg("jpeg_enc", "H264", "640", "")},
		{"other resolution", cfg("jpeg_enc", "JPEG", "1280", "")},
		{"quality", cfg("jpeg_enc", "JPEG", "640", "<tt:Quality>500</tt:Quality>")},
		{"frame rate", cfg("jpeg_enc", "JPEG", "640", "<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>120</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>1</tt:BitrateLimit></tt:RateControl>")},
		{"gov", cfg("h264_enc", "H264", "640", "<tt:Quality>5</tt:Quality><tt:H264><tt:GovLength>0</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>")},
		{"H264 block on JPEG", cfg("jpeg_enc", "JPEG", "640", "<tt:Quality>5</tt:Quality><tt:H264><tt:GovLength>10</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>")},
	} {
		_, err := invoke(t, m, "SetVideoEncoderConfiguration", bad.body)
		wantFault(t, err, "InvalidArgVal", "ConfigModify")
	}
	_, err := invoke(t, m, "SetVideoEncoderConfiguration", cfg("nope", "JPEG", "640", ""))
	wantFault(t, err, "InvalidArgVal", "NoConfig")

	mustInvoke(t, m, "SetVideoEncoderConfiguration", cfg("h264_enc", "H264", "640",
		"<tt:Quality>30</tt:Quality><tt:RateControl><tt:FrameRateLimit>10</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>512</tt:BitrateLimit></tt:RateControl><tt:H264><tt:GovLength>20</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>"))
	r := mustInvoke(t, m, "GetVideoEncoderConfiguration", "<trt:ConfigurationToken>h264_enc</trt:ConfigurationToken>")
	for path, want := range map[string]string{
		"Configuration/Name": "n", "Configuration/Quality": "30", "Configuration/RateControl/FrameRateLimit": "10",
		"Configuration/RateControl/BitrateLimit": "512", "Configuration/H264/GovLength": "20",
	} {
		if got := text(r, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}

func TestStreamURI(t *testing.T) {
	m := &Media{Device: testDevice(t, false, false, "")}
	setup := func(stream, proto string) string {
		return "<trt:StreamSetup><tt:Stream>" + stream + "</tt:Stream><tt:Transport><tt:Protocol>" + proto +
			"</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>jpeg</trt:ProfileToken>"
	}
	for _, proto := range []string{"UDP", "TCP", "RTSP", "HTTP"} {
		r := mustInvoke(t, m, "GetStreamUri", setup("RTP-Unicast", proto))
		if got := text(r, "MediaUri/Uri"); got != "rtsp://192.0.2.7:8554/cam/jpeg" {
			t.Errorf("%s: %q", proto, got)
		}
		if text(r, "MediaUri/InvalidAfterConnect") != "false" || text(r, "MediaUri/InvalidAfterReboot") != "false" || text(r, "MediaUri/Timeout") != "PT0S" {
			t.Errorf("%s: validity fields %s", proto, text(r, "MediaUri"))
		}
	}
	_, err := invoke(t, m, "GetStreamUri", setup("RTP-Multicast", "UDP"))
	wantFault(t, err, "InvalidArgVal", "InvalidStreamSetup")
	_, err = invoke(t, m, "GetStreamUri", strings.Replace(setup("RTP-Unicast", "UDP"), ">jpeg<", ">h264<", 1))
	wantFault(t, err, "InvalidArgVal", "NoProfile")

	mustInvoke(t, m, "CreateProfile", "<trt:Name>empty</trt:Name><trt:Token>empty</trt:Token>")
	_, err = invoke(t, m, "GetStreamUri", strings.Replace(setup("RTP-Unicast", "UDP"), ">jpeg<", ">empty<", 1))
	wantFault(t, err, "Action", "IncompleteConfiguration")

	r := mustInvoke(t, m, "GetSnapshotUri", "<trt:ProfileToken>jpeg</trt:ProfileToken>")
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
	m := &Media{Device: testDevice(t, false, false, path)}
	if p := mustInvoke(t, m, "GetProfile", "<trt:ProfileToken>jpeg</trt:ProfileToken>"); p.FindElement("Profile/AudioEncoderConfiguration") != nil {
		t.Fatal("audio without audio")
	}
	d := testDevice(t, true, false, path)
	MediaOps(d)
	m = &Media{Device: d}
	if p := mustInvoke(t, m, "GetProfile", "<trt:ProfileToken>jpeg</trt:ProfileToken>"); p.FindElement("Profile/AudioEncoderConfiguration") == nil {
		t.Fatal("fixed profile has no audio after audio was turned on")
	}
	mustInvoke(t, m, "RemoveAudioEncoderConfiguration", "<trt:ProfileToken>jpeg</trt:ProfileToken>")
	if p := mustInvoke(t, m, "GetProfile", "<trt:ProfileToken>jpeg</trt:ProfileToken>"); p.FindElement("Profile/AudioEncoderConfiguration") != nil {
		t.Fatal("removed audio encoder came back")
	}
}

func TestVideoEncoderOptionsFollowTheRequest(t *testing.T) {
	m := &Media{Device: testDevice(t, false, true, "")}
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
		r := mustInvoke(t, m, "GetVideoEncoderConfigurationOptions", tc.inner)
		if got := r.FindElement("Options/JPEG") != nil; got != tc.jpeg {
			t.Errorf("%s: JPEG block %v", tc.inner, got)
		}
		if got := r.FindElement("Options/H264") != nil; got != tc.h264 {
			t.Errorf("%s: H264 block %v", tc.inner, got)
		}
	}
}
