package record

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// readAll reads every frame of a recording with a FrameReader seeked to
// from.
func readAll(t *testing.T, b []byte, from time.Duration) ([]time.Duration, [][]byte) {
	t.Helper()
	fr, err := NewFrameReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	fr.Seek(from)
	var ts []time.Duration
	var frames [][]byte
	for {
		at, f, err := fr.Next()
		if errors.Is(err, io.EOF) {
			return ts, frames
		}
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, at)
		frames = append(frames, f)
	}
}

// TestFrameReader: the frames read back from a recording, closed or cut
// short anywhere, are the frames written, byte for byte, with their
// timestamps, audio left out; after Seek(t) the first is the first frame
// at or after t.
func TestFrameReader(t *testing.T) {
	t.Parallel()
	frames := testJPEGs(t, 60)
	for _, closed := range []bool{true, false} {
		var buf bytes.Buffer
		ts, w, ends := writeTestFile(t, &memFile{&buf}, time.Now(), frames, true)
		if closed {
			if err := w.Close(ts[len(ts)-1]); err != nil {
				t.Fatal(err)
			}
		}
		data := buf.Bytes()
		gotTS, got := readAll(t, data, 0)
		if len(got) != len(frames) {
			t.Fatalf("closed=%v: %d frames read, %d written", closed, len(got), len(frames))
		}
		for i := range got {
			if !bytes.Equal(got[i], frames[i]) || gotTS[i] != ts[i] {
				t.Fatalf("closed=%v: frame %d at %v differs from the one written at %v", closed, i, gotTS[i], ts[i])
			}
		}
		for _, from := range []time.Duration{ts[1], ts[17] - time.Millisecond, ts[40], ts[59], ts[59] + time.Second} {
			first := 0
			for first < len(ts) && ts[first] < from {
				first++
			}
			gotTS, got = readAll(t, data, from)
			if len(got) != len(frames)-first || (len(got) > 0 && (gotTS[0] != ts[first] || !bytes.Equal(got[0], frames[first]))) {
				t.Errorf("closed=%v: from %v: %d frames starting at %v, want %d from %v", closed, from, len(got), gotTS, len(frames)-first, ts[min(first, len(ts)-1)])
			}
		}
		if closed {
			continue
		}
		for _, cut := range []int64{ends[50] + 3, ends[30], ends[12] - 5, ends[0]} {
			whole := 0
			for whole < len(ends) && ends[whole] <= cut {
				whole++
			}
			_, got = readAll(t, data[:cut], 0)
			if len(got) != whole {
				t.Errorf("cut at byte %d: %d frames read, want the %d whole ones", cut, len(got), whole)
			}
		}
	}
}

// FuzzFrameReader: no file makes the reader panic, loop, or return a
// frame bigger than MaxFrameSize.
func FuzzFrameReader(f *testing.F) {
	var buf bytes.Buffer
	w, err := newMKVWriter(&memFile{&buf}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "FUZZ", mkvTracks{Width: 640, Height: 480, Audio: true, AudioRate: 8000}, clusterSpan)
	if err != nil {
		f.Fatal(err)
	}
	_ = w.Audio(0, []byte{1, 2, 3, 4})
	_ = w.Video(0, []byte{0xFF, 0xD8, 0xFF, 0xD9})
	_ = w.Video(1500*time.Millisecond, []byte{0xFF, 0xD8, 0xFF, 0xD9})
	_ = w.Close(2 * time.Second)
	f.Add(buf.Bytes(), int64(0))
	f.Add(buf.Bytes(), int64(time.Second))
	f.Add(buf.Bytes()[:buf.Len()-20], int64(0))
	f.Fuzz(func(t *testing.T, b []byte, from int64) {
		fr, err := NewFrameReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		fr.Seek(time.Duration(from))
		// Every element read moves forward by at least its header.
		for range len(b) + 1 {
			_, frame, err := fr.Next()
			if err != nil {
				return
			}
			if len(frame) > MaxFrameSize {
				t.Fatalf("frame of %d bytes", len(frame))
			}
		}
		t.Fatal("Next never ended")
	})
}
