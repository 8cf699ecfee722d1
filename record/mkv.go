package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Matroska element IDs (RFC 9559), with their length marker bits.
const (
	idEBML               = 0x1A45DFA3
	idEBMLVersion        = 0x4286
	idEBMLReadVersion    = 0x42F7
	idEBMLMaxIDLength    = 0x42F2
	idEBMLMaxSizeLength  = 0x42F3
	idDocType            = 0x4282
	idDocTypeVersion     = 0x4287
	idDocTypeReadVersion = 0x4285
	idVoid               = 0xEC

	idSegment        = 0x18538067
	idSeekHead       = 0x114D9B74
	idSeek           = 0x4DBB
	idSeekID         = 0x53AB
	idSeekPosition   = 0x53AC
	idInfo           = 0x1549A966
	idTimestampScale = 0x2AD7B1
	idDuration       = 0x4489
	idDateUTC        = 0x4461
	idTitle          = 0x7BA9
	idMuxingApp      = 0x4D80
	idWritingApp     = 0x5741

	idTracks            = 0x1654AE6B
	idTrackEntry        = 0xAE
	idTrackNumber       = 0xD7
	idTrackUID          = 0x73C5
	idTrackType         = 0x83
	idFlagLacing        = 0x9C
	idCodecID           = 0x86
	idLanguage          = 0x22B59C
	idVideo             = 0xE0
	idPixelWidth        = 0xB0
	idPixelHeight       = 0xBA
	idAudio             = 0xE1
	idSamplingFrequency = 0xB5
	idChannels          = 0x9F
	idBitDepth          = 0x6264

	idCluster     = 0x1F43B675
	idTimestamp   = 0xE7
	idSimpleBlock = 0xA3

	idCues               = 0x1C53BB6B
	idCuePoint           = 0xBB
	idCueTime            = 0xB3
	idCueTrackPositions  = 0xB7
	idCueTrack           = 0xF7
	idCueClusterPosition = 0xF1
)

// Matroska values used by the writer.
const (
	// timestampScale is the segment's tick: every timestamp in the file
	// counts milliseconds.
	timestampScale = time.Millisecond

	trackVideo = 1
	trackAudio = 2

	codecMJPEG = "V_MJPEG"
	codecPCM   = "A_PCM/INT/LIT"

	// unknownSize is the 8-byte EBML size "unknown": what the Segment and
	// the open Cluster carry until they are closed, so that a file cut
	// short at any point is still read to its end.
	unknownSize = 0x01FFFFFFFFFFFFFF

	// seekHeadSpace is reserved (as a Void element) after the Segment
	// header for a SeekHead pointing at the Cues, written on Close.
	seekHeadSpace = 40
	// durationSpace is the size of a Duration element with an 8-byte
	// float, reserved as a Void in Info and filled on Close.
	durationSpace = 11
	// clusterHeaderLen is a Cluster's ID and 8-byte size.
	clusterHeaderLen = 12
)

// matroskaEpoch is the origin of DateUTC.
var matroskaEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// mkvFile is what the writer needs of its file: appending, patching
// earlier bytes, and cutting off a block that was written in part.
type mkvFile interface {
	io.Writer
	io.WriterAt
	Truncate(size int64) error
}

// mkvTracks describes the tracks of a Matroska file.
type mkvTracks struct {
	Width, Height int  // video size in pixels
	Audio         bool // a PCM track: AudioRate Hz, mono, 16-bit little-endian
	AudioRate     int
}

