package bridge

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/rtsp"
)

// encoderConfig is the body of a SetVideoEncoderConfiguration as ODM and
// the npm onvif package send it: the whole configuration as read, with
// the frame-rate limit and bitrate changed.
func encoderConfig(token, encoding string, fps, kbps int, h264 string) string {
	return `<trt:SetVideoEncoderConfiguration><trt:Configuration token="` + token + `"><tt:Name>` + encoding + `</tt:Name>` +
		`<tt:UseCount>1</tt:UseCount><tt:Encoding>` + encoding + `</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width><tt:Height>480</tt:Height></tt:Resolution>` +
		`<tt:Quality>80</tt:Quality><tt:RateControl><tt:FrameRateLimit>` + strconv.Itoa(fps) + `</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
		`<tt:BitrateLimit>` + strconv.Itoa(kbps) + `</tt:BitrateLimit></tt:RateControl>` + h264 +
		`<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>` +
		`<tt:SessionTimeout>PT60S</tt:SessionTimeout></trt:Configuration><trt:ForcePersistence>true</trt:ForcePersistence></trt:SetVideoEncoderConfiguration>`
}

// TestEncoderSettingsServed: 5 fps on both encoders and 256 kbit/s on the
// H.264 one, set over ONVIF, are what ffprobe counts on the RTSP streams
// of a 15 fps camera, and 96 kbit/s then brings the H.264 stream down to
// that. The JPEG stream's bitrate is the camera's (its
// pictures are passed on as they come), so a bitrate for it is refused
// with ConfigModify and the stream keeps serving.
func TestEncoderSettingsServed(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "ffmpeg")
	cam, c := startCamera(t, "127.0.23.1", nil)
	cam.SetMotion(true) // a picture that changes, as a camera's does
	if !c.Device.HasH264 {
		t.Fatal("no H.264 stream")
	}
	media := "http://" + hostPort(bindIP.String(), c.HTTPPort()) + MediaServicePath
	set := func(body string) (int, string) { return soapRequest(t, media, "admin", "secret", body) }
	if status, body := set(encoderConfig("jpeg_enc", "JPEG", 5, 256, "")); status != http.StatusBadRequest || !strings.Contains(body, "ter:ConfigModify") {
		t.Errorf("a bitrate for the JPEG stream: %d %s", status, body)
	}
	if status, body := set(encoderConfig("jpeg_enc", "JPEG", 5, 4096, "")); status != http.StatusOK {
		t.Fatalf("JPEG at 5 fps: %d %s", status, body)
	}
	h264 := `<tt:H264><tt:GovLength>10</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>`
	if status, body := set(encoderConfig("h264_enc", "H264", 5, 256, h264)); status != http.StatusOK {
		t.Fatalf("H.264 at 5 fps, 256 kbit/s: %d %s", status, body)
	}
	for _, video := range []string{rtsp.StreamJPEG, rtsp.StreamH264} {
		p := testutil.ProbePackets(t, withUser(c.RTSPURL(bindIP.String(), video), "admin", "secret"), 8)
		// 5, or the camera's own rate if a loaded machine keeps the fake
		// camera below it (a stream cannot be faster than its camera).
		want := min(5, c.Session.Stats().FPS)
		t.Logf("%s: %d frames in %.2f s: %.2f fps (timestamps: %.2f; camera %.2f), %.0f kbit/s", video, p.Frames, p.Seconds, p.FPS(), p.Rate(), c.Session.Stats().FPS, p.Kbps())
		// The rate the timestamps tell, and the frames counted: a loaded
		// machine may drop a few frames to stay live, not a fifth.
		if math.Abs(p.Rate()-want) > 0.5 || p.FPS() < 0.8*want {
			t.Errorf("%s: %.2f frames per second (%.2f counted), want %.2f", video, p.Rate(), p.FPS(), want)
		}
		if video == rtsp.StreamH264 && math.Abs(p.Kbps()-256) > 0.3*256 {
			t.Errorf("h264: %.0f kbit/s, want 256 within 30 %%", p.Kbps())
		}
	}
	// The bitrate is a ceiling the transcode keeps (VBR): this moving
	// picture needs a little less than 256 kbit/s, so a lower limit shows
	// that it bites.
	if status, body := set(encoderConfig("h264_enc", "H264", 5, 96, h264)); status != http.StatusOK {
		t.Fatalf("H.264 at 96 kbit/s: %d %s", status, body)
	}
	p := testutil.ProbePackets(t, withUser(c.RTSPURL(bindIP.String(), rtsp.StreamH264), "admin", "secret"), 8)
	t.Logf("h264 at 96 kbit/s: %.2f fps, %.0f kbit/s", p.FPS(), p.Kbps())
	if math.Abs(p.Kbps()-96) > 0.3*96 {
		t.Errorf("h264: %.0f kbit/s, want 96 within 30 %%", p.Kbps())
	}
	// What the streams carry is what the device reports.
	_, body := set(`<trt:GetVideoEncoderConfiguration><trt:ConfigurationToken>h264_enc</trt:ConfigurationToken></trt:GetVideoEncoderConfiguration>`)
	for name, want := range map[string]string{"FrameRateLimit": "5", "BitrateLimit": "96", "GovLength": "10", "H264Profile": "Main"} {
		if got := elementText(body, name); got != want {
			t.Errorf("GetVideoEncoderConfiguration: %s %q, want %q", name, got, want)
		}
	}
}
