package rtpjpeg

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"runtime"
	"testing"
)

// TestHugeHeaderNotDecoded: a grayscale JPEG (which does not fit RFC 2435,
// so it takes the Normalize path) whose frame header claims 8192×8192
// pixels is refused as invalid without allocating the picture.
func TestHugeHeaderNotDecoded(t *testing.T) {
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

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, normalized, err := ParseOrNormalize(b)
	runtime.ReadMemStats(&after)
	if !normalized || !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseOrNormalize of an 8192x8192 header: normalized %v, err %v", normalized, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("ParseOrNormalize allocated %d MB for a %d-byte frame", n>>20, len(b))
	}
}
