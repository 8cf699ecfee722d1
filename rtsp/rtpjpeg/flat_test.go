package rtpjpeg

import (
	"testing"
)

// flatJPEG writes a baseline JPEG whose MCUs are each one flat gray level
// (DC coefficients only), with luma sampling h x v and 1x1 chroma. It lets
// the tests build sampling layouts Go's encoder never writes.
func flatJPEG(w, hgt int, h, v byte, level func(mx, my int) int) []byte {
	var j []byte
	seg := func(m byte, body ...byte) {
		j = append(j, 0xFF, m, byte((len(body)+2)>>8), byte(len(body)+2))
		j = append(j, body...)
	}
	j = append(j, 0xFF, markerSOI)
	q := []byte{0}
	for range 64 {
		q = append(q, 1)
	}
	q = append(q, 1)
	for range 64 {
		q = append(q, 1)
	}
	seg(markerDQT, q...)
	seg(markerSOF0, 8, byte(hgt>>8), byte(hgt), byte(w>>8), byte(w), 3, 1, h<<4|v, 0, 2, 0x11, 1, 3, 0x11, 1)
	j = AppendDHT(j)
	seg(markerSOS, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0)
	codes := huffCodes()
	var acc uint32
	var nacc uint
	put := func(bits uint32, n uint) {
		for i := int(n) - 1; i >= 0; i-- {
			acc = acc<<1 | bits>>uint(i)&1
			nacc++
			if nacc == 8 {
				j = append(j, byte(acc))
				if byte(acc) == 0xFF {
					j = append(j, 0)
				}
				acc, nacc = 0, 0
			}
		}
	}
	dc := func(tab int, d int) {
		s, a := uint(0), max(d, -d)
		for a > 0 {
			s++
			a >>= 1
		}
		c := codes[tab][s]
		put(c[0], uint(c[1]))
		if d < 0 {
			d += 1<<s - 1
		}
		put(uint32(d), s)
	}
	eob := func(tab int) { c := codes[tab][0]; put(c[0], uint(c[1])) }
	prev := 0
	mw, mh := 8*int(h), 8*int(v)
	for my := range (hgt + mh - 1) / mh {
		for mx := range (w + mw - 1) / mw {
			val := 8 * (level(mx, my) - 128)
			for k := range int(h * v) {
				d := 0
				if k == 0 {
					d = val - prev
				}
				dc(0, d)
				eob(2)
			}
			prev = val
			for range 2 {
				dc(1, 0)
				eob(3)
			}
		}
	}
	for nacc != 0 {
		put(1, 1)
	}
	return append(j, 0xFF, markerEOI)
}

// huffCodes returns code and length per symbol for the standard tables,
// indexed like standardHuffman.
func huffCodes() [4][256][2]uint32 {
	var out [4][256][2]uint32
	for t, s := range standardHuffman {
		code, k := uint32(0), 0
		for l := 1; l <= 16; l++ {
			for range int(s.counts[l-1]) {
				out[t][s.values[k]] = [2]uint32{code, uint32(l)}
				code++
				k++
			}
			code <<= 1
		}
	}
	return out
}

// TestType0 checks 4:2:2 with 2x1 luma, RFC 2435 type 0, end to end.
func TestType0(t *testing.T) {
	level := func(mx, my int) int { return 16 + (mx*37+my*91)%220 }
	j := flatJPEG(320, 240, 2, 1, level)
	f, err := Parse(j)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != 0 {
		t.Fatalf("type %d, want 0", f.Type)
	}
	orig := decode(t, j)
	samePixels(t, orig, decode(t, rebuild(t, payloads(t, f, 500))))
	// The flat picture is what was drawn: spot-check an MCU.
	r, _, _, _ := orig.At(16*3+4, 8*5+4).RGBA()
	if got, want := int(r>>8), level(3, 5); got < want-2 || got > want+2 {
		t.Errorf("pixel level %d, want %d", got, want)
	}
}
