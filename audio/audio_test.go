package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chinesium/chinesium/internal/testutil"
)

// sine returns n samples of a sine of freq Hz and amplitude amp at 8 kHz.
func sine(n int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/SampleRate))
	}
	return out
}

// snr returns the signal-to-noise ratio of got against want in dB.
func snr(want, got []int16) float64 {
	var sig, noise float64
	for i := range want {
		d := float64(want[i]) - float64(got[i])
		sig += float64(want[i]) * float64(want[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

// cameraPackets encodes pcm the way the camera's vendor encoder does: one
// block per packet of samplesPerPacket samples, state reset per block so
// every header is zero (PROTOCOL.md §6).
func cameraPackets(pcm []int16, samplesPerPacket int) [][]byte {
	var pkts [][]byte
	for i := 0; i+samplesPerPacket <= len(pcm); i += samplesPerPacket {
		var st IMAState
		pkts = append(pkts, EncodeBlock(nil, &st, pcm[i:i+samplesPerPacket]))
	}
	return pkts
}

func TestDecodeCameraBlocks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		amp      float64
		perPkt   int
		minSNRdB float64
	}{
		{"loud 440Hz, 512 samples", 12000, 512, 15},
		{"quiet 300Hz, 256 samples", 2000, 256, 12},
	} {
		pcm := sine(8192, 440, tc.amp)
		if tc.amp < 5000 {
			pcm = sine(8192, 300, tc.amp)
		}
		var d Decoder
		var got []int16
		for _, p := range cameraPackets(pcm, tc.perPkt) {
			if len(p) != BlockHeaderLen+tc.perPkt/2 {
				t.Fatalf("packet of %d bytes", len(p))
			}
			got = d.Decode(got, p)
		}
		if len(got) != len(pcm) {
			t.Fatalf("%s: %d samples, want %d", tc.name, len(got), len(pcm))
		}
		if d.Continuous() {
			t.Errorf("%s: decoder fell back to continuous mode on valid blocks", tc.name)
		}
		if s := snr(pcm, got); s < tc.minSNRdB {
			t.Errorf("%s: SNR %.1f dB, want ≥ %.0f", tc.name, s, tc.minSNRdB)
		} else {
			t.Logf("%s: SNR %.1f dB", tc.name, s)
		}
	}
}

// TestDecodeHeaderState checks that a block header's predictor and index
// are used (a mid-stream block carrying encoder state, not zeros).
func TestDecodeHeaderState(t *testing.T) {
	pcm := sine(2048, 500, 10000)
	var enc IMAState
	var d Decoder
	var got []int16
	for i := 0; i < len(pcm); i += 256 {
		got = d.Decode(got, EncodeBlock(nil, &enc, pcm[i:i+256])) // state carried over
	}
	if s := snr(pcm, got); s < 20 {
		t.Errorf("SNR %.1f dB with carried state", s)
	} else {
		t.Logf("SNR %.1f dB with carried state", s)
	}
}

// TestDecodeContinuousFallback feeds a raw continuous IMA stream (no
// headers, like sox -t ima): the decoder must notice and decode every byte.
func TestDecodeContinuousFallback(t *testing.T) {
	pcm := sine(8000, 440, 12000)
	var enc IMAState
	var raw []byte
	for i := 0; i+1 < len(pcm); i += 2 {
		lo, hi := enc.Encode(pcm[i]), enc.Encode(pcm[i+1])
		raw = append(raw, lo|hi<<4)
	}
	// A headerless stream's first bytes are codes, not a plausible header.
	if raw[2] <= 88 && raw[3] == 0 {
		t.Fatalf("test stream starts with a plausible header % x", raw[:4])
	}
	var d Decoder
	var got []int16
	for i := 0; i < len(raw); i += 250 {
		got = d.Decode(got, raw[i:min(i+250, len(raw))])
	}
	if !d.Continuous() {
		t.Fatal("decoder did not fall back to continuous decoding")
	}
	if len(got) != len(pcm) {
		t.Fatalf("%d samples, want %d", len(got), len(pcm))
	}
	if s := snr(pcm, got); s < 20 {
		t.Errorf("continuous SNR %.1f dB", s)
	}
	// Back to proper blocks: after a few plausible headers, block mode again.
	for _, p := range cameraPackets(pcm[:512*6], 512) {
		d.Decode(nil, p)
	}
	if d.Continuous() {
		t.Error("decoder stayed in continuous mode after valid blocks")
	}
}

func TestAppendPCM16LEMatchesDecode(t *testing.T) {
	pkts := cameraPackets(sine(1024, 440, 9000), 256)
	var d1, d2 Decoder
	var pcm []int16
	var le []byte
	for _, p := range pkts {
		pcm = d1.Decode(pcm, p)
		le = d2.AppendPCM16LE(le, p)
	}
	if len(le) != 2*len(pcm) {
		t.Fatalf("%d bytes for %d samples", len(le), len(pcm))
	}
	for i, s := range pcm {
		if got := int16(binary.LittleEndian.Uint16(le[2*i:])); got != s {
			t.Fatalf("sample %d: %d != %d", i, got, s)
		}
	}
	buf := make([]byte, 0, 4096)
	p := pkts[0]
	if n := testing.AllocsPerRun(100, func() { buf = d2.AppendPCM16LE(buf[:0], p) }); n != 0 {
		t.Errorf("AppendPCM16LE allocates %.0f times", n)
	}
}

func TestMuLawKnownValues(t *testing.T) {
	for _, tc := range []struct {
		in   int16
		want byte
	}{
		{0, 0xFF}, {1, 0xFF}, {-1, 0x7F}, {-2, 0x7F}, {8, 0xFE}, {-8, 0x7E},
		{32767, 0x80}, {32124, 0x80}, {-32768, 0x00}, {-32124, 0x00},
		{1000, 0xCE}, {-1000, 0x4E},
	} {
		if got := MuLaw(tc.in); got != tc.want {
			t.Errorf("MuLaw(%d) = %#02x, want %#02x", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   byte
		want int16
	}{{0xFF, 0}, {0x7F, 0}, {0x80, 32124}, {0x00, -32124}, {0xFE, 8}, {0xCE, 988}} {
		if got := MuLawDecode(tc.in); got != tc.want {
			t.Errorf("MuLawDecode(%#02x) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestMuLawRoundTrip(t *testing.T) {
	// Every code's level encodes back to the same code (except the two zeros).
	for u := 0; u < 256; u++ {
		v := MuLawDecode(byte(u))
		if back := MuLaw(v); back != byte(u) && v != 0 {
			t.Errorf("code %#02x -> %d -> %#02x", u, v, back)
		}
	}
	// Quantisation error stays within half a step of the segment, and the
	// sine comes back with the SNR G.711 promises (about 38 dB).
	for x := -32768; x <= 32767; x++ {
		y := int(MuLawDecode(MuLaw(int16(x))))
		ax := min(max(x, -32635), 32635)
		seg := 0
		for m := (abs(ax) + muLawBias) >> 8; m > 0; m >>= 1 {
			seg++
		}
		if d := abs(y - ax); d > 4<<seg {
			t.Fatalf("x=%d decoded %d, error %d > %d", x, y, d, 4<<seg)
		}
	}
	pcm := sine(8000, 440, 16000)
	got := make([]int16, len(pcm))
	for i, b := range AppendMuLaw(nil, pcm) {
		got[i] = MuLawDecode(b)
	}
	if s := snr(pcm, got); s < 35 {
		t.Errorf("µ-law SNR %.1f dB", s)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestMuLawAgainstFFmpeg decodes all 256 codes with ffmpeg's pcm_mulaw
// decoder and compares with ours.
func TestMuLawAgainstFFmpeg(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	cmd := exec.Command(ffmpeg, "-v", "error", "-f", "mulaw", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "s16le", "pipe:1")
	cmd.Stdin = bytes.NewReader(codes)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	if len(out) != 512 {
		t.Fatalf("ffmpeg returned %d bytes", len(out))
	}
	for i := range codes {
		want := int16(binary.LittleEndian.Uint16(out[2*i:]))
		if got := MuLawDecode(byte(i)); got != want {
			t.Errorf("code %#02x: ours %d, ffmpeg %d", i, got, want)
		}
	}
}

func TestWAVHeader(t *testing.T) {
	h := AppendWAVHeader(nil, SampleRate, 1, StreamSize)
	if len(h) != WAVHeaderLen {
		t.Fatalf("header is %d bytes", len(h))
	}
	want := []byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff")
	if !bytes.Equal(h, want) {
		t.Fatalf("header\n% x\nwant\n% x", h, want)
	}
	if h := AppendWAVHeader(nil, SampleRate, 1, 1000); binary.LittleEndian.Uint32(h[4:]) != 1036 {
		t.Errorf("RIFF size for 1000 data bytes: %d", binary.LittleEndian.Uint32(h[4:]))
	}
}

// TestWAVStreamFFmpeg: ffmpeg reads an "endless" WAV (sizes 0xFFFFFFFF)
// that ends early, as an HTTP listener sees it, and gets every sample.
func TestWAVStreamFFmpeg(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	var d Decoder
	wav := AppendWAVHeader(nil, SampleRate, 1, StreamSize)
	var pcm []int16
	for _, p := range cameraPackets(sine(8000, 440, 10000), 512) {
		pcm = d.Decode(pcm, p)
	}
	for _, s := range pcm {
		wav = binary.LittleEndian.AppendUint16(wav, uint16(s))
	}
	path := filepath.Join(t.TempDir(), "a.wav")
	if err := os.WriteFile(path, wav, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "s16le", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	if len(out) != 2*len(pcm) {
		t.Fatalf("ffmpeg decoded %d bytes, want %d", len(out), 2*len(pcm))
	}
	if !bytes.Equal(out, wav[WAVHeaderLen:]) {
		t.Error("ffmpeg's samples differ from ours")
	}
}

func TestFloatWAVHeader(t *testing.T) {
	h := AppendFloatWAVHeader(nil, SampleRate, 1, StreamSize)
	want := []byte("RIFF\xff\xff\xff\xffWAVEfmt \x12\x00\x00\x00\x03\x00\x01\x00\x40\x1f\x00\x00\x00\x7d\x00\x00\x04\x00\x20\x00\x00\x00data\xff\xff\xff\xff")
	if len(h) != FloatWAVHeaderLen || !bytes.Equal(h, want) {
		t.Fatalf("header\n% x\nwant\n% x", h, want)
	}
	if h := AppendFloatWAVHeader(nil, SampleRate, 1, 1000); binary.LittleEndian.Uint32(h[4:]) != 1038 {
		t.Errorf("RIFF size for 1000 data bytes: %d", binary.LittleEndian.Uint32(h[4:]))
	}
}

// TestFloatWAVStreamFFmpeg: ffmpeg reads an endless float WAV that ends
// early and, converting to 16 bits, gets every sample exactly, the
// extremes included.
func TestFloatWAVStreamFFmpeg(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	var d Decoder
	var pcm []int16
	for _, p := range cameraPackets(sine(8000, 440, 10000), 512) {
		pcm = d.Decode(pcm, p)
	}
	pcm = append(pcm, -32768, 32767, -1, 0, 1)
	wav := AppendFloat32LE(AppendFloatWAVHeader(nil, SampleRate, 1, StreamSize), pcm)
	path := filepath.Join(t.TempDir(), "a.wav")
	if err := os.WriteFile(path, wav, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "s16le", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	if len(out) != 2*len(pcm) {
		t.Fatalf("ffmpeg decoded %d bytes, want %d", len(out), 2*len(pcm))
	}
	for i, s := range pcm {
		if got := int16(binary.LittleEndian.Uint16(out[2*i:])); got != s {
			t.Fatalf("sample %d: ffmpeg %d, ours %d", i, got, s)
		}
	}
}

// TestIMAAgainstFFmpeg checks the IMA ADPCM step and index tables, which
// the encoder and the decoder share, against an independent decoder with
// the same (reference) arithmetic: ffmpeg's adpcm_ima_qt, fed an AIFF-C
// "ima4" file made of continuous encoder blocks. QuickTime blocks carry
// only the top 9 bits of the predictor, so ffmpeg keeps its own state
// across blocks; every sample must match ours exactly.
func TestIMAAgainstFFmpeg(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	const perBlock, blocks = 64, 160
	// Noise whose level falls from full scale to a whisper and rises again
	// walks the step index over its whole range with every code.
	rng := rand.New(rand.NewPCG(1, 2))
	pcm := make([]int16, perBlock*blocks)
	for i := range pcm {
		level := math.Exp(-11 * math.Abs(float64(2*i)/float64(len(pcm))-1)) // 1 at the ends, 2e-5 mid-way
		pcm[i] = int16(32767 * level * (2*rng.Float64() - 1))
	}
	var enc IMAState
	var data []byte
	var want []int16
	minIndex, maxIndex := int32(maxStepIndex), int32(0)
	for i := 0; i < len(pcm); i += perBlock {
		blk := EncodeBlock(nil, &enc, pcm[i:i+perBlock])
		var d Decoder
		want = d.Decode(want, blk)
		pred, index := uint16(blk[0])|uint16(blk[1])<<8, blk[2]
		data = binary.BigEndian.AppendUint16(data, pred&0xFF80|uint16(index))
		data = append(data, blk[BlockHeaderLen:]...)
		minIndex, maxIndex = min(minIndex, enc.Index), max(maxIndex, enc.Index)
	}
	chunk := func(b []byte, id string, body []byte) []byte {
		b = append(b, id...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
		return append(b, body...)
	}
	comm := binary.BigEndian.AppendUint16(nil, 1)                // channels
	comm = binary.BigEndian.AppendUint32(comm, uint32(len(pcm))) // sample frames
	comm = binary.BigEndian.AppendUint16(comm, 16)               // sample size
	comm = append(comm, 0x40, 0x0B, 0xFA, 0, 0, 0, 0, 0, 0, 0)   // 8000 as an 80-bit float
	comm = append(comm, "ima4"...)                               // compression type
	comm = append(comm, 0, 0)                                    // empty name, padded
	body := []byte("AIFC")
	body = chunk(body, "FVER", binary.BigEndian.AppendUint32(nil, 0xA2805140))
	body = chunk(body, "COMM", comm)
	body = chunk(body, "SSND", append(make([]byte, 8), data...))
	path := filepath.Join(t.TempDir(), "ima4.aifc")
	if err := os.WriteFile(path, chunk(nil, "FORM", body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "s16le", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	if len(out) != 2*len(want) {
		t.Fatalf("ffmpeg decoded %d bytes, want %d", len(out), 2*len(want))
	}
	for i, w := range want {
		if got := int16(binary.LittleEndian.Uint16(out[2*i:])); got != w {
			t.Fatalf("sample %d: ffmpeg %d, ours %d", i, got, w)
		}
	}
	if maxIndex < 80 || minIndex > 5 {
		t.Errorf("step index only went from %d to %d; the noise should walk the whole range", minIndex, maxIndex)
	}
}
