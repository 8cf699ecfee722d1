package rtpjpeg

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
)

// Header sizes (RFC 2435 §3.1).
const (
	mainHeaderLen    = 8
	restartHeaderLen = 4
	quantHeaderLen   = 4
)

// PayloadSize returns how many bytes AppendPayloads adds for f when every
// packet gets prefix bytes in front of its payload.
func (f *Frame) PayloadSize(maxPayload, prefix int) (size, packets int) {
	hdr := mainHeaderLen
	if f.Type >= 64 {
		hdr += restartHeaderLen
	}
	first := maxPayload - hdr - quantHeaderLen - len(f.Quant)
	rest := maxPayload - hdr
	n := 1
	if len(f.Scan) > first {
		n += (len(f.Scan) - first + rest - 1) / rest
	}
	return len(f.Scan) + n*(prefix+hdr) + quantHeaderLen + len(f.Quant), n
}

// AppendPayloads appends the RTP/JPEG payloads of f to dst, each preceded by
// prefix bytes left for the caller (the RTP header, for instance), and
// appends to ends the offset in dst just past each payload. Every payload is
// at most maxPayload bytes. The first carries the quantization tables with
// Q=255 (tables in-band, may change every frame); the restart marker header
// says the packets are not aligned to restart intervals (F=L=1, count
// 0x3FFF), so receivers reassemble the whole frame.
func (f *Frame) AppendPayloads(dst []byte, ends []int, maxPayload, prefix int) ([]byte, []int, error) {
	hdr := mainHeaderLen
	if f.Type >= 64 {
		hdr += restartHeaderLen
	}
	if maxPayload < hdr+quantHeaderLen+len(f.Quant)+1 {
		return dst, ends, fmt.Errorf("rtpjpeg: max payload %d too small", maxPayload)
	}
	if need, _ := f.PayloadSize(maxPayload, prefix); cap(dst)-len(dst) < need {
		grown := make([]byte, len(dst), len(dst)+need)
		copy(grown, dst)
		dst = grown
	}
	scan := f.Scan
	off := 0
	for {
		for range prefix {
			dst = append(dst, 0)
		}
		dst = append(dst,
			0, byte(off>>16), byte(off>>8), byte(off),
			f.Type, 255, byte((f.Width+7)/8), byte((f.Height+7)/8))
		if f.Type >= 64 {
			dst = append(dst, byte(f.RestartInterval>>8), byte(f.RestartInterval), 0xFF, 0xFF)
		}
		room := maxPayload - hdr
		if off == 0 {
			dst = append(dst, 0, 0, 0, byte(len(f.Quant)))
			dst = append(dst, f.Quant[:]...)
			room -= quantHeaderLen + len(f.Quant)
		}
		n := min(room, len(scan)-off)
		dst = append(dst, scan[off:off+n]...)
		ends = append(ends, len(dst))
		off += n
		if off >= len(scan) {
			return dst, ends, nil
		}
	}
}

// Quality is the JPEG quality Normalize encodes with.
const Quality = 85

// Normalize decodes a JPEG that Parse rejected with ErrNotFit and encodes
// it again with Go's encoder, which writes the standard Huffman tables, two
// quantization tables and 4:2:0 sampling, so the result always parses. It
// is the slow path: camera JPEGs that already fit never get here.
//
// The size is checked before decoding: image/jpeg allocates the whole
// picture once it has read the frame header, so a few hundred bytes
// claiming 65535×65535 pixels would otherwise cost gigabytes.
func Normalize(b []byte) ([]byte, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: decode: %w", ErrInvalid, err)
	}
	if cfg.Width > MaxDimension || cfg.Height > MaxDimension {
		return nil, invalid("image size %dx%d larger than %d", cfg.Width, cfg.Height, MaxDimension)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: decode: %w", ErrInvalid, err)
	}
	if g, ok := img.(*image.Gray); ok {
		// The encoder writes grayscale images with one component; hiding
		// the concrete type makes it write three.
		img = struct{ image.Image }{g}
	}
	var out bytes.Buffer
	out.Grow(len(b))
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: Quality}); err != nil {
		return nil, fmt.Errorf("rtpjpeg: encode: %w", err)
	}
	return out.Bytes(), nil
}

// ParseOrNormalize parses b and, when it does not fit RFC 2435, re-encodes
// it first. normalized reports whether the slow path was taken.
func ParseOrNormalize(b []byte) (f *Frame, normalized bool, err error) {
	f, err = Parse(b)
	if err == nil || !isNotFit(err) {
		return f, false, err
	}
	nb, err := Normalize(b)
	if err != nil {
		return nil, true, err
	}
	f, err = Parse(nb)
	return f, true, err
}
