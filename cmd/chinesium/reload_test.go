package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/stream"
)

// The reload tests run on 127.0.21.x.

// frameCounter watches an MJPEG stream as a browser does and keeps the
// fake camera's sequence number of every frame.
type frameCounter struct {
	mu   sync.Mutex
	seqs []uint64
	err  error // why the stream ended; nil while it runs
}

func countFrames(t *testing.T, url string) *frameCounter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	fc := &frameCounter{}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		defer resp.Body.Close()
		mr := multipart.NewReader(resp.Body, stream.Boundary)
		for {
			var seq uint64
			p, err := mr.NextPart()
			if err == nil {
				var b []byte
				if b, err = io.ReadAll(p); err == nil {
					var ok bool
					if _, seq, ok = fakecam.FrameSeq(b); !ok {
						err = errors.New("a part that is no fake camera frame")
					}
				}
			}
			fc.mu.Lock()
			if err != nil {
				fc.err = err
				fc.mu.Unlock()
				return
			}
			fc.seqs = append(fc.seqs, seq)
			fc.mu.Unlock()
		}
	}()
	return fc
}

func (fc *frameCounter) frames() ([]uint64, error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return slices.Clone(fc.seqs), fc.err
}

// waitMore waits until n more frames have come.
func (fc *frameCounter) waitMore(t *testing.T, n int) {
	t.Helper()
	seqs, _ := fc.frames()
	want := len(seqs) + n
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		seqs, err := fc.frames()
		if len(seqs) >= want {
			return
		}
		if err != nil || time.Now().After(end) {
			t.Fatalf("viewer: %d frames, want %d; stream ended: %v", len(seqs), want, err)
		}
	}
}

// cameraStatus is what /api/cameras says of a camera.
type cameraStatus struct {
	Name          string `json:"name"`
	IP            string `json:"ip"`
	Frames        uint64 `json:"frames"`
	FramesDropped uint64 `json:"frames_dropped"`
	Reconnects    uint64 `json:"reconnects"`
}

func apiCameras(t *testing.T, url string) []cameraStatus {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Cameras []cameraStatus `json:"cameras"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Cameras
}

func names(cams []cameraStatus) string {
	var n []string
	for _, c := range cams {
		n = append(n, c.Name)
	}
	return strings.Join(n, " ")
}

// TestServeReload: SIGHUP applies an edited configuration file: a camera
// added to it streams, a removed one is gone, a changed one runs with its
// new settings, while the viewer of a fourth camera keeps its connection
// and misses no frame. A file with a mistake is then refused with the
// reason in the log, and the running configuration keeps serving.
func TestServeReload(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.21.30", 10104)
	startFakecam(t, "127.0.21.31", 10104, "-audio")
	startFakecam(t, "127.0.21.32", 10104)
	startFakecam(t, "127.0.21.33", 10104)
	file := filepath.Join(t.TempDir(), "chinesium.yaml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const head = "listen:\n  bind: 127.0.21.1\n  http_base_port: 18900\n  rtsp_port: 18920\n  admin_port: 18921\ndiscovery:\n  enabled: false\n"
	write(head + "cameras:\n  - ip: 127.0.21.30\n    name: kept\n  - ip: 127.0.21.31\n    name: changed\n  - ip: 127.0.21.32\n    name: removed\n")
	p := startProcess(t, "serve", "-config", file, "-state-dir", t.TempDir())
	stopOnCleanup(t, p)
	api := "http://127.0.21.1:18921/api/cameras"
	if got := names(apiCameras(t, api)); got != "kept changed removed" {
		t.Fatalf("cameras at start: %s", got)
	}
	removedURL := urlOf(t, p.lines, 2, "snapshot")
	if got := getFrame(t, removedURL, "", ""); got != "FAKECAM-7F001520" {
		t.Fatalf("camera 3 streams %q", got)
	}
	viewer := countFrames(t, urlOf(t, p.lines, 0, "MJPEG"))
	viewer.waitMore(t, 5)
	before := apiCameras(t, api)[0]

	// Add one, change one (audio on), remove one; the first stays as it is.
	write(head + "cameras:\n  - ip: 127.0.21.30\n    name: kept\n  - ip: 127.0.21.31\n    name: changed\n    audio: true\n  - ip: 127.0.21.33\n    name: added\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitStderr(t, "configuration reloaded")
	if !strings.Contains(p.stderr.String(), `added=added restarted=changed removed=removed`) {
		t.Errorf("the log does not say what changed:\n%s", p.stderr.String())
	}
	if got := names(apiCameras(t, api)); got != "kept changed added" {
		t.Errorf("cameras after the reload: %s", got)
	}
	// The new camera takes the port the removed one left, the next free
	// one from 18900 (kept and changed keep 18900 and 18901).
	if got := getFrame(t, "http://127.0.21.1:18902/snapshot.jpg", "", ""); got != "FAKECAM-7F001521" {
		t.Errorf("added camera streams %q", got)
	}
	if resp, err := http.Get("http://127.0.21.1:18901/audio.wav"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the changed camera has no audio: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if got := getFrame(t, "http://127.0.21.1:18901/snapshot.jpg", "", ""); got != "FAKECAM-7F00151F" {
		t.Errorf("changed camera streams %q", got)
	}

	// The untouched camera's viewer: same connection, no frame missing.
	viewer.waitMore(t, 20)
	seqs, err := viewer.frames()
	if err != nil {
		t.Fatalf("the viewer of the untouched camera was cut off: %v", err)
	}
	missing := 0
	for i := 1; i < len(seqs); i++ {
		missing += int(seqs[i] - seqs[i-1] - 1)
	}
	after := apiCameras(t, api)[0]
	lost := int(after.FramesDropped - before.FramesDropped) // lost on the way from the camera, not the reload's
	// (The untouched camera is not restarted: that would end the
	// viewer's stream. Its session may reconnect on its own under load.)
	if missing > lost {
		t.Errorf("untouched camera: %d of %d frames missing (%d lost on the way)", missing, len(seqs)+missing, lost)
	}
	t.Logf("viewer of the untouched camera: %d frames, seq %d..%d, %d missing, %d reconnects", len(seqs), seqs[0], seqs[len(seqs)-1],
		missing, after.Reconnects-before.Reconnects)

	// A file with a mistake: refused, everything stays.
	write(head + "cameras:\n  - ip: 127.0.21.300\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitStderr(t, "configuration refused")
	if want := `cameras[0].ip: \"127.0.21.300\" is not an IPv4 address`; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("the log does not give the reason %s:\n%s", want, p.stderr.String())
	}
	if got := names(apiCameras(t, api)); got != "kept changed added" {
		t.Errorf("cameras after a refused reload: %s", got)
	}
	if got := getFrame(t, "http://127.0.21.1:18902/snapshot.jpg", "", ""); got != "FAKECAM-7F001521" {
		t.Errorf("after a refused reload: added camera streams %q", got)
	}
	// A setting that needs a restart is named.
	write(strings.Replace(head, "18920", "18922", 1) + "cameras:\n  - ip: 127.0.21.30\n    name: kept\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitStderr(t, "keys=listen.rtsp_port")
	p.waitStderr(t, "removed=changed,added")
	if _, err := viewer.frames(); err != nil {
		t.Errorf("viewer cut off by the last reload: %v", err)
	}
}

