package rtsp

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/stream"
)

var timingDuration = flag.Duration("timing-duration", 60*time.Second,
	"how long TestTimingWithFFmpeg plays each stream with ffmpeg")

// fakeCameraServer runs a fake camera on camIP at fps (with audio),
// a camera session into hubs, and a Server with the camera as "cam" on
// localIP, until the test ends. It returns the server and the base URL
// rtsp://host:port/cam/.
func fakeCameraServer(t *testing.T, camIP, localIP string, fps float64) (*Server, string) {
	t.Helper()
	cip := netip.MustParseAddr(camIP)
	cam, err := fakecam.New(fakecam.Config{IP: cip, Name: "timing", FPS: fps, Audio: true, Loss: 0.002, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	cam.SetMotion(true)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { _ = cam.Run(ctx) })
	video, aud := stream.NewHub(), stream.NewAudioHub()
	sess, err := camsession.New(camsession.Config{
		Camera: cip, LocalIP: netip.MustParseAddr(localIP), LocalPort: -1, Audio: true,
		OnFrame: video.Publish, OnAudio: aud.Publish,
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { _ = sess.Run(ctx) })
	logs := &testutil.SyncBuffer{}
	srv := &Server{Logger: debugLogger(t, logs)}
	srv.Handle("cam", Source{Video: video, Audio: aud})
	ln, err := net.Listen("tcp", localIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() {
		if err := srv.Serve(ctx, ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	// Let the camera stream for three seconds first, as a camera does
	// long before its first viewer: the streams then start at its rate
	// rather than at a first guess from the session's first, uneven
	// second.
	r := video.NewReader()
	defer r.Close()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	for range 3 * int(fps) {
		if _, err := r.Next(wctx); err != nil {
			t.Fatalf("no frames from the fake camera: %v", err)
		}
	}
	return srv, "rtsp://" + ln.Addr().String() + "/cam/"
}

// probeStream is what ffprobe says of a stream's video.
type probeStream struct {
	Codec   string `json:"codec_name"`
	Profile string `json:"profile"`
	RFR     string `json:"r_frame_rate"`
	AFR     string `json:"avg_frame_rate"`
}

// ffprobeVideo runs ffprobe on url over TCP and returns its video stream.
func ffprobeVideo(t *testing.T, url string) probeStream {
	t.Helper()
	bin := testutil.NeedTool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v",
		"-show_entries", "stream=codec_name,profile,r_frame_rate,avg_frame_rate", "-of", "json", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	var res struct{ Streams []probeStream }
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) != 1 {
		t.Fatalf("ffprobe %s: %v %s", url, err, out)
	}
	return res.Streams[0]
}

// rational parses ffprobe's "num/den".
func rational(t *testing.T, s string) float64 {
	t.Helper()
	a, b, ok := strings.Cut(s, "/")
	n, err1 := strconv.ParseFloat(a, 64)
	d, err2 := strconv.ParseFloat(b, 64)
	if !ok || err1 != nil || err2 != nil || d == 0 {
		t.Fatalf("frame rate %q", s)
	}
	return n / d
}

// timingWarning matches what ffmpeg says about bad timestamps.
var timingWarning = regexp.MustCompile(`(?i)monoton|out of order|invalid (pts|dts)|dts|pts|timestamp|past duration|discontinuity`)

// firstPacketUnset is ffmpeg's note that the first H.264 packet it reads
// from RTP has no timestamp: its H.264 parser cannot place the first
// access unit, whatever the sender does (ffmpeg's own RTP muxer gets the
// same), and the muxer then fills it in. It appears once, at the start.
var firstPacketUnset = regexp.MustCompile(`Timestamps are unset in a packet for stream 0\.`)

// TestTimingWithFFmpeg: ffprobe reports the camera's real frame rate for
// both streams (the H.264 SPS declares it, and the RTP timestamps show it),
// and ffmpeg reading each stream for -timing-duration (60 s, in CI too),
// decoding it and copying it into Matroska, over TCP and UDP, says nothing
// about timestamps: they grow monotonically, frame by frame, from the
// frames' capture times.
func TestTimingWithFFmpeg(t *testing.T) {
	t.Parallel()
	bin := testutil.NeedTool(t, "ffmpeg")
	const fps = 15 // the fake camera's rate, not the 25 ffmpeg assumes for MJPEG
	srv, base := fakeCameraServer(t, "127.0.12.30", "127.0.12.31", fps)
	if !srv.H264Available() {
		testutil.Unavailable(t, "ffmpeg has no libx264")
	}
	for _, media := range []string{StreamJPEG, StreamH264} {
		ps := ffprobeVideo(t, base+media)
		rfr := rational(t, ps.RFR)
		if math.Abs(rfr-fps) > 0.05*fps {
			t.Errorf("%s: ffprobe r_frame_rate %s, want the camera's %d", media, ps.RFR, fps)
		}
		if media == StreamH264 {
			if afr := rational(t, ps.AFR); afr != fps {
				t.Errorf("h264: avg_frame_rate (the SPS) %s, want %d/1", ps.AFR, fps)
			}
		}
	}

	secs := strconv.FormatFloat(timingDuration.Seconds(), 'f', -1, 64)
	runs := []struct {
		media, transport string
		out              []string
	}{
		{StreamH264, "tcp", []string{"-map", "0:v", "-f", "null", "-"}},
		{StreamH264, "udp", []string{"-c", "copy", "-f", "matroska", "-y", "/dev/null"}},
		{StreamJPEG, "tcp", []string{"-c", "copy", "-f", "matroska", "-y", "/dev/null"}},
		{StreamJPEG, "udp", []string{"-map", "0:v", "-f", "null", "-"}},
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), *timingDuration+60*time.Second)
			defer cancel()
			args := append([]string{"-hide_banner", "-nostdin", "-v", "warning", "-rtsp_transport", r.transport,
				"-i", base + r.media, "-t", secs}, r.out...)
			cmd := exec.CommandContext(ctx, bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Errorf("%s over %s: ffmpeg: %v\n%s", r.media, r.transport, err, stderr.String())
				return
			}
			unset := 0
			for line := range strings.Lines(stderr.String()) {
				switch {
				case firstPacketUnset.MatchString(line) && r.media == StreamH264 && unset == 0:
					unset++
				case timingWarning.MatchString(line):
					t.Errorf("%s over %s: ffmpeg: %s", r.media, r.transport, strings.TrimSpace(line))
				}
			}
			t.Logf("%s over %s for %ss: %d lines of ffmpeg warnings", r.media, r.transport, secs, strings.Count(stderr.String(), "\n"))
		})
	}
	wg.Wait()
}
