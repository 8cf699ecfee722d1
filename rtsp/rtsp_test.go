package rtsp

import (
	"testing"

	"github.com/chinesium/chinesium/internal/testutil"
)

func TestFFmpegPlaysJPEG(t *testing.T) {
	f := startFixture(t, fixtureOpts{audio: true})
	for _, tr := range []string{"udp", "tcp", "http"} {
		t.Run(tr, func(t *testing.T) {
			nums, stderr := ffmpegFrames(t, f.url("jpeg"), tr, 50)
			if stderr != "" {
				t.Errorf("ffmpeg reported errors:\n%s", stderr)
			}
			f.checkFrames(t, nums, 50)
		})
	}
}

func TestFFmpegPlaysH264(t *testing.T) {
	testutil.NeedTool(t, "ffmpeg")
	f := startFixture(t, fixtureOpts{audio: true})
	for _, tr := range []string{"udp", "tcp", "http"} {
		t.Run(tr, func(t *testing.T) {
			nums, stderr := ffmpegFrames(t, f.url("h264"), tr, 50)
			if stderr != "" {
				t.Errorf("ffmpeg reported errors:\n%s", stderr)
			}
			f.checkFrames(t, nums, 50)
		})
	}
}
