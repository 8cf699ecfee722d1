package rtsp

import (
	"encoding/binary"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/stream"
)

// TestVideoSettingsTakeEffect: a frame-rate limit of 5 fps on a 25 fps
// camera makes both streams carry 5 evenly spaced frames per second, and
// 256 kbit/s CBR makes the H.264 stream carry that bitrate.
func TestVideoSettingsTakeEffect(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "ffmpeg")
	f := startFixture(t, fixtureOpts{fps: 25})
	if err := f.srv.SetVideoSettings("cam", StreamJPEG, VideoSettings{FrameRateLimit: 5}); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.SetVideoSettings("cam", StreamH264, VideoSettings{FrameRateLimit: 5, BitrateKbps: 256, CBR: true}); err != nil {
		t.Fatal(err)
	}
	for _, media := range []string{StreamJPEG, StreamH264} {
		p := testutil.ProbePackets(t, f.url(media), 8)
		// 5, or the camera's own rate if a loaded machine keeps the fake
		// camera below it (a stream cannot be faster than its camera).
		cam := hubRate(f.video)
		want := min(5, cam)
		t.Logf("%s: %d frames in %.2f s: %.2f fps (timestamps: %.2f; camera %.2f), %.0f kbit/s", media, p.Frames, p.Seconds, p.FPS(), p.Rate(), cam, p.Kbps())
		// The rate the timestamps tell, and the frames counted: a loaded
		// machine may drop a few frames to stay live, not a fifth.
		if math.Abs(p.Rate()-want) > 0.5 || p.FPS() < 0.8*want {
			t.Errorf("%s: %.2f frames per second (%.2f counted), want %.2f", media, p.Rate(), p.FPS(), want)
		}
		if media == StreamH264 {
			if kbps := p.Kbps(); math.Abs(kbps-256) > 0.3*256 {
				t.Errorf("h264: %.0f kbit/s, want 256 within 30 %%", kbps)
			}
		}
	}
	// Evenly: from one sent picture to the next, five camera frames.
	nums, stderr := ffmpegFrames(t, f.url(StreamJPEG), "tcp", 12)
	if stderr != "" {
		t.Errorf("ffmpeg: %s", stderr)
	}
	f.checkFrames(t, nums, 12)
	for i := 1; i < len(nums); i++ {
		if d := nums[i] - nums[i-1]; d < 4 || d > 6 {
			t.Errorf("pictures %d and %d sent one after the other: want 5 camera frames apart", nums[i-1], nums[i])
		}
	}
}

// TestVideoSettingsRefused: settings the server cannot honour are refused
// with an error naming the field, and change nothing.
func TestVideoSettingsRefused(t *testing.T) {
	srv := &Server{}
	srv.Handle("cam", Source{Video: nil})
	good := VideoSettings{FrameRateLimit: 10, BitrateKbps: 512, GOP: 20, H264Profile: "main"}
	if err := srv.SetVideoSettings("cam", StreamH264, good); err != nil {
		t.Fatal(err)
	}
	if v, _ := srv.VideoSettings("cam", StreamH264); v.H264Profile != "Main" {
		t.Errorf("profile stored as %q, want the canonical Main", v.H264Profile)
	}
	for _, bad := range []struct {
		v     VideoSettings
		field string
	}{
		{VideoSettings{FrameRateLimit: -1}, "FrameRateLimit"},
		{VideoSettings{FrameRateLimit: 0.5}, "FrameRateLimit"},
		{VideoSettings{FrameRateLimit: math.NaN()}, "FrameRateLimit"},
		{VideoSettings{FrameRateLimit: 31}, "FrameRateLimit"},
		{VideoSettings{BitrateKbps: 8}, "BitrateKbps"},
		{VideoSettings{BitrateKbps: 100000}, "BitrateKbps"},
		{VideoSettings{CBR: true}, "CBR"},
		{VideoSettings{GOP: -2}, "GOP"},
		{VideoSettings{GOP: 1000}, "GOP"},
		{VideoSettings{H264Profile: "Extended"}, "H264Profile"},
	} {
		err := srv.SetVideoSettings("cam", StreamH264, bad.v)
		if err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("%+v: %v, want an error naming %s", bad.v, err, bad.field)
		}
	}
	if v, _ := srv.VideoSettings("cam", StreamH264); v != (VideoSettings{FrameRateLimit: 10, BitrateKbps: 512, GOP: 20, H264Profile: "Main"}) {
		t.Errorf("settings after refusals: %+v", v)
	}
	if err := srv.SetVideoSettings("nope", StreamJPEG, VideoSettings{}); !errors.Is(err, ErrUnknownSource) {
		t.Errorf("unknown source: %v", err)
	}
	if err := srv.SetVideoSettings("cam", "mpeg4", VideoSettings{}); err == nil {
		t.Error("unknown stream accepted")
	}
	// A new source under the same name keeps the settings.
	srv.Handle("cam", Source{Video: nil})
	if v, _ := srv.VideoSettings("cam", StreamH264); v.GOP != 20 {
		t.Errorf("settings after Handle again: %+v", v)
	}
}

