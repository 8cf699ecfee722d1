// Package audio converts the cameras' audio: it decodes IMA ADPCM to 16-bit
// PCM, encodes PCM as G.711 µ-law for RTP (payload type 0) and writes WAV
// headers: 16-bit PCM for files, 32-bit float for endless HTTP streams.
//
// The cameras send 8 kHz mono IMA ADPCM, one independent block per packet
// (PROTOCOL.md §6): a 4-byte header holding the encoder state (i16 predictor,
// little-endian; u8 step index; one pad byte), then 4-bit codes with the
// first sample in the low nibble.
package audio

// SampleRate is the cameras' audio sample rate in Hz.
const SampleRate = 8000
