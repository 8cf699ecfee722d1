package bridge

import (
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/httpauth"
)

// e2eDir holds the npm project of the third-party ONVIF clients; CI runs
// "npm ci" there before the Go tests.
const e2eDir = "../test/e2e"

// clientResult is what test/e2e/onvif_client.js prints.
type clientResult struct {
	DeviceInformation struct {
		Manufacturer, Model, FirmwareVersion, SerialNumber, HardwareID string
	} `json:"deviceInformation"`
	Media2   bool `json:"media2"`
	Profiles []struct {
		Token, Name, Encoding, SourceToken string
	} `json:"profiles"`
	VideoSources []struct{ Token string } `json:"videoSources"`
	ActiveSource *struct {
		SourceToken, ProfileToken, Encoding string
	} `json:"activeSource"`
	Streams   map[string]string `json:"streams"`
	Snapshots map[string]string `json:"snapshots"`
	Events    []struct {
		Topic, Operation string
		Data             []struct{ Name, Value string }
	} `json:"events"`
	EventErrors []string `json:"eventErrors"`
	Warnings    []string `json:"warnings"`
}

// TestONVIFClientEndToEnd drives the bridge with the npm "onvif" package
// (agsh/onvif, used by UniFi Protect, Homebridge and Node-RED): it connects
// with credentials, lists profiles and video sources, asks for stream and
// snapshot URIs and pulls events; then ffprobe opens the RTSP URI and an
// HTTP GET with Digest fetches the snapshot, and both deliver the fake
// camera's frames.
func TestONVIFClientEndToEnd(t *testing.T) {
	t.Parallel()
	node := needOnvifNPM(t)
	_, c := startCamera(t, "127.0.5.7", nil)

	var res clientResult
	runNodeJSON(t, node, "onvif_client.js", "onvif client", c, &res)

	if len(res.Warnings) > 0 {
		t.Errorf("client warnings: %v", res.Warnings)
	}
	if res.Media2 {
		t.Error("client switched to Media2, which the bridge does not advertise")
	}
	if res.DeviceInformation.SerialNumber != c.Device.Serial || res.DeviceInformation.Manufacturer == "" {
		t.Errorf("device information %+v", res.DeviceInformation)
	}
	if len(res.VideoSources) != 1 || len(res.Profiles) == 0 {
		t.Fatalf("profiles %+v, video sources %+v", res.Profiles, res.VideoSources)
	}
	if res.ActiveSource == nil || res.ActiveSource.SourceToken != res.VideoSources[0].Token || res.ActiveSource.ProfileToken != "jpeg" {
		t.Errorf("active source %+v", res.ActiveSource)
	}
	for _, p := range res.Profiles {
		if p.SourceToken != res.VideoSources[0].Token {
			t.Errorf("profile %s: source token %q", p.Token, p.SourceToken)
		}
	}

	// Events through the client's pull point loop: the camera streams, so
	// SignalLoss is false.
	if len(res.EventErrors) > 0 {
		t.Errorf("event errors: %v", res.EventErrors)
	}
	signal := ""
	for _, e := range res.Events {
		if strings.HasSuffix(e.Topic, "VideoSource/SignalLoss") {
			for _, d := range e.Data {
				if d.Name == "State" {
					signal = d.Value
				}
			}
		}
	}
	if signal != "false" {
		t.Errorf("SignalLoss state %q from the client's events, want false: %+v", signal, res.Events)
	}

	// The RTSP URI: frames through ffprobe (RTP/JPEG over TCP, Digest).
	uri := res.Streams["jpeg"]
	if !strings.HasPrefix(uri, "rtsp://"+bindIP.String()+":") {
		t.Fatalf("JPEG stream URI %q", uri)
	}
	frames, probe := probeRTSP(t, withUser(uri, "admin", "secret"))
	if frames < 3 || !strings.Contains(probe, "codec_name=mjpeg") {
		t.Errorf("ffprobe read %d frames from %s:\n%s", frames, uri, probe)
	}
	if h264, ok := res.Streams["h264"]; ok {
		frames, probe := probeRTSP(t, withUser(h264, "admin", "secret"))
		if frames < 1 || !strings.Contains(probe, "codec_name=h264") {
			t.Errorf("ffprobe read %d frames from %s:\n%s", frames, h264, probe)
		}
	}

	// The snapshot URI with HTTP Digest: the fake camera's latest frame.
	jpg := digestGet(t, res.Snapshots["jpeg"], "admin", "secret")
	if name, seq, ok := fakecam.FrameSeq(jpg); !ok || name != "E2E-1" || seq == 0 {
		t.Errorf("snapshot is not a fake camera frame: %q %d %v (%d bytes)", name, seq, ok, len(jpg))
	}
}

// digestGet fetches url with HTTP Digest authentication (RFC 7616, MD5,
// qop=auth): a first request for the challenge, then the answer. It also
// checks that the URL is refused without credentials.
func digestGet(t *testing.T, url, user, password string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("snapshot without credentials: %d", resp.StatusCode)
	}
	var ch httpauth.Credentials
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		c, perr := httpauth.ParseCredentials(h)
		if perr != nil || !strings.EqualFold(c.Scheme, "Digest") {
			continue
		}
		if alg, _ := c.Get("algorithm"); alg == "" || strings.EqualFold(alg, "MD5") {
			ch = c
		}
	}
	realm, _ := ch.Get("realm")
	nonce, ok := ch.Get("nonce")
	if !ok {
		t.Fatalf("no Digest MD5 challenge: %v", resp.Header.Values("WWW-Authenticate"))
	}
	opaque, _ := ch.Get("opaque")
	md5hex := func(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	uri := req.URL.RequestURI()
	const nc, cnonce = "00000001", "0a4f113b"
	ha1 := md5hex(user + ":" + realm + ":" + password)
	ha2 := md5hex("GET:" + uri)
	response := md5hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	auth := fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, algorithm=MD5, qop=auth, nc=%s, cnonce=%q, response=%q`,
		user, realm, nonce, uri, nc, cnonce, response)
	if opaque != "" {
		auth += fmt.Sprintf(`, opaque=%q`, opaque)
	}
	req.Header.Set("Authorization", auth)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("snapshot with Digest: %d %s", resp.StatusCode, b)
	}
	return b
}
