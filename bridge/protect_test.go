package bridge

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/rtsp"
)

// protectResult is what test/e2e/protect_adopt.js prints.
type protectResult struct {
	Serial, Firmware, Manufacturer, Model string
	HwAddress                             []string `json:"hwAddress"`
	Profiles                              []struct {
		Token          string `json:"token"`
		Width          int    `json:"width"`
		Height         int    `json:"height"`
		FrameRateLimit int    `json:"frameRateLimit"`
		BitrateLimit   int    `json:"bitrateLimit"`
		H264Profile    string `json:"h264Profile"`
		GovLength      int    `json:"govLength"`
		StreamURI      string `json:"streamUri"`
		SnapshotURI    string `json:"snapshotUri"`
	} `json:"profiles"`
}

// describeFrom sends one RTSP DESCRIBE without credentials for rawURL from
// the local address from and returns the status.
func describeFrom(t *testing.T, from, rawURL string) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(nc, "DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n", rawURL)
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		t.Fatalf("DESCRIBE %s: %v", rawURL, err)
	}
	var code int
	if _, err := fmt.Sscanf(line, "RTSP/1.0 %d", &code); err != nil {
		t.Fatalf("DESCRIBE %s: %q", rawURL, line)
	}
	return code
}

// TestProtectAdoption adopts a camera as UniFi Protect does (the npm onvif
// package, with credentials) and then plays it as Protect does: the RTSP
// URL and the snapshot it was given, without credentials, which
// rtsp_access: anonymous allows. What Protect reads must be true: an H.264
// profile with its H.264 profile, 640x480, the frame-rate and bitrate
// limits the stream is served with, the MAC, serial and firmware. ONVIF,
// MJPEG and the camera without the setting still need credentials.
func TestProtectAdoption(t *testing.T) {
	t.Parallel()
	node := needOnvifNPM(t)
	startFakeCams(t, "127.0.23.3", "127.0.23.4")
	cfg := testConfig(t, t.TempDir(), "127.0.23.3", "127.0.23.4")
	cfg.Cameras[0].RTSPAnonymous = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
	cams := startBridge(t, cfg).Cameras()
	c, closed := cams[0], cams[1]
	waitFrame(t, c)
	waitFrame(t, closed)
	if !c.Device.HasH264 {
		t.Fatal("no H.264: Protect would refuse the camera")
	}
	// Protect adopts a camera that streams: wait until its rate is known
	// from its frames, which the device then reports.
	for deadline := time.Now().Add(10 * time.Second); c.bridge.rtsp.FrameRate(c.Path, rtsp.StreamH264) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the camera's frame rate is not known after 10 s")
		}
	}

	var res protectResult
	runNodeJSON(t, node, "protect_adopt.js", "protect", c, &res)
	if res.Serial != c.Device.Serial || res.Firmware == "" || res.Firmware != c.Device.Firmware {
		t.Errorf("serial %q firmware %q, want %q %q", res.Serial, res.Firmware, c.Device.Serial, c.Device.Firmware)
	}
	if len(res.HwAddress) == 0 || res.HwAddress[0] != c.Device.MAC.String() {
		t.Errorf("hwAddress %q, want %s", res.HwAddress, c.Device.MAC)
	}
	if len(res.Profiles) == 0 {
		t.Fatal("no H.264 profile")
	}
	p := res.Profiles[0]
	served, _ := c.bridge.rtsp.VideoSettings(c.Path, rtsp.StreamH264)
	rate := c.bridge.rtsp.FrameRate(c.Path, rtsp.StreamH264)
	if p.Width != 640 || p.Height != 480 || p.H264Profile != served.H264Profile || p.H264Profile == "" {
		t.Errorf("profile %+v; served %+v", p, served)
	}
	// The camera's rate is measured from its recent frames, so it may
	// have moved by a frame since Protect read it.
	if math.Abs(float64(p.FrameRateLimit)-rate) > 1 || p.BitrateLimit != served.BitrateKbps {
		t.Errorf("RateControl %d fps %d kbit/s; served %.1f fps, %d kbit/s", p.FrameRateLimit, p.BitrateLimit, rate, served.BitrateKbps)
	}

	// Protect plays the stream URI it was given, sending no credentials.
	if frames, probe := probeRTSP(t, p.StreamURI); frames == 0 || !strings.Contains(probe, "codec_name=h264") {
		t.Errorf("anonymous RTSP %s: %d frames\n%s", p.StreamURI, frames, probe)
	}
	resp, err := http.Get(p.SnapshotURI)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
		t.Errorf("anonymous snapshot %s: %s, %d bytes", p.SnapshotURI, resp.Status, len(b))
	}
	// Everything else keeps its credentials.
	if code := describeStatus(t, closed.RTSPURL(bindIP.String(), rtsp.StreamH264), "", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous DESCRIBE of the camera without rtsp_access: %d", code)
	}
	resp, err = http.Get(c.MJPEGURL(bindIP.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous MJPEG: %s", resp.Status)
	}
	if status, body := soapRequest(t, c.DeviceServiceURL(bindIP.String()), "", "", `<tds:GetUsers/>`); status == http.StatusOK {
		t.Errorf("anonymous ONVIF GetUsers: %d %s", status, body)
	}
	// Credentials that are sent are still checked.
	if code, _ := describeWith(t, c.RTSPURL(bindIP.String(), rtsp.StreamH264), "admin", "wrong", true); code != http.StatusUnauthorized {
		t.Errorf("DESCRIBE with a wrong password: %d", code)
	}
}