// mkvWriter writes a Matroska file of MJPEG frames (V_MJPEG, each JPEG
// stored unchanged as one block) and optional PCM audio, for playback of a
// file that may be cut short at any moment:
//
//   - the Segment and the Cluster being written have unknown size, and
//     every block is written with one write as it comes, so a process
//     killed mid-file leaves a file that players read up to its last whole
//     block;
//   - a Cluster's size is filled in when the next one starts, the Segment's
//     size, the Duration and an index (Cues, referenced from a SeekHead in
//     space reserved at the start) when the file is closed; players do
//     without them in a file that was never closed.
//
// Timestamps are milliseconds from the file's start (DateUTC). A new
// Cluster starts on a video frame once the current one spans clusterSpan.
type mkvWriter struct {
	f      mkvFile
	off    int64 // bytes in the file
	good   int64 // end of the last complete element
	broken error // the first write error; nothing more is written

	segData    int64 // offset of the Segment's data: origin of positions
	seekPos    int64 // offset of the reserved SeekHead space
	durPos     int64 // offset of the reserved Duration space
	cluster    int64 // offset of the open Cluster, -1 before the first
	clusterTS  int64 // the open Cluster's timestamp (ms)
	clusterMax time.Duration
	lastVideo  int64      // latest video timestamp (ms), -1 before the first
	cues       []cuePoint // one per Cluster that starts on a video frame
	buf        []byte
}

// cuePoint indexes one Cluster: its timestamp (ms) and its position in
// the Segment.
type cuePoint struct{ ts, pos int64 }

// newMKVWriter writes the header of a file whose first frame was taken at
// start and returns the writer. title names the file's content (the
// camera).
func newMKVWriter(f mkvFile, start time.Time, title string, tr mkvTracks, clusterSpan time.Duration) (*mkvWriter, error) {
	w := &mkvWriter{f: f, cluster: -1, clusterMax: clusterSpan, lastVideo: -1}
	b := appendEBMLHeader(nil)
	b = appendID(b, idSegment)
	b = binary.BigEndian.AppendUint64(b, unknownSize)
	w.segData = int64(len(b))
	w.seekPos = int64(len(b))
	b = appendVoid(b, seekHeadSpace)

	var info []byte
	info = appendUint(info, idTimestampScale, uint64(timestampScale/time.Nanosecond))
	info = appendString(info, idMuxingApp, "chinesium")
	info = appendString(info, idWritingApp, "chinesium")
	info = appendInt(info, idDateUTC, start.Sub(matroskaEpoch).Nanoseconds())
	if title != "" {
		info = appendString(info, idTitle, title)
	}
	b = appendID(b, idInfo)
	b = appendSize(b, uint64(len(info)+durationSpace))
	b = append(b, info...)
	w.durPos = int64(len(b))
	b = appendVoid(b, durationSpace)

	var tracks []byte
	var v []byte
	v = appendUint(v, idPixelWidth, uint64(tr.Width))
	v = appendUint(v, idPixelHeight, uint64(tr.Height))
	var te []byte
	te = appendUint(te, idTrackNumber, trackVideo)
	te = appendUint(te, idTrackUID, trackVideo)
	te = appendUint(te, idTrackType, 1) // video
	te = appendUint(te, idFlagLacing, 0)
	te = appendString(te, idCodecID, codecMJPEG)
	te = appendString(te, idLanguage, "und")
	te = appendMaster(te, idVideo, v)
	tracks = appendMaster(tracks, idTrackEntry, te)
	if tr.Audio {
		var a []byte
		a = appendFloat(a, idSamplingFrequency, float64(tr.AudioRate))
		a = appendUint(a, idChannels, 1)
		a = appendUint(a, idBitDepth, 16)
		te = te[:0]
		te = appendUint(te, idTrackNumber, trackAudio)
		te = appendUint(te, idTrackUID, trackAudio)
		te = appendUint(te, idTrackType, 2) // audio
		te = appendUint(te, idFlagLacing, 0)
		te = appendString(te, idCodecID, codecPCM)
		te = appendString(te, idLanguage, "und")
		te = appendMaster(te, idAudio, a)
		tracks = appendMaster(tracks, idTrackEntry, te)
	}
	b = appendMaster(b, idTracks, tracks)
	if err := w.write(b); err != nil {
		return nil, err
	}
	return w, nil
}

// write appends b with one write. After a failure the writer is broken:
// the error is kept and returned by every later call.
func (w *mkvWriter) write(b []byte) error {
	if w.broken != nil {
		return w.broken
	}
	n, err := w.f.Write(b)
	w.off += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.broken = err
		return err
	}
	w.good = w.off
	return nil
}

