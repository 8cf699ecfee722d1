// Package jpeg reads the headers of a JPEG image (ITU-T T.81) up to the
// start of its entropy-coded data, without decoding any of it. Parse
// returns the facts of the frame: its size, components and sampling
// factors, quantization tables, Huffman tables as DHT stores them, restart
// interval, the colour hints of the JFIF and Adobe segments, the first
// scan's header and where its entropy-coded data starts. It is the one
// place that walks JPEG marker segments: motion decodes the DC coefficients
// on top of it, rtsp/rtpjpeg decides what RFC 2435 can carry, and record
// takes a recording's picture size from Size, which reads any coding.
//
// What it reads: SOI, then any number of DQT, DHT, DRI, APPn, COM and other
// length-prefixed segments, fill bytes before markers, standalone TEM and
// RSTn markers, one SOF0 (baseline) or SOF1 (extended sequential, Huffman)
// frame header, and the first SOS. It stops there: what follows is the
// scan, which the caller reads from Header.DataOffset.
//
// What it refuses, with an error wrapping ErrUnsupported (a valid JPEG
// coded in a way the callers do not handle): the other frame types
// (progressive, lossless, hierarchical, arithmetic coding: SOF2, SOF3,
// SOF5-SOF7, SOF9-SOF11, SOF13-SOF15), samples of other than 8 bits, a
// height left to a DNL marker (0 in the frame header), and a scan that is
// not a sequential one of all 64 coefficients (spectral selection other
// than 0-63 or successive approximation). With an error wrapping ErrInvalid
// (broken data): a missing SOI, a byte other than a marker where one must
// be, SOI or EOI before the scan, a segment whose length runs past the data
// or is shorter than what it must hold, quantization tables of an id above
// 3 or a precision other than 8 or 16 bits, Huffman tables of a class above
// 1, an id above 3 or more than 256 symbols, a second frame header, a frame
// header with a width of 0, with 0 or more than 4 components, a component
// sampled 0 or more than 4 times in a direction, naming a quantization
// table above 3 or sharing its identifier with another, a scan before the
// frame header, of 0 or more than 4 components, naming a component the
// frame does not have (or one twice) or a Huffman table above 3, and no
// scan at all.
//
// Bounds: Parse reads only b, allocates nothing and keeps no reference to b
// beyond the Header, whose tables are slices of b. Its work is linear in
// the length of the headers; the entropy-coded data is not looked at. Sizes
// are what the frame header says, up to 65535×65535: a caller that
// allocates by the picture's size checks Width and Height against its own
// bound first. Which tables a scan uses need not be defined (an RFC 2435
// sender carries none); the caller checks what it needs.
package jpeg

import (
	"errors"
	"fmt"
)

// Markers (ITU-T T.81 Table B.1).
const (
	SOF0  = 0xC0 // baseline DCT
	SOF1  = 0xC1 // extended sequential DCT, Huffman coding
	DHT   = 0xC4
	JPG   = 0xC8
	DAC   = 0xCC
	RST0  = 0xD0
	RST7  = 0xD7
	SOI   = 0xD8
	EOI   = 0xD9
	SOS   = 0xDA
	DQT   = 0xDB
	DRI   = 0xDD
	APP0  = 0xE0
	APP14 = 0xEE
	TEM   = 0x01
)

// MaxComponents is the largest number of components of a frame or a scan.
const MaxComponents = 4

var (
	// ErrInvalid marks data that is not a well-formed JPEG.
	ErrInvalid = errors.New("jpeg: invalid")
	// ErrUnsupported marks a JPEG coded in a way this package does not
	// read (progressive, lossless, arithmetic, 12-bit, ...).
	ErrUnsupported = errors.New("jpeg: unsupported coding")
)

// refusal is an error of Parse: its message says what was wrong, class is
// ErrInvalid or ErrUnsupported.
type refusal struct {
	class error
	msg   string
}

