package camsession

import (
	"sync/atomic"
	"time"
)

// Reassembly limits (PROTOCOL.md §5).
const (
	// DefaultMaxFrameSize caps the bytes of one frame; a 640×480 JPEG is
	// typically 20–80 KiB.
	DefaultMaxFrameSize = 1 << 20
	// DefaultMaxFramesInFlight is how many partial frames are kept at once
	// while the network reorders packets across frame boundaries.
	DefaultMaxFramesInFlight = 4

	// lateWindow is how far (in frames) a packet may lag behind the newest
	// finished frame and still be taken for a late packet. A packet further in
	// the past means the camera restarted its frame counter: the reassembler
	// starts afresh instead of discarding the new stream.
	lateWindow = 64

	// initialFrameSize is the memory given to the first frame; then each
	// frame gets the size of the largest recent one, plus a margin.
	initialFrameSize = 16 << 10
)

// ReassemblyStats counts what a Reassembler saw.
type ReassemblyStats struct {
	FramesComplete uint64 // frames emitted
	FramesDropped  uint64 // frames given up: a packet missing, too large, not SOI..EOI
	Duplicates     uint64 // packets whose frame and packet index were already stored
	Reorders       uint64 // packets that arrived after a later one
	Late           uint64 // packets of frames already finished (or hopelessly old)
}

// piece locates one packet's payload inside an assembler's buffer.
type piece struct {
	off, n int32 // n < 0: not received
}

// assembler collects the packets of one frame index. Assemblers and
// their piece tables are reused. Their memory is the frame's: allocated
// with the frame's room when its first packet arrives, so that the last
// packet finds nothing to allocate, and a frame whose packets came in
// order is emitted in it as it is, without a copy; the assembler gets new
// memory for its next frame. A frame that came out of order is copied
// out of it in packet order, and memory of frames given up is reused.
type assembler struct {
	index   uint16
	dead    bool // given up (and counted); later packets are ignored
	ordered bool // every packet so far arrived in index order: the payloads are the frame
	// mem is head bytes of room, then the payloads in arrival order;
	// nil once an emitted frame took it.
	mem    []byte
	head   int
	pieces []piece // by packet index
	count  int     // distinct packets stored
	top    int     // highest packet index stored, -1 when none
}

// reset starts frame index in memory with room for head bytes before and
// size+tail bytes after.
func (a *assembler) reset(index uint16, head, size, tail int) {
	a.index, a.dead, a.ordered = index, false, true
	if need := head + size + tail; cap(a.mem) < need || a.head != head {
		a.mem = make([]byte, head, need)
	}
	a.mem, a.head = a.mem[:head], head
	a.pieces = a.pieces[:0]
	a.count, a.top = 0, -1
}

// payloads returns the payloads stored, in arrival order.
func (a *assembler) payloads() []byte { return a.mem[a.head:] }

// edge returns the first two (head) or last two bytes of the frame. The
// caller guarantees that packets 0..top are all present; payloads may be
// shorter than two bytes or empty.
func (a *assembler) edge(head bool) (b0, b1 byte, ok bool) {
	var got [2]byte
	need := 2
	buf := a.payloads()
	if head {
		for i := 0; i <= a.top && need > 0; i++ {
			p := a.pieces[i]
			for j := int32(0); j < p.n && need > 0; j++ {
				got[2-need] = buf[p.off+j]
				need--
			}
		}
		return got[0], got[1], need == 0
	}
	for i := a.top; i >= 0 && need > 0; i-- {
		p := a.pieces[i]
		for j := p.n - 1; j >= 0 && need > 0; j-- {
			got[need-1] = buf[p.off+j]
			need--
		}
	}
	return got[0], got[1], need == 0
}

