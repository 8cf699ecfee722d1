package bridge

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/record"
)

// adminGet fetches path from the bridge's admin server as admin/secret.
func adminGet(t *testing.T, b *Bridge, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.AdminURL()+strings.TrimPrefix(path, "/"), nil)
	req.SetBasicAuth("admin", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAdminServer: the bridge's admin server lists every camera with the
// URLs that work for it, its health names the camera that is away, and it
// asks for the bridge's administrator.
func TestAdminServer(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.71")
	b := startBridge(t, testConfig(t, t.TempDir(), "127.0.5.71", "127.0.5.72")) // .72 never answers
	cams := b.Cameras()
	waitStreaming(t, cams[0])
	if !strings.HasPrefix(b.AdminURL(), "http://"+bindIP.String()+":") || b.AdminPort() == 0 {
		t.Fatalf("admin URL %q", b.AdminURL())
	}

	resp, err := http.Get(b.AdminURL() + "api/cameras")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status without credentials: %s", resp.Status)
	}
	code, body := adminGet(t, b, admin.CamerasPath)
	var st admin.Status
	if err = json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
		t.Fatalf("status: %d %v\n%s", code, err, body)
	}
	if len(st.Cameras) != 2 {
		t.Fatalf("%d cameras in %s", len(st.Cameras), body)
	}
	host := bindIP.String()
	for i, c := range cams {
		got := st.Cameras[i]
		want := admin.URLs{
			ONVIF: c.DeviceServiceURL(host), RTSPJPEG: c.RTSPURL(host, "jpeg"),
			MJPEG: c.MJPEGURL(host), Snapshot: c.SnapshotURL(host),
		}
		if c.Device.HasH264 {
			want.RTSPH264 = c.RTSPURL(host, "h264")
		}
		if got.ID != c.Path || got.Name != c.Config.Name || got.URLs == nil || *got.URLs != want {
			t.Errorf("camera %d: %+v\nwant URLs %+v", i, got, want)
		}
	}
	if !st.Cameras[0].Online || st.Cameras[1].Online || st.Cameras[0].Motion == nil {
		t.Errorf("online %v and %v, motion %v: want the first camera only online, motion detected", st.Cameras[0].Online, st.Cameras[1].Online, st.Cameras[0].Motion)
	}
	// The snapshot URL on the page works, with the same credentials.
	req, _ := http.NewRequest(http.MethodGet, st.Cameras[0].URLs.Snapshot, nil)
	req.SetBasicAuth("admin", "secret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	jpg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if name, _, ok := fakecam.FrameSeq(jpg); resp.StatusCode != http.StatusOK || !ok || name != "E2E-1" {
		t.Errorf("snapshot URL from the status: %s, camera %q", resp.Status, name)
	}

	// Health: the camera at .72 is away, by its name.
	resp, err = http.Get(b.AdminURL() + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "FAIL 1/2 cameras streaming\ncam-127-0-5-72 connecting: no frame yet\n"; resp.StatusCode != http.StatusServiceUnavailable || string(hb) != want {
		t.Errorf("healthz: %s %q, want 503 %q", resp.Status, hb, want)
	}

	// What ONVIF, HTTP and RTSP clients did to the first camera, and a
	// wrong login on the admin server, as the metrics tell it.
	c := cams[0]
	if status, resp := soapRequest(t, c.DeviceServiceURL(host), "admin", "secret", `<tds:GetDeviceInformation/>`); status != http.StatusOK {
		t.Fatalf("GetDeviceInformation: %d\n%s", status, resp)
	}
	if status, _ := soapRequest(t, c.DeviceServiceURL(host), "admin", "wrong", `<tds:GetDeviceInformation/>`); status == http.StatusOK {
		t.Fatal("GetDeviceInformation with a wrong password answered")
	}
	createPullPoint(t, c, "")
	for _, u := range []string{c.SnapshotURL(host), b.AdminURL() + "api/cameras"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.SetBasicAuth("admin", "wrong")
		wresp, werr := http.DefaultClient.Do(req)
		if werr != nil {
			t.Fatal(werr)
		}
		wresp.Body.Close()
		if wresp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s with a wrong password: %s", u, wresp.Status)
		}
	}
	rtspConn, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(b.RTSPPort())))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(rtspConn, "DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic %s\r\n\r\n",
		c.RTSPURL(host, "jpeg"), base64.StdEncoding.EncodeToString([]byte("admin:wrong")))
	status, _ := bufio.NewReader(rtspConn).ReadString('\n')
	rtspConn.Close()
	if !strings.HasPrefix(status, "RTSP/1.0 401") {
		t.Fatalf("RTSP DESCRIBE with a wrong password: %q", status)
	}

	code, body = adminGet(t, b, admin.MetricsPath)
	for _, line := range []string{
		`chinesium_camera_up{camera="cam-127-0-5-71"} 1`,
		`chinesium_camera_up{camera="cam-127-0-5-72"} 0`,
		`chinesium_onvif_requests_total{camera="cam-127-0-5-71",fault="none",operation="GetDeviceInformation"} 1`,
		`chinesium_onvif_requests_total{camera="cam-127-0-5-71",fault="Sender/NotAuthorized",operation="GetDeviceInformation"} 1`,
		`chinesium_onvif_requests_total{camera="cam-127-0-5-71",fault="none",operation="CreatePullPointSubscription"} 1`,
		`chinesium_camera_auth_failures_total{camera="cam-127-0-5-71",protocol="onvif"} 1`,
		`chinesium_camera_auth_failures_total{camera="cam-127-0-5-71",protocol="http"} 1`,
		`chinesium_camera_auth_failures_total{camera="cam-127-0-5-71",protocol="rtsp"} 1`,
		`chinesium_camera_auth_failures_total{camera="cam-127-0-5-72",protocol="onvif"} 0`,
		`chinesium_onvif_busy_total{camera="cam-127-0-5-71"} 0`,
		`chinesium_onvif_event_subscriptions{camera="cam-127-0-5-71",kind="pull"} 1`,
		`chinesium_onvif_event_subscriptions{camera="cam-127-0-5-72",kind="pull"} 0`,
		`chinesium_admin_auth_failures_total 1`,
	} {
		if code != http.StatusOK || !strings.Contains(body, line+"\n") {
			t.Errorf("metrics lack %q (%d)", line, code)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
}

// TestAdminPageInChromium: headless Chromium, logging in as the bridge's
// administrator, shows every camera's live picture (640 pixels wide, a
// viewer of the camera's stream), the URLs to copy and a snapshot button
// that downloads a picture, with no error in the console. The screenshot is
// kept in testutil.ArtifactDir.
func TestAdminPageInChromium(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.73", "127.0.5.74")
	b := startBridge(t, testConfig(t, t.TempDir(), "127.0.5.73", "127.0.5.74"))
	cams := b.Cameras()
	for _, c := range cams {
		waitStreaming(t, c)
	}
	browser := testutil.StartChromium(t)
	page, err := browser.NewPage("admin", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if err = page.SetViewport(1280, 900); err != nil {
		t.Fatal(err)
	}
	if err = page.Navigate(b.AdminURL()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	const pictures = `[...document.querySelectorAll("img.picture")]`
	if err = page.WaitFor(pictures+`.length === 2 && `+pictures+`.every(i => i.naturalWidth === 640 && i.naturalHeight === 480)`, 60*time.Second); err != nil {
		var widths []int
		_ = page.Eval(pictures+`.map(i => i.naturalWidth)`, &widths)
		t.Fatalf("%v; widths %v; console %q", err, widths, page.ConsoleErrors())
	}
	t.Logf("both pictures loaded after %v", time.Since(start).Round(time.Millisecond))
	// Each picture is a live viewer of its camera's stream, receiving
	// frames, which the camera's session writes to it directly.
	for _, c := range cams {
		sent := c.http.Stats().FramesSent
		deadline := time.Now().Add(20 * time.Second)
		for st := c.http.Stats(); st.Multipart != 1 || st.FramesSent < sent+10; st = c.http.Stats() {
			if time.Now().After(deadline) {
				t.Fatalf("camera %s: %+v, want the page as one MJPEG viewer getting frames", c.Config.Name, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if st := c.http.Stats(); st.FramesDirect == 0 {
			t.Errorf("camera %s: %+v: no frame written directly to the page", c.Config.Name, st)
		}
	}

	var cards []struct {
		Name, State string
		URLs        []string
	}
	err = page.Eval(`[...document.querySelectorAll(".camera")].map(c => ({
		Name: c.querySelector(".name").textContent,
		State: c.querySelector(".badge.state").textContent,
		URLs: [...c.querySelectorAll(".url")].map(u => u.querySelector(".url-label").textContent + " " + u.querySelector(".url-value").textContent),
	}))`, &cards)
	if err != nil {
		t.Fatal(err)
	}
	if len(cards) != 2 {
		t.Fatalf("%d cards: %+v", len(cards), cards)
	}
	host := bindIP.String()
	for i, c := range cams {
		want := []string{"ONVIF " + c.DeviceServiceURL(host), "RTSP JPEG " + c.RTSPURL(host, "jpeg")}
		if c.Device.HasH264 {
			want = append(want, "RTSP H.264 "+c.RTSPURL(host, "h264"))
		}
		want = append(want, "MJPEG "+c.MJPEGURL(host), "Snapshot "+c.SnapshotURL(host))
		if cards[i].Name != c.Config.Name || cards[i].State != "Live" || fmt.Sprint(cards[i].URLs) != fmt.Sprint(want) {
			t.Errorf("card %d: %+v\nwant name %s, Live, URLs %q", i, cards[i], c.Config.Name, want)
		}
	}
	// The snapshot button's link gives a JPEG, with the page's login.
	var snap struct {
		Status int
		Type   string
		Size   int
		Name   string
	}
	err = page.Eval(`(async () => {
		const a = document.querySelector(".camera a.snapshot");
		a.dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true}));
		const r = await fetch(a.href);
		const b = await r.arrayBuffer();
		return {Status: r.status, Type: r.headers.get("Content-Type"), Size: b.byteLength, Name: a.download};
	})()`, &snap)
	if err != nil || snap.Status != 200 || snap.Type != "image/jpeg" || snap.Size < 1000 || !strings.HasPrefix(snap.Name, cams[0].Config.Name+"-") {
		t.Errorf("snapshot button: %+v %v", snap, err)
	}
	// A copy button puts its URL on the clipboard.
	if err = page.GrantClipboard(); err != nil {
		t.Fatal(err)
	}
	var copied struct{ Button, Clipboard string }
	err = page.Eval(`(async () => {
		const b = document.querySelector(".camera .url .copy");
		b.click();
		for (let i = 0; i < 100 && b.textContent === "Copy"; i++) await new Promise(r => setTimeout(r, 20));
		return {Button: b.textContent, Clipboard: await navigator.clipboard.readText()};
	})()`, &copied)
	if want := cams[0].DeviceServiceURL(host); err != nil || copied.Button != "Copied" || copied.Clipboard != want {
		t.Errorf("copy button: %+v %v, want Copied and %s", copied, err, want)
	}
	var summary string
	if err = page.Eval(`document.getElementById("summary").textContent`, &summary); err != nil || !strings.HasPrefix(summary, "2 cameras · 2 streaming") {
		t.Errorf("summary %q %v", summary, err)
	}

	png, err := page.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	testutil.SaveArtifact(t, "admin-page.png", png)
	if errs := page.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// waitStreaming waits until the camera's session streams and its first
// frame has been published.
func waitStreaming(t *testing.T, c *Camera) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	// Media flowing is not yet a picture: the first whole frame may still
	// be on its way (under load, long enough for a snapshot to find none).
	for c.Session.State() != camsession.StateStreaming || c.Video.Latest() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("camera %s: not streaming within 10 s", c.Config.Name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAdminListsRecordings: a recorded camera's recordings are listed by
// the admin server and download as the files the recorder wrote.
func TestAdminListsRecordings(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.75")
	cfg := testConfig(t, t.TempDir(), "127.0.5.75")
	dir := t.TempDir()
	cfg.Cameras[0].Record = &record.Config{Dir: dir, Segment: time.Second}
	b := startBridge(t, cfg)
	c := b.Cameras()[0]
	var list admin.Recordings
	deadline := time.Now().Add(20 * time.Second)
	for len(list.Recordings) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("recordings listed: %+v", list)
		}
		time.Sleep(50 * time.Millisecond)
		code, body := adminGet(t, b, "api/cameras/"+c.Path+"/recordings")
		if code != http.StatusOK {
			t.Fatalf("recordings: %d %s", code, body)
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatal(err)
		}
	}
	first := list.Recordings[0] // complete: a later one exists
	code, body := adminGet(t, b, first.URL)
	disk, err := os.ReadFile(filepath.Join(record.CameraDir(dir, c.Path), first.File))
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || body != string(disk) || !first.Complete {
		t.Errorf("download %s: %d, %d bytes of %d, complete %v", first.URL, code, len(body), len(disk), first.Complete)
	}
	_, body = adminGet(t, b, admin.CamerasPath)
	var st admin.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Cameras[0].Recording == nil || !st.Cameras[0].Recording.Active {
		t.Errorf("status of a recorded camera: %v\n%s", err, body)
	}
}
