package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/record"
)

// The record tests run their fake cameras in the test process on
// 127.0.2.40 to 127.0.2.49, so they know when each frame was sent.

// sentFrames records what a fake camera sent and when.
type sentFrames struct {
	mu   sync.Mutex
	at   map[uint64]time.Time
	jpeg map[uint64][]byte
	last uint64
}

func (s *sentFrames) add(f fakecam.FrameSent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Damaged {
		return
	}
	if s.at == nil {
		s.at, s.jpeg = map[uint64]time.Time{}, map[uint64][]byte{}
	}
	s.at[f.Seq], s.jpeg[f.Seq] = time.Now(), f.JPEG
	s.last = max(s.last, f.Seq)
}

func (s *sentFrames) lastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *sentFrames) get(seq uint64) ([]byte, time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[seq]
	return s.jpeg[seq], t, ok
}

// runCamera runs a fake camera in the test process until the test ends.
func runCamera(t *testing.T, ip string, cfg fakecam.Config) (*fakecam.Camera, *sentFrames) {
	t.Helper()
	sent := &sentFrames{}
	cfg.IP = netip.MustParseAddr(ip)
	cfg.OnFrame = sent.add
	cam, err := fakecam.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Go(t, cam.Run)
	return cam, sent
}

// recordProcess is a running "chinesium record".
type recordProcess struct {
	cmd    *exec.Cmd
	lines  chan string // stdout
	stderr *syncBuffer
	done   chan error
	exited bool
}

// startRecord runs chinesium record until it printed its readiness line.
func startRecord(t *testing.T, args ...string) *recordProcess {
	t.Helper()
	p := &recordProcess{cmd: exec.Command(bin, append([]string{"record"}, args...)...), lines: make(chan string, 64), stderr: &syncBuffer{}, done: make(chan error, 1)}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.stderr
	if err := startChild(p.cmd); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if !p.exited {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	if l := p.line(t, 20*time.Second); !strings.HasPrefix(l, "recording camera ") {
		t.Fatalf("first line %q, want the readiness line", l)
	}
	return p
}

// line returns the next stdout line, failing after d or at exit.
func (p *recordProcess) line(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatalf("chinesium record ended\nstderr: %s", p.stderr.String())
		}
		return l
	case <-time.After(d):
		t.Fatalf("chinesium record printed nothing within %v\nstderr: %s", d, p.stderr.String())
	}
	return ""
}

// segment waits for the next "segment PATH" line and returns PATH.
func (p *recordProcess) segment(t *testing.T, d time.Duration) string {
	t.Helper()
	l := p.line(t, d)
	path, ok := strings.CutPrefix(l, "segment ")
	if !ok {
		t.Fatalf("line %q, want segment PATH", l)
	}
	return path
}

// wait waits up to d for the exit and returns the exit status.
func (p *recordProcess) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	for range p.lines {
	}
	select {
	case err := <-p.done:
		p.exited = true
		code, err := exitCode(err)
		if err != nil {
			t.Fatal(err)
		}
		return code
	case <-time.After(d):
		t.Fatalf("chinesium record still running %v after the signal\nstderr: %s", d, p.stderr.String())
	}
	return 0
}

// waitSent waits until the camera has sent n frames more than it had.
func waitSent(t *testing.T, s *sentFrames, n uint64) {
	t.Helper()
	want := s.lastSeq() + n
	for end := time.Now().Add(20 * time.Second); s.lastSeq() < want; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the camera sent %d frames, want %d", s.lastSeq(), want)
		}
	}
}

// copyFrames returns the frames ffmpeg copies out of a recording (any
// message it prints is logged), checked to be frames the camera sent
// whole, one after the other; and their seqs.
func copyFrames(t *testing.T, s *sentFrames, path string) [][]byte {
	t.Helper()
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	cmd := exec.Command(ffmpeg, "-v", "error", "-i", path, "-map", "0:v", "-c", "copy", "-f", "mjpeg", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg -i %s: %v\n%s", path, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("ffmpeg on %s: %s", filepath.Base(path), stderr.String())
	}
	frames := testutil.SplitJPEGs(out)
	var prev uint64
	for i, f := range frames {
		_, seq, ok := fakecam.FrameSeq(f)
		want, _, sent := s.get(seq)
		if !ok || !sent || !bytes.Equal(f, want) {
			t.Fatalf("%s: frame %d is not a frame the camera sent whole", filepath.Base(path), i)
		}
		if i > 0 && seq != prev+1 {
			t.Fatalf("%s: frame seq %d follows %d", filepath.Base(path), seq, prev)
		}
		prev = seq
	}
	return frames
}

