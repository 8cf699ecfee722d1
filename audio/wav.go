package audio

import (
	"encoding/binary"
	"math"
)

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

// FloatWAVHeaderLen is the size of the header AppendFloatWAVHeader writes.
const FloatWAVHeaderLen = 46

// AppendFloatWAVHeader appends a RIFF/WAVE header for 32-bit IEEE float
// samples (WAVE_FORMAT_IEEE_FLOAT, a WAVEFORMATEX fmt chunk with no extra
// bytes) with the given sample rate and channel count, whose data chunk
// has dataSize bytes (StreamSize for an endless stream).
//
// Live streams use it rather than 16-bit PCM because of ffmpeg, which
// most NVRs and players run: its WAV reader looks into 16-bit PCM for
// S/PDIF (reading 64 KiB first) and then DTS (32 more packets) before the
// first sample comes out, 8 s of waiting at 16 KB/s, and does neither for
// float. The float values are the 16-bit samples exactly (sample/32768).
func AppendFloatWAVHeader(dst []byte, sampleRate, channels int, dataSize uint32) []byte {
	const bits = 32
	blockAlign := channels * bits / 8
	riffSize := uint32(StreamSize)
	if dataSize < StreamSize-(FloatWAVHeaderLen-8) {
		riffSize = dataSize + FloatWAVHeaderLen - 8
	}
	dst = append(dst, "RIFF"...)
	dst = binary.LittleEndian.AppendUint32(dst, riffSize)
	dst = append(dst, "WAVEfmt "...)
	dst = binary.LittleEndian.AppendUint32(dst, 18) // fmt chunk size: WAVEFORMATEX
	dst = binary.LittleEndian.AppendUint16(dst, 3)  // WAVE_FORMAT_IEEE_FLOAT
	dst = binary.LittleEndian.AppendUint16(dst, uint16(channels))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(sampleRate))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(sampleRate*blockAlign)) // byte rate
	dst = binary.LittleEndian.AppendUint16(dst, uint16(blockAlign))
	dst = binary.LittleEndian.AppendUint16(dst, bits)
	dst = binary.LittleEndian.AppendUint16(dst, 0) // cbSize: no extension
	dst = append(dst, "data"...)
	return binary.LittleEndian.AppendUint32(dst, dataSize)
}

// AppendFloat32LE appends pcm as little-endian 32-bit float samples
// (sample/32768, so every 16-bit value is exact) to dst.
func AppendFloat32LE(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(s)/32768))
	}
	return dst
}

// AppendDataChunkHeader appends the header of a further WAV data chunk of
// size bytes (StreamSize: to the end of the stream). A reader that follows
// the RIFF chunks (ffmpeg's) reads the samples of consecutive data chunks
// as one stream.
func AppendDataChunkHeader(dst []byte, size uint32) []byte {
	dst = append(dst, "data"...)
	return binary.LittleEndian.AppendUint32(dst, size)
}