// Reassembler turns video media packets into whole JPEG frames
// (PROTOCOL.md §5). Pieces are keyed by frame index and packet index, so
// reordering, duplicates and interleaved frames are handled; late packets of
// finished frames are discarded; the frame index may wrap from 65535 to 0.
//
// A frame is emitted as soon as it is complete: packets 0..k are all present,
// packet k is the highest index seen for the frame, and the concatenated
// payloads start with SOI (FF D8) and end with EOI (FF D9). Nothing waits for
// the next frame's packet 0. When a frame completes, older partial frames can
// no longer be shown in order and are dropped.
//
// Push allocates once per frame, at the frame's first packet: memory the
// size of the largest recent frame plus a margin, with the frame's room.
// The packets are gathered in it; a frame whose packets came in order is
// emitted in it, so the last packet, which viewers wait on, allocates
// only the Frame and copies nothing. A frame that came out of order is
// copied once into memory of its exact size. Memory is bounded by about
// MaxFrameSize × (MaxFramesInFlight + 1) for the frames in flight plus the
// frames still referenced (a stream hub keeps the last few).
//
// A Reassembler is not safe for concurrent use, except Stats, which may be
// called from any goroutine.
type Reassembler struct {
	// Room is left around each frame's JPEG (Frame.Framed); set it
	// before the first Push.
	Room FrameRoom

	maxFrame   int
	maxFlight  int
	maxPackets int

	flight []*assembler // partial frames, unordered, at most maxFlight
	free   []*assembler

	newest     uint16 // newest frame index seen
	haveNewest bool
	done       uint16 // newest frame index finished (emitted or given up)
	haveDone   bool
	seq        uint64
	sizeHint   int // memory for a new frame, besides its room
	recent     int // the size of the largest recent frame, fading

	complete, dropped, dups, reorders, late atomic.Uint64
}

// NewReassembler returns a Reassembler; zero or negative limits take the
// defaults DefaultMaxFrameSize and DefaultMaxFramesInFlight.
func NewReassembler(maxFrameSize, maxFramesInFlight int) *Reassembler {
	if maxFrameSize <= 0 {
		maxFrameSize = DefaultMaxFrameSize
	}
	if maxFramesInFlight <= 0 {
		maxFramesInFlight = DefaultMaxFramesInFlight
	}
	// At most one packet per 16 bytes of frame: bounds the piece table even
	// when a hostile packet claims index 65535.
	maxPackets := min(max(maxFrameSize/16, 256), 1<<16)
	r := &Reassembler{
		maxFrame:   maxFrameSize,
		maxFlight:  maxFramesInFlight,
		maxPackets: maxPackets,
		sizeHint:   min(maxFrameSize, initialFrameSize),
		flight:     make([]*assembler, 0, maxFramesInFlight),
		free:       make([]*assembler, 0, maxFramesInFlight+1),
	}
	for range maxFramesInFlight + 1 {
		r.free = append(r.free, &assembler{pieces: make([]piece, 0, min(maxPackets, 128))})
	}
	return r
}

// Stats returns the counters so far.
func (r *Reassembler) Stats() ReassemblyStats {
	return ReassemblyStats{
		FramesComplete: r.complete.Load(),
		FramesDropped:  r.dropped.Load(),
		Duplicates:     r.dups.Load(),
		Reorders:       r.reorders.Load(),
		Late:           r.late.Load(),
	}
}

// Reset forgets every partial frame (counting them as dropped) and the frame
// index history, for a new stream after a reconnect. Seq keeps counting.
func (r *Reassembler) Reset() {
	for len(r.flight) > 0 {
		r.giveUp(r.flight[0])
	}
	r.haveNewest, r.haveDone = false, false
}

// newer reports whether frame index a is after b, with wrap-around
// (serial-number arithmetic over 16 bits).
func newer(a, b uint16) bool { return int16(a-b) > 0 }

