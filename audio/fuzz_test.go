package audio

import "testing"

// FuzzDecoder feeds arbitrary packets to one decoder: it must not panic,
// must return two samples per code byte, and AppendPCM16LE must agree.
func FuzzDecoder(f *testing.F) {
	var st IMAState
	f.Add(EncodeBlock(nil, &st, sine(256, 440, 9000)), []byte{0, 0, 0, 0, 0x77, 0x88})
	f.Add([]byte{0xff, 0x7f, 88, 0, 0x77, 0x77}, []byte{1, 2, 200, 9, 0xff})
	f.Add([]byte{}, []byte{0x80, 0x80, 0x59, 0x00})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var d1, d2 Decoder
		for _, p := range [][]byte{a, b, a, a, a, a, b} {
			n := len(p)
			wasCont := d1.Continuous()
			pcm := d1.Decode(nil, p)
			le := d2.AppendPCM16LE(nil, p)
			if len(pcm) != 2*n && len(pcm) != 2*(n-BlockHeaderLen) {
				t.Fatalf("%d samples from %d bytes (continuous before: %v)", len(pcm), n, wasCont)
			}
			if len(le) != 2*len(pcm) {
				t.Fatalf("AppendPCM16LE gave %d bytes for %d samples", len(le), len(pcm))
			}
			for i, s := range pcm {
				if int16(uint16(le[2*i])|uint16(le[2*i+1])<<8) != s {
					t.Fatalf("sample %d differs", i)
				}
			}
		}
	})
}
