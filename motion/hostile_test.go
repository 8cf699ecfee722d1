package motion

import (
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/testutil"
)

// TestHugeFrameHeaderRefused: a small JPEG whose frame header claims
// 8192×8192 pixels is refused without allocating the picture (image/jpeg
// would allocate ~100 MB for it before noticing the data is missing).
func TestHugeFrameHeaderRefused(t *testing.T) {
	b := testutil.HugeHeaderJPEG(t)
	var err error
	n := testutil.Allocated(func() { _, err = DecodeGrid(b, 32, 24) })
	if err == nil || !strings.Contains(err.Error(), "8192x8192") {
		t.Errorf("DecodeGrid of an 8192x8192 header: %v", err)
	}
	if n > 8<<20 {
		t.Errorf("DecodeGrid allocated %d MB for a %d-byte frame", n>>20, len(b))
	}
	d := New(Config{})
	d.Analyse(b, time.Now())
	if st := d.Stats(); st.BadFrames != 1 {
		t.Errorf("stats %+v, want one bad frame", st)
	}
}
