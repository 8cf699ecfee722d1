package rtpjpeg

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrInvalid reports data that is not a usable JPEG image at all.
var ErrInvalid = errors.New("rtpjpeg: invalid jpeg")

// ErrNotFit reports a valid JPEG that RFC 2435 cannot carry as it is
// (custom Huffman tables, 4:4:4 sampling, progressive coding, ...). The
// wrapped message names the reason; Normalize fixes such images.
var ErrNotFit = errors.New("rtpjpeg: jpeg does not fit rfc 2435")

// MaxDimension is the largest width or height RFC 2435 can express: the
// header stores the size in units of 8 pixels in one byte (255*8).
const MaxDimension = 2040

// JPEG markers used by the parser (ITU-T T.81 Table B.1).
const (
	markerSOF0 = 0xC0 // baseline DCT
	markerDHT  = 0xC4
	markerRST0 = 0xD0
	markerRST7 = 0xD7
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
	markerDQT  = 0xDB
	markerDRI  = 0xDD
	markerTEM  = 0x01
)

// Frame is a JPEG image split the way RFC 2435 sends it. Scan points into
// the parsed JPEG; a Frame is as immutable as the bytes it was parsed from.
type Frame struct {
	// Type is the RFC 2435 type: 0 for 4:2:2, 1 for 4:2:0, plus 64 when
	// the image uses restart markers.
	Type byte
	// Width and Height are the image size in pixels.
	Width, Height int
	// Quant holds the luminance table then the chrominance table, 8-bit
	// precision, in the zig-zag order of the JPEG DQT segment.
	Quant [128]byte
	// RestartInterval is the DRI value (MCUs per restart interval), 0 when
	// the image has no restart markers.
	RestartInterval uint16
	// Scan is the entropy-coded data after the SOS header, without EOI.
	Scan []byte
}

