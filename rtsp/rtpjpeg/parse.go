package rtpjpeg

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/chinesium/chinesium/internal/jpeg"
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

// JPEG markers an RFC 2435 receiver writes back when it rebuilds the
// headers (ITU-T T.81 Table B.1).
const (
	markerSOF0 = jpeg.SOF0
	markerDHT  = jpeg.DHT
	markerSOI  = jpeg.SOI
	markerEOI  = jpeg.EOI
	markerSOS  = jpeg.SOS
	markerDQT  = jpeg.DQT
	markerDRI  = jpeg.DRI
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
	var h jpeg.Header
	if err := jpeg.Parse(b, &h); err != nil {
		if errors.Is(err, jpeg.ErrUnsupported) {
			return fmt.Errorf("%w: %w", ErrNotFit, err)
		}
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if h.SOF != jpeg.SOF0 {
		return notFit("SOF%d coding", h.SOF-jpeg.SOF0)
	}
	for id := range h.Quant {
		if q := &h.Quant[id]; q.Data != nil && q.Precision != 0 {
			return notFit("16-bit quantization table %d", id)
		}
	}
	for tc, tabs := range [2]*[4]jpeg.Huffman{&h.DC, &h.AC} {
		for th := range tabs {
			t := &tabs[th]
			if t.Spec != nil && !isStandardHuffman(byte(tc), byte(th), t.Counts(), t.Values()) {
				return notFit("non-standard Huffman table class %d id %d", tc, th)
			}
		}
	}
	if h.NumComponents != 3 {
		return notFit("%d color components", h.NumComponents)
	}
	c := &h.Components
	switch c[0].H<<4 | c[0].V {
	case 0x21:
		f.Type = 0
	case 0x22:
		f.Type = 1
	default:
		return notFit("luma sampling %dx%d", c[0].H, c[0].V)
	}
	if c[1].H != 1 || c[1].V != 1 || c[2].H != 1 || c[2].V != 1 {
		return notFit("chroma sampling %dx%d/%dx%d", c[1].H, c[1].V, c[2].H, c[2].V)
	}
	qY, qC := c[0].Tq, c[1].Tq
	if c[2].Tq != qC {
		return notFit("three quantization tables")
	}
	if h.NumScanComponents != 3 {
		return notFit("scan with %d components", h.NumScanComponents)
	}
	for i, s := range h.Scan[:3] {
		if int(s.Index) != i {
			return notFit("scan component order")
		}
		want := byte(1)
		if i == 0 {
			want = 0
		}
		if s.Td != want || s.Ta != want {
			return notFit("scan Huffman table selectors %d/%d", s.Td, s.Ta)
		}
	}
	f.Width, f.Height = h.Width, h.Height
	if f.Width > MaxDimension || f.Height > MaxDimension {
		return invalid("image size %dx%d larger than %d", f.Width, f.Height, MaxDimension)
	}
	if h.Quant[qY].Data == nil || h.Quant[qC].Data == nil {
		return invalid("missing quantization table")
	}
	copy(f.Quant[:64], h.Quant[qY].Data)
	copy(f.Quant[64:], h.Quant[qC].Data)
	f.RestartInterval = uint16(h.RestartInterval)
	if f.RestartInterval != 0 {
		f.Type += 64
	}
	scan, err := scanEnd(b[h.DataOffset:])
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
		case m == 0x00 || (m >= jpeg.RST0 && m <= jpeg.RST7):
			i++
		case m == jpeg.EOI:
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