// Push adds one video packet. It returns the frame that this packet
// completed, or nil. m.Payload is copied; the caller may reuse its buffer.
func (r *Reassembler) Push(m Media) *Frame {
	f := m.Frame
	if r.haveDone && !newer(f, r.done) {
		if int16(f-r.done) > -lateWindow {
			r.late.Add(1)
			return nil
		}
		r.Reset() // the camera started a new count
	}
	reordered := false
	switch {
	case !r.haveNewest:
		r.newest, r.haveNewest = f, true
	case newer(f, r.newest):
		r.newest = f
	case f != r.newest:
		reordered = true
	}

	a := r.find(f)
	if a == nil {
		if len(r.flight) == r.maxFlight {
			old := r.oldest()
			if newer(old.index, f) {
				// Older than every frame in flight and no room: hopeless.
				r.late.Add(1)
				return nil
			}
			r.giveUp(old)
		}
		a = r.free[len(r.free)-1]
		r.free = r.free[:len(r.free)-1]
		a.reset(f, max(r.Room.Head, 0), r.sizeHint, max(r.Room.Tail, 0))
		r.flight = append(r.flight, a)
	}
	if a.dead {
		return nil
	}

	p := int(m.Packet)
	if p < len(a.pieces) && a.pieces[p].n >= 0 {
		r.dups.Add(1)
		return nil
	}
	if reordered || p < a.top {
		r.reorders.Add(1)
	}
	if p >= r.maxPackets || len(a.mem)-a.head+len(m.Payload) > r.maxFrame {
		a.dead = true
		r.dropped.Add(1)
		return nil
	}
	for len(a.pieces) <= p {
		a.pieces = append(a.pieces, piece{n: -1})
	}
	if p != a.count {
		a.ordered = false
	}
	a.pieces[p] = piece{off: int32(len(a.mem) - a.head), n: int32(len(m.Payload))}
	a.mem = append(a.mem, m.Payload...)
	a.count++
	a.top = max(a.top, p)

	if a.count != a.top+1 {
		return nil // a hole below the highest index
	}
	if e0, e1, ok := a.edge(false); !ok || e0 != 0xff || e1 != 0xd9 {
		return nil // not the end yet
	}
	if s0, s1, ok := a.edge(true); !ok || s0 != 0xff || s1 != 0xd8 {
		r.finishDropped(a)
		return nil
	}
	return r.emit(a)
}

func (r *Reassembler) find(f uint16) *assembler {
	for _, a := range r.flight {
		if a.index == f {
			return a
		}
	}
	return nil
}

func (r *Reassembler) oldest() *assembler {
	o := r.flight[0]
	for _, a := range r.flight[1:] {
		if newer(o.index, a.index) {
			o = a
		}
	}
	return o
}

// release takes a out of flight and marks its index finished.
func (r *Reassembler) release(a *assembler) {
	for i, x := range r.flight {
		if x == a {
			last := len(r.flight) - 1
			r.flight[i] = r.flight[last]
			r.flight[last] = nil
			r.flight = r.flight[:last]
			break
		}
	}
	r.free = append(r.free, a)
	if !r.haveDone || newer(a.index, r.done) {
		r.done, r.haveDone = a.index, true
	}
}

// giveUp drops a partial frame, counting it unless it was counted already.
func (r *Reassembler) giveUp(a *assembler) {
	if !a.dead {
		r.dropped.Add(1)
	}
	r.release(a)
}

func (r *Reassembler) finishDropped(a *assembler) {
	a.dead = true
	r.dropped.Add(1)
	r.release(a)
}

func (r *Reassembler) emit(a *assembler) *Frame {
	head, tail := a.head, max(r.Room.Tail, 0)
	var mem []byte
	if a.ordered && cap(a.mem)-len(a.mem) >= tail {
		// The payloads are the JPEG, with the room around it: the
		// frame takes the memory.
		mem, a.mem = a.mem, nil
	} else {
		// One allocation: the room before, the JPEG, the room after.
		buf := a.payloads()
		mem = make([]byte, head, head+len(buf)+tail)
		for _, p := range a.pieces[:a.top+1] {
			mem = append(mem, buf[p.off:p.off+p.n]...)
		}
	}
	// The capacity is clipped, so that a reader who appends to the JPEG
	// gets a copy rather than writing past the frame.
	jpeg := mem[head:len(mem):len(mem)]
	// Memory for the next frame: the size of the largest recent one (it
	// fades by 1/32 a frame) plus a margin, so that a frame's memory
	// rarely grows while its packets arrive (a copy, on the last packets
	// as often as not), and little is left unused in the frames a hub
	// keeps.
	r.recent = max(len(jpeg), r.recent-r.recent/32)
	r.sizeHint = min(r.maxFrame, r.recent+r.recent/16+1024)
	r.seq++
	// The frame's room is what was asked for, whatever memory is left.
	room := mem[:len(mem)+tail]
	fr := &Frame{JPEG: jpeg, Index: a.index, Seq: r.seq, Time: time.Now(), mem: room, at: head}
	r.complete.Add(1)
	// Older partial frames can no longer be delivered in order.
	for i := 0; i < len(r.flight); {
		if o := r.flight[i]; o != a && newer(a.index, o.index) {
			r.giveUp(o)
			continue
		}
		i++
	}
	r.release(a)
	return fr
}