// patch overwrites bytes written earlier.
func (w *mkvWriter) patch(b []byte, at int64) error {
	if w.broken != nil {
		return w.broken
	}
	if _, err := w.f.WriteAt(b, at); err != nil {
		w.broken = err
		return err
	}
	return nil
}

// Video writes one JPEG frame taken at ts from the file's start. Two
// frames never share a timestamp (players take that for an error): a frame
// within the same millisecond as the one before is moved to the next.
func (w *mkvWriter) Video(ts time.Duration, jpeg []byte) error {
	ms := max(ts.Milliseconds(), w.lastVideo+1)
	if w.cluster < 0 || ms-w.clusterTS >= w.clusterMax.Milliseconds() || ms-w.clusterTS > math.MaxInt16 {
		if err := w.newCluster(ms, true); err != nil {
			return err
		}
	}
	if err := w.block(trackVideo, ms, jpeg); err != nil {
		return err
	}
	w.lastVideo = ms
	return nil
}

// Audio writes PCM samples whose first sample was taken at ts from the
// file's start. Audio before the first video frame is not written (a
// Cluster starts on video).
func (w *mkvWriter) Audio(ts time.Duration, pcm []byte) error {
	ms := ts.Milliseconds()
	if w.cluster < 0 || ms < 0 {
		return nil
	}
	if ms-w.clusterTS > math.MaxInt16 {
		if err := w.newCluster(ms, false); err != nil {
			return err
		}
	}
	if ms-w.clusterTS < math.MinInt16 {
		return nil
	}
	return w.block(trackAudio, ms, pcm)
}

// newCluster closes the open Cluster (its size becomes known) and starts
// one at timestamp ms, indexed in the Cues when it starts with a video
// frame.
func (w *mkvWriter) newCluster(ms int64, cue bool) error {
	if err := w.closeCluster(); err != nil {
		return err
	}
	start := w.off
	b := appendID(w.buf[:0], idCluster)
	b = binary.BigEndian.AppendUint64(b, unknownSize)
	b = appendUint(b, idTimestamp, uint64(max(ms, 0)))
	w.buf = b
	if err := w.write(b); err != nil {
		return err
	}
	w.cluster, w.clusterTS = start, max(ms, 0)
	if cue {
		w.cues = append(w.cues, cuePoint{w.clusterTS, start - w.segData})
	}
	return nil
}

// closeCluster writes the open Cluster's size.
func (w *mkvWriter) closeCluster() error {
	if w.cluster < 0 {
		return nil
	}
	var size [8]byte
	binary.BigEndian.PutUint64(size[:], uint64(w.good-w.cluster-clusterHeaderLen)|1<<56)
	return w.patch(size[:], w.cluster+4)
}

// block writes one SimpleBlock (keyframe, no lacing) with one write.
func (w *mkvWriter) block(track uint64, ms int64, data []byte) error {
	b := appendID(w.buf[:0], idSimpleBlock)
	b = appendSize(b, uint64(4+len(data)))
	b = append(b, 0x80|byte(track))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(ms-w.clusterTS)))
	b = append(b, 0x80) // keyframe
	b = append(b, data...)
	w.buf = b
	return w.write(b)
}

// Size returns the bytes written so far.
func (w *mkvWriter) Size() int64 { return w.good }

// Broken returns the write error that stopped the writer, nil if none.
func (w *mkvWriter) Broken() error { return w.broken }

// Close finishes the file: the last Cluster's size, the Cues and the
// SeekHead pointing at them, the Duration (duration) and the Segment's
// size. After a write error it cuts off the block written in part and
// fills in what needs no new space (sizes and Duration), so the file is
// whole up to its last complete block. It does not close the file.
func (w *mkvWriter) Close(duration time.Duration) error {
	failed := w.broken
	if failed != nil {
		// Keep what is whole; patching needs no new space.
		if err := w.f.Truncate(w.good); err != nil {
			return errors.Join(failed, fmt.Errorf("record: cut off the partly written block: %w", err))
		}
		w.off, w.broken = w.good, nil
	}
	err := w.closeCluster()
	if err == nil && failed == nil && len(w.cues) > 0 {
		err = w.writeCues()
	}
	if err == nil {
		dur := appendID(nil, idDuration)
		dur = append(dur, 0x88)
		ms := float64(duration) / float64(timestampScale)
		dur = binary.BigEndian.AppendUint64(dur, math.Float64bits(ms))
		err = w.patch(dur, w.durPos)
	}
	if err == nil {
		var size [8]byte
		binary.BigEndian.PutUint64(size[:], uint64(w.good-w.segData)|1<<56)
		err = w.patch(size[:], w.segData-8)
	}
	return errors.Join(failed, err)
}

