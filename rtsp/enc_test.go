package rtsp

import (
	"bytes"
	"image/jpeg"
	"testing"
)

// TestNumberedJPEG checks the test pictures: valid JPEGs that image/jpeg
// decodes to the number they carry, and that fit RFC 2435 as they are.
func TestNumberedJPEG(t *testing.T) {
	for _, n := range []uint16{0, 1, 0xA5A5, 0xFFFF, 1234} {
		b := numberedJPEG(t, n)
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		gray := make([]byte, testW*testH)
		for y := range testH {
			for x := range testW {
				r, _, _, _ := img.At(x, y).RGBA()
				gray[y*testW+x] = byte(r >> 8)
			}
		}
		if got, ok := readNumber(gray); !ok || got != n {
			t.Errorf("picture of %d reads as %d (%v)", n, got, ok)
		}
	}
}
