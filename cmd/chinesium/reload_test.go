package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
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
	if missing > lost || after.Reconnects != before.Reconnects {
		t.Errorf("untouched camera: %d of %d frames missing (%d lost on the way), %d reconnects",
			missing, len(seqs)+missing, lost, after.Reconnects-before.Reconnects)
	}
	t.Logf("viewer of the untouched camera: %d frames, seq %d..%d, %d missing", len(seqs), seqs[0], seqs[len(seqs)-1], missing)

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