func (r *refusal) Error() string { return "jpeg: " + r.msg }
func (r *refusal) Unwrap() error { return r.class }

func invalid(format string, args ...any) error {
	return &refusal{ErrInvalid, fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) error {
	return &refusal{ErrUnsupported, fmt.Sprintf(format, args...)}
}

// Component is one colour component of the frame header.
type Component struct {
	ID   byte // component identifier, unique in the frame
	H, V byte // horizontal and vertical sampling factors, 1-4
	Tq   byte // quantization table, 0-3
}

// Quant is a quantization table as DQT stores it.
type Quant struct {
	// Precision is 0 for 8-bit values, 1 for 16-bit ones.
	Precision byte
	// Data holds the 64 values in zig-zag order, 64 bytes or, at 16-bit
	// precision, 128 bytes big-endian; nil when the table is not defined.
	Data []byte
}

// At returns the value of zig-zag index k (0-63) of a defined table.
func (q *Quant) At(k int) uint16 {
	if q.Precision == 0 {
		return uint16(q.Data[k])
	}
	return uint16(q.Data[2*k])<<8 | uint16(q.Data[2*k+1])
}

// Huffman is a Huffman table as DHT stores it.
type Huffman struct {
	// Spec holds the number of codes of each length 1-16 (16 bytes) then
	// the symbols in code order; nil when the table is not defined. The
	// counts are as stored: a length may claim more codes than it holds,
	// which a decoder building the table refuses.
	Spec []byte
}

// Counts returns the number of codes of each length 1-16.
func (t *Huffman) Counts() []byte { return t.Spec[:16] }

// Values returns the symbols in code order.
func (t *Huffman) Values() []byte { return t.Spec[16:] }

// ScanComponent is one component of a scan header.
type ScanComponent struct {
	Index byte // index of the component in Header.Components
	Td    byte // DC Huffman table, 0-3
	Ta    byte // AC Huffman table, 0-3
}

// Header holds the facts of a JPEG up to its first scan.
type Header struct {
	// SOF is the frame header's marker: SOF0 or SOF1.
	SOF byte
	// Width and Height are the picture's size in pixels, at least 1.
	Width, Height int
	// Components are the frame's components, NumComponents of them (1-4).
	NumComponents int
	Components    [MaxComponents]Component
	// Quant holds the quantization tables by id, as last defined before
	// the scan.
	Quant [4]Quant
	// DC and AC hold the Huffman tables by id, as last defined before the
	// scan.
	DC, AC [4]Huffman
	// RestartInterval is the DRI value (MCUs per restart interval), 0 when
	// there are no restart markers.
	RestartInterval int
	// JFIF reports an APP0 JFIF segment (the components are YCbCr or grey).
	JFIF bool
	// Adobe reports an APP14 Adobe segment, AdobeTransform its colour
	// transform (0: none, the components are RGB or CMYK as they are).
	Adobe          bool
	AdobeTransform byte
	// Scan holds the components of the first scan, NumScanComponents of
	// them (1-4), in the order of the scan header.
	NumScanComponents int
	Scan              [MaxComponents]ScanComponent
	// DataOffset is the offset in the parsed bytes of the first scan's
	// entropy-coded data, just after the SOS segment.
	DataOffset int
}

// Parse reads the headers of the JPEG b into h, up to its first scan. An
// error wraps ErrInvalid or ErrUnsupported (see the package comment); h
// then holds what was read so far.
func Parse(b []byte, h *Header) error {
	*h = Header{}
	if len(b) < 4 || b[0] != 0xFF || b[1] != SOI {
		return invalid("no SOI marker")
	}
	pos := 2
	for {
		m, seg, next, err := nextSegment(b, pos)
		if err != nil {
			return err
		}
		pos = next
		switch m {
		case DQT:
			err = h.dqt(seg)
		case DHT:
			err = h.dht(seg)
		case SOF0, SOF1:
			err = h.sof(m, seg)
		case DRI:
			if len(seg) < 2 {
				return invalid("short restart interval")
			}
			h.RestartInterval = int(seg[0])<<8 | int(seg[1])
		case APP0:
			h.JFIF = h.JFIF || (len(seg) >= 5 && string(seg[:5]) == "JFIF\x00")
		case APP14:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				h.Adobe, h.AdobeTransform = true, seg[11]
			}
		case SOS:
			if err = h.sos(seg); err != nil {
				return err
			}
			h.DataOffset = pos
			return nil
		default:
			if isSOF(m) {
				return unsupported("SOF%d coding", m-0xC0)
			}
			// APPn, COM, DAC and the rest do not change what is read.
		}
		if err != nil {
			return err
		}
	}
}

