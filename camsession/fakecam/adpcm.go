package fakecam

import (
	"math"

	"github.com/chinesium/chinesium/audio"
)

// Audio parameters of the fake camera (PROTOCOL.md §6): IMA ADPCM, 8 kHz
// mono, one block of AudioSamples samples per packet, so one packet every
// 32 ms. The blocks are encoded with audio.EncodeBlock: the 4-byte state
// header holds the real encoder state, so a block decodes the same whether
// a decoder starts each block from its header or decodes continuously.
const (
	AudioRate    = 8000
	AudioSamples = 256
	// AudioBlockLen is the payload size: the 4-byte IMA state header and
	// two samples per byte.
	AudioBlockLen = audio.BlockHeaderLen + AudioSamples/2
	// toneHz is the pitch of the generated tone.
	toneHz = 440
)

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
