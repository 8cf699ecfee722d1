package record

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// tone returns n samples of a 440 Hz tone from sample k on, as 16-bit
// little-endian PCM.
func tone(k, n int) []byte {
	b := make([]byte, 0, 2*n)
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(k+i)/8000))
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

// writeTestFile writes frames at variable intervals (and 32 ms audio
// packets when withAudio) through an mkvWriter into f, without closing
// it. It returns the frames' timestamps, the writer and the file size
// after each frame.
func writeTestFile(t *testing.T, f mkvFile, start time.Time, frames [][]byte, withAudio bool) ([]time.Duration, *mkvWriter, []int64) {
	t.Helper()
	w, err := newMKVWriter(f, start, "TEST", mkvTracks{Width: 640, Height: 480, Audio: withAudio, AudioRate: 8000}, clusterSpan)
	if err != nil {
		t.Fatal(err)
	}
	intervals := []time.Duration{50, 70, 90, 66, 120, 33}
	var ts []time.Duration
	var ends []int64
	var at, audioAt time.Duration
	sample := 0
	for i, jpg := range frames {
		for withAudio && audioAt <= at {
			if err := w.Audio(audioAt, tone(sample, 256)); err != nil {
				t.Fatal(err)
			}
			sample += 256
			audioAt += 32 * time.Millisecond
		}
		if err := w.Video(at, jpg); err != nil {
			t.Fatal(err)
		}
		ts = append(ts, at)
		ends = append(ends, w.Size())
		at += intervals[i%len(intervals)] * time.Millisecond
	}
	return ts, w, ends
}

