package record

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWriteFrame measures the muxer's cost per 640×480 frame (about
// 16 KB here) written into a file on the test's temporary folder, beside a
// bare loop writing the same JPEG bytes with one write each into another
// file in the same run: the least any recorder must do.
//
// Metrics:
//
//	ns/op, B/op, allocs/op  the muxer, per frame (a new Cluster every
//	                        second of 15 frames/s, as recorded)
//	bare-ns/frame           the bare write loop, per frame
//	x-bare-write            muxer time / bare time
func BenchmarkWriteFrame(b *testing.B) {
	frames := testJPEGs(b, 16)
	dir := b.TempDir()
	open := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	bare, muxed := open("bare.mjpeg"), open("muxed.mkv")
	w, err := newMKVWriter(muxed, time.Now(), "BENCH", mkvTracks{Width: 640, Height: 480}, clusterSpan)
	if err != nil {
		b.Fatal(err)
	}
	const interval = time.Second / 15
	var bareTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		jpg := frames[i%len(frames)]
		if err := w.Video(time.Duration(i)*interval, jpg); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		t0 := time.Now()
		if _, err := bare.Write(jpg); err != nil {
			b.Fatal(err)
		}
		bareTime += time.Since(t0)
		b.StartTimer()
	}
	b.StopTimer()
	if err := w.Close(time.Duration(b.N) * interval); err != nil {
		b.Fatal(err)
	}
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	bareFrame := float64(bareTime.Nanoseconds()) / float64(b.N)
	b.ReportMetric(bareFrame, "bare-ns/frame")
	b.ReportMetric(perFrame/bareFrame, "x-bare-write")
}
