package rtpjpeg

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"testing"
	"time"
)

// goJPEG encodes a test picture with Go's encoder (standard tables, 4:2:0).
func goJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func grayJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rebuild is an RFC 2435 receiver: it joins the payloads and writes the
// JPEG headers back the way RFC 2435 Appendix A/B describe.
func rebuild(t testing.TB, payloads [][]byte) []byte {
	t.Helper()
	var scan []byte
	var typ, w8, h8 byte
	var quant []byte
	var dri []byte
	for i, p := range payloads {
		if len(p) < 8 {
			t.Fatalf("payload %d: %d bytes", i, len(p))
		}
		off := int(p[1])<<16 | int(p[2])<<8 | int(p[3])
		if off != len(scan) {
			t.Fatalf("payload %d: fragment offset %d, want %d", i, off, len(scan))
		}
		typ, w8, h8 = p[4], p[6], p[7]
		if p[5] != 255 {
			t.Fatalf("Q = %d, want 255", p[5])
		}
		p = p[8:]
		if typ >= 64 {
			if p[2] != 0xFF || p[3] != 0xFF {
				t.Fatalf("restart header F/L/count = %x %x", p[2], p[3])
			}
			dri = p[:2]
			p = p[4:]
		}
		if off == 0 {
			n := int(p[2])<<8 | int(p[3])
			if p[1] != 0 || n != 128 {
				t.Fatalf("quant header precision %d length %d", p[1], n)
			}
			quant = p[4 : 4+n]
			p = p[4+n:]
		} else if i == 0 {
			t.Fatal("first payload has no quantization tables")
		}
		scan = append(scan, p...)
	}
	var j []byte
	seg := func(m byte, body ...byte) {
		j = append(j, 0xFF, m, byte((len(body)+2)>>8), byte(len(body)+2))
		j = append(j, body...)
	}
	j = append(j, 0xFF, markerSOI)
	seg(markerDQT, append(append([]byte{0}, quant[:64]...), append([]byte{1}, quant[64:]...)...)...)
	if dri != nil {
		seg(markerDRI, dri...)
	}
	samp := byte(0x21)
	if typ&63 == 1 {
		samp = 0x22
	}
	wd, ht := int(w8)*8, int(h8)*8
	seg(markerSOF0, 8, byte(ht>>8), byte(ht), byte(wd>>8), byte(wd), 3, 1, samp, 0, 2, 0x11, 1, 3, 0x11, 1)
	j = AppendDHT(j)
	seg(markerSOS, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0)
	j = append(j, scan...)
	return append(j, 0xFF, markerEOI)
}

func payloads(t testing.TB, f *Frame, max int) [][]byte {
	t.Helper()
	buf, ends, err := f.AppendPayloads(nil, nil, max, 12)
	if err != nil {
		t.Fatal(err)
	}
	size, n := f.PayloadSize(max, 12)
	if len(buf) != size || len(ends) != n {
		t.Fatalf("PayloadSize = %d, %d; AppendPayloads wrote %d bytes, %d packets", size, n, len(buf), len(ends))
	}
	var out [][]byte
	start := 0
	for _, e := range ends {
		p := buf[start+12 : e]
		if len(p) > max {
			t.Fatalf("payload of %d bytes > max %d", len(p), max)
		}
		out = append(out, p)
		start = e
	}
	return out
}

func decode(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

// samePixels compares two decoded images exactly.
func samePixels(t testing.TB, a, b image.Image) {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("bounds %v vs %v", a.Bounds(), b.Bounds())
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				t.Fatalf("pixel %d,%d differs", x, y)
			}
		}
	}
}

func TestFitsWithoutDecoding(t *testing.T) {
	cases := []struct {
		name    string
		jpeg    []byte
		typ     byte
		w, h    int
		restart bool
	}{
		{"go encoder 4:2:0", goJPEG(t, 640, 480), 1, 640, 480, false},
		{"ffmpeg 4:2:0 default tables", readFile(t, "std420.jpg"), 1, 320, 240, false},
		{"restart markers", readFile(t, "restart.jpg"), 65, 320, 240, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.jpeg)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type != c.typ || f.Width != c.w || f.Height != c.h || (f.RestartInterval != 0) != c.restart {
				t.Fatalf("got type %d %dx%d dri %d", f.Type, f.Width, f.Height, f.RestartInterval)
			}
			for _, max := range []int{1400, 200} {
				got := rebuild(t, payloads(t, f, max))
				samePixels(t, decode(t, c.jpeg), decode(t, got))
			}
		})
	}
}

