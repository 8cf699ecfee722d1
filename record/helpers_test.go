package record

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// Tests of this package run fake cameras on 127.0.14.x, apart from every
// other package's.

// testJPEGs encodes n distinct 640×480 pictures and marks picture i with
// the fake camera's COM marker for seq i+1.
func testJPEGs(t testing.TB, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for k := range out {
		img := image.NewGray(image.Rect(0, 0, 640, 480))
		for y := 0; y < 480; y++ {
			for x := 0; x < 640; x++ {
				img.Pix[y*img.Stride+x] = byte(x/4 + y/8 + k*13)
			}
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 50}); err != nil {
			t.Fatal(err)
		}
		out[k] = fakecam.MarkFrame(b.Bytes(), "TEST", uint64(k+1))
	}
	return out
}

// runTool runs a tool to completion within a minute and returns stdout
// and stderr.
func runTool(t testing.TB, name string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testutil.NeedTool(t, name), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

// extractFrames returns the video frames of a file as ffmpeg copies them
// out (ffmpeg -i file -c copy -f mjpeg -). Anything ffmpeg reports at
// level error fails the test unless tolerate is set (a file cut short).
func extractFrames(t testing.TB, path string, tolerate bool) [][]byte {
	t.Helper()
	out, stderr, err := runTool(t, "ffmpeg", "-v", "error", "-i", path, "-map", "0:v", "-c", "copy", "-f", "mjpeg", "-")
	if err != nil || (len(stderr) > 0 && !tolerate) {
		t.Fatalf("ffmpeg -i %s -c copy -f mjpeg: %v\n%s", path, err, stderr)
	}
	if len(out) == 0 {
		return nil
	}
	return testutil.SplitJPEGs(out)
}

// probed is what ffprobe reports of a file.
type probed struct {
	Format struct {
		Duration   string            `json:"duration"`
		FormatName string            `json:"format_name"`
		Tags       map[string]string `json:"tags"`
	} `json:"format"`
	Streams []struct {
		CodecType  string `json:"codec_type"`
		CodecName  string `json:"codec_name"`
		Width      int    `json:"width"`
		Height     int    `json:"height"`
		SampleRate string `json:"sample_rate"`
		Channels   int    `json:"channels"`
	} `json:"streams"`
	Packets []struct {
		CodecType string `json:"codec_type"`
		PtsTime   string `json:"pts_time"`
		Size      string `json:"size"`
	} `json:"packets"`
}

func (p probed) duration(t testing.TB) time.Duration {
	t.Helper()
	v, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q", p.Format.Duration)
	}
	return time.Duration(v * float64(time.Second))
}

// videoPTS returns the presentation times of the video packets.
func (p probed) videoPTS(t testing.TB) []time.Duration {
	t.Helper()
	var out []time.Duration
	for _, pk := range p.Packets {
		if pk.CodecType != "video" {
			continue
		}
		v, err := strconv.ParseFloat(pk.PtsTime, 64)
		if err != nil {
			t.Fatalf("pts_time %q", pk.PtsTime)
		}
		out = append(out, time.Duration(v*float64(time.Second)).Round(time.Millisecond))
	}
	return out
}

// probe runs ffprobe on a file; any message it prints fails the test.
func probe(t testing.TB, path string) probed {
	t.Helper()
	out, stderr, err := runTool(t, "ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_packets", "-of", "json", path)
	if err != nil || len(stderr) > 0 {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, stderr)
	}
	var p probed
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe output: %v", err)
	}
	return p
}

// decodeAll decodes every frame of a file with ffmpeg and returns what it
// reported at level error.
func decodeAll(t testing.TB, path string) string {
	t.Helper()
	_, stderr, err := runTool(t, "ffmpeg", "-v", "error", "-i", path, "-f", "null", "-")
	if err != nil {
		t.Fatalf("ffmpeg decode %s: %v\n%s", path, err, stderr)
	}
	return string(stderr)
}
