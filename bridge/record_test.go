package bridge

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/record"
)

// waitUntil polls cond every 10 ms until it holds, failing after d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, d)
		}
	}
}

// probeStreams returns the codec names ffprobe finds in a file; any
// message it prints fails the test.
func probeStreams(t *testing.T, path string) string {
	t.Helper()
	ffprobe := testutil.NeedTool(t, "ffprobe")
	cmd := exec.Command(ffprobe, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v %s", path, err, stderr.String())
	}
	return strings.Join(strings.Fields(string(out)), ",")
}

// TestRecordWhileServing: a camera configured to record is recorded, with
// its audio, into a folder named after it, while its snapshot is served;
// closing the bridge closes the segment properly.
func TestRecordWhileServing(t *testing.T) {
	ip := "127.0.5.90"
	_, stop := runFakeCam(t, fakecam.Config{IP: netip.MustParseAddr(ip), Audio: true, FPS: 15, Logger: testutil.Logger(t)})
	defer stop()
	dir := t.TempDir()
	cfg := testConfig(t, t.TempDir(), ip)
	cfg.Cameras[0].Record = &record.Config{Dir: dir, Segment: time.Hour, Audio: true, MinFree: -1}
	b := startBridge(t, cfg)
	c := b.Cameras()[0]
	waitUntil(t, 15*time.Second, "frames recorded", func() bool { return c.Recorder().Stats().Frames >= 30 })

	req, err := http.NewRequest(http.MethodGet, c.SnapshotURL(c.Host()), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	jpg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(jpg) < 1000 {
		t.Errorf("snapshot while recording: HTTP %d, %d bytes", resp.StatusCode, len(jpg))
	}

	if err = b.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := c.Recordings()
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings %+v, %v; want one", recs, err)
	}
	r := recs[0]
	if want := filepath.Join(dir, c.Path); filepath.Dir(r.Path) != want {
		t.Errorf("recorded into %s, want %s", filepath.Dir(r.Path), want)
	}
	if !r.Complete || !r.Audio || r.Duration < time.Second {
		t.Errorf("recording %+v", r)
	}
	if got := probeStreams(t, r.Path); got != "mjpeg,pcm_s16le" {
		t.Errorf("streams %q, want mjpeg,pcm_s16le", got)
	}
}

// TestRecordOnMotionWhileServing: a camera recorded on motion is recorded
// when the bridge's detector sees motion (the ONVIF motion event turns true
// at the same time) and not before; the segment ends after the hold time.
func TestRecordOnMotionWhileServing(t *testing.T) {
	ip := "127.0.5.91"
	cam, stop := runFakeCam(t, fakecam.Config{IP: netip.MustParseAddr(ip), FPS: 15, Logger: testutil.Logger(t)})
	defer stop()
	cfg := testConfig(t, t.TempDir(), ip)
	cfg.Motion.Hold = time.Second
	cfg.Cameras[0].Record = &record.Config{Dir: t.TempDir(), Segment: time.Hour, Motion: true, PreRoll: time.Second, MinFree: -1}
	b := startBridge(t, cfg)
	c := b.Cameras()[0]
	waitUntil(t, 15*time.Second, "frames", func() bool { return c.Video.Published() >= 30 })
	if st := c.Recorder().Stats(); st.Segments != 0 {
		t.Fatalf("recording without motion: %+v", st)
	}
	cam.SetMotion(true)
	waitUntil(t, 10*time.Second, "recording on motion", func() bool { return c.Recorder().Stats().Segments == 1 })
	if m, _ := c.Events().State(onvif.TopicCellMotion); !m {
		t.Error("recording on motion while the motion event is false")
	}
	cam.SetMotion(false)
	waitUntil(t, 10*time.Second, "segment closed after the hold time", func() bool { return c.Recorder().Stats().Recording == "" })
	recs, err := c.Recordings()
	if err != nil || len(recs) != 1 || !recs[0].Complete {
		t.Fatalf("recordings %+v, %v", recs, err)
	}
	if got := probeStreams(t, recs[0].Path); got != "mjpeg" {
		t.Errorf("streams %q", got)
	}
}

// TestRecordConfigErrors: recording on motion with motion detection off,
// and a recording folder that cannot be created, fail before anything
// runs, naming the camera.
func TestRecordConfigErrors(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), "127.0.5.92")
	cfg.NoMotion = true
	cfg.Cameras[0].Record = &record.Config{Dir: t.TempDir(), Motion: true}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "motion detection") {
		t.Errorf("New with recording on motion and no motion detection: %v", err)
	}

	cfg = testConfig(t, t.TempDir(), "127.0.5.92")
	cfg.Cameras[0].Record = &record.Config{Dir: "/proc/version/recordings"}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "camera 1 (127.0.5.92): recording:") {
		t.Errorf("Start with a folder that cannot be created: %v", err)
	}
	if err == nil {
		b.Close()
	}
}
