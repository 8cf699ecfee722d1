package bridge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/rtsp"
)

// This file's tests use 127.0.5.100 and up.

// TestPerCameraSettings: audio and H.264 are set per camera, and each
// configured user logs in to every camera with the level configured.
func TestPerCameraSettings(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.100", "127.0.5.101")
	cfg := testConfig(t, t.TempDir(), "127.0.5.100", "127.0.5.101")
	cfg.Cameras[1].Audio, cfg.Cameras[1].NoH264 = false, true
	cfg.Users = append(cfg.Users, onvif.User{Name: "viewer", Password: "look", Level: onvif.LevelUser})
	cams := startBridge(t, cfg).Cameras()
	host := bindIP.String()
	a, b := cams[0], cams[1]
	if !a.Device.HasAudio || a.AudioURL(host) == "" || b.Device.HasAudio || b.Audio != nil || b.AudioURL(host) != "" {
		t.Errorf("audio: first camera %v %q, second %v %q", a.Device.HasAudio, a.AudioURL(host), b.Device.HasAudio, b.AudioURL(host))
	}
	if b.Device.HasH264 {
		t.Error("the second camera offers H.264")
	}
	if code := describeStatus(t, b.RTSPURL(host, rtsp.StreamH264), "admin", "secret"); code != http.StatusNotFound {
		t.Errorf("DESCRIBE of the second camera's H.264 stream: %d", code)
	}
	if !a.Device.HasH264 {
		testutil.Unavailable(t, "ffmpeg cannot encode H.264: the first camera's H.264 stream is not offered")
	}
	if code := describeStatus(t, a.RTSPURL(host, rtsp.StreamH264), "viewer", "look"); code != http.StatusOK {
		t.Errorf("DESCRIBE of the first camera's H.264 stream: %d", code)
	}
	for _, c := range cams {
		if status, body := soapRequest(t, c.DeviceServiceURL(host), "viewer", "look", getStreamURIBody); status != http.StatusOK {
			t.Errorf("%s: GetStreamUri as the configured User: %d %s", c.Config.Name, status, body)
		}
		status, body := soapRequest(t, c.DeviceServiceURL(host), "viewer", "look",
			`<tds:CreateUsers><tds:User><tt:Username>x</tt:Username><tt:Password>y</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User></tds:CreateUsers>`)
		if status == http.StatusOK || !strings.Contains(body, "NotAuthorized") {
			t.Errorf("%s: CreateUsers as the configured User: %d %s", c.Config.Name, status, body)
		}
	}
}
