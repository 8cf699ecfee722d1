package rtsp

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/testutil"
)

// TestGStreamerRTSPSrc runs GStreamer's rtspsrc (gst-launch-1.0, Debian's
// gstreamer1.0-tools with plugins-good and libav) against both streams
// over UDP, TCP and the HTTP tunnel, with Digest credentials (the server
// offers no Basic), and reads the numbers drawn in the decoded pictures:
// every picture is one the camera published, in order.
func TestGStreamerRTSPSrc(t *testing.T) {
	t.Parallel()
	gst := testutil.NeedTool(t, "gst-launch-1.0")
	f := startFixture(t, fixtureOpts{users: httpauth.StaticUsers{"admin": "s3cret"}, noBasic: true, audio: true})
	decoders := map[string][]string{
		StreamJPEG: {"rtpjpegdepay", "!", "jpegdec"},
		StreamH264: {"rtph264depay", "!", "avdec_h264"},
	}
	for _, media := range []string{StreamJPEG, StreamH264} {
		for _, tr := range []struct{ name, location, protocols string }{
			{"udp", f.url(media), "udp"},
			{"tcp", f.url(media), "tcp"},
			{"http", strings.Replace(f.url(media), "rtsp://", "rtsph://", 1), "tcp"},
		} {
			t.Run(media+"/"+tr.name, func(t *testing.T) {
				const want = 20
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				args := append([]string{"-q", "rtspsrc", "location=" + tr.location, "protocols=" + tr.protocols,
					"user-id=admin", "user-pw=s3cret", "latency=0", "!"}, decoders[media]...)
				args = append(args, "!", "videoconvert", "!", "video/x-raw,format=GRAY8", "!", "fdsink", "fd=1")
				cmd := exec.CommandContext(ctx, gst, args...)
				out, stderr := startPictures(t, cmd)
				nums := readNumbers(t, out, want)
				// The session is on the transport asked for.
				ps := f.srv.Stats().Paths["cam"]
				v := map[string]Viewers{StreamJPEG: ps.JPEG, StreamH264: ps.H264}[media]
				if n := map[string]int{"udp": v.UDP, "tcp": v.TCP, "http": v.HTTP}[tr.name]; n == 0 {
					t.Errorf("no session playing %s over %s: %+v", media, tr.name, v)
				}
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				if len(nums) < want {
					t.Fatalf("%d pictures decoded, want %d; gst-launch: %s", len(nums), want, stderr.String())
				}
				f.checkFrames(t, nums, want)
			})
		}
	}
	if !strings.Contains(f.logs.String(), "user=admin") {
		t.Error("no session logged with the Digest user")
	}
}