// countDecoded decodes every video frame of a file with ffprobe and
// returns how many decoded, and what it printed at level error.
func countDecoded(t *testing.T, path string) (int, string) {
	t.Helper()
	ffprobe := testutil.NeedTool(t, "ffprobe")
	cmd := exec.Command(ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, stderr.String())
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("ffprobe counted %q", out)
	}
	return n, stderr.String()
}

// TestRecordKilled kills a recording chinesium with SIGKILL in the middle
// of a segment: the file it leaves plays, up to within a second of the
// kill, every frame whole and decodable.
func TestRecordKilled(t *testing.T) {
	t.Parallel()
	_, sent := runCamera(t, "127.0.2.40", fakecam.Config{FPS: 15})
	dir := t.TempDir()
	p := startRecord(t, "127.0.2.40", "-dir", dir, "-segment", "1h", "-local-port", "-1")
	p.segment(t, 15*time.Second)
	waitSent(t, sent, 45) // about 3 s
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if code := p.wait(t, 5*time.Second); code != -1 {
		t.Errorf("exit status %d after SIGKILL", code)
	}

	recs, err := record.List(record.CameraDir(dir, "cam-127-0-2-40"))
	if err != nil || len(recs) == 0 {
		t.Fatalf("recordings %v, %v", recs, err)
	}
	last := recs[len(recs)-1]
	if last.Complete {
		t.Error("a killed recording says it was closed properly")
	}
	frames := copyFrames(t, sent, last.Path)
	if len(frames) < 30 {
		t.Fatalf("%d frames in the killed recording", len(frames))
	}
	_, lastSeq, _ := fakecam.FrameSeq(frames[len(frames)-1])
	_, at, _ := sent.get(lastSeq)
	if lag := killed.Sub(at); lag > time.Second {
		t.Errorf("the killed recording ends with a frame sent %v before the kill, want within 1 s", lag)
	}
	n, msg := countDecoded(t, last.Path)
	if n != len(frames) {
		t.Errorf("%d frames decode, %d in the file (ffprobe: %s)", n, len(frames), msg)
	}
	if d := last.Duration; d < 2*time.Second || d > time.Since(last.Start) {
		t.Errorf("listed duration %v of a recording of about 3 s", d)
	}
	t.Logf("%d frames, last sent %v before the kill; ffprobe said %q", len(frames), killed.Sub(at).Round(time.Millisecond), msg)
}

// TestRecordInterrupt: Ctrl-C ends a recording with audio cleanly: exit
// status 0 and a file closed properly, which ffprobe reads without a
// message, with the video and an 8 kHz PCM audio track as long as the
// video.
func TestRecordInterrupt(t *testing.T) {
	t.Parallel()
	_, sent := runCamera(t, "127.0.2.41", fakecam.Config{FPS: 15, Audio: true})
	dir := t.TempDir()
	p := startRecord(t, "127.0.2.41", "-dir", dir, "-name", "porch", "-segment", "1h", "-audio", "-local-port", "-1")
	path := p.segment(t, 15*time.Second)
	if want := filepath.Join(dir, "porch"); filepath.Dir(path) != want || !strings.HasPrefix(filepath.Base(path), "porch-") {
		t.Errorf("segment %s, want it in %s named porch-...", path, want)
	}
	waitSent(t, sent, 30)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit status %d after Ctrl-C\nstderr: %s", code, p.stderr.String())
	}
	recs, err := record.List(filepath.Join(dir, "porch"))
	if err != nil || len(recs) == 0 {
		t.Fatalf("recordings %v, %v", recs, err)
	}
	for _, r := range recs {
		if !r.Complete || !r.Audio {
			t.Errorf("%+v: not closed properly or without audio", r)
		}
		ffprobe := testutil.NeedTool(t, "ffprobe")
		cmd := exec.Command(ffprobe, "-v", "error", "-show_streams", "-count_packets", "-of", "json", r.Path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("ffprobe: %v %s", err, stderr.String())
		}
		var probed struct {
			Streams []struct {
				CodecName  string `json:"codec_name"`
				SampleRate string `json:"sample_rate"`
				Packets    string `json:"nb_read_packets"`
			} `json:"streams"`
		}
		if err := json.Unmarshal(out, &probed); err != nil || len(probed.Streams) != 2 {
			t.Fatalf("streams %s", out)
		}
		v, a := probed.Streams[0], probed.Streams[1]
		if v.CodecName != "mjpeg" || a.CodecName != "pcm_s16le" || a.SampleRate != "8000" {
			t.Errorf("streams %+v", probed.Streams)
		}
		// Each audio packet holds 32 ms.
		packets, _ := strconv.Atoi(a.Packets)
		if audio := time.Duration(packets) * 32 * time.Millisecond; (audio - r.Duration).Abs() > 300*time.Millisecond {
			t.Errorf("%v of audio in %v of video", audio, r.Duration)
		}
		copyFrames(t, sent, r.Path)
	}
}

