package record

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// MaxFrameSize bounds the video frames FrameReader returns: a bigger block
// is skipped, never read into memory. The camera's 640×480 JPEGs take
// about 40 KB.
const MaxFrameSize = 8 << 20

// ErrMalformed is returned by FrameReader for a file that is not a
// recording it can read.
var ErrMalformed = errors.New("record: malformed recording")

// FrameReader reads the video frames of a recording (a Matroska file with
// a V_MJPEG track, as the Recorder writes them), in order, each with its
// timestamp from the file's start. It reads a file that is cut short (a
// crash, or a segment still being written) up to its last whole frame.
// It trusts none of the file's bytes: sizes are checked, and nothing
// bigger than MaxFrameSize is held in memory.
type FrameReader struct {
	r     io.ReaderAt
	off   int64         // the next element's offset
	scale time.Duration // one timestamp tick
	video uint64        // the video track's number

	clusterTS int64         // the current Cluster's timestamp, in ticks
	from      time.Duration // frames before it are skipped (Seek)
	hdr       [12]byte
}

// NewFrameReader reads the file's header (at most 64 KiB) and returns a
// reader positioned at its first frame.
func NewFrameReader(r io.ReaderAt) (*FrameReader, error) {
	buf := make([]byte, headerReadLimit)
	n, err := r.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("record: read header: %w", err)
	}
	buf = buf[:n]
	fr := &FrameReader{r: r, scale: timestampScale}
	id, _, rest, err := nextElement(buf)
	if err != nil || id != idEBML {
		return nil, errNotMatroska
	}
	id, hn, _, err := elementHeader(rest)
	if err != nil || id != idSegment {
		return nil, errNotMatroska
	}
	pos := int64(len(buf)-len(rest)) + int64(hn)
	seg := rest[hn:]
	for len(seg) > 0 {
		cid, _, unknown, cerr := elementHeader(seg)
		if cerr != nil || cid == idCluster || unknown {
			break
		}
		_, body, next, cerr := nextElement(seg)
		if cerr != nil {
			break
		}
		switch cid {
		case idInfo:
			var h fileHeader
			var scale uint64
			var dur float64
			if err := parseInfo(body, &h, &scale, &dur); err != nil {
				return nil, err
			}
			if scale > 0 && scale <= uint64(time.Second) {
				fr.scale = time.Duration(scale)
			}
		case idTracks:
			fr.video = mjpegTrack(body)
		}
		pos += int64(len(seg) - len(next))
		seg = next
	}
	if fr.video == 0 {
		return nil, fmt.Errorf("%w: no V_MJPEG track", ErrMalformed)
	}
	fr.off = pos
	return fr, nil
}

// mjpegTrack returns the number of the first V_MJPEG track in a Tracks
// element's body, 0 if none.
func mjpegTrack(body []byte) uint64 {
	for len(body) > 0 {
		id, entry, next, err := nextElement(body)
		if err != nil {
			return 0
		}
		if id == idTrackEntry {
			var num uint64
			var codec string
			for len(entry) > 0 {
				fid, v, rest, ferr := nextElement(entry)
				if ferr != nil {
					break
				}
				switch fid {
				case idTrackNumber:
					num, _ = beUint(v)
				case idCodecID:
					codec = string(v)
				}
				entry = rest
			}
			if codec == codecMJPEG && num > 0 {
				return num
			}
		}
		body = next
	}
	return 0
}

// Seek makes Next skip the frames before t. It only moves forward: call
// it before the first Next. Whole Clusters before t are stepped over
// without reading their frames.
func (fr *FrameReader) Seek(t time.Duration) { fr.from = t }

// header reads the element header at off: its ID, header length, body size
// (-1 for unknown). A header cut off by the end of the file is io.EOF.
func (fr *FrameReader) header(off int64) (id uint32, n int, size int64, err error) {
	got, rerr := fr.r.ReadAt(fr.hdr[:], off)
	if got == 0 {
		if rerr == nil || errors.Is(rerr, io.EOF) {
			return 0, 0, 0, io.EOF
		}
		return 0, 0, 0, fmt.Errorf("record: read: %w", rerr)
	}
	id, n, unknown, herr := elementHeader(fr.hdr[:got])
	if herr != nil {
		if got < len(fr.hdr) {
			return 0, 0, 0, io.EOF // cut off in the header
		}
		return 0, 0, 0, fmt.Errorf("%w at offset %d: %w", ErrMalformed, off, herr)
	}
	if unknown {
		return id, n, -1, nil
	}
	s := sizeOf(fr.hdr[:got])
	if s > 1<<56 {
		return 0, 0, 0, fmt.Errorf("%w at offset %d: element size %d", ErrMalformed, off, s)
	}
	return id, n, int64(s), nil
}

