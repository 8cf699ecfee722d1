package admin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/internal/testutil"
)

func recordings(t *testing.T, r *rig, id string) []admin.RecordingFile {
	t.Helper()
	code, _, body := r.get(t, "api/cameras/"+id+"/recordings", false)
	if code != http.StatusOK {
		t.Fatalf("recordings of %s: %d %s", id, code, body)
	}
	var l admin.Recordings
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatal(err)
	}
	return l.Recordings
}

// TestRecordings: a recorded camera's recorder shows in /api/cameras and
// /metrics, its recordings are listed and download byte for byte, and no
// other file can be asked for.
func TestRecordings(t *testing.T) {
	r := startRig(t, rigOpts{cameras: 1, first: 40, record: true})
	cam := r.cams[0]
	waitUntil(t, "two recordings", func() bool { return len(recordings(t, r, "cam-1")) >= 2 })
	st := cameraStatus(t, r).Cameras[0]
	if st.Recording == nil || !st.Recording.Active || st.Recording.Frames == 0 || st.Recording.List != "api/cameras/cam-1/recordings" {
		t.Errorf("recording status %+v", st.Recording)
	}

	cam.stopRec() // closes the segment being written
	list := recordings(t, r, "cam-1")
	files, err := cam.rec.List()
	if err != nil || len(files) != len(list) {
		t.Fatalf("the recorder lists %d files (%v), the API %d", len(files), err, len(list))
	}
	for i, f := range list {
		want := filepath.Base(files[i].Path)
		if f.File != want || f.URL != "cameras/cam-1/recordings/"+want || f.Size != files[i].Size || !f.Complete || f.Duration <= 0 {
			t.Errorf("recording %d: %+v, file %+v", i, f, files[i])
		}
		code, h, body := r.get(t, f.URL, false)
		disk, err := os.ReadFile(files[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusOK || h.Get("Content-Type") != "video/x-matroska" || !strings.Contains(h.Get("Content-Disposition"), want) || !bytes.Equal([]byte(body), disk) {
			t.Errorf("download %s: %d %q %q, %d bytes of %d", f.URL, code, h.Get("Content-Type"), h.Get("Content-Disposition"), len(body), len(disk))
		}
	}
	for _, p := range []string{
		"cameras/cam-1/recordings/..%2F..%2Fetc%2Fpasswd",
		"cameras/cam-1/recordings/%2Fetc%2Fpasswd",
		"cameras/cam-1/recordings/nothing.mkv",
		"cameras/cam-9/recordings/" + list[0].File,
		"api/cameras/cam-9/recordings",
	} {
		if code, _, _ := r.get(t, p, false); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	rs := cam.rec.Stats()
	m := scrape(t, r)
	if v := mustValue(t, m, "chinesium_camera_recorded_frames_total", "camera", "cam-1"); v != float64(rs.Frames) || v == 0 {
		t.Errorf("recorded frames %v, recorder %d", v, rs.Frames)
	}
	if v := mustValue(t, m, "chinesium_camera_recorded_bytes_total", "camera", "cam-1"); v != float64(rs.Bytes) || v == 0 {
		t.Errorf("recorded bytes %v, recorder %d", v, rs.Bytes)
	}
	if v := mustValue(t, m, "chinesium_camera_recording", "camera", "cam-1"); v != 0 {
		t.Errorf("camera_recording = %v after the recorder stopped", v)
	}
}

// TestPageInChromium: the page, loaded from an admin server that knows
// nothing of the bridge, shows every camera's live picture, lists a
// recorded camera's recordings with working download links, and logs no
// console error; the screenshot is kept in testutil.ArtifactDir.
func TestPageInChromium(t *testing.T) {
	r := startRig(t, rigOpts{cameras: 2, first: 45, record: true, users: true, motion: true})
	waitUntil(t, "a recording", func() bool {
		l, _ := r.cams[0].rec.List()
		return len(l) > 0
	})
	b := testutil.StartChromium(t)
	page, err := b.NewPage("admin", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if err = page.SetViewport(1280, 1100); err != nil {
		t.Fatal(err)
	}
	if err = page.Navigate(r.url); err != nil {
		t.Fatal(err)
	}
	const pictures = `[...document.querySelectorAll("img.picture")]`
	if err = page.WaitFor(pictures+`.length === 2 && `+pictures+`.every(i => i.naturalWidth === 640)`, 60*time.Second); err != nil {
		t.Fatalf("%v; console %q", err, page.ConsoleErrors())
	}
	// Open the first camera's recordings.
	if err = page.Eval(`document.querySelector(".camera details.recordings").open = true`, nil); err != nil {
		t.Fatal(err)
	}
	if err = page.WaitFor(`document.querySelectorAll(".camera .rec a.rec-download").length > 0`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	var dl struct {
		Status int
		Size   int
		Name   string
		State  string
	}
	err = page.Eval(`(async () => {
		const a = document.querySelector(".camera .rec a.rec-download");
		const r = await fetch(a.href);
		const b = await r.arrayBuffer();
		return {Status: r.status, Size: b.byteLength, Name: a.download,
			State: document.querySelector(".camera .rec-state").textContent};
	})()`, &dl)
	if err != nil || dl.Status != 200 || dl.Size == 0 || !strings.HasPrefix(dl.Name, "cam-1-") || !strings.HasSuffix(dl.Name, ".mkv") || dl.State != "· recording" {
		t.Errorf("recording download from the page: %+v %v", dl, err)
	}
	// The page's Play link plays the recording in the browser: its frames
	// show as an image, 640 pixels wide, like the live view.
	var linked bool
	if err = page.Eval(`(() => {
		const a = document.querySelector(".camera .rec a.rec-play");
		if (!a || a.hidden || !a.href.includes("/play")) return false;
		const img = document.createElement("img");
		img.id = "played";
		img.src = a.href;
		document.body.append(img);
		return true;
	})()`, &linked); err != nil || !linked {
		t.Fatalf("no Play link to a recording on the page (%v)", err)
	}
	if err = page.WaitFor(`(document.getElementById("played") || {}).naturalWidth === 640`, 30*time.Second); err != nil {
		t.Errorf("the recording's Play link shows no picture: %v; console %q", err, page.ConsoleErrors())
	}
	png, err := page.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	testutil.SaveArtifact(t, "admin-page-recordings.png", png)
	if errs := page.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