// TestRTSPAccessFromAddresses: rtsp_access_from lets only the listed
// client addresses in without credentials; any other must log in.
func TestRTSPAccessFromAddresses(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.23.5")
	cfg := testConfig(t, t.TempDir(), "127.0.23.5")
	cfg.Cameras[0].RTSPAnonymous = []netip.Prefix{netip.MustParsePrefix("127.0.23.9/32")}
	c := startBridge(t, cfg).Cameras()[0]
	waitFrame(t, c)
	u := c.RTSPURL(bindIP.String(), rtsp.StreamJPEG)
	if code := describeFrom(t, "127.0.23.9", u); code != http.StatusOK {
		t.Errorf("DESCRIBE from the listed NVR address: %d", code)
	}
	if code := describeFrom(t, "127.0.23.10", u); code != http.StatusUnauthorized {
		t.Errorf("DESCRIBE from another address: %d", code)
	}
	if code := describeStatus(t, u, "admin", "secret"); code != http.StatusOK {
		t.Errorf("DESCRIBE with credentials: %d", code)
	}
	snap := c.SnapshotURL(bindIP.String())
	for from, want := range map[string]int{"127.0.23.9": http.StatusOK, "127.0.23.10": http.StatusUnauthorized} {
		resp, err := dialFrom(from).Get(snap)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("snapshot from %s: %s, want %d", from, resp.Status, want)
		}
	}
}

// TestRTSPBasicAuthSetting: Basic credentials on RTSP are refused, and not
// offered, unless RTSPBasicAuth is set.
func TestRTSPBasicAuthSetting(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.23.6", "127.0.23.7")
	plain := startBridge(t, testConfig(t, t.TempDir(), "127.0.23.6")).Cameras()[0]
	cfg := testConfig(t, t.TempDir(), "127.0.23.7")
	cfg.RTSPBasicAuth = true
	basic := startBridge(t, cfg).Cameras()[0]
	for _, tc := range []struct {
		c    *Camera
		want int
	}{{plain, http.StatusUnauthorized}, {basic, http.StatusOK}} {
		waitFrame(t, tc.c)
		u := tc.c.RTSPURL(bindIP.String(), rtsp.StreamJPEG)
		code, _ := describeWith(t, u, "admin", "secret", true)
		_, challenges := describeWith(t, u, "", "", false)
		offered := strings.Contains(strings.Join(challenges, "\n"), "Basic ")
		if code != tc.want || offered != (tc.want == http.StatusOK) {
			t.Errorf("%s: Basic DESCRIBE %d (want %d), Basic offered %v: %q", tc.c.Config.Name, code, tc.want, offered, challenges)
		}
		if code := describeStatus(t, u, "admin", "secret"); code != http.StatusOK {
			t.Errorf("%s: Digest DESCRIBE %d", tc.c.Config.Name, code)
		}
	}
}