// TestRecordMotion: with -motion nothing is recorded while the picture is
// still; when it moves a segment starts, with the still picture of the
// pre-roll before the movement.
func TestRecordMotion(t *testing.T) {
	t.Parallel()
	cam, sent := runCamera(t, "127.0.2.42", fakecam.Config{FPS: 15})
	dir := t.TempDir()
	// The pre-roll is counted back from when motion was detected, up to
	// a second or two after it began on a busy machine.
	p := startRecord(t, "127.0.2.42", "-dir", dir, "-motion", "-pre-roll", "3s", "-motion-hold", "1s", "-local-port", "-1")
	waitSent(t, sent, 60)
	select {
	case l := <-p.lines:
		t.Fatalf("printed %q while the picture is still", l)
	default:
	}
	cam.SetMotion(true)
	path := p.segment(t, 10*time.Second)
	waitSent(t, sent, 15)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit status %d\nstderr: %s", code, p.stderr.String())
	}
	frames := copyFrames(t, sent, path)
	// The still picture's frames differ only in their marker.
	still := 0
	for still+1 < len(frames) && sameBody(frames[still], frames[still+1]) {
		still++
	}
	if still < 5 || still == len(frames)-1 {
		t.Errorf("%d frames of the still picture, then %d moving: want the pre-roll, then the movement", still+1, len(frames)-still-1)
	}
}

// sameBody compares two fake camera frames without their markers.
func sameBody(a, b []byte) bool {
	cut := func(j []byte) []byte {
		if len(j) < 6 || j[2] != 0xFF || j[3] != 0xFE {
			return j
		}
		return j[4+(int(j[4])<<8|int(j[5])):]
	}
	return bytes.Equal(cut(a), cut(b))
}

// TestRecordBadInput: wrong command lines and a folder that cannot be
// written fail with one line that says what to do.
func TestRecordBadInput(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"record", "127.0.2.43"}, 2, "say where to record with -dir"},
		{[]string{"record", "-dir", "x"}, 2, "give exactly one camera IP"},
		{[]string{"record", "10.0.0.300", "-dir", "x"}, 2, "invalid camera IP"},
		{[]string{"record", "127.0.2.43", "-dir", "x", "-segment", "10ms"}, 2, "-segment must be between 1s and 24h0m0s"},
		{[]string{"record", "127.0.2.43", "-dir", "x", "-motion-sensitivity", "0"}, 2, "-motion-sensitivity"},
		{[]string{"record", "127.0.2.43", "-dir", "x", "-name", "../up"}, 1, "only letters, digits"},
		{[]string{"record", "127.0.2.43", "-dir", file}, 1, "cannot create the folder for the recordings"},
	} {
		_, stderr, code := runCLI(t, 10*time.Second, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("chinesium %q: exit %d, stderr %q; want exit %d and one line with %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	for _, bad := range [][]string{{"-max-size", "12XB"}, {"-keep", "7 days"}, {"-min-free", "-5GB"}} {
		_, stderr, code := runCLI(t, 10*time.Second, append([]string{"record", "127.0.2.43", "-dir", "x"}, bad...)...)
		if code != 2 || !strings.Contains(stderr, "invalid value") {
			t.Errorf("chinesium record %q: exit %d, stderr %q", bad, code, stderr)
		}
	}
}
