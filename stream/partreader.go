package stream

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// MaxPartSize is the largest part a PartReader accepts: far more than any
// frame (a 640×480 JPEG is about 50 KB), and little enough that a
// hostile Content-Length cannot make the reader allocate much.
const MaxPartSize = 16 << 20

// PartReader reads an MJPEG stream as Camera serves it, and as most
// cameras do: the parts of a multipart/x-mixed-replace body, each with a
// Content-Length header. It reads each part's body by that length, without
// scanning for the boundary, into a buffer it reuses, so that a client
// measuring the stream (chinesium bench) costs little beside the server
// it measures. Parts without a Content-Length are not read.
type PartReader struct {
	br  *bufio.Reader
	buf []byte
}

// NewPartReader returns a PartReader of r, a multipart body, or a whole
// HTTP response whose header SkipHeader reads first.
func NewPartReader(r io.Reader) *PartReader {
	return &PartReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// SkipHeader reads up to the blank line that ends an HTTP response
// header, for a reader of a raw connection.
func (p *PartReader) SkipHeader() error {
	for {
		line, err := p.br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("stream: response header: %w", err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
	}
}

// Next reads the next part and returns its body, which is valid until the
// next call. Lines before the part's headers (a boundary) are skipped.
func (p *PartReader) Next() ([]byte, error) {
	size := -1
	for {
		line, err := p.br.ReadSlice('\n')
		if err != nil {
			return nil, fmt.Errorf("stream: part header: %w", err)
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			v = bytes.TrimSpace(v)
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 0 || n > MaxPartSize {
				return nil, fmt.Errorf("stream: part Content-Length %.20q", v)
			}
			size = n
		}
		if size >= 0 && len(bytes.TrimSpace(line)) == 0 {
			break
		}
	}
	if size > cap(p.buf) {
		p.buf = make([]byte, max(size, 1<<20))
	}
	b := p.buf[:size]
	if _, err := io.ReadFull(p.br, b); err != nil {
		return nil, fmt.Errorf("stream: part body: %w", err)
	}
	return b, nil
}
