package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession/fakecam"
)

// The serve and demo tests use 127.0.7.x (the bridge's range) with fixed
// ports below the ephemeral range.

// startServing runs chinesium with args until it has printed want lines
// of URLs (ending with the login line) and returns them; the process is
// interrupted at the end of the test and must exit 0.
func startServing(t *testing.T, args ...string) []string {
	t.Helper()
	p := startProcess(t, args...)
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-p.done:
			p.exited = true
			if err != nil {
				t.Errorf("chinesium %v after Ctrl-C: %v\nstderr: %s", args, err, p.stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("chinesium %v did not stop on Ctrl-C", args) // startProcess's cleanup kills it
		}
	})
	return p.lines
}

// urlOf returns the URL on the printed line with the given label.
func urlOf(t *testing.T, lines []string, camera int, label string) string {
	t.Helper()
	cam := -1
	for _, l := range lines {
		if !strings.HasPrefix(l, " ") {
			cam++
			continue
		}
		f := strings.Fields(l)
		if cam == camera && len(f) >= 2 && strings.Join(f[:len(f)-1], " ") == label {
			return f[len(f)-1]
		}
	}
	t.Fatalf("no %q URL for camera %d in:\n%s", label, camera, strings.Join(lines, "\n"))
	return ""
}

// getFrame fetches a snapshot URL and returns the fake camera that drew it.
func getFrame(t *testing.T, url, user, password string) string {
	t.Helper()
	var last string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = resp.Status
		if resp.StatusCode == http.StatusUnauthorized {
			return "401"
		}
		if resp.StatusCode == http.StatusOK {
			name, _, ok := fakecam.FrameSeq(b)
			if !ok {
				t.Fatalf("snapshot %s is not a fake camera frame", url)
			}
			return name
		}
	}
	t.Fatalf("snapshot %s: %s", url, last)
	return ""
}

// TestDemo runs "chinesium demo" as the README's first command does and
// checks that both printed cameras serve their own frames.
func TestDemo(t *testing.T) {
	t.Parallel()
	lines := startServing(t, "demo", "-ip", "127.0.7.8", "-bind", "127.0.7.1",
		"-http-port", "18610", "-rtsp-port", "18654", "-admin-port", "18673", "-state-dir", t.TempDir())
	if got := urlOf(t, lines, 0, "ONVIF"); got != "http://127.0.7.1:18610/onvif/device_service" {
		t.Errorf("ONVIF URL %q", got)
	}
	if got := urlOf(t, lines, 1, "RTSP"); got != "rtsp://127.0.7.1:18654/demo-2/jpeg" {
		t.Errorf("RTSP URL %q", got)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "No user set") {
		t.Errorf("no warning about open access:\n%s", strings.Join(lines, "\n"))
	}
	for i, want := range []string{"DEMO-1", "DEMO-2"} {
		if got := getFrame(t, urlOf(t, lines, i, "snapshot"), "", ""); got != want {
			t.Errorf("camera %d snapshot from %q, want %q", i, got, want)
		}
	}
	if got := urlOf(t, lines, 0, "MJPEG"); got != "http://127.0.7.1:18610/stream.mjpeg" {
		t.Errorf("MJPEG URL %q", got)
	}
}

// TestServe serves a fake camera with a user: the snapshot needs the
// credentials. WS-Discovery stays off: tests never multicast beyond
// loopback.
func TestServe(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.7.10", 10104)
	lines := startServing(t, "serve", "-discovery=false", "-user", "admin", "-password", "pw", "-bind", "127.0.7.1",
		"-http-port", "18620", "-rtsp-port", "18655", "-admin-port", "18674", "-state-dir", t.TempDir(), "127.0.7.10")
	snap := urlOf(t, lines, 0, "snapshot")
	if snap != "http://127.0.7.1:18620/snapshot.jpg" {
		t.Errorf("snapshot URL %q", snap)
	}
	if got := getFrame(t, snap, "", ""); got != "401" {
		t.Errorf("snapshot without credentials: %s", got)
	}
	if got := getFrame(t, snap, "admin", "pw"); !strings.HasPrefix(got, "FAKECAM-") {
		t.Errorf("snapshot from %q", got)
	}
}

// TestServePerCameraAddress serves a camera on an address of its own
// (CAMERA@ADDRESS): its ONVIF endpoint and streams are there.
func TestServePerCameraAddress(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.7.14", 10104)
	lines := startServing(t, "serve", "-discovery=false", "-bind", "127.0.7.1",
		"-http-port", "18630", "-rtsp-port", "18656", "-admin-port", "18675", "-state-dir", t.TempDir(), "127.0.7.14@127.0.7.15")
	if got := urlOf(t, lines, 0, "ONVIF"); got != "http://127.0.7.15:18630/onvif/device_service" {
		t.Errorf("ONVIF URL %q", got)
	}
	if got := getFrame(t, urlOf(t, lines, 0, "snapshot"), "", ""); !strings.HasPrefix(got, "FAKECAM-") {
		t.Errorf("snapshot from %q", got)
	}
}

func TestServeUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		// -discovery=false: should a case ever get past the flags, it
		// still must not multicast from the root namespace.
		{"serve", "-discovery=false"},
		{"serve", "-discovery=false", "not-an-ip"},
		{"serve", "-discovery=false", "-password", "x", "127.0.7.11"},
		{"serve", "-discovery=false", "-user", "x", "127.0.7.11"},
		{"serve", "-discovery=false", "-bind", "::1", "127.0.7.11"},
		{"serve", "-discovery=false", "127.0.7.11@nowhere"},
		{"demo", "extra"},
		{"demo", "-ip", "10.0.0.1"},
	} {
		_, stderr, code := runCLI(t, 10*time.Second, args...)
		if code != 2 || stderr == "" {
			t.Errorf("chinesium %v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestServeWithoutFFmpeg: on a host without ffmpeg (a PATH without it)
// serve says at start, among the URLs and in its log, that there is no
// H.264, which clients will therefore refuse the cameras, and how to fix
// it; the cameras serve JPEG and print no H.264 URL.
func TestServeWithoutFFmpeg(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.7.60", 10104)
	cmd := exec.Command(bin, "serve", "-discovery=false", "-bind", "127.0.7.1",
		"-http-port", "18711", "-rtsp-port", "18712", "-admin-port", "18713", "-state-dir", t.TempDir(), "127.0.7.60")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PATH="+t.TempDir())
	p := startCommand(t, cmd)
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		if code, _ := p.wait(t, 10*time.Second); code != 0 {
			t.Errorf("serve exited %d after Ctrl-C\nstderr: %s", code, p.stderr.String())
		}
	})
	out := strings.Join(p.lines, "\n")
	for _, want := range []string{"No H.264 stream", "ffmpeg not found", "Home Assistant and UniFi Protect will not add these cameras", "apt install ffmpeg"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "RTSP H264") {
		t.Errorf("an H.264 URL printed without ffmpeg:\n%s", out)
	}
	if log := p.stderr.String(); !strings.Contains(log, "no H.264 stream, only JPEG") || !strings.Contains(log, "apt install ffmpeg") {
		t.Errorf("the log does not say it:\n%s", log)
	}
	if got := getFrame(t, urlOf(t, p.lines, 0, "snapshot"), "", ""); !strings.HasPrefix(got, "FAKECAM-") {
		t.Errorf("snapshot from %q", got)
	}
}
