package rtsp

import (
	"testing"

	"github.com/chinesium/chinesium/internal/testutil"
)

func TestFFmpegPlaysJPEG(t *testing.T) {
	testFFmpegPlays(t, "jpeg")
}

func TestFFmpegPlaysH264(t *testing.T) {
	testutil.NeedTool(t, "ffmpeg")
	testFFmpegPlays(t, "h264")
}

// testFFmpegPlays: ffmpeg decodes 50 published frames in order from media
// over UDP, interleaved TCP and the HTTP tunnel, without errors.
func testFFmpegPlays(t *testing.T, media string) {
	f := startFixture(t, fixtureOpts{audio: true})
	for _, tr := range []string{"udp", "tcp", "http"} {
		t.Run(tr, func(t *testing.T) {
			nums, stderr := ffmpegFrames(t, f.url(media), tr, 50)
			if stderr != "" {
				t.Errorf("ffmpeg reported errors:\n%s", stderr)
			}
			f.checkFrames(t, nums, 50)
		})
	}
}