// serialNumber asks the ONVIF device at url for its serial number.
func serialNumber(t *testing.T, url string) string {
	t.Helper()
	body := `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">` +
		`<s:Body><GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>`
	resp, err := http.Post(url, "application/soap+xml; charset=utf-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_, rest, _ := strings.Cut(string(b), "SerialNumber>")
	serial, _, _ := strings.Cut(rest, "<")
	return serial
}

// TestServeDiscover: serve -discover with no camera configured serves the
// cameras that appear on the LAN after it started (fake cameras
// answering the broadcast on loopback), each under its UID, and the same
// devices (serial numbers) after a restart.
func TestServeDiscover(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	start := func() *servingProcess {
		cmd := exec.Command(bin, "serve", "-discover", "-discover-broadcast", "127.255.255.255:10222", "-discovery=false",
			"-bind", "127.0.21.1", "-http-port", "18930", "-rtsp-port", "18940", "-admin-port", "18941", "-state-dir", state)
		cmd.Env = append(os.Environ(), "CHINESIUM_SCAN_INTERVAL=1s")
		p := startCommand(t, cmd)
		stopOnCleanup(t, p)
		return p
	}
	p := start()
	if !strings.Contains(strings.Join(p.lines, "\n"), "Looking for cameras on 127.255.255.255:10222 every 1s") {
		t.Errorf("serve -discover does not say it looks for cameras:\n%s", strings.Join(p.lines, "\n"))
	}
	api := "http://127.0.21.1:18941/api/cameras"
	if got := names(apiCameras(t, api)); got != "" {
		t.Fatalf("cameras before any was found: %q", got)
	}
	// The cameras appear after the start; their control port is the
	// broadcast's.
	startFakecam(t, "127.0.21.50", 10222, "-n", "2")
	want := "FAKECAM-7F001532 FAKECAM-7F001533"
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		cams := apiCameras(t, api)
		slices.SortFunc(cams, func(a, b cameraStatus) int { return strings.Compare(a.Name, b.Name) })
		if got := names(cams); got == want {
			break
		} else if time.Now().After(end) {
			t.Fatalf("cameras found: %q, want %q\nstderr: %s", got, want, p.stderr.String())
		}
	}
	p.waitStderr(t, "camera found")
	serials := map[string]string{}
	for _, port := range []string{"18930", "18931"} {
		name := getFrame(t, "http://127.0.21.1:"+port+"/snapshot.jpg", "", "")
		serials[name] = serialNumber(t, "http://127.0.21.1:"+port+"/onvif/device_service")
	}
	if len(serials) != 2 || serials["FAKECAM-7F001532"] == "" || serials["FAKECAM-7F001533"] == "" {
		t.Fatalf("the found cameras' ports serve %v", serials)
	}

	// Restarted, the bridge finds them again as the same devices.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	p = start()
	for end := time.Now().Add(15 * time.Second); len(apiCameras(t, api)) < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not found again after a restart:\n%s", p.stderr.String())
		}
	}
	for _, port := range []string{"18930", "18931"} {
		name := getFrame(t, "http://127.0.21.1:"+port+"/snapshot.jpg", "", "")
		if got := serialNumber(t, "http://127.0.21.1:"+port+"/onvif/device_service"); got != serials[name] {
			t.Errorf("%s after a restart: serial number %q, before %q", name, got, serials[name])
		}
	}
}
