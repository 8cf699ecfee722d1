package rtsp

import (
	"bytes"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/testutil"
)

// TestStatsBytesAndViewers: a session playing over TCP is counted as a
// viewer of its path and transport while it plays, and the path's
// BytesSent is exactly the interleaved RTP the client received (RTCP not
// included).
func TestStatsBytesAndViewers(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	c := dialRaw(t, f.addr)
	res := c.do("SETUP", f.url("jpeg")+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if res.status != 200 {
		t.Fatalf("SETUP: %d", res.status)
	}
	c.session = sessionID(res.header.get("Session"))
	if st := f.srv.Stats(); st.Sessions != 1 || st.SessionsStarted != 1 || st.Paths["cam"].JPEG.Total() != 0 {
		t.Errorf("after SETUP: %+v, want one session and no viewer yet", st)
	}
	if res := c.do("PLAY", f.url("jpeg")+"/"); res.status != 200 {
		t.Fatalf("PLAY: %d", res.status)
	}
	var rtp int
	for packets := 0; packets < 100; {
		fr, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if fr.ch == 0 {
			rtp += 4 + len(fr.data)
			packets++
		}
		// The session starts playing once the PLAY response is out, so
		// look once RTP has arrived.
		if packets == 1 && fr.ch == 0 {
			if st := f.srv.Stats().Paths["cam"]; st.JPEG != (Viewers{TCP: 1}) || st.H264.Total() != 0 {
				t.Errorf("playing: %+v, want one JPEG viewer over TCP", st)
			}
		}
	}
	if res := c.do("TEARDOWN", f.url("jpeg")+"/"); res.status != 200 {
		t.Fatalf("TEARDOWN: %d", res.status)
	}
	for _, fr := range c.frames { // read while waiting for the response
		if fr.ch == 0 {
			rtp += 4 + len(fr.data)
		}
	}
	st := f.srv.Stats()
	if ps := st.Paths["cam"]; ps.BytesSent != uint64(rtp) || ps.JPEG.Total() != 0 {
		t.Errorf("after TEARDOWN: %+v; the client received %d RTP bytes and nobody plays", ps, rtp)
	}
	if st.Sessions != 0 || st.SessionsStarted != 1 {
		t.Errorf("after TEARDOWN: %d sessions open, %d started; want 0, 1", st.Sessions, st.SessionsStarted)
	}
}

// TestStatsTransports: ffmpeg playing over UDP, TCP and the HTTP tunnel
// at the same time shows up as one viewer of each transport.
func TestStatsTransports(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	f := startFixture(t, fixtureOpts{})
	for _, tr := range []string{"udp", "tcp", "http"} {
		cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-rtsp_transport", tr, "-i", f.url("jpeg"), "-f", "null", "-")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGINT)
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("ffmpeg %s: %s", tr, stderr.String())
			}
		})
	}
	want := Viewers{UDP: 1, TCP: 1, HTTP: 1}
	deadline := time.Now().Add(30 * time.Second)
	for f.srv.Stats().Paths["cam"].JPEG != want {
		if time.Now().After(deadline) {
			t.Fatalf("viewers %+v, want %+v", f.srv.Stats().Paths["cam"].JPEG, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := f.srv.Stats()
	t.Logf("%+v", st)
	if st.Sessions != 3 || st.Conns < 4 { // the tunnel has two connections
		t.Errorf("%d sessions on %d connections, want 3 on at least 4", st.Sessions, st.Conns)
	}
	if st.Paths["cam"].BytesSent == 0 {
		t.Error("BytesSent = 0 while three clients play")
	}
}
