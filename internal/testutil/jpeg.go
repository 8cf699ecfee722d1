package testutil

import (
	"bytes"
	"image"
	"image/jpeg"
	"runtime"
	"testing"
)

// HugeHeaderJPEG returns a small grayscale baseline JPEG (64×48 pixels of
// data) whose frame header claims 8192×8192 pixels: a hostile frame that
// image/jpeg would allocate about 100 MB for before noticing the data is
// missing.
func HugeHeaderJPEG(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte{0xFF, 0xC0}) // SOF0: length(2) precision(1) height(2) width(2)
	if i < 0 {
		t.Fatal("no SOF0")
	}
	b[i+5], b[i+6], b[i+7], b[i+8] = 0x20, 0x00, 0x20, 0x00
	return b
}

// Allocated runs fn after a garbage collection and returns the bytes it
// allocated (runtime.MemStats.TotalAlloc; other goroutines' allocations in
// the meantime count too).
func Allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
