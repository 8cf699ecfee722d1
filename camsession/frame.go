package camsession

import "time"

// Frame is one complete JPEG image received from a camera. A Frame is
// immutable once emitted: every field, and the bytes of JPEG, may be shared
// by any number of readers without copying, and nobody may modify them.
type Frame struct {
	// JPEG holds the whole image, from SOI (FF D8) to EOI (FF D9).
	JPEG []byte
	// Index is the camera's frame index (wraps at 65536).
	Index uint16
	// Seq counts frames emitted by one session, from 1, never wrapping.
	Seq uint64
	// Time is when the last packet of the frame arrived.
	Time time.Time
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
