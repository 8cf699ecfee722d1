package jpeg

import (
	"bytes"
	"errors"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The JPEGs in testdata: fakecam-*.jpg are the fake camera's frames
// (4:2:0), restart.jpg is ffmpeg's with restart markers and a comment,
// video-*.jpeg are image/jpeg's own test images (Go's src/image/testdata,
// BSD licence): 4:2:2, restart markers, grey, CMYK with an Adobe segment,
// progressive.

func readJPEG(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// segment returns the offset of the first segment with marker m (the
// offset of its 0xFF) and the offset just past it, walking the segments
// of b from SOI: the test's own reading, independent of Parse.
func segment(t testing.TB, b []byte, m byte) (start, end int) {
	t.Helper()
	for p := 2; p+4 <= len(b); {
		l := int(b[p+2])<<8 | int(b[p+3])
		if b[p+1] == m {
			return p, p + 2 + l
		}
		p += 2 + l
	}
	t.Fatalf("no segment 0x%02X", m)
	return 0, 0
}

// TestHeaderFacts: what Parse reads from real frames is what image/jpeg
// and ffprobe see in them (size, components, sampling), and the data
// offset is just past the SOS segment.
func TestHeaderFacts(t *testing.T) {
	type comp struct{ id, h, v, tq byte }
	cases := []struct {
		file    string
		comps   []comp
		restart int
		jfif    bool
		adobe   bool
	}{
		{"fakecam-moving.jpg", []comp{{1, 2, 2, 0}, {2, 1, 1, 1}, {3, 1, 1, 1}}, 0, false, false},
		{"fakecam-still.jpg", []comp{{1, 2, 2, 0}, {2, 1, 1, 1}, {3, 1, 1, 1}}, 0, false, false},
		{"restart.jpg", []comp{{1, 2, 2, 0}, {2, 1, 1, 0}, {3, 1, 1, 0}}, 20, true, false},
		{"video-001.restart2.jpeg", []comp{{1, 2, 2, 0}, {2, 1, 1, 1}, {3, 1, 1, 1}}, 20, true, false},
		{"video-001.q50.422.jpeg", []comp{{1, 2, 1, 0}, {2, 1, 1, 1}, {3, 1, 1, 1}}, 0, true, false},
		{"video-005.gray.jpeg", []comp{{1, 1, 1, 0}}, 0, true, false},
		{"video-001.cmyk.jpeg", []comp{{'C', 1, 1, 0}, {'M', 1, 1, 0}, {'Y', 1, 1, 0}, {'K', 1, 1, 0}}, 0, true, true},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			b := readJPEG(t, c.file)
			var h Header
			if err := Parse(b, &h); err != nil {
				t.Fatal(err)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if h.SOF != SOF0 || h.Width != cfg.Width || h.Height != cfg.Height {
				t.Errorf("SOF 0x%02X %dx%d, image/jpeg reads %dx%d", h.SOF, h.Width, h.Height, cfg.Width, cfg.Height)
			}
			if h.NumComponents != len(c.comps) || h.NumScanComponents != len(c.comps) {
				t.Fatalf("%d components, %d in the scan, want %d", h.NumComponents, h.NumScanComponents, len(c.comps))
			}
			for i, want := range c.comps {
				got := h.Components[i]
				if got != (Component{want.id, want.h, want.v, want.tq}) {
					t.Errorf("component %d: %+v, want %+v", i, got, want)
				}
				if s := h.Scan[i]; int(s.Index) != i || h.DC[s.Td].Spec == nil || h.AC[s.Ta].Spec == nil {
					t.Errorf("scan component %d: %+v, tables not defined", i, s)
				}
				if q := h.Quant[got.Tq]; q.Precision != 0 || len(q.Data) != 64 {
					t.Errorf("quantization table %d: precision %d, %d bytes", got.Tq, q.Precision, len(q.Data))
				}
			}
			if h.RestartInterval != c.restart || h.JFIF != c.jfif || h.Adobe != c.adobe {
				t.Errorf("restart %d JFIF %v Adobe %v, want %d %v %v", h.RestartInterval, h.JFIF, h.Adobe, c.restart, c.jfif, c.adobe)
			}
			if _, end := segment(t, b, SOS); h.DataOffset != end {
				t.Errorf("data offset %d, the SOS segment ends at %d", h.DataOffset, end)
			}
			// The tables are the bytes of the DQT and DHT segments.
			dqt, _ := segment(t, b, DQT)
			if q := h.Quant[b[dqt+4]&0x0F]; !bytes.Equal(q.Data, b[dqt+5:dqt+69]) {
				t.Error("quantization table is not the first table of the DQT segment")
			}
			dht, _ := segment(t, b, DHT)
			tabs := &h.DC
			if b[dht+4]>>4 == 1 {
				tabs = &h.AC
			}
			if spec := tabs[b[dht+4]&0x0F].Spec; !bytes.Equal(spec, b[dht+5:dht+5+len(spec)]) || len(spec) < 17 {
				t.Error("Huffman table is not the first table of the DHT segment")
			}
		})
	}
}

// TestQuant16: a DQT segment of 16-bit values gives the same values.
func TestQuant16(t *testing.T) {
	b := readJPEG(t, "video-005.gray.jpeg")
	start, end := segment(t, b, DQT)
	dqt := []byte{0xFF, DQT, 0, 2 + 1 + 128, 0x10}
	for _, v := range b[start+5 : end] {
		dqt = append(dqt, 0, v)
	}
	b16 := append(append(append([]byte{}, b[:start]...), dqt...), b[end:]...)
	var h, h16 Header
	if err := Parse(b, &h); err != nil {
		t.Fatal(err)
	}
	if err := Parse(b16, &h16); err != nil {
		t.Fatal(err)
	}
	q, q16 := &h.Quant[0], &h16.Quant[0]
	if q16.Precision != 1 || len(q16.Data) != 128 {
		t.Fatalf("precision %d, %d bytes", q16.Precision, len(q16.Data))
	}
	for k := range 64 {
		if q.At(k) != q16.At(k) {
			t.Fatalf("value %d: %d at 16 bits, %d at 8", k, q16.At(k), q.At(k))
		}
	}
}

// TestFillBytesAndStandaloneMarkers: fill bytes before a marker, a TEM
// marker and a comment change nothing but where the data starts.
func TestFillBytesAndStandaloneMarkers(t *testing.T) {
	b := readJPEG(t, "fakecam-moving.jpg")
	sof, _ := segment(t, b, SOF0)
	extra := []byte{0xFF, 0xFF, 0xFF, TEM, 0xFF, 0xFE, 0, 5, 'a', 'b', 'c', 0xFF, 0xFF}
	odd := append(append(append([]byte{}, b[:sof]...), extra...), b[sof:]...)
	var h, ho Header
	if err := Parse(b, &h); err != nil {
		t.Fatal(err)
	}
	if err := Parse(odd, &ho); err != nil {
		t.Fatal(err)
	}
	if ho.DataOffset != h.DataOffset+len(extra) {
		t.Errorf("data offset %d, want %d", ho.DataOffset, h.DataOffset+len(extra))
	}
	if ho.Width != h.Width || ho.Height != h.Height || ho.Components != h.Components || ho.Scan != h.Scan {
		t.Errorf("header %+v, want %+v", ho, h)
	}
}

// sofAs returns b with the first frame header's marker replaced by m.
func sofAs(t testing.TB, b []byte, m byte) []byte {
	t.Helper()
	b = bytes.Clone(b)
	start, _ := segment(t, b, SOF0)
	b[start+1] = m
	return b
}

// TestRefused: what Parse does not read is refused with the class of
// error its callers branch on.
func TestRefused(t *testing.T) {
	good := readJPEG(t, "fakecam-moving.jpg")
	sof, _ := segment(t, good, SOF0)
	dht, _ := segment(t, good, DHT)
	dqt, _ := segment(t, good, DQT)
	sos, _ := segment(t, good, SOS)
	with := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return b
	}
	for name, c := range map[string]struct {
		b    []byte
		want error
	}{
		"progressive":              {readJPEG(t, "video-001.q50.420.progressive.jpeg"), ErrUnsupported},
		"lossless (SOF3)":          {sofAs(t, good, 0xC3), ErrUnsupported},
		"arithmetic (SOF9)":        {sofAs(t, good, 0xC9), ErrUnsupported},
		"12-bit samples":           {with(sof+4, 12), ErrUnsupported},
		"height from DNL":          {with(sof+5, 0, 0), ErrUnsupported},
		"spectral selection 1-63":  {with(sos+11, 1), ErrUnsupported},
		"no SOI":                   {good[2:], ErrInvalid},
		"EOI before the scan":      {append([]byte{0xFF, SOI, 0xFF, EOI}, good[2:]...), ErrInvalid},
		"width 0":                  {with(sof+7, 0, 0), ErrInvalid},
		"5 components":             {with(sof+9, 5), ErrInvalid},
		"sampling 0x2":             {with(sof+11, 0x02), ErrInvalid},
		"quantization table 4":     {with(sof+12, 4), ErrInvalid},
		"component id twice":       {with(sof+13, 1), ErrInvalid},
		"DQT precision 2":          {with(dqt+4, 0x20), ErrInvalid},
		"DHT class 2":              {with(dht+4, 0x20), ErrInvalid},
		"DHT of 257 symbols":       {with(dht+5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 2), ErrInvalid},
		"scan before the frame":    {with(sof+1, 0xE1), ErrInvalid},
		"scan of a missing comp":   {with(sos+5, 9), ErrInvalid},
		"scan Huffman table 4":     {with(sos+6, 0x40), ErrInvalid},
		"segment past the end":     {good[:sof+10], ErrInvalid},
		"second frame header":      {append(append(bytes.Clone(good[:sof]), good[sof:sof+19]...), good[sof:]...), ErrInvalid},
		"not a marker after a seg": {with(dqt, 0x00), ErrInvalid},
	} {
		var h Header
		err := Parse(c.b, &h)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Every truncation before the scan's data is refused as invalid.
	var h Header
	if err := Parse(good, &h); err != nil {
		t.Fatal(err)
	}
	for n := range h.DataOffset {
		if err := Parse(good[:n], &h); !errors.Is(err, ErrInvalid) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
}

// TestSOF1: an extended sequential frame is read like a baseline one.
func TestSOF1(t *testing.T) {
	var h Header
	if err := Parse(sofAs(t, readJPEG(t, "fakecam-moving.jpg"), SOF1), &h); err != nil {
		t.Fatal(err)
	}
	if h.SOF != SOF1 || h.Width != 640 || h.Height != 480 {
		t.Errorf("SOF 0x%02X %dx%d", h.SOF, h.Width, h.Height)
	}
}

// TestParseAllocatesNothing: the parser runs once per frame of every
// camera; it must not allocate.
func TestParseAllocatesNothing(t *testing.T) {
	b := readJPEG(t, "fakecam-moving.jpg")
	var h Header
	if n := testing.AllocsPerRun(100, func() {
		if err := Parse(b, &h); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per Parse", n)
	}
}

// FuzzParse: no input makes Parse panic, refuse with an error of no
// class, or return a header that breaks what the package comment
// promises. The seed corpus (testdata/fuzz/FuzzParse) holds the frames of
// testdata and odd variants of them.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		err := Parse(b, &h)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error of no class: %v", err)
			}
			return
		}
		if h.SOF != SOF0 && h.SOF != SOF1 {
			t.Fatalf("SOF 0x%02X", h.SOF)
		}
		if h.Width < 1 || h.Height < 1 || h.Width > 65535 || h.Height > 65535 {
			t.Fatalf("size %dx%d", h.Width, h.Height)
		}
		if h.NumComponents < 1 || h.NumComponents > MaxComponents ||
			h.NumScanComponents < 1 || h.NumScanComponents > h.NumComponents {
			t.Fatalf("%d components, %d in the scan", h.NumComponents, h.NumScanComponents)
		}
		for i, c := range h.Components[:h.NumComponents] {
			if c.H < 1 || c.H > 4 || c.V < 1 || c.V > 4 || c.Tq > 3 {
				t.Fatalf("component %d: %+v", i, c)
			}
		}
		seen := map[byte]bool{}
		for _, s := range h.Scan[:h.NumScanComponents] {
			if int(s.Index) >= h.NumComponents || seen[s.Index] || s.Td > 3 || s.Ta > 3 {
				t.Fatalf("scan %+v", h.Scan)
			}
			seen[s.Index] = true
		}
		for _, q := range h.Quant {
			if q.Data != nil && len(q.Data) != 64<<q.Precision {
				t.Fatalf("quantization table of precision %d, %d bytes", q.Precision, len(q.Data))
			}
		}
		for _, tab := range append(h.DC[:], h.AC[:]...) {
			if tab.Spec == nil {
				continue
			}
			n := 0
			for _, c := range tab.Counts() {
				n += int(c)
			}
			if n != len(tab.Values()) || n > 256 {
				t.Fatalf("Huffman table of %d codes, %d symbols", n, len(tab.Values()))
			}
		}
		if h.DataOffset < 4 || h.DataOffset > len(b) {
			t.Fatalf("data offset %d of %d bytes", h.DataOffset, len(b))
		}
		// image/jpeg, reading the same frame header, sees the same size.
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(b)); err == nil && (cfg.Width != h.Width || cfg.Height != h.Height) {
			t.Fatalf("%dx%d, image/jpeg reads %dx%d", h.Width, h.Height, cfg.Width, cfg.Height)
		}
	})
}

