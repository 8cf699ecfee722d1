package audio

import "encoding/binary"

// WAVHeaderLen is the size of the header AppendWAVHeader writes.
const WAVHeaderLen = 44

// StreamSize is the RIFF and data chunk size written for endless streams:
// the largest value the 32-bit fields hold. Browsers and ffmpeg play such a
// file as it arrives and stop when the connection ends.
const StreamSize = 0xFFFFFFFF

// AppendWAVHeader appends a canonical 44-byte RIFF/WAVE header for 16-bit
// little-endian PCM with the given sample rate and channel count, whose
// data chunk has dataSize bytes (StreamSize for an endless stream).
func AppendWAVHeader(dst []byte, sampleRate, channels int, dataSize uint32) []byte {
	const bits = 16
	blockAlign := channels * bits / 8
	riffSize := uint32(StreamSize)
	if dataSize < StreamSize-36 {
		riffSize = dataSize + 36
	}
	dst = append(dst, "RIFF"...)
	dst = binary.LittleEndian.AppendUint32(dst, riffSize)
	dst = append(dst, "WAVEfmt "...)
	dst = binary.LittleEndian.AppendUint32(dst, 16) // fmt chunk size
	dst = binary.LittleEndian.AppendUint16(dst, 1)  // PCM
	dst = binary.LittleEndian.AppendUint16(dst, uint16(channels))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(sampleRate))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(sampleRate*blockAlign)) // byte rate
	dst = binary.LittleEndian.AppendUint16(dst, uint16(blockAlign))
	dst = binary.LittleEndian.AppendUint16(dst, bits)
	dst = append(dst, "data"...)
	return binary.LittleEndian.AppendUint32(dst, dataSize)
}
