package camsession

import (
	"sync/atomic"
	"time"
)

// Frame is one complete JPEG image received from a camera. A Frame is
// immutable once emitted: every field, and the bytes of JPEG, may be shared
// by any number of readers without copying, and nobody may modify them
// (only the room around the JPEG is written, once, by Framed).
type Frame struct {
	// JPEG holds the whole image, from SOI (FF D8) to EOI (FF D9).
	JPEG []byte
	// Index is the camera's frame index (wraps at 65536).
	Index uint16
	// Seq counts frames emitted by one session, from 1, never wrapping.
	Seq uint64
	// Time is when the last packet of the frame arrived.
	Time time.Time

	// mem is the allocation JPEG lies in, at offset at, with the room
	// (FrameRoom) around it; nil for a frame made without room.
	mem    []byte
	at     int
	framed atomic.Bool // the room has been written (Framed)
}

// FrameRoom is free space that a Session leaves before (Head) and after
// (Tail) each frame's JPEG in the same allocation, so that the one
// consumer that frames every JPEG (a stream's multipart part) can put its
// framing around it without copying it (Frame.Framed).
type FrameRoom struct{ Head, Tail int }

// Framed writes head before and tail after the JPEG, into the frame's
// room, and returns the three as one slice of the frame's memory: no copy
// of the JPEG. It returns false when the room is too small, or the frame
// was framed already: the room can be written once, by one consumer.
// The JPEG itself is not written, so readers of it are not disturbed.
func (f *Frame) Framed(head, tail []byte) ([]byte, bool) {
	end := f.at + len(f.JPEG)
	if len(head) > f.at || end+len(tail) > len(f.mem) || !f.framed.CompareAndSwap(false, true) {
		return nil, false
	}
	copy(f.mem[f.at-len(head):], head)
	copy(f.mem[end:], tail)
	return f.mem[f.at-len(head) : end+len(tail) : end+len(tail)], true
}

// Audio is one audio packet: an IMA ADPCM block as the camera sent it.
// Like Frame it is immutable once emitted.
type Audio struct {
	// ADPCM holds the payload: IMA ADPCM, 8 kHz mono (PROTOCOL.md §6).
	ADPCM []byte
	// Index is the camera's audio frame index.
	Index uint16
	// Time is when the packet arrived.
	Time time.Time
}
