package bridge

import (
	"context"
	"encoding/binary"
	"io"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/rtsp"
)

// firstAudio starts ffmpeg on url and returns how long it took to put out
// the first tenth of a second of decoded audio, and that audio's energy
// (the fake camera's tone is not silence).
func firstAudio(t *testing.T, ffmpeg, url string, input ...string) (time.Duration, float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"-hide_banner", "-nostdin", "-v", "error"}, input...)
	args = append(args, "-i", url, "-vn", "-flush_packets", "1", "-f", "s16le", "-ac", "1", "-ar", "8000", "pipe:1")
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pcm := make([]byte, 1600)
	if _, err := io.ReadFull(out, pcm); err != nil {
		t.Fatalf("ffmpeg on %s: no audio: %v", url, err)
	}
	took := time.Since(start)
	var energy float64
	for i := 0; i+1 < len(pcm); i += 2 {
		s := float64(int16(binary.LittleEndian.Uint16(pcm[i:])))
		energy += s * s
	}
	return took, energy / float64(len(pcm)/2)
}

// TestWAVStartsAsFastAsRTSPAudio: ffmpeg, as probing clients run it,
// decodes the first audio of /audio.wav no later than that of the RTSP
// stream's G.711 track, measured in the same run (it used to take 8 s to
// RTSP's 1.5 s: ffmpeg looked into 16-bit PCM for S/PDIF and DTS first).
func TestWAVStartsAsFastAsRTSPAudio(t *testing.T) {
	t.Parallel()
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	_, c := startCamera(t, "127.0.5.110", nil)
	h := c.Host()
	wav := withUser(c.AudioURL(h), "admin", "secret")
	rtspURL := withUser(c.RTSPURL(h, rtsp.StreamJPEG), "admin", "secret")
	// Wait for the camera's audio to flow.
	r := c.Audio.NewReaderAfterLatest()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := r.Next(ctx)
	cancel()
	r.Close()
	if err != nil {
		t.Fatalf("no audio from the camera: %v", err)
	}
	var wavT, rtspT []time.Duration
	for range 3 {
		d, e := firstAudio(t, ffmpeg, wav)
		if e < 1000 {
			t.Errorf("WAV audio is silence (mean power %.0f)", e)
		}
		wavT = append(wavT, d)
		d, e = firstAudio(t, ffmpeg, rtspURL, "-rtsp_transport", "tcp")
		if e < 1000 {
			t.Errorf("RTSP audio is silence (mean power %.0f)", e)
		}
		rtspT = append(rtspT, d)
	}
	slices.Sort(wavT)
	slices.Sort(rtspT)
	ratio := float64(wavT[1]) / float64(rtspT[1])
	t.Logf("first decoded audio, median of 3: WAV %v, RTSP %v (ratio %.2f)", wavT[1], rtspT[1], ratio)
	if ratio > 1.2 {
		t.Errorf("WAV audio starts %.1f times later than RTSP audio (%v against %v)", ratio, wavT[1], rtspT[1])
	}
}