// read reads exactly len(b) bytes at off; a file that ends first is
// io.EOF (a block cut off by a crash).
func (fr *FrameReader) read(b []byte, off int64) error {
	n, err := fr.r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return io.EOF
	}
	return fmt.Errorf("record: read: %w", err)
}

// clusterTimestamp reads the Timestamp that opens the Cluster whose body
// starts at off.
func (fr *FrameReader) clusterTimestamp(off int64) (int64, error) {
	id, n, size, err := fr.header(off)
	if err != nil {
		return 0, err
	}
	if id != idTimestamp || size < 0 || size > 8 {
		return 0, fmt.Errorf("%w at offset %d: a Cluster without its Timestamp first", ErrMalformed, off)
	}
	var b [8]byte
	if err := fr.read(b[:size], off+int64(n)); err != nil {
		return 0, err
	}
	v, _ := beUint(b[:size])
	return int64(v), nil
}

// Next returns the next video frame and its timestamp from the file's
// start. At the end of the file, or of what was written of it, it returns
// io.EOF.
func (fr *FrameReader) Next() (time.Duration, []byte, error) {
	for {
		id, n, size, err := fr.header(fr.off)
		if err != nil {
			return 0, nil, err
		}
		body := fr.off + int64(n)
		switch id {
		case idSegment:
			fr.off = body // the top level: step in
			continue
		case idCluster:
			if fr.from > 0 && size >= 0 && fr.skipCluster(body, size) {
				fr.off = body + size
				continue
			}
			fr.off = body // step in; its Timestamp comes first
			continue
		case idTimestamp:
			if size < 0 || size > 8 {
				return 0, nil, fmt.Errorf("%w at offset %d: Timestamp of %d bytes", ErrMalformed, fr.off, size)
			}
			var b [8]byte
			if err := fr.read(b[:size], body); err != nil {
				return 0, nil, err
			}
			v, _ := beUint(b[:size])
			fr.clusterTS = int64(v)
		case idSimpleBlock:
			if size < 0 {
				return 0, nil, fmt.Errorf("%w at offset %d: SimpleBlock of unknown size", ErrMalformed, fr.off)
			}
			ts, frame, ok, err := fr.block(body, size)
			if err != nil {
				return 0, nil, err
			}
			fr.off = body + size
			if ok {
				return ts, frame, nil
			}
			continue
		default:
			if size < 0 {
				return 0, nil, fmt.Errorf("%w at offset %d: element %#x of unknown size", ErrMalformed, fr.off, id)
			}
		}
		fr.off = body + size
	}
}

// skipCluster reports whether every frame of the Cluster whose body
// starts at body is before the Seek time: the Cluster after it starts no
// later than that.
func (fr *FrameReader) skipCluster(body, size int64) bool {
	id, n, _, err := fr.header(body + size)
	if err != nil || id != idCluster {
		return false
	}
	next, err := fr.clusterTimestamp(body + size + int64(n))
	return err == nil && time.Duration(next)*fr.scale <= fr.from
}

// block reads the SimpleBlock whose body starts at body: ok is false for
// a block of another track, one before the Seek time, or one too big.
func (fr *FrameReader) block(body, size int64) (time.Duration, []byte, bool, error) {
	// Track number (a variable-size integer), 16-bit relative timestamp,
	// flags (RFC 9559 section 10.2).
	var h [11]byte
	hl := min(int64(len(h)), size)
	if err := fr.read(h[:hl], body); err != nil {
		return 0, nil, false, err
	}
	tl, err := vintLen(h[:hl])
	if err != nil || int64(tl)+3 > hl {
		return 0, nil, false, fmt.Errorf("%w at offset %d: bad SimpleBlock header", ErrMalformed, body)
	}
	track := uint64(h[0]) & (0xFF >> tl)
	for _, c := range h[1:tl] {
		track = track<<8 | uint64(c)
	}
	rel := int16(uint16(h[tl])<<8 | uint16(h[tl+1]))
	flags := h[tl+2]
	ts := time.Duration(fr.clusterTS+int64(rel)) * fr.scale
	data := size - int64(tl) - 3
	if track != fr.video || ts < fr.from || data > MaxFrameSize || flags&0x06 != 0 {
		return 0, nil, false, nil // another track, before the start, too big, or laced
	}
	frame := make([]byte, data)
	if err := fr.read(frame, body+int64(tl)+3); err != nil {
		return 0, nil, false, err
	}
	return ts, frame, true, nil
}