// BenchmarkParse measures reading the headers of a fake camera frame.
func BenchmarkParse(b *testing.B) {
	f := readJPEG(b, "fakecam-moving.jpg")
	var h Header
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse(f, &h); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSize: Size gives the size image/jpeg reads from every test picture,
// progressive included, and refuses data without a frame header.
func TestSize(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jp*g"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test pictures: %v", err)
	}
	for _, f := range files {
		b := readJPEG(t, filepath.Base(f))
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		w, h, err := Size(b)
		if err != nil || w != cfg.Width || h != cfg.Height {
			t.Errorf("%s: Size = %dx%d, %v; image/jpeg reads %dx%d", f, w, h, err, cfg.Width, cfg.Height)
		}
	}
	good := readJPEG(t, "fakecam-still.jpg")
	sof, _ := segment(t, good, SOF0)
	sos, _ := segment(t, good, SOS)
	zeroWidth := bytes.Clone(good)
	zeroWidth[sof+7], zeroWidth[sof+8] = 0, 0
	for name, b := range map[string][]byte{
		"empty":              nil,
		"no SOI":             good[2:],
		"cut in a segment":   good[:sof+4],
		"scan first":         slices.Concat(good[:2], good[sos:]),
		"width 0":            zeroWidth,
		"bad segment length": slices.Concat(good[:sof+2], []byte{0, 1}, good[sof+4:]),
	} {
		if w, h, err := Size(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Size = %dx%d, %v; want ErrInvalid", name, w, h, err)
		}
	}
}

// FuzzSize: Size never panics, a size it gives is positive, and it agrees
// with Parse whenever Parse reads the data.
func FuzzSize(f *testing.F) {
	for _, name := range []string{"fakecam-still.jpg", "video-001.q50.420.progressive.jpeg"} {
		b := readJPEG(f, name)
		f.Add(b[:min(len(b), 700)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w, h, err := Size(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error of no class: %v", err)
			}
		} else if w <= 0 || h <= 0 {
			t.Fatalf("size %dx%d", w, h)
		}
		var hdr Header
		if Parse(b, &hdr) == nil && (err != nil || w != hdr.Width || h != hdr.Height) {
			t.Fatalf("Size %dx%d, %v; Parse %dx%d", w, h, err, hdr.Width, hdr.Height)
		}
	})
}
