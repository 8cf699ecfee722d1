package admin_test

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/internal/testutil"
)

func cameraStatus(t *testing.T, r *rig) admin.Status {
	t.Helper()
	code, h, body := r.get(t, admin.CamerasPath, true)
	if code != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("%s: %d %s\n%s", admin.CamerasPath, code, h.Get("Content-Type"), body)
	}
	var st admin.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("%s: %v\n%s", admin.CamerasPath, err, body)
	}
	return st
}

// TestHealthAndStatus: /healthz names the camera that does not stream
// until it does, and again when it goes away; /api/cameras tells the same
// with the numbers of each camera.
func TestHealthAndStatus(t *testing.T) {
	r := startRig(t, rigOpts{cameras: 2, away: 1, first: 2, motion: true, fps: 15})
	away := r.cams[2]
	waitUntil(t, "two cameras stream", func() bool {
		return r.cams[0].session.State().String() == "streaming" && r.cams[1].session.State().String() == "streaming"
	})
	code, h, body := r.get(t, admin.HealthPath, false)
	if code != http.StatusServiceUnavailable || body != "FAIL 2/3 cameras streaming\ncam-3 connecting: no frame yet\n" {
		t.Errorf("healthz with cam-3 away: %d %q", code, body)
	}
	if ct := h.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("healthz Content-Type %q", ct)
	}

	st := cameraStatus(t, r)
	if len(st.Cameras) != 3 {
		t.Fatalf("%d cameras: %+v", len(st.Cameras), st)
	}
	for i, c := range st.Cameras[:2] {
		if c.ID != r.cams[i].name || c.IP != r.cams[i].ip.String() || !c.Online || c.State != "streaming" ||
			c.Frames == 0 || c.LastFrameAge == nil || *c.LastFrameAge > 2 || c.FPS <= 0 || c.Motion == nil {
			t.Errorf("camera %d: %+v", i, c)
		}
		if c.Live != "cameras/"+c.ID+"/stream.mjpeg" || c.Snapshot != "cameras/"+c.ID+"/snapshot.jpg" {
			t.Errorf("camera %d picture %q %q", i, c.Live, c.Snapshot)
		}
		// The URLs are built for the host the client used.
		if c.URLs == nil || !strings.HasPrefix(c.URLs.RTSPJPEG, "rtsp://"+serverIP.String()+":") || c.URLs.RTSPH264 != "" {
			t.Errorf("camera %d URLs %+v", i, c.URLs)
		}
	}
	if a := st.Cameras[2]; a.Online || a.State != "connecting" || a.LastFrameAge != nil || a.Frames != 0 {
		t.Errorf("camera away: %+v", a)
	}
	// Motion, seen by the detector in the fake cameras' moving picture.
	waitUntil(t, "motion on cam-1", func() bool {
		m := cameraStatus(t, r).Cameras[0].Motion
		return m != nil && *m
	})

	// The third camera comes: all stream.
	startFake(t, away)
	waitUntil(t, "healthz 200", func() bool { code, _, _ := r.get(t, admin.HealthPath, false); return code == http.StatusOK })
	if _, _, body := r.get(t, admin.HealthPath, false); body != "OK 3/3 cameras streaming\n" {
		t.Errorf("healthz: %q", body)
	}

	// The first camera goes away: it is named with the age of its last
	// frame once the session has noticed.
	r.cams[0].stopFake()
	waitUntil(t, "healthz names cam-1", func() bool {
		code, _, body := r.get(t, admin.HealthPath, false)
		return code == http.StatusServiceUnavailable && strings.HasPrefix(body, "FAIL 2/3 cameras streaming\ncam-1 lost: last frame ")
	})
	if c := cameraStatus(t, r).Cameras[0]; c.Online || c.State != "lost" || c.LastFrameAge == nil || *c.LastFrameAge < 1 {
		t.Errorf("camera gone: %+v", c)
	}
}

// TestPageAndAssets: the page is served with a policy that allows only its
// own files, the files carry ETags and revalidate, and nothing else is
// there.
func TestPageAndAssets(t *testing.T) {
	r := startRig(t, rigOpts{cameras: 1, first: 20})
	code, h, body := r.get(t, "/", false)
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", code, h.Get("Content-Type"))
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("page CSP %q", csp)
	}
	for _, ref := range []string{`src="static/app.js"`, `href="static/style.css"`, `href="static/favicon.svg"`} {
		if !strings.Contains(body, ref) {
			t.Errorf("page lacks %s", ref)
		}
	}
	for _, f := range []struct{ path, ctype string }{
		{"static/app.js", "text/javascript"},
		{"static/style.css", "text/css"},
		{"static/favicon.svg", "image/svg+xml"},
	} {
		code, h, body := r.get(t, f.path, false)
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), f.ctype) || len(body) == 0 || h.Get("ETag") == "" {
			t.Errorf("%s: %d %q ETag %q, %d bytes", f.path, code, h.Get("Content-Type"), h.Get("ETag"), len(body))
			continue
		}
		req, _ := http.NewRequest(http.MethodGet, r.url+f.path, nil)
		req.Header.Set("If-None-Match", h.Get("ETag"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s revalidated: %s, want 304", f.path, resp.Status)
		}
	}
	for _, p := range []string{"static/", "static/index.html", "static/nope.js", "nope", "cameras/cam-1/raw.mjpeg", "cameras/nope/snapshot.jpg"} {
		if code, _, _ := r.get(t, p, false); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	resp, err := http.Post(r.url+"api/cameras", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST api/cameras: %s", resp.Status)
	}
	// The live picture comes through the admin server.
	waitUntil(t, "a snapshot", func() bool {
		code, h, _ := r.get(t, "cameras/cam-1/snapshot.jpg", false)
		return code == http.StatusOK && h.Get("Content-Type") == "image/jpeg"
	})
}

// TestAuth: with users everything but /healthz asks for them, and takes
// Basic and Digest (curl).
func TestAuth(t *testing.T) {
	r := startRig(t, rigOpts{cameras: 1, first: 25, users: true})
	waitUntil(t, "camera streams", func() bool { return r.cams[0].session.State().String() == "streaming" })
	paths := []string{"/", "static/app.js", admin.CamerasPath, admin.MetricsPath, "cameras/cam-1/snapshot.jpg"}
	for _, p := range paths {
		code, h, _ := r.get(t, p, false)
		if code != http.StatusUnauthorized || len(h.Values("WWW-Authenticate")) == 0 {
			t.Errorf("%s without credentials: %d %q", p, code, h.Values("WWW-Authenticate"))
		}
		if code, _, _ := r.get(t, p, true); code != http.StatusOK {
			t.Errorf("%s with Basic: %d", p, code)
		}
	}
	if code, _, body := r.get(t, admin.HealthPath, false); code != http.StatusOK || body != "OK 1/1 cameras streaming\n" {
		t.Errorf("healthz without credentials: %d %q", code, body)
	}
	curl := testutil.NeedTool(t, "curl")
	out, err := exec.Command(curl, "-sS", "--fail", "--digest", "-u", "admin:secret", r.url+"api/cameras").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"id": "cam-1"`) {
		t.Errorf("curl --digest: %v\n%s", err, out)
	}
	out, err = exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--digest", "-u", "admin:wrong", r.url+"api/cameras").CombinedOutput()
	if err != nil || string(out) != "401" {
		t.Errorf("curl --digest with a wrong password: %v %s", err, out)
	}
}
