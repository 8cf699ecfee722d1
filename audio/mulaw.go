package audio

// G.711 µ-law (ITU-T G.711 §A.2, the segment/bias formulation of the
// reference C code): 16-bit linear samples are biased by 0x84, clipped to
// 32635, and coded as sign, 3-bit segment and 4-bit mantissa, all inverted.
const (
	muLawBias = 0x84
	muLawClip = 32635
)

// MuLaw encodes one 16-bit linear sample as G.711 µ-law.
func MuLaw(sample int16) byte {
	s := int32(sample)
	var sign byte
	if s < 0 {
		sign = 0x80
		s = -s
	}
	s = min(s, muLawClip) + muLawBias
	// Segment: position of the highest set bit above bit 7.
	exp := byte(7)
	for mask := int32(0x4000); s&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte(s>>(exp+3)) & 0x0F
	return ^(sign | exp<<4 | mant)
}

// MuLawDecode returns the linear value of a G.711 µ-law byte.
func MuLawDecode(u byte) int16 {
	u = ^u
	exp := (u >> 4) & 7
	s := (int32(u&0x0F)<<3 + muLawBias) << exp
	s -= muLawBias
	if u&0x80 != 0 {
		return int16(-s)
	}
	return int16(s)
}

// AppendMuLaw appends the µ-law encoding of pcm to dst.
func AppendMuLaw(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, MuLaw(s))
	}
	return dst
}