// TestEncoderRestartKeepsViewers: changing the H.264 settings while a
// client plays restarts the encoder under the same session: the client
// keeps receiving, the next keyframe carries the new profile in its SPS,
// and timestamps keep growing.
func TestEncoderRestartKeepsViewers(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "ffmpeg")
	f := startFixture(t, fixtureOpts{fps: 25})
	c := playTCP(t, f.addr, f.url(StreamH264), 0)
	profile := func(want byte, within time.Duration) (lastTS uint32, gap time.Duration) {
		t.Helper()
		_ = c.nc.SetReadDeadline(time.Now().Add(within))
		var prevTS uint32
		var prevAt time.Time
		have := false
		for {
			fr, err := c.readFrame()
			if err != nil {
				t.Fatalf("waiting for an SPS with profile_idc %d: %v", want, err)
			}
			if fr.ch != 0 || len(fr.data) < rtpHeaderLen+4 {
				continue
			}
			ts := binary.BigEndian.Uint32(fr.data[4:])
			if have && int32(ts-prevTS) < 0 {
				t.Fatalf("timestamp went back from %d to %d", prevTS, ts)
			}
			if have && ts != prevTS {
				gap = max(gap, fr.at.Sub(prevAt))
			}
			prevTS, prevAt, have = ts, fr.at, true
			nal := fr.data[rtpHeaderLen:]
			if nal[0]&0x1F == nalSPS && nal[1] == want {
				return ts, gap
			}
		}
	}
	profile(66, 20*time.Second) // Constrained Baseline
	if err := f.srv.SetVideoSettings("cam", StreamH264, VideoSettings{H264Profile: "High", GOP: 10}); err != nil {
		t.Fatal(err)
	}
	_, gap := profile(100, 20*time.Second) // High
	t.Logf("longest pause between pictures across the restart: %v", gap)
	rtpOn(t, c, 0, 20, 10*time.Second)
	if n := f.srv.SessionCount(); n != 1 {
		t.Errorf("%d sessions after the restart, want the same one", n)
	}
	waitLog(t, f.logs, "profile=High", 5*time.Second)
}

// TestH264SettingsChangeTheSDP: with nobody watching, a new H.264 profile
// shows in the next DESCRIBE's profile-level-id (the parameter sets of the
// old settings are forgotten).
func TestH264SettingsChangeTheSDP(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "ffmpeg")
	f := startFixture(t, fixtureOpts{fps: 25})
	profile := func() string {
		t.Helper()
		res := dialRaw(t, f.addr).do("DESCRIBE", f.url(StreamH264))
		m := regexp.MustCompile(`profile-level-id=([0-9a-f]{2})`).FindStringSubmatch(string(res.body))
		if res.status != 200 || m == nil {
			t.Fatalf("DESCRIBE: %d\n%s", res.status, res.body)
		}
		return m[1]
	}
	if p := profile(); p != "42" {
		t.Errorf("default profile_idc %s, want 42 (Baseline)", p)
	}
	if err := f.srv.SetVideoSettings("cam", StreamH264, VideoSettings{H264Profile: "High"}); err != nil {
		t.Fatal(err)
	}
	if p := profile(); p != "64" {
		t.Errorf("profile_idc after setting High: %s, want 64", p)
	}
}

// TestFrameRate: the rate a stream is served at is the camera's, or the
// limit when lower.
func TestFrameRate(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{fps: 25})
	waitFor := func(cond func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("frame rate %v", f.srv.FrameRate("cam", StreamJPEG))
			}
		}
	}
	waitFor(func() bool { return f.srv.FrameRate("cam", StreamJPEG) == 25 })
	if err := f.srv.SetVideoSettings("cam", StreamH264, VideoSettings{FrameRateLimit: 10}); err != nil {
		t.Fatal(err)
	}
	if r := f.srv.FrameRate("cam", StreamH264); r != 10 {
		t.Errorf("H.264 limited to 10: %v", r)
	}
	if r := f.srv.FrameRate("cam", StreamJPEG); r != 25 {
		t.Errorf("JPEG without a limit: %v", r)
	}
	if r := f.srv.FrameRate("nope", StreamJPEG); r != 0 {
		t.Errorf("unknown source: %v", r)
	}
}

// hubRate is the rate of the frames hub received lately, by their stamps.
func hubRate(hub *stream.Hub) float64 {
	st := hub.RecentStamps(nil, 32)
	if len(st) < 2 {
		return 0
	}
	return float64(len(st)-1) / st[len(st)-1].Time.Sub(st[0].Time).Seconds()
}
