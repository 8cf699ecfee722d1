package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// headerReadLimit bounds how much of a file readHeader reads: the header
// elements of a recording take a few hundred bytes.
const headerReadLimit = 64 << 10

// fileHeader is what readHeader finds before the first Cluster.
type fileHeader struct {
	Start       time.Time     // DateUTC
	Duration    time.Duration // valid when HasDuration
	HasDuration bool          // false for a file that was never closed
	Title       string
	Audio       bool // has an audio track
}

var errNotMatroska = errors.New("record: not a Matroska file")

// readHeader reads the EBML header, Info and Tracks of a Matroska file,
// stopping at the first Cluster. It reads at most headerReadLimit bytes
// and trusts none of them: sizes are checked against what was read.
func readHeader(r io.Reader) (fileHeader, error) {
	buf, err := io.ReadAll(io.LimitReader(r, headerReadLimit))
	if err != nil {
		return fileHeader{}, fmt.Errorf("record: read header: %w", err)
	}
	return parseHeader(buf)
}

// parseHeader is readHeader on the bytes read.
func parseHeader(b []byte) (fileHeader, error) {
	var h fileHeader
	id, body, rest, err := nextElement(b)
	if err != nil || id != idEBML || !matroskaDocType(body) {
		return h, errNotMatroska
	}
	id, n, unknown, err := elementHeader(rest)
	if err != nil || id != idSegment {
		return h, errNotMatroska
	}
	seg := rest[n:]
	if size := sizeOf(rest); !unknown && size < uint64(len(seg)) {
		seg = seg[:size]
	}
	scale := uint64(timestampScale)
	var dur float64
	haveInfo := false
	for len(seg) > 0 {
		cid, _, cunknown, cerr := elementHeader(seg)
		if cerr != nil || cid == idCluster || cunknown {
			break // the header elements are over (or cut off)
		}
		_, cbody, next, cerr := nextElement(seg)
		if cerr != nil {
			break
		}
		switch cid {
		case idInfo:
			haveInfo = true
			if err := parseInfo(cbody, &h, &scale, &dur); err != nil {
				return h, err
			}
		case idTracks:
			h.Audio = hasAudioTrack(cbody)
		}
		seg = next
	}
	if !haveInfo {
		return h, errors.New("record: no Info element before the first Cluster")
	}
	if h.HasDuration {
		ns := dur * float64(scale)
		if math.IsNaN(ns) || ns < 0 || ns > float64(math.MaxInt64) {
			h.HasDuration = false
		} else {
			h.Duration = time.Duration(ns)
		}
	}
	return h, nil
}

// matroskaDocType reports whether an EBML header's body names Matroska
// (or WebM, its subset).
func matroskaDocType(body []byte) bool {
	for len(body) > 0 {
		id, v, next, err := nextElement(body)
		if err != nil {
			return false
		}
		if id == idDocType {
			return string(v) == "matroska" || string(v) == "webm"
		}
		body = next
	}
	return false
}

// parseInfo reads the Info element's body into h; the Duration is left in
// dur, in units of scale nanoseconds.
func parseInfo(body []byte, h *fileHeader, scale *uint64, dur *float64) error {
	for len(body) > 0 {
		id, v, next, err := nextElement(body)
		if err != nil {
			return fmt.Errorf("record: bad Info element: %w", err)
		}
		switch id {
		case idTimestampScale:
			if s, ok := beUint(v); ok && s > 0 {
				*scale = s
			}
		case idDateUTC:
			if len(v) == 8 {
				h.Start = matroskaEpoch.Add(time.Duration(int64(binary.BigEndian.Uint64(v))))
			}
		case idDuration:
			switch len(v) {
			case 4:
				*dur, h.HasDuration = float64(math.Float32frombits(binary.BigEndian.Uint32(v))), true
			case 8:
				*dur, h.HasDuration = math.Float64frombits(binary.BigEndian.Uint64(v)), true
			}
		case idTitle:
			h.Title = string(v)
		}
		body = next
	}
	return nil
}

// hasAudioTrack reports whether a Tracks element's body has an audio
// track.
func hasAudioTrack(body []byte) bool {
	for len(body) > 0 {
		id, entry, next, err := nextElement(body)
		if err != nil {
			return false
		}
		for id == idTrackEntry && len(entry) > 0 {
			fid, v, rest, ferr := nextElement(entry)
			if ferr != nil {
				break
			}
			if t, ok := beUint(v); fid == idTrackType && ok && t == 2 {
				return true
			}
			entry = rest
		}
		body = next
	}
	return false
}

// elementHeader reads an element's ID and size: n is the header length,
// unknown is true for the unknown size.
func elementHeader(b []byte) (id uint32, n int, unknown bool, err error) {
	idLen, err := vintLen(b)
	if err != nil || idLen > 4 {
		return 0, 0, false, errors.New("bad element ID")
	}
	for _, c := range b[:idLen] {
		id = id<<8 | uint32(c)
	}
	sizeLen, err := vintLen(b[idLen:])
	if err != nil {
		return 0, 0, false, errors.New("bad element size")
	}
	v := uint64(b[idLen]) & (0xFF >> sizeLen)
	all := v == 0xFF>>sizeLen
	for _, c := range b[idLen+1 : idLen+sizeLen] {
		v = v<<8 | uint64(c)
		all = all && c == 0xFF
	}
	return id, idLen + sizeLen, all, nil
}

// sizeOf returns the size field of the element at the start of b, which
// elementHeader has accepted.
func sizeOf(b []byte) uint64 {
	idLen, _ := vintLen(b)
	sizeLen, _ := vintLen(b[idLen:])
	v := uint64(b[idLen]) & (0xFF >> sizeLen)
	for _, c := range b[idLen+1 : idLen+sizeLen] {
		v = v<<8 | uint64(c)
	}
	return v
}

// nextElement splits off the element at the start of b: its ID, its body
// and what follows. An unknown size or a body longer than b is an error.
func nextElement(b []byte) (id uint32, body, rest []byte, err error) {
	id, n, unknown, err := elementHeader(b)
	if err != nil {
		return 0, nil, nil, err
	}
	if unknown {
		return 0, nil, nil, errors.New("element of unknown size")
	}
	size := sizeOf(b)
	if size > uint64(len(b)-n) {
		return 0, nil, nil, errors.New("element longer than the data")
	}
	return id, b[n : n+int(size)], b[n+int(size):], nil
}

// vintLen returns the length of the variable-size integer starting b.
func vintLen(b []byte) (int, error) {
	if len(b) == 0 || b[0] == 0 {
		return 0, errors.New("bad variable-size integer")
	}
	l := 1
	for m := byte(0x80); b[0]&m == 0; m >>= 1 {
		l++
	}
	if l > len(b) {
		return 0, errors.New("variable-size integer cut off")
	}
	return l, nil
}

// beUint reads an unsigned integer element's body (0 to 8 bytes).
func beUint(b []byte) (uint64, bool) {
	if len(b) > 8 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, true
}
