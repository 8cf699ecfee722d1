package rtpjpeg

import (
	"errors"
	"testing"

	"github.com/chinesium/chinesium/internal/testutil"
)

// TestHugeHeaderNotDecoded: a grayscale JPEG (which does not fit RFC 2435,
// so it takes the Normalize path) whose frame header claims 8192×8192
// pixels is refused as invalid without allocating the picture.
func TestHugeHeaderNotDecoded(t *testing.T) {
	b := testutil.HugeHeaderJPEG(t)
	var normalized bool
	var err error
	n := testutil.Allocated(func() { _, normalized, err = ParseOrNormalize(b) })
	if !normalized || !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseOrNormalize of an 8192x8192 header: normalized %v, err %v", normalized, err)
	}
	if n > 8<<20 {
		t.Errorf("ParseOrNormalize allocated %d MB for a %d-byte frame", n>>20, len(b))
	}
}