// nextSegment reads the marker at pos (after any fill bytes) and, unless it
// is a standalone marker (TEM, RSTn: seg is nil), its segment. next is
// where the following marker starts. SOI and EOI are refused: Parse and
// Size stop at the first scan.
func nextSegment(b []byte, pos int) (m byte, seg []byte, next int, err error) {
	// Markers may be preceded by any number of 0xFF fill bytes.
	if pos >= len(b) || b[pos] != 0xFF {
		return 0, nil, 0, invalid("expected a marker at offset %d", pos)
	}
	for pos < len(b) && b[pos] == 0xFF {
		pos++
	}
	if pos >= len(b) {
		return 0, nil, 0, invalid("truncated marker")
	}
	m = b[pos]
	pos++
	switch {
	case m == TEM || (m >= RST0 && m <= RST7):
		return m, nil, pos, nil // standalone markers, no length
	case m == SOI || m == EOI:
		return 0, nil, 0, invalid("marker 0x%02X before the scan", m)
	}
	if pos+2 > len(b) {
		return 0, nil, 0, invalid("truncated segment length")
	}
	segLen := int(b[pos])<<8 | int(b[pos+1])
	if segLen < 2 || pos+segLen > len(b) {
		return 0, nil, 0, invalid("segment 0x%02X length %d out of range", m, segLen)
	}
	return m, b[pos+2 : pos+segLen], pos + segLen, nil
}

// isSOF reports whether m is a frame header of any coding: SOF0-SOF15
// but DHT, JPG and DAC.
func isSOF(m byte) bool {
	return m >= SOF0 && m <= 0xCF && m != DHT && m != JPG && m != DAC
}

// Size returns the picture size of the JPEG b from its frame header,
// whatever its coding (progressive and lossless too), reading no further.
// An error wraps ErrInvalid: no SOI, broken segments, a scan before the
// frame header, or a frame header too short or of width or height 0
// (Parse's other checks are not made).
func Size(b []byte) (width, height int, err error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != SOI {
		return 0, 0, invalid("no SOI marker")
	}
	for pos := 2; ; {
		m, seg, next, err := nextSegment(b, pos)
		if err != nil {
			return 0, 0, err
		}
		pos = next
		switch {
		case m == SOS:
			return 0, 0, invalid("scan before the frame header")
		case isSOF(m):
			if len(seg) < 5 {
				return 0, 0, invalid("short frame header")
			}
			height, width = int(seg[1])<<8|int(seg[2]), int(seg[3])<<8|int(seg[4])
			if width == 0 || height == 0 {
				return 0, 0, invalid("frame of %dx%d pixels", width, height)
			}
			return width, height, nil
		}
	}
}

// dqt reads the quantization tables of a DQT segment.
func (h *Header) dqt(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&0x0F
		if tq > 3 || pq > 1 {
			return invalid("quantization table %d precision %d", tq, pq)
		}
		n := 64 << pq
		if len(seg) < 1+n {
			return invalid("truncated quantization table")
		}
		h.Quant[tq] = Quant{Precision: pq, Data: seg[1 : 1+n]}
		seg = seg[1+n:]
	}
	return nil
}

