package motion

import (
	"bytes"
	"image"
	"image/jpeg"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHugeFrameHeaderRefused: a small JPEG whose frame header claims
// 8192×8192 pixels is refused without allocating the picture (image/jpeg
// would allocate ~100 MB for it before noticing the data is missing).
func TestHugeFrameHeaderRefused(t *testing.T) {
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
	_, err := DecodeGrid(b, 32, 24)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "8192x8192") {
		t.Errorf("DecodeGrid of an 8192x8192 header: %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("DecodeGrid allocated %d MB for a %d-byte frame", n>>20, len(b))
	}
	d := New(Config{})
	d.Analyse(b, time.Now())
	if st := d.Stats(); st.BadFrames != 1 {
		t.Errorf("stats %+v, want one bad frame", st)
	}
}
