package admin_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/record"
)

// play plays a recording through the admin server and returns the JPEGs
// of the multipart parts.
func play(t *testing.T, r *rig, url string) [][]byte {
	t.Helper()
	resp, err := http.Get(r.url + url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || err != nil || mt != "multipart/x-mixed-replace" {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("play %s: %s %q %s", url, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	var parts [][]byte
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return parts // the stream ends after the last frame's boundary
		}
		if err != nil {
			t.Fatalf("play %s: part %d: %v", url, len(parts), err)
		}
		if ct := p.Header.Get("Content-Type"); ct != "image/jpeg" {
			t.Fatalf("play %s: part %d of type %q", url, len(parts), ct)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return parts
		}
		parts = append(parts, b)
	}
}

// extractJPEGs copies the video frames out of a recording with ffmpeg,
// unchanged, and splits them.
func extractJPEGs(t *testing.T, ffmpeg, path string) [][]byte {
	t.Helper()
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-map", "0:v", "-c", "copy", "-f", "mjpeg", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg copying the frames out of %s: %v", path, err)
	}
	var frames [][]byte
	for len(out) > 0 {
		end := bytes.Index(out[2:], []byte{0xFF, 0xD8})
		if end < 0 {
			frames = append(frames, out)
			break
		}
		frames = append(frames, out[:end+2])
		out = out[end+2:]
	}
	return frames
}

// TestPlayRecording: a recording played through the admin server is its
// frames, byte for byte, as ffmpeg copies them out of the file, sent no
// faster than they were recorded; ?t= starts later in the file; nothing
// but a listed recording can be played.
func TestPlayRecording(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	r := startRig(t, rigOpts{cameras: 1, first: 60, record: true, segment: time.Hour})
	cam := r.cams[0]
	waitUntil(t, "20 frames recorded", func() bool { return cam.rec.Stats().Frames >= 20 })
	cam.stopRec()
	list := recordings(t, r, "cam-1")
	files, err := cam.rec.List()
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range list {
		if f.Play != f.URL+"/play" {
			t.Errorf("recording %d: play URL %q", i, f.Play)
		}
	}
	f, path := list[0], files[0].Path
	want := extractJPEGs(t, ffmpeg, path)
	if len(want) < 5 {
		t.Fatalf("only %d frames in %s", len(want), path)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	fr, err := record.NewFrameReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	var ts []time.Duration
	for {
		at, _, err := fr.Next()
		if err != nil {
			break
		}
		ts = append(ts, at)
	}

	start := time.Now()
	got := play(t, r, f.Play)
	took := time.Since(start)
	if len(got) != len(want) {
		t.Fatalf("played %d frames, the file has %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("played frame %d differs from the recorded one", i)
		}
	}
	if span := ts[len(ts)-1] - ts[0]; took < span {
		t.Errorf("played %v of frames in %v: faster than recorded", span, took)
	}

	mid := (ts[0] + ts[len(ts)-1]) / 2
	from := 0
	for ts[from] < mid {
		from++
	}
	got = play(t, r, f.Play+"?t="+strconv.FormatFloat(mid.Seconds(), 'f', 3, 64))
	if len(got) != len(want)-from || !bytes.Equal(got[0], want[from]) {
		t.Errorf("?t=%v: %d frames, want the last %d", mid, len(got), len(want)-from)
	}

	for _, p := range []string{
		"cameras/cam-1/recordings/..%2F..%2Fetc%2Fpasswd/play",
		"cameras/cam-1/recordings/nothing.mkv/play",
		"cameras/cam-9/recordings/" + f.File + "/play",
	} {
		if code, _, _ := r.get(t, p, false); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	for _, q := range []string{"?t=-1", "?t=abc", "?t=NaN"} {
		if code, _, _ := r.get(t, f.Play+q, false); code != http.StatusBadRequest {
			t.Errorf("%s%s: %d, want 400", f.Play, q, code)
		}
	}
}

// TestPlayLimits: a client plays at most admin.DefaultMaxPlayersPerClient
// recordings at once, gets 429 beyond, and a place again once it stops
// one; another client still plays meanwhile.
func TestPlayLimits(t *testing.T) {
	r := startRig(t, rigOpts{cameras: 1, first: 70, record: true, segment: time.Hour})
	cam := r.cams[0]
	// The segment being written plays at its recorded pace from its
	// start, so a player stays that far behind the recorder and does not
	// end while it records.
	waitUntil(t, "three seconds recorded", func() bool { return cam.rec.Stats().Frames >= 45 })
	list := recordings(t, r, "cam-1")
	if len(list) != 1 {
		t.Fatalf("%d recordings", len(list))
	}
	url := r.url + list[0].Play
	client := func(src byte) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip(src).AsSlice()}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	open := func(c *http.Client) (*http.Response, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, func() { cancel(); resp.Body.Close() }
	}
	one := client(201)
	var stops []context.CancelFunc
	for i := range admin.DefaultMaxPlayersPerClient {
		resp, stop := open(one)
		defer stop()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("player %d: %s", i+1, resp.Status)
		}
		stops = append(stops, stop)
	}
	resp, stop := open(one)
	stop()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("one player too many: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	resp, stop = open(client(202))
	stop()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("another client: %s", resp.Status)
	}
	stops[0]()
	waitUntil(t, "a place again after a player stopped", func() bool {
		resp, stop := open(one)
		stop()
		return resp.StatusCode == http.StatusOK
	})
}
