package fakecam

import (
	"encoding/binary"
	"math"
)

// Audio parameters of the fake camera (PROTOCOL.md §6): IMA ADPCM, 8 kHz
// mono, one block of AudioSamples samples per packet, so one packet every
// 32 ms.
const (
	AudioRate    = 8000
	AudioSamples = 256
	// AudioBlockLen is the payload size: the 4-byte IMA state header and
	// two samples per byte.
	AudioBlockLen = 4 + AudioSamples/2
	// toneHz is the pitch of the generated tone.
	toneHz = 440
)

// Standard IMA ADPCM tables.
var (
	imaIndex = [16]int{-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8}
	imaStep  = [89]int{
		7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45,
		50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130, 143, 157, 173, 190, 209, 230,
		253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796, 876, 963,
		1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272, 2499, 2749, 3024, 3327,
		3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442,
		11487, 12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794,
		32767,
	}
)

// imaEncoder is a continuous IMA ADPCM encoder.
type imaEncoder struct {
	pred  int // predicted sample
	index int // step index 0..88
}

// encodeSample encodes one 16-bit sample into a 4-bit code and updates the
// state exactly as a decoder will.
func (e *imaEncoder) encodeSample(s int16) byte {
	step := imaStep[e.index]
	diff := int(s) - e.pred
	var code byte
	if diff < 0 {
		code = 8
		diff = -diff
	}
	vpdiff := step >> 3
	if diff >= step {
		code |= 4
		diff -= step
		vpdiff += step
	}
	step >>= 1
	if diff >= step {
		code |= 2
		diff -= step
		vpdiff += step
	}
	step >>= 1
	if diff >= step {
		code |= 1
		vpdiff += step
	}
	if code&8 != 0 {
		e.pred -= vpdiff
	} else {
		e.pred += vpdiff
	}
	e.pred = max(math.MinInt16, min(math.MaxInt16, e.pred))
	e.index = max(0, min(88, e.index+imaIndex[code]))
	return code
}

// appendBlock appends one audio block: the 4-byte state header (i16 LE
// predictor, u8 step index, u8 0) holding the state before the first sample,
// then the codes, first sample in the low nibble (PROTOCOL.md §6). Because
// the header carries the real state, the block decodes the same whether a
// decoder starts each block from its header or decodes continuously.
func (e *imaEncoder) appendBlock(b []byte, samples []int16) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(int16(e.pred)))
	b = append(b, byte(e.index), 0)
	for i := 0; i+1 < len(samples); i += 2 {
		lo := e.encodeSample(samples[i])
		hi := e.encodeSample(samples[i+1])
		b = append(b, lo|hi<<4)
	}
	return b
}

// tone generates a continuous sine tone.
type tone struct {
	phase float64
}

// fill writes the next len(s) samples of the tone into s.
func (t *tone) fill(s []int16) {
	const amp = 0.3 * math.MaxInt16
	d := 2 * math.Pi * toneHz / AudioRate
	for i := range s {
		s[i] = int16(amp * math.Sin(t.phase))
		t.phase += d
		if t.phase > 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
}
