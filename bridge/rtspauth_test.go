package bridge

import (
	"bufio"
	"crypto/md5" //nolint:gosec // HTTP Digest MD5, as RTSP clients send it
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// describeStatus sends an RTSP DESCRIBE for rawURL and returns the final
// response status: without credentials when user is "", else signed with
// Digest MD5 after the server's challenge, on the same connection, as
// live555 and ffmpeg do.
func describeStatus(t testing.TB, rawURL, user, password string) int {
	t.Helper()
	status, _ := describeWith(t, rawURL, user, password, false)
	return status
}

// describeWith is describeStatus, with Basic credentials instead of
// Digest when basic is true; it also returns the challenges of a 401.
func describeWith(t testing.TB, rawURL, user, password string, basic bool) (int, []string) {
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
	br := bufio.NewReader(nc)
	cseq := 0
	send := func(authorization string) (int, http.Header) {
		cseq++
		req := "DESCRIBE " + rawURL + " RTSP/1.0\r\nCSeq: " + strconv.Itoa(cseq) + "\r\nAccept: application/sdp\r\n"
		if authorization != "" {
			req += "Authorization: " + authorization + "\r\n"
		}
		if _, err = fmt.Fprint(nc, req+"\r\n"); err != nil {
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
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
		h := http.Header{}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("DESCRIBE %s: %v", rawURL, err)
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			if k, v, ok := strings.Cut(l, ":"); ok {
				h.Add(k, strings.TrimSpace(v))
			}
		}
		if n, _ := strconv.Atoi(h.Get("Content-Length")); n > 0 {
			if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
				t.Fatal(err)
			}
		}
		return code, h
	}
	switch {
	case user == "":
		code, h := send("")
		return code, h.Values("WWW-Authenticate")
	case basic:
		code, h := send("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
		return code, h.Values("WWW-Authenticate")
	}
	code, h := send("")
	if code != http.StatusUnauthorized {
		return code, nil
	}
	realm, nonce, _ := digestChallenge(t, h)
	md5hex := func(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) } //nolint:gosec // Digest MD5
	response := md5hex(md5hex(user+":"+realm+":"+password) + ":" + nonce + ":" + md5hex("DESCRIBE:"+rawURL))
	code, h = send(fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, response=%q`, user, realm, nonce, rawURL, response))
	return code, h.Values("WWW-Authenticate")
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