func notFit(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotFit, fmt.Sprintf(format, args...))
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Parse checks that b is a baseline JPEG that RFC 2435 can carry and splits
// it into a Frame. It reads only the headers and scans the entropy-coded
// data for markers; it never decodes the image. An error wrapping ErrNotFit
// means Normalize can make the image fit; ErrInvalid means it is broken.
func Parse(b []byte) (*Frame, error) {
	f := &Frame{}
	if err := f.parse(b); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Frame) parse(b []byte) error {
	if len(b) < 4 || b[0] != 0xFF || b[1] != markerSOI {
		return invalid("no SOI marker")
	}
	var (
		quant     [4][]byte // 8-bit tables by id
		haveSOF   bool
		compIDs   [3]byte
		qY, qC    byte
		pos       = 2
		sosParsed bool
	)
	for !sosParsed {
		// Markers may be preceded by any number of 0xFF fill bytes.
		if pos >= len(b) || b[pos] != 0xFF {
			return invalid("expected a marker at offset %d", pos)
		}
		for pos < len(b) && b[pos] == 0xFF {
			pos++
		}
		if pos >= len(b) {
			return invalid("truncated marker")
		}
		m := b[pos]
		pos++
		switch {
		case m == markerTEM || (m >= markerRST0 && m <= markerRST7):
			continue // standalone markers, no length
		case m == markerSOI:
			return invalid("second SOI")
		case m == markerEOI:
			return invalid("EOI before any scan")
		}
		if pos+2 > len(b) {
			return invalid("truncated segment length")
		}
		segLen := int(b[pos])<<8 | int(b[pos+1])
		if segLen < 2 || pos+segLen > len(b) {
			return invalid("segment 0x%02X length %d out of range", m, segLen)
		}
		seg := b[pos+2 : pos+segLen]
		pos += segLen
		switch m {
		case markerDQT:
			for len(seg) > 0 {
				pq, tq := seg[0]>>4, seg[0]&0x0F
				if tq > 3 {
					return invalid("quantization table id %d", tq)
				}
				if pq != 0 {
					if len(seg) < 129 {
						return invalid("truncated 16-bit quantization table")
					}
					return notFit("16-bit quantization table %d", tq)
				}
				if len(seg) < 65 {
					return invalid("truncated quantization table")
				}
				quant[tq] = seg[1:65]
				seg = seg[65:]
			}
		case markerDHT:
			for len(seg) > 0 {
				if len(seg) < 17 {
					return invalid("truncated Huffman table")
				}
				tc, th := seg[0]>>4, seg[0]&0x0F
				n := 0
				for _, c := range seg[1:17] {
					n += int(c)
				}
				if len(seg) < 17+n {
					return invalid("truncated Huffman table values")
				}
				if !isStandardHuffman(tc, th, seg[1:17], seg[17:17+n]) {
					return notFit("non-standard Huffman table class %d id %d", tc, th)
				}
				seg = seg[17+n:]
			}
		case markerSOF0:
			if haveSOF {
				return invalid("second SOF")
			}
			haveSOF = true
			if len(seg) < 6 {
				return invalid("short SOF")
			}
			if seg[0] != 8 {
				return notFit("%d-bit samples", seg[0])
			}
			f.Height = int(seg[1])<<8 | int(seg[2])
			f.Width = int(seg[3])<<8 | int(seg[4])
			nf := int(seg[5])
			if len(seg) < 6+3*nf {
				return invalid("short SOF components")
			}
			if f.Width == 0 || f.Height == 0 {
				return invalid("image size %dx%d", f.Width, f.Height)
			}
			if nf != 3 {
				return notFit("%d color components", nf)
			}
			c := seg[6:]
			for i := range 3 {
				compIDs[i] = c[3*i]
			}
			switch c[1] {
			case 0x21:
				f.Type = 0
			case 0x22:
				f.Type = 1
			default:
				return notFit("luma sampling %dx%d", c[1]>>4, c[1]&0x0F)
			}
			if c[4] != 0x11 || c[7] != 0x11 {
				return notFit("chroma sampling %02x/%02x", c[4], c[7])
			}
			qY, qC = c[2], c[5]
			if c[8] != qC {
				return notFit("three quantization tables")
			}
			if qY > 3 || qC > 3 {
				return invalid("quantization table id out of range")
			}
		case markerDRI:
			if len(seg) < 2 {
				return invalid("short DRI")
			}
			f.RestartInterval = uint16(seg[0])<<8 | uint16(seg[1])
		case markerSOS:
			if !haveSOF {
				return invalid("SOS before SOF")
			}
			if len(seg) < 1 || len(seg) < 1+2*int(seg[0])+3 {
				return invalid("short SOS")
			}
			if seg[0] != 3 {
				return notFit("scan with %d components", seg[0])
			}
			for i := range 3 {
				cs, t := seg[1+2*i], seg[2+2*i]
				if cs != compIDs[i] {
					return notFit("scan component order")
				}
				want := byte(0x11)
				if i == 0 {
					want = 0x00
				}
				if t != want {
					return notFit("scan Huffman table selectors %02x", t)
				}
			}
			ss, se, a := seg[7], seg[8], seg[9]
			if ss != 0 || se != 63 || a != 0 {
				return notFit("spectral selection %d-%d", ss, se)
			}
			sosParsed = true
		default:
			if m >= 0xC1 && m <= 0xCF && m != markerDHT && m != 0xC8 && m != 0xCC {
				return notFit("SOF%d coding", m-0xC0)
			}
			// APPn, COM and the rest carry nothing RFC 2435 sends.
		}
	}
	if f.Width > MaxDimension || f.Height > MaxDimension {
		return invalid("image size %dx%d larger than %d", f.Width, f.Height, MaxDimension)
	}
	if quant[qY] == nil || quant[qC] == nil {
		return invalid("missing quantization table")
	}
	copy(f.Quant[:64], quant[qY])
	copy(f.Quant[64:], quant[qC])
	if f.RestartInterval != 0 {
		f.Type += 64
	}
	scan, err := scanEnd(b[pos:])
	if err != nil {
		return err
	}
	if len(scan) >= 1<<24 {
		return invalid("scan of %d bytes too large for a 24-bit fragment offset", len(scan))
	}
	f.Scan = scan
	return nil
}

// scanEnd returns the entropy-coded data up to EOI. Stuffed bytes (FF 00),
// restart markers and fill bytes belong to the scan; any other marker means
// a second scan, which RFC 2435 cannot carry. Data without an EOI is taken
// whole, as receivers add a missing EOI themselves.
func scanEnd(b []byte) ([]byte, error) {
	i := 0
	for {
		j := bytes.IndexByte(b[i:], 0xFF)
		if j < 0 {
			return b, nil
		}
		i += j + 1
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return b, nil
		}
		switch m := b[i]; {
		case m == 0x00 || (m >= markerRST0 && m <= markerRST7):
			i++
		case m == markerEOI:
			end := i - 1
			for end > 0 && b[end-1] == 0xFF {
				end--
			}
			return b[:end], nil
		default:
			return nil, notFit("marker 0x%02X after the scan (multiple scans)", m)
		}
	}
}

func isNotFit(err error) bool { return errors.Is(err, ErrNotFit) }