func TestNotFitIsNormalized(t *testing.T) {
	sof2 := bytes.Replace(readFile(t, "std420.jpg"), []byte{0xFF, 0xC0}, []byte{0xFF, 0xC2}, 1)
	cases := []struct {
		name      string
		jpeg      []byte
		normalize bool // Normalize can decode it
	}{
		{"optimized Huffman tables", readFile(t, "optimal.jpg"), true},
		{"4:4:4", readFile(t, "yuv444.jpg"), true},
		{"4:2:2 with 2x2 luma blocks", readFile(t, "yuv422v.jpg"), true},
		{"grayscale", grayJPEG(t), true},
		{"progressive", sof2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.jpeg)
			if !errors.Is(err, ErrNotFit) {
				t.Fatalf("Parse error %v, want ErrNotFit", err)
			}
			f, normalized, err := ParseOrNormalize(c.jpeg)
			if !c.normalize {
				if err == nil {
					t.Fatal("broken image normalized without error")
				}
				return
			}
			if err != nil || !normalized {
				t.Fatalf("ParseOrNormalize: %v normalized=%v", err, normalized)
			}
			orig := decode(t, c.jpeg)
			got := decode(t, rebuild(t, payloads(t, f, 1400)))
			if got.Bounds() != orig.Bounds() {
				t.Fatalf("bounds %v, want %v", got.Bounds(), orig.Bounds())
			}
			if d := meanAbsDiff(orig, got); d > 6 {
				t.Fatalf("re-encoded image differs by %.1f per channel", d)
			}
		})
	}
}

func meanAbsDiff(a, b image.Image) float64 {
	var sum, n float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				sum += float64(max(d, -d))
				n++
			}
		}
	}
	return sum / n
}

func TestInvalid(t *testing.T) {
	good := goJPEG(t, 64, 48)
	for name, b := range map[string][]byte{
		"empty":        nil,
		"not jpeg":     []byte("hello world"),
		"truncated":    good[:30],
		"only SOI+EOI": {0xFF, 0xD8, 0xFF, 0xD9},
	} {
		if _, err := Parse(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", name, err)
		}
	}
	if _, _, err := ParseOrNormalize([]byte("garbage")); err == nil {
		t.Error("garbage accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(goJPEG(f, 32, 16))
	for _, n := range []string{"std420.jpg", "restart.jpg", "optimal.jpg"} {
		f.Add(readFile(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotFit) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		buf, ends, err := fr.AppendPayloads(nil, nil, 300, 0)
		if err != nil {
			t.Fatal(err)
		}
		var scan []byte
		start := 0
		for i, e := range ends {
			p := buf[start+8 : e]
			if fr.Type >= 64 {
				p = p[4:]
			}
			if i == 0 {
				p = p[4+128:]
			}
			scan = append(scan, p...)
			start = e
		}
		if !bytes.Equal(scan, fr.Scan) {
			t.Fatal("payloads do not carry the scan")
		}
	})
}

// BenchmarkPacketize measures turning a 640x480 camera JPEG into RTP/JPEG
// payloads (Parse plus AppendPayloads into a reused buffer) against the
// baseline of copying the JPEG's bytes once, measured in the same run:
// "x_copy" is the ratio of the two.
func BenchmarkPacketize(b *testing.B) {
	img := goJPEG(b, 640, 480)
	dst := make([]byte, 0, 2*len(img))
	var ends []int
	const copies = 2000
	start := time.Now()
	for range copies {
		dst = append(dst[:0], img...)
	}
	copyNs := float64(time.Since(start).Nanoseconds()) / copies
	b.SetBytes(int64(len(img)))
	b.ReportAllocs()
	start = time.Now()
	n := 0
	for b.Loop() {
		f, err := Parse(img)
		if err != nil {
			b.Fatal(err)
		}
		dst, ends, _ = f.AppendPayloads(dst[:0], ends[:0], 1400, 12)
		n++
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	b.ReportMetric(copyNs, "ns/copy")
	b.ReportMetric(ns/copyNs, "x_copy")
}

// BenchmarkNormalize is the slow path for JPEGs that do not fit: a full
// decode and encode, against the fast path's Parse of a fitting JPEG.
func BenchmarkNormalize(b *testing.B) {
	img := readFile(b, "optimal.jpg")
	fit := readFile(b, "std420.jpg")
	start := time.Now()
	const parses = 2000
	for range parses {
		if _, err := Parse(fit); err != nil {
			b.Fatal(err)
		}
	}
	parseNs := float64(time.Since(start).Nanoseconds()) / parses
	start = time.Now()
	n := 0
	for b.Loop() {
		if _, _, err := ParseOrNormalize(img); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n)/parseNs, "x_parse")
}