// dht reads the Huffman tables of a DHT segment.
func (h *Header) dht(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return invalid("truncated Huffman table")
		}
		tc, th := seg[0]>>4, seg[0]&0x0F
		if tc > 1 || th > 3 {
			return invalid("Huffman table class %d id %d", tc, th)
		}
		n := 0
		for _, c := range seg[1:17] {
			n += int(c)
		}
		if n > 256 || len(seg) < 17+n {
			return invalid("truncated Huffman table values")
		}
		if tc == 0 {
			h.DC[th].Spec = seg[1 : 17+n]
		} else {
			h.AC[th].Spec = seg[1 : 17+n]
		}
		seg = seg[17+n:]
	}
	return nil
}

// sof reads the frame header of marker m.
func (h *Header) sof(m byte, seg []byte) error {
	if h.SOF != 0 {
		return invalid("second frame header")
	}
	h.SOF = m
	if len(seg) < 6 {
		return invalid("short frame header")
	}
	if seg[0] != 8 {
		return unsupported("%d-bit samples", seg[0])
	}
	h.Height = int(seg[1])<<8 | int(seg[2])
	h.Width = int(seg[3])<<8 | int(seg[4])
	nf := int(seg[5])
	if nf < 1 || nf > MaxComponents || len(seg) < 6+3*nf {
		return invalid("frame header with %d components", nf)
	}
	if h.Width == 0 {
		return invalid("frame width 0")
	}
	if h.Height == 0 {
		return unsupported("frame %dx%d (height from a DNL marker)", h.Width, h.Height)
	}
	for i := range nf {
		c := seg[6+3*i:]
		comp := Component{ID: c[0], H: c[1] >> 4, V: c[1] & 0x0F, Tq: c[2]}
		if comp.H < 1 || comp.H > 4 || comp.V < 1 || comp.V > 4 || comp.Tq > 3 {
			return invalid("component %d sampled %dx%d, quantization table %d", comp.ID, comp.H, comp.V, comp.Tq)
		}
		for j := range i {
			if h.Components[j].ID == comp.ID {
				return invalid("component identifier %d twice in the frame header", comp.ID)
			}
		}
		h.Components[i] = comp
	}
	h.NumComponents = nf
	return nil
}

// sos reads the scan header.
func (h *Header) sos(seg []byte) error {
	if h.NumComponents == 0 {
		return invalid("scan before the frame header")
	}
	if len(seg) < 1 || len(seg) < 1+2*int(seg[0])+3 {
		return invalid("short scan header")
	}
	ns := int(seg[0])
	if ns < 1 || ns > MaxComponents {
		return invalid("scan of %d components", ns)
	}
	var seen uint8
	for i := range ns {
		id, t := seg[1+2*i], seg[2+2*i]
		// Scans name their components in the frame's order, mostly.
		k := i
		if k >= h.NumComponents || h.Components[k].ID != id {
			k = -1
			for j := range h.NumComponents {
				if h.Components[j].ID == id {
					k = j
				}
			}
			if k < 0 {
				return invalid("scan component %d not in the frame", id)
			}
		}
		if seen&(1<<k) != 0 {
			return invalid("component %d twice in the scan", id)
		}
		seen |= 1 << k
		td, ta := t>>4, t&0x0F
		if td > 3 || ta > 3 {
			return invalid("scan Huffman tables %d/%d", td, ta)
		}
		h.Scan[i] = ScanComponent{Index: byte(k), Td: td, Ta: ta}
	}
	h.NumScanComponents = ns
	if ss, se, a := seg[1+2*ns], seg[2+2*ns], seg[3+2*ns]; ss != 0 || se != 63 || a != 0 {
		return unsupported("scan of coefficients %d-%d, successive approximation %d/%d", ss, se, a>>4, a&0x0F)
	}
	return nil
}
