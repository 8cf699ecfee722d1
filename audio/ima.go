package audio

// imaIndexTable adjusts the step index after each code (IMA ADPCM reference).
var imaIndexTable = [16]int8{-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8}

// imaStepTable is the IMA ADPCM quantizer step size for each index 0..88.
var imaStepTable = [89]int32{
	7, 8, 9, 10, 11, 12, 13, 14, 16, 17,
	19, 21, 23, 25, 28, 31, 34, 37, 41, 45,
	50, 55, 60, 66, 73, 80, 88, 97, 107, 118,
	130, 143, 157, 173, 190, 209, 230, 253, 279, 307,
	337, 371, 408, 449, 494, 544, 598, 658, 724, 796,
	876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066,
	2272, 2499, 2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358,
	5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487, 12635, 13899,
	15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767,
}

// maxStepIndex is the largest valid IMA step index.
const maxStepIndex = len(imaStepTable) - 1

// BlockHeaderLen is the size of the per-packet IMA block header.
const BlockHeaderLen = 4

// plausibleToBlock is how many plausible headers in a row bring a decoder
// that fell back to continuous decoding back to block decoding.
const plausibleToBlock = 4

// IMAState is the IMA ADPCM codec state: the last sample and the step index.
type IMAState struct {
	Predictor int32 // last reconstructed sample, -32768..32767
	Index     int32 // step index, 0..88
}

// step decodes one 4-bit code and returns the new sample.
func (s *IMAState) step(code byte) int16 {
	step := imaStepTable[s.Index]
	diff := step >> 3
	if code&1 != 0 {
		diff += step >> 2
	}
	if code&2 != 0 {
		diff += step >> 1
	}
	if code&4 != 0 {
		diff += step
	}
	if code&8 != 0 {
		s.Predictor -= diff
	} else {
		s.Predictor += diff
	}
	s.Predictor = min(max(s.Predictor, -32768), 32767)
	s.Index = min(max(s.Index+int32(imaIndexTable[code&15]), 0), int32(maxStepIndex))
	return int16(s.Predictor)
}

// Encode appends the 4-bit code for sample (IMA ADPCM reference encoder)
// and advances the state like a decoder would. Exported for tests and
// tools that synthesise camera audio.
func (s *IMAState) Encode(sample int16) byte {
	step := imaStepTable[s.Index]
	diff := int32(sample) - s.Predictor
	var code byte
	if diff < 0 {
		code = 8
		diff = -diff
	}
	if diff >= step {
		code |= 4
		diff -= step
	}
	if diff >= step>>1 {
		code |= 2
		diff -= step >> 1
	}
	if diff >= step>>2 {
		code |= 1
	}
	s.step(code)
	return code
}

// EncodeBlock appends one camera-style audio block for pcm (an even number
// of samples is expected; a trailing odd sample is dropped): a header with
// state s, then the codes, low nibble first. s is advanced.
func EncodeBlock(dst []byte, s *IMAState, pcm []int16) []byte {
	p := int16(s.Predictor)
	dst = append(dst, byte(p), byte(p>>8), byte(s.Index), 0)
	for i := 0; i+1 < len(pcm); i += 2 {
		lo := s.Encode(pcm[i])
		hi := s.Encode(pcm[i+1])
		dst = append(dst, lo|hi<<4)
	}
	return dst
}

// Decoder turns the camera's IMA ADPCM packets into PCM. Each packet is
// normally an independent block with its own header; when headers look
// implausible (a step index above 88 or a non-zero pad byte) the decoder
// falls back to continuous decoding, treating every byte as codes and
// carrying the state across packets, and returns to block decoding after a
// few plausible headers in a row. The zero value is ready to use; a Decoder
// is used by one goroutine at a time.
type Decoder struct {
	state      IMAState
	continuous bool
	plausible  int // consecutive plausible headers seen in continuous mode
}

// Continuous reports whether the decoder currently decodes packets as one
// continuous stream (headers judged implausible).
func (d *Decoder) Continuous() bool { return d.continuous }

// Reset forgets the state (after a gap in the stream).
func (d *Decoder) Reset() { *d = Decoder{} }

// Decode appends the samples of one packet to dst and returns it: two
// samples per code byte, first sample from the low nibble.
func (d *Decoder) Decode(dst []int16, packet []byte) []int16 {
	codes := d.codes(packet)
	for _, b := range codes {
		dst = append(dst, d.state.step(b&15), d.state.step(b>>4))
	}
	return dst
}

// AppendPCM16LE decodes one packet and appends the samples to dst as
// little-endian 16-bit PCM (the WAV sample format). It does not allocate
// when dst has room for 4 bytes per code byte.
func (d *Decoder) AppendPCM16LE(dst []byte, packet []byte) []byte {
	codes := d.codes(packet)
	for _, b := range codes {
		s0 := d.state.step(b & 15)
		s1 := d.state.step(b >> 4)
		dst = append(dst, byte(s0), byte(s0>>8), byte(s1), byte(s1>>8))
	}
	return dst
}

// codes decides how packet is framed, loads a block header into the state
// when there is one, and returns the code bytes.
func (d *Decoder) codes(packet []byte) []byte {
	plausible := len(packet) >= BlockHeaderLen && packet[2] <= byte(maxStepIndex) && packet[3] == 0
	if d.continuous {
		if plausible {
			d.plausible++
		} else {
			d.plausible = 0
		}
		if d.plausible < plausibleToBlock {
			return packet
		}
		d.continuous, d.plausible = false, 0
	} else if !plausible {
		d.continuous = true
		return packet
	}
	d.state = IMAState{
		Predictor: int32(int16(uint16(packet[0]) | uint16(packet[1])<<8)),
		Index:     int32(packet[2]),
	}
	return packet[BlockHeaderLen:]
}
