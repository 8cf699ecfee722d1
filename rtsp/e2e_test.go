package rtsp

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/stream"
)

// stripCOM removes the COM segment the fake camera puts after SOI.
func stripCOM(j []byte) []byte {
	if len(j) > 6 && j[2] == 0xFF && j[3] == 0xFE {
		l := int(j[4])<<8 | int(j[5])
		return append(j[:2:2], j[4+l:]...)
	}
	return j
}

// TestFakeCameraToFFmpeg runs the whole path: the fake camera sends
// numbered pictures over its UDP protocol with packet loss and reordering,
// a camera session reassembles them into the hub, and ffmpeg plays them over
// RTSP. Every picture ffmpeg shows must be one the camera sent intact.
func TestFakeCameraToFFmpeg(t *testing.T) {
	testutil.NeedTool(t, "ffmpeg")
	const cycle = 1000
	frames := make([][]byte, cycle)
	number := make(map[string]uint16, cycle)
	for i := range frames {
		frames[i] = numberedJPEG(t, uint16(i+1))
		number[string(frames[i])] = uint16(i + 1)
	}
	var mu sync.Mutex
	intact := make(map[uint16]bool)
	camIP := netip.MustParseAddr("127.0.12.1")
	cam, err := fakecam.New(fakecam.Config{
		IP: camIP, Name: "rtsp-e2e", FPS: 25, Frames: frames, Audio: true,
		Loss: 0.005, Reorder: 0.01, Seed: 7,
		OnFrame: func(fs fakecam.FrameSent) {
			if fs.Damaged {
				return
			}
			n, ok := number[string(stripCOM(fs.JPEG))]
			if !ok {
				t.Errorf("camera sent an unknown picture")
				return
			}
			mu.Lock()
			intact[n] = true
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() { _ = cam.Run(ctx) })

	video, aud := stream.NewHub(), stream.NewAudioHub()
	sess, err := camsession.New(camsession.Config{
		Camera: camIP, LocalIP: netip.MustParseAddr("127.0.12.100"), LocalPort: -1, Audio: true,
		OnFrame: video.Publish, OnAudio: aud.Publish,
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { _ = sess.Run(ctx) })

	logs := &testutil.SyncBuffer{}
	srv := &Server{Logger: slog.New(slog.NewTextHandler(logs, nil))}
	srv.Handle("cam", Source{Video: video, Audio: aud})
	ln, err := net.Listen("tcp", "127.0.12.100:0")
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() {
		if err := srv.Serve(ctx, ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	}()
	base := "rtsp://" + ln.Addr().String() + "/cam/"
	for _, c := range []struct{ media, transport string }{{"jpeg", "udp"}, {"h264", "tcp"}} {
		nums, stderr := ffmpegFrames(t, base+c.media, c.transport, 50)
		if stderr != "" {
			t.Errorf("%s over %s: ffmpeg errors: %s", c.media, c.transport, stderr)
		}
		if len(nums) < 50 {
			t.Fatalf("%s over %s: %d frames", c.media, c.transport, len(nums))
		}
		mu.Lock()
		for i, n := range nums {
			if !intact[n] {
				t.Errorf("%s: frame %d shows %d, which the camera never sent intact", c.media, i, n)
			}
			if i > 0 && n <= nums[i-1] {
				t.Errorf("%s: frame %d shows %d after %d", c.media, i, n, nums[i-1])
			}
		}
		mu.Unlock()
	}
	if st := sess.Stats(); st.FramesComplete == 0 || st.AudioPackets == 0 {
		t.Errorf("session stats %+v", st)
	}
	checkTone(t, base+"jpeg")
}