// TestMKVWriterPlays: a closed file is a Matroska file ffprobe reads
// without a message: an MJPEG video track of the frames' size, a PCM
// audio track, the frames' own timestamps (variable frame rate), the
// duration and start written at close; ffmpeg copies out exactly the
// frames written, byte for byte, decodes all of them, and seeks in it.
func TestMKVWriterPlays(t *testing.T) {
	t.Parallel()
	frames := testJPEGs(t, 45)
	path := filepath.Join(t.TempDir(), "test.mkv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 2, 14, 15, 0, 30_000_000, time.UTC)
	ts, w, _ := writeTestFile(t, f, start, frames, true)
	dur := ts[len(ts)-1] + 66*time.Millisecond
	if err = w.Close(dur); err != nil {
		t.Fatal(err)
	}
	if err = f.Close(); err != nil {
		t.Fatal(err)
	}

	p := probe(t, path)
	if p.Format.FormatName != "matroska,webm" {
		t.Errorf("format %q", p.Format.FormatName)
	}
	if got := p.duration(t); got.Round(time.Millisecond) != dur {
		t.Errorf("duration %v, want %v", got, dur)
	}
	if ct := p.Format.Tags["creation_time"]; ct != "2026-12-02T14:15:00.030000Z" {
		t.Errorf("creation_time %q, want the first frame's time", ct)
	}
	if len(p.Streams) != 2 {
		t.Fatalf("%d streams, want video and audio", len(p.Streams))
	}
	v, a := p.Streams[0], p.Streams[1]
	if v.CodecType != "video" || v.CodecName != "mjpeg" || v.Width != 640 || v.Height != 480 {
		t.Errorf("video stream %+v", v)
	}
	if a.CodecType != "audio" || a.CodecName != "pcm_s16le" || a.SampleRate != "8000" || a.Channels != 1 {
		t.Errorf("audio stream %+v", a)
	}
	pts := p.videoPTS(t)
	if len(pts) != len(ts) {
		t.Fatalf("%d video packets, want %d", len(pts), len(ts))
	}
	for i := range ts {
		if pts[i] != ts[i] {
			t.Fatalf("frame %d at %v, written at %v", i, pts[i], ts[i])
		}
	}

	got := extractFrames(t, path, false)
	if len(got) != len(frames) {
		t.Fatalf("ffmpeg copied out %d frames, want %d", len(got), len(frames))
	}
	for i := range frames {
		if !bytes.Equal(got[i], frames[i]) {
			t.Fatalf("frame %d differs from the one written", i)
		}
	}
	if msg := decodeAll(t, path); msg != "" {
		t.Errorf("decoding reported: %s", msg)
	}

	// Seek to 2 s: the first frame out is the one at or just before.
	out, stderr, err := runTool(t, "ffmpeg", "-v", "error", "-ss", "2", "-i", path, "-map", "0:v", "-frames:v", "1", "-c", "copy", "-f", "mjpeg", "-")
	if err != nil || len(stderr) > 0 {
		t.Fatalf("seek: %v %s", err, stderr)
	}
	want := 0
	for i, at := range ts {
		if at <= 2*time.Second {
			want = i
		}
	}
	if !bytes.Equal(out, frames[want]) && (want+1 >= len(frames) || !bytes.Equal(out, frames[want+1])) {
		t.Errorf("seek to 2 s gave another frame than the one at %v", ts[want])
	}

	h, err := headerOf(path)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Start.Equal(start) || !h.HasDuration || h.Duration != dur || !h.Audio || h.Title != "TEST" {
		t.Errorf("header %+v", h)
	}
}

// TestMKVWriterCutShort: a file never closed (the process was killed)
// and cut at any point, in the middle of a block or between two, plays up
// to its last whole frame: ffmpeg copies out exactly the frames written
// before the cut.
func TestMKVWriterCutShort(t *testing.T) {
	t.Parallel()
	frames := testJPEGs(t, 40)
	dir := t.TempDir()
	path := filepath.Join(dir, "whole.mkv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, ends := writeTestFile(t, f, start, frames, true)
	f.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := headerOf(path)
	if err != nil || h.HasDuration || !h.Start.Equal(start) {
		t.Errorf("header of an unclosed file %+v, %v", h, err)
	}
	for _, cut := range []int64{ends[len(ends)-1], ends[30] + 100, ends[20], ends[12] - 5, ends[3] + 1} {
		whole := 0
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		p := filepath.Join(dir, "cut.mkv")
		if err := os.WriteFile(p, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		got := extractFrames(t, p, true)
		if len(got) != whole {
			t.Fatalf("cut at byte %d: %d frames copied out, want the %d whole ones", cut, len(got), whole)
		}
		for i := range got {
			if !bytes.Equal(got[i], frames[i]) {
				t.Fatalf("cut at byte %d: frame %d differs", cut, i)
			}
		}
	}
}

// fullFile fails writes beyond limit bytes with ENOSPC, writing the part
// that fits, as a full disk does.
type fullFile struct {
	*os.File
	limit, n int64
}

func (f *fullFile) Write(b []byte) (int, error) {
	room := max(f.limit-f.n, 0)
	if int64(len(b)) <= room {
		n, err := f.File.Write(b)
		f.n += int64(n)
		return n, err
	}
	n, err := f.File.Write(b[:room])
	f.n += int64(n)
	if err == nil {
		err = syscall.ENOSPC
	}
	return n, err
}

// TestMKVWriterDiskFull: when a write fails half-way through a block,
// Close cuts that block off and finishes the file without new space: it
// is whole up to its last complete frame, ffprobe reads it without a
// message and it has its duration.
func TestMKVWriterDiskFull(t *testing.T) {
	t.Parallel()
	frames := testJPEGs(t, 30)
	path := filepath.Join(t.TempDir(), "full.mkv")
	osf, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	f := &fullFile{File: osf, limit: 1 << 62}
	w, err := newMKVWriter(f, time.Now(), "TEST", mkvTracks{Width: 640, Height: 480}, clusterSpan)
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	written := 0
	for i, jpg := range frames {
		if i == 20 {
			f.limit = f.n + int64(len(jpg))/2
		}
		if werr = w.Video(time.Duration(i)*66*time.Millisecond, jpg); werr != nil {
			break
		}
		written++
	}
	if written != 20 || !errorsIsNoSpace(werr) {
		t.Fatalf("wrote %d frames, then %v; want 20 then ENOSPC", written, werr)
	}
	if w.Video(time.Duration(21)*66*time.Millisecond, frames[21]) == nil {
		t.Error("a broken writer went on writing")
	}
	err = w.Close(20 * 66 * time.Millisecond)
	if !errorsIsNoSpace(err) {
		t.Errorf("Close returned %v, want the write error", err)
	}
	p := probe(t, path)
	if d := p.duration(t); d.Round(time.Millisecond) != 20*66*time.Millisecond {
		t.Errorf("duration %v", d)
	}
	got := extractFrames(t, path, false)
	if len(got) != 20 {
		t.Fatalf("%d frames in the file, want the 20 written whole", len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i], frames[i]) {
			t.Fatalf("frame %d differs", i)
		}
	}
}

func errorsIsNoSpace(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte(syscall.ENOSPC.Error()))
}

// TestAppendSize checks the EBML size encoding at its length limits.
func TestAppendSize(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want []byte
	}{
		{0, []byte{0x80}},
		{126, []byte{0xFE}},
		{127, []byte{0x40, 0x7F}}, // 0xFF would mean unknown
		{16382, []byte{0x7F, 0xFE}},
		{16383, []byte{0x20, 0x3F, 0xFF}},
	} {
		if got := appendSize(nil, c.n); !bytes.Equal(got, c.want) {
			t.Errorf("appendSize(%d) = % x, want % x", c.n, got, c.want)
		}
	}
}

