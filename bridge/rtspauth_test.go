package bridge

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// describeStatus sends one RTSP DESCRIBE for rawURL (with Basic
// credentials unless user is "") and returns the response status.
func describeStatus(t testing.TB, rawURL, user, password string) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := "DESCRIBE " + rawURL + " RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n"
	if user != "" {
		req += "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)) + "\r\n"
	}
	if _, err = fmt.Fprint(nc, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		t.Fatalf("DESCRIBE %s: %v", rawURL, err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "RTSP/1.0" {
		t.Fatalf("DESCRIBE %s: status line %q", rawURL, line)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("DESCRIBE %s: status line %q", rawURL, line)
	}
	return code
}

// createUser adds user/password (level User) to camera c over ONVIF
// CreateUsers, as admin/secret or anonymously when admin is "".
func createUser(t testing.TB, c *Camera, admin, adminPassword, user, password string) {
	t.Helper()
	status, body := soapRequest(t, c.DeviceServiceURL(bindIP.String()), admin, adminPassword,
		`<tds:CreateUsers><tds:User><tt:Username>`+user+`</tt:Username><tt:Password>`+password+
			`</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User></tds:CreateUsers>`)
	if status != http.StatusOK {
		t.Fatalf("CreateUsers on %s: HTTP %d\n%s", c.Config.Name, status, body)
	}
}

// TestRTSPUsersArePerCamera: a user created over ONVIF on one camera
// opens that camera's RTSP streams and no other camera's; the configured
// administrator opens all of them.
func TestRTSPUsersArePerCamera(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.61", "127.0.5.62")
	cams := startBridge(t, testConfig(t, t.TempDir(), "127.0.5.61", "127.0.5.62")).Cameras()
	a, b := cams[0], cams[1]
	waitFrame(t, a)
	waitFrame(t, b)
	createUser(t, a, "admin", "secret", "alice", "pw-a")
	host := bindIP.String()
	for _, video := range []string{"jpeg", "h264"} {
		if !a.Device.HasH264 && video == "h264" {
			continue
		}
		for _, tc := range []struct {
			cam            *Camera
			user, password string
			want           int
		}{
			{a, "alice", "pw-a", 200},
			{b, "alice", "pw-a", 401},
			{a, "", "", 401},
			{b, "", "", 401},
			{a, "admin", "secret", 200},
			{b, "admin", "secret", 200},
		} {
			if got := describeStatus(t, tc.cam.RTSPURL(host, video), tc.user, tc.password); got != tc.want {
				t.Errorf("%s DESCRIBE %s as %q: %d, want %d", video, tc.cam.Config.Name, tc.user, got, tc.want)
			}
		}
	}
	// ffprobe (Digest) with alice's credentials decodes camera a.
	if frames, out := probeRTSP(t, withUser(a.RTSPURL(host, "jpeg"), "alice", "pw-a")); frames < 3 {
		t.Errorf("ffprobe with a's user: %d frames\n%s", frames, out)
	}
}

// TestRTSPOpenModeUserProtectsOneCamera: without a configured user, an
// anonymous CreateUsers on one camera protects that camera's RTSP streams
// and leaves the other cameras open.
func TestRTSPOpenModeUserProtectsOneCamera(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.63", "127.0.5.64")
	cfg := testConfig(t, t.TempDir(), "127.0.5.63", "127.0.5.64")
	cfg.Users = nil
	cams := startBridge(t, cfg).Cameras()
	a, b := cams[0], cams[1]
	waitFrame(t, a)
	waitFrame(t, b)
	host := bindIP.String()
	for _, c := range cams {
		if got := describeStatus(t, c.RTSPURL(host, "jpeg"), "", ""); got != 200 {
			t.Fatalf("open mode DESCRIBE %s: %d, want 200", c.Config.Name, got)
		}
	}
	createUser(t, a, "", "", "carol", "pw-c")
	if got := describeStatus(t, a.RTSPURL(host, "jpeg"), "", ""); got != 401 {
		t.Errorf("DESCRIBE a without credentials after CreateUsers on a: %d, want 401", got)
	}
	if got := describeStatus(t, a.RTSPURL(host, "jpeg"), "carol", "pw-c"); got != 200 {
		t.Errorf("DESCRIBE a as carol: %d, want 200", got)
	}
	if got := describeStatus(t, b.RTSPURL(host, "jpeg"), "", ""); got != 200 {
		t.Errorf("DESCRIBE b without credentials after CreateUsers on a: %d, want 200", got)
	}
	if frames, out := probeRTSP(t, b.RTSPURL(host, "jpeg")); frames < 3 {
		t.Errorf("ffprobe on open camera b: %d frames\n%s", frames, out)
	}
}
