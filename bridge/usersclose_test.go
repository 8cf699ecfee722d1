package bridge

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/stream"
)

// watchMJPEG opens the camera's MJPEG stream as user and returns a channel
// that gets one value per part received and is closed when the stream
// ends.
func watchMJPEG(t *testing.T, c *Camera, user, password string) <-chan struct{} {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.MJPEGURL(bindIP.String()), nil)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("MJPEG as %s: %s", user, resp.Status)
	}
	t.Cleanup(func() { resp.Body.Close() })
	parts := make(chan struct{}, 1000)
	go func() {
		defer close(parts)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if bytes.Equal(sc.Bytes(), []byte("--"+stream.Boundary)) {
				parts <- struct{}{}
			}
		}
	}()
	return parts
}

// ended waits up to d for a stream's channel to be closed, counting what
// still arrived.
func ended(parts <-chan struct{}, d time.Duration) (after int, ok bool) {
	deadline := time.After(d)
	for {
		select {
		case _, open := <-parts:
			if !open {
				return after, true
			}
			after++
		case <-deadline:
			return after, false
		}
	}
}

// TestDeletedUserLosesStreams: a user deleted over ONVIF kept watching
// the streams it had open (225 more MJPEG frames in 15 s, RTSP on). Now
// deleting a user, or changing its password, ends its MJPEG streams, RTSP
// sessions and event subscriptions at once, and only its own.
func TestDeletedUserLosesStreams(t *testing.T) {
	t.Parallel()
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	_, c := startCamera(t, "127.0.5.115", nil)
	device := c.DeviceServiceURL(bindIP.String())
	createUser(t, c, "admin", "secret", "bob", "bobpass1")
	createUser(t, c, "admin", "secret", "carol", "carolpass1")

	bobMJPEG := watchMJPEG(t, c, "bob", "bobpass1")
	carolMJPEG := watchMJPEG(t, c, "carol", "carolpass1")
	for _, p := range []<-chan struct{}{bobMJPEG, carolMJPEG} {
		if _, ok := <-p; !ok {
			t.Fatal("MJPEG stream ended before its first frame")
		}
	}
	// bob plays RTSP over TCP with ffmpeg (Digest).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffmpeg, "-v", "error", "-rtsp_transport", "tcp",
		"-i", withUser(c.RTSPURL(bindIP.String(), "jpeg"), "bob", "bobpass1"), "-c", "copy", "-f", "mjpeg", "-")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testutil.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1)
	if _, err := io.ReadFull(out, first); err != nil {
		t.Fatalf("ffmpeg got nothing over RTSP as bob: %v\n%s", err, stderr.String())
	}
	rtspDone := make(chan error, 1)
	go func() {
		_, _ = io.Copy(io.Discard, out)
		rtspDone <- cmd.Wait()
	}()
	// bob's pull point.
	status, body := soapRequest(t, eventsURL(c), "bob", "bobpass1", `<tev:CreatePullPointSubscription/>`)
	if status != http.StatusOK {
		t.Fatalf("bob's CreatePullPointSubscription: %d %s", status, body)
	}
	if n := c.Events().Stats().PullPoints; n != 1 {
		t.Fatalf("%d pull points, want bob's", n)
	}

	if status, body := soapRequest(t, device, "admin", "secret", `<tds:DeleteUsers><tds:Username>bob</tds:Username></tds:DeleteUsers>`); status != http.StatusOK {
		t.Fatalf("DeleteUsers bob: %d %s", status, body)
	}
	if after, ok := ended(bobMJPEG, 10*time.Second); !ok {
		t.Errorf("bob's MJPEG stream still runs 10 s after bob was deleted (%d frames since)", after)
	}
	select {
	case <-rtspDone:
	case <-time.After(10 * time.Second):
		t.Errorf("bob's RTSP stream still runs 10 s after bob was deleted")
	}
	if n := c.Events().Stats().PullPoints; n != 0 {
		t.Errorf("%d pull points left after bob was deleted", n)
	}
	// carol's stream was not touched; a new password ends it.
	select {
	case _, open := <-carolMJPEG:
		if !open {
			t.Fatal("carol's MJPEG stream ended with bob's")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("carol's MJPEG stream stalled")
	}
	setCarol := `<tds:SetUser><tds:User><tt:Username>carol</tt:Username><tt:Password>carolpass2</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User></tds:SetUser>`
	if status, body := soapRequest(t, device, "admin", "secret", setCarol); status != http.StatusOK {
		t.Fatalf("SetUser carol: %d %s", status, body)
	}
	if after, ok := ended(carolMJPEG, 10*time.Second); !ok {
		t.Errorf("carol's MJPEG stream still runs 10 s after her password changed (%d frames since)", after)
	}
	if st := c.http.Stats(); st.Multipart != 0 || st.FramesDirect == 0 {
		// The streams were ended while parked, written by the camera's
		// session itself (through the connection limiter's wrapper).
		t.Errorf("%d MJPEG viewers left, %d frames written directly", st.Multipart, st.FramesDirect)
	}
	if strings.Contains(stderr.String(), "panic") {
		t.Errorf("ffmpeg: %s", stderr.String())
	}
}