// FuzzParseHeader: no input makes the header parser panic or read out of
// bounds; a header that parses yields a duration that is not negative.
func FuzzParseHeader(f *testing.F) {
	var buf bytes.Buffer
	w, err := newMKVWriter(&memFile{&buf}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "FUZZ", mkvTracks{Width: 640, Height: 480, Audio: true, AudioRate: 8000}, clusterSpan)
	if err != nil {
		f.Fatal(err)
	}
	_ = w.Video(0, []byte{0xFF, 0xD8, 0xFF, 0xD9})
	_ = w.Close(time.Second)
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:40])
	f.Add([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err == nil && h.HasDuration && h.Duration < 0 {
			t.Fatalf("negative duration %v", h.Duration)
		}
	})
}

// memFile is an mkvFile in memory.
type memFile struct{ b *bytes.Buffer }

func (m *memFile) Write(p []byte) (int, error) { return m.b.Write(p) }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	copy(m.b.Bytes()[off:], p)
	return len(p), nil
}

func (m *memFile) Truncate(n int64) error { m.b.Truncate(int(n)); return nil }

// TestMKVWriterSameMillisecond: frames that arrived within one millisecond
// (a burst after a network stall) get increasing timestamps, so ffmpeg
// copies them all out without complaint.
func TestMKVWriterSameMillisecond(t *testing.T) {
	t.Parallel()
	frames := testJPEGs(t, 6)
	path := filepath.Join(t.TempDir(), "burst.mkv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newMKVWriter(f, time.Now(), "TEST", mkvTracks{Width: 640, Height: 480}, clusterSpan)
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Duration{0, 100, 100, 100, 101, 300} {
		if err := w.Video(at*time.Millisecond+time.Duration(i)*time.Microsecond, frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	f.Close()
	pts := probe(t, path).videoPTS(t)
	want := []time.Duration{0, 100, 101, 102, 103, 300}
	for i := range want {
		if i >= len(pts) || pts[i] != want[i]*time.Millisecond {
			t.Fatalf("timestamps %v, want %v ms", pts, want)
		}
	}
	if got := extractFrames(t, path, false); len(got) != len(frames) {
		t.Errorf("%d frames copied out, want %d", len(got), len(frames))
	}
}
