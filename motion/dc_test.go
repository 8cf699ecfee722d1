package motion

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The JPEGs in testdata: video-*.jpeg are image/jpeg's own test images
// (Go's src/image/testdata, BSD licence): every chroma sampling, restart
// markers, grey, and the codings the DC decoder leaves to image/jpeg
// (progressive, RGB, CMYK, separate scans); *.jpg are those of
// rtsp/rtpjpeg (restart markers, 4:2:2, optimized Huffman tables);
// fakecam-*.jpg are the fake camera's frames.

// decodeDC is decodeDCInto a new image.
func decodeDC(b []byte) (*dcImage, error) { return decodeDCInto(b, new(dcImage)) }

func readJPEG(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lumaOf returns the luma plane of a decoded picture and its stride.
func lumaOf(t testing.TB, img image.Image) ([]uint8, int) {
	t.Helper()
	switch m := img.(type) {
	case *image.YCbCr:
		return m.Y, m.YStride
	case *image.Gray:
		return m.Pix, m.Stride
	}
	t.Fatalf("decoded as %T", img)
	return nil, 0
}

// dcJPEGs are the JPEGs the DC decoder handles itself.
func dcJPEGs(t testing.TB) map[string][]byte {
	t.Helper()
	m := map[string][]byte{
		"scene grey 640x480":  scene(t, 3, 0, 4, 200, 100),
		"scene 4:2:0 640x480": colourScene(t, 3, 200),
	}
	for _, n := range []string{
		"fakecam-still.jpg", "fakecam-moving.jpg", "restart.jpg", "yuv422v.jpg", "optimal.jpg",
		"video-001.q50.420.jpeg", "video-001.q50.422.jpeg", "video-001.q50.444.jpeg",
		"video-001.q50.410.jpeg", "video-001.q50.411.jpeg", "video-001.q50.440.jpeg",
		"video-001.restart2.jpeg", "video-005.gray.jpeg", "video-005.gray.q50.2x2.jpeg",
	} {
		m[n] = readJPEG(t, n)
	}
	return m
}

// colourScene is scene as a camera-like colour JPEG (YCbCr 4:2:0).
func colourScene(t testing.TB, seed uint64, bx int) []byte {
	t.Helper()
	g, err := jpeg.Decode(bytes.NewReader(scene(t, seed, 0, 4, bx, 100)))
	if err != nil {
		t.Fatal(err)
	}
	yc := image.NewYCbCr(g.Bounds(), image.YCbCrSubsampleRatio420)
	copy(yc.Y, g.(*image.Gray).Pix)
	for j := range yc.Cb {
		yc.Cb[j], yc.Cr[j] = 110, 150
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, yc, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDCImageMatchesFullDecode compares the DC image with the full decode
// scaled down by 8 (the mean of each 8×8 block of the decoded luma), and
// the grid built from it with the grid of the full decode.
func TestDCImageMatchesFullDecode(t *testing.T) {
	for name, b := range dcJPEGs(t) {
		t.Run(name, func(t *testing.T) {
			dc, err := decodeDC(b)
			if err != nil {
				t.Fatalf("decodeDC: %v", err)
			}
			img, err := jpeg.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			w, h := img.Bounds().Dx(), img.Bounds().Dy()
			if dc.Width != w || dc.Height != h || dc.BW != (w+7)/8 || dc.BH != (h+7)/8 {
				t.Fatalf("DC image %dx%d (%dx%d blocks), picture %dx%d", dc.Width, dc.Height, dc.BW, dc.BH, w, h)
			}
			y, stride := lumaOf(t, img)
			var sum, worst float64
			for by := range dc.BH {
				for bx := range dc.BW {
					var s, n float64
					for py := by * 8; py < min(h, by*8+8); py++ {
						for px := bx * 8; px < min(w, bx*8+8); px++ {
							s += float64(y[py*stride+px])
							n++
						}
					}
					d := math.Abs(s/n - float64(dc.Luma[by*dc.BW+bx]))
					sum += d
					worst = max(worst, d)
				}
			}
			mean := sum / float64(dc.BW*dc.BH)
			t.Logf("DC vs downscaled decode: mean abs diff %.3f, max %.2f", mean, worst)
			// Blocks on the right and bottom edges are partly padding, which
			// the encoder fills (and the DC averages) but the picture
			// crops; inside, the DC is the block mean up to IDCT rounding
			// and clamping.
			if mean > 1.0 {
				t.Errorf("mean abs diff %.3f between the DC image and the downscaled decode", mean)
			}

			// The grid: at the camera's 640×480 a cell (20×20 pixels)
			// spans 2.5 blocks; in smaller pictures a cell is hardly larger
			// than a block, whose mean spreads over its neighbours.
			if w < 640 || h < 480 {
				return
			}
			gDC, err := dc.grid(32, 24, &scratch{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			gFull, err := NewGrid(img, 32, 24)
			if err != nil {
				t.Fatal(err)
			}
			var cells, texA, texB float64
			for i := range gDC.Cells {
				cells += math.Abs(float64(gDC.Cells[i] - gFull.Cells[i]))
				texA += float64(gDC.Texture[i])
				texB += float64(gFull.Texture[i])
			}
			cells /= float64(len(gDC.Cells))
			t.Logf("grid cells: mean abs diff %.3f; mean texture %.2f (DC) vs %.2f (full)", cells, texA/768, texB/768)
			if cells > 2.0 {
				t.Errorf("grid cells differ by %.3f on average from the full decode's", cells)
			}
		})
	}
}

// TestOtherCodingsFallBack: the codings the DC decoder leaves to
// image/jpeg still give a grid, the one of the full decode.
func TestOtherCodingsFallBack(t *testing.T) {
	for _, n := range []string{
		"video-001.q50.420.progressive.jpeg", "video-001.rgb.jpeg", "video-001.cmyk.jpeg",
		"video-001.separate.dc.progression.jpeg",
	} {
		b := readJPEG(t, n)
		if _, err := decodeDC(b); !errors.Is(err, errUnsupported) {
			t.Errorf("%s: decodeDC: %v, want errUnsupported", n, err)
			continue
		}
		g, err := DecodeGrid(b, 32, 24)
		if err != nil {
			t.Errorf("%s: DecodeGrid: %v", n, err)
			continue
		}
		full, err := decodeGridFull(b, 32, 24)
		if err != nil {
			t.Fatal(err)
		}
		if g.ChangedArea(full, 0.5) != 0 {
			t.Errorf("%s: grid differs from the full decode's", n)
		}
	}
}

// TestBrokenFramesRefused: a truncated frame, or one whose restart marker
// is missing, is a bad frame, not a picture half of grey that would look
// like motion.
func TestBrokenFramesRefused(t *testing.T) {
	good := readJPEG(t, "fakecam-moving.jpg")
	restart := readJPEG(t, "video-001.restart2.jpeg")
	rst0 := bytes.Index(restart, []byte{0xFF, 0xD0})
	rst1 := bytes.Index(restart, []byte{0xFF, 0xD1})
	if rst0 < 0 || rst1 < 0 {
		t.Fatal("no RST0 and RST1 markers")
	}
	noRST := bytes.Clone(restart)
	noRST[rst1+1] = 0x00 // FF D1 becomes a stuffed FF
	// The interval between RST0 and RST1 is lost (a whole packet of it).
	lostInterval := append(bytes.Clone(restart[:rst0]), restart[rst1:]...)
	for name, b := range map[string][]byte{
		"truncated at half":       good[:len(good)/2],
		"truncated, EOI restored": append(bytes.Clone(good[:len(good)/2]), 0xFF, 0xD9),
		"restart marker lost":     noRST,
		"restart interval lost":   lostInterval,
		"not a jpeg":              []byte("not a jpeg"),
		"header only":             good[:600],
	} {
		d := New(Config{})
		d.Analyse(b, time.Unix(1000, 0))
		if st := d.Stats(); st.BadFrames != 1 {
			t.Errorf("%s: %+v, want a bad frame", name, st)
		}
	}
}

// FuzzDecodeDC: no input makes the DC decoder panic, allocate beyond the
// picture's blocks, or return a DC image that does not match its header.
func FuzzDecodeDC(f *testing.F) {
	for _, b := range dcJPEGs(f) {
		f.Add(b)
	}
	f.Add(readJPEG(f, "video-001.q50.420.progressive.jpeg"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dc, err := decodeDC(b)
		if err != nil {
			return
		}
		if dc.Width < 1 || dc.Height < 1 || dc.Width > MaxDimension || dc.Height > MaxDimension ||
			dc.BW != (dc.Width+7)/8 || dc.BH != (dc.Height+7)/8 ||
			len(dc.Luma) != dc.BW*dc.BH || len(dc.Texture) != len(dc.Luma) {
			t.Fatalf("DC image %dx%d, %dx%d blocks, %d values", dc.Width, dc.Height, dc.BW, dc.BH, len(dc.Luma))
		}
		for i, v := range dc.Luma {
			if v < 0 || v > 255 || math.IsNaN(float64(dc.Texture[i])) || dc.Texture[i] < 0 {
				t.Fatalf("block %d: luma %v texture %v", i, v, dc.Texture[i])
			}
		}
		if dc.Width >= 64 && dc.Height >= 48 {
			if _, err := dc.grid(32, 24, &scratch{}, nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeDC measures the DC decode of a fake camera frame alone.
func BenchmarkDecodeDC(b *testing.B) {
	f := readJPEG(b, "fakecam-moving.jpg")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeDC(f); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodeDCAllocatesOnlyTheImage: decoding a camera's frame, whose
// Huffman tables are cached, allocates the DC image and nothing else (its
// struct and its two planes), at any number of frames.
func TestDecodeDCAllocatesOnlyTheImage(t *testing.T) {
	b := readJPEG(t, "fakecam-moving.jpg")
	if _, err := decodeDC(b); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(50, func() {
		if _, err := decodeDC(b); err != nil {
			t.Fatal(err)
		}
	}); n > 3 {
		t.Errorf("%v allocations per frame, want 3 (the DC image)", n)
	}
}

// TestLargePictureMemoryNotKept: the memory that the analysis of a
// picture larger than 1080p worked in is not kept for later analyses,
// while that of a camera's picture is.
func TestLargePictureMemoryNotKept(t *testing.T) {
	large := image.NewGray(image.Rect(0, 0, 2048, 2048))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, large, nil); err != nil {
		t.Fatal(err)
	}
	kept := func() (small, big int) {
		scratches.Lock()
		defer scratches.Unlock()
		for _, sc := range scratches.free {
			if cap(sc.img.Luma) > maxKeptBlocks {
				big++
			} else if cap(sc.img.Luma) > 0 {
				small++
			}
		}
		return small, big
	}
	if _, err := DecodeGrid(buf.Bytes(), 32, 24); err != nil {
		t.Fatal(err)
	}
	if _, big := kept(); big != 0 {
		t.Errorf("%d scratches of a 2048×2048 picture kept", big)
	}
	if _, err := DecodeGrid(readJPEG(t, "fakecam-moving.jpg"), 32, 24); err != nil {
		t.Fatal(err)
	}
	if small, _ := kept(); small == 0 {
		t.Error("no scratch of a 640×480 picture kept")
	}
}