// writeCues appends the index, one CuePoint per Cluster, and fills the
// reserved space at the start with a SeekHead pointing at it.
func (w *mkvWriter) writeCues() error {
	at := w.off
	var cues []byte
	for _, c := range w.cues {
		var pos, pt []byte
		pos = appendUint(pos, idCueTrack, trackVideo)
		pos = appendUint(pos, idCueClusterPosition, uint64(c.pos))
		pt = appendUint(pt, idCueTime, uint64(c.ts))
		pt = appendMaster(pt, idCueTrackPositions, pos)
		cues = appendMaster(cues, idCuePoint, pt)
	}
	if err := w.write(appendMaster(nil, idCues, cues)); err != nil {
		return err
	}
	var seek, id []byte
	id = appendID(id, idCues)
	seek = appendBytes(seek, idSeekID, id)
	seek = appendUint(seek, idSeekPosition, uint64(at-w.segData))
	head := appendMaster(nil, idSeekHead, appendMaster(nil, idSeek, seek))
	if len(head) > seekHeadSpace-2 {
		return nil // cannot happen with 8-byte positions; the index is then unused
	}
	head = appendVoid(head, seekHeadSpace-len(head))
	return w.patch(head, w.seekPos)
}

// appendEBMLHeader appends the EBML header of a Matroska v4 file.
func appendEBMLHeader(b []byte) []byte {
	var h []byte
	h = appendUint(h, idEBMLVersion, 1)
	h = appendUint(h, idEBMLReadVersion, 1)
	h = appendUint(h, idEBMLMaxIDLength, 4)
	h = appendUint(h, idEBMLMaxSizeLength, 8)
	h = appendString(h, idDocType, "matroska")
	h = appendUint(h, idDocTypeVersion, 4)
	h = appendUint(h, idDocTypeReadVersion, 2)
	return appendMaster(b, idEBML, h)
}

// appendID appends an element ID (its bytes include the length marker).
func appendID(b []byte, id uint32) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// appendSize appends n as an EBML variable-size integer of the shortest
// length (never the all-ones value that means unknown).
func appendSize(b []byte, n uint64) []byte {
	l := 1
	for l < 8 && n >= 1<<(7*l)-1 {
		l++
	}
	v := n | 1<<(7*l)
	for i := l - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func appendMaster(b []byte, id uint32, body []byte) []byte {
	b = appendID(b, id)
	b = appendSize(b, uint64(len(body)))
	return append(b, body...)
}

func appendBytes(b []byte, id uint32, v []byte) []byte { return appendMaster(b, id, v) }

func appendString(b []byte, id uint32, s string) []byte {
	b = appendID(b, id)
	b = appendSize(b, uint64(len(s)))
	return append(b, s...)
}

func appendUint(b []byte, id uint32, v uint64) []byte {
	n := 1
	for n < 8 && v >= 1<<(8*n) {
		n++
	}
	b = appendID(b, id)
	b = appendSize(b, uint64(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func appendInt(b []byte, id uint32, v int64) []byte {
	b = appendID(b, id)
	b = append(b, 0x88)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

func appendFloat(b []byte, id uint32, v float64) []byte {
	b = appendID(b, id)
	b = append(b, 0x88)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(v))
}

// appendVoid appends a Void element of n bytes in all (n ≥ 2).
func appendVoid(b []byte, n int) []byte {
	b = append(b, idVoid)
	if n-2 < 127 {
		b = append(b, 0x80|byte(n-2))
		return append(b, make([]byte, n-2)...)
	}
	b = append(b, 0x40|byte((n-3)>>8), byte(n-3))
	return append(b, make([]byte, n-3)...)
}
