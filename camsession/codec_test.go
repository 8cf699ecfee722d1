package camsession

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// dump turns a PROTOCOL.md hex dump ("0000  31 54 ...  |1TEG|") into bytes.
func dump(t testing.TB, s string) []byte {
	t.Helper()
	var out []byte
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, "|"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		b, err := hex.DecodeString(strings.Join(f[1:], ""))
		if err != nil {
			t.Fatalf("bad dump line %q: %v", line, err)
		}
		out = append(out, b...)
	}
	return out
}

// Test vectors copied from PROTOCOL.md.
const (
	vecPortRequest = `
0000  31 54 45 47 0b 00 0c 00 01 00 00 00 00 00 00 00  |1TEG............|
0010  00 00 00 00                                      |....|`
	vecPortResponse = `
0000  31 54 45 47 0c 00 44 00 01 00 00 00 01 00 00 00  |1TEG..D.........|
0010  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  |................|
0020  00 00 81 fd 0a 0a 01 1e 46 41 4b 45 43 41 4d 2d  |........FAKECAM-|
0030  30 41 30 41 30 31 31 45 00 00 00 00 00 00 00 00  |0A0A011E........|
0040  00 00 00 00 00 00 00 00 00 00 00 00              |............|`
	vecLogin = `
0000  31 54 45 47 0d 00 28 00 00 00 00 00 00 00 00 00  |1TEG..(.........|
0010  00 00 00 00 00 00 00 00 00 00 a3 2d 0a 0a 01 05  |...........-....|
0020  09 39 65 38 30 34 30 38 33 34 62 33 61 00 00 00  |.9e8040834b3a...|`
	vecStreamVideo = `
0000  32 54 45 47 01 00 1c 00 01 00 00 00 00 00 00 00  |2TEG............|
0010  01 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00  |................|
0020  01 00 00 00                                      |....|`
	vecStreamAudio = `
0000  32 54 45 47 01 00 1c 00 01 00 00 00 00 00 00 00  |2TEG............|
0010  01 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00  |................|
0020  03 00 00 00                                      |....|`
	vecSDCard = `
0000  32 54 45 47 01 00 14 00 01 00 00 00 0f 00 00 00  |2TEG............|
0010  02 00 00 00 00 00 00 00 00 00 00 00              |............|`
	vecVideo0 = `
0000  32 54 45 47 03 00 28 00 01 00 00 00 01 00 00 00  |2TEG..(.........|
0010  34 12 00 00 08 00 00 00 c9 14 00 00 06 00 00 00  |4...............|
0020  00 00 00 00 40 e2 01 00 ff d8 ff fe 00 19 66 61  |....@.........fa|`
	vecVideoLast = `
0000  32 54 45 47 03 00 17 00 01 00 00 00 01 00 00 00  |2TEG............|
0010  34 12 05 00 07 00 00 00 01 02 03 04 05 ff d9     |4..............|`
	vecAudio = `
0000  32 54 45 47 03 00 1b 00 01 00 00 00 01 00 01 00  |2TEG............|
0010  42 00 00 00 07 00 00 00 40 00 00 00 00 00 00 00  |B.......@.......|
0020  17 a9 8b                                         |...|`
	vecDeviceClosed = `
0000  31 54 45 47 10 00 14 00 00 00 00 00 00 00 00 00  |1TEG............|
0010  00 00 00 00 00 00 00 00 00 00 00 00              |............|`
)

func TestEncodeVectors(t *testing.T) {
	ext0 := dump(t, vecVideo0)[24:40]
	cases := []struct {
		name string
		vec  string
		got  []byte
	}{
		{"port request", vecPortRequest, AppendPortRequest(nil)},
		{"port response", vecPortResponse, AppendPortResponse(nil, PortResponse{
			DataPort: 33277, IP: netip.MustParseAddr("10.10.1.30"), Name: "FAKECAM-0A0A011E"})},
		{"login", vecLogin, AppendLogin(nil, Login{Addr: netip.MustParseAddrPort("10.10.1.5:41773")})},
		{"login explicit hash", vecLogin, AppendLogin(nil, Login{
			Addr: netip.MustParseAddrPort("10.10.1.5:41773"), PasswordHash: DefaultPasswordHash})},
		{"stream video", vecStreamVideo, AppendStreamRequest(nil, MaskVideo)},
		{"stream audio", vecStreamAudio, AppendStreamRequest(nil, MaskVideoAudio)},
		{"sd card", vecSDCard, AppendControl(nil, Control{Session: 1, Command: 0x0f, Sub: 2})},
		{"video packet 0", vecVideo0, AppendMedia(nil, Media{Frame: 0x1234, Packet: 0,
			Payload: []byte{0xff, 0xd8, 0xff, 0xfe, 0x00, 0x19, 0x66, 0x61}}, ext0)},
		{"video last", vecVideoLast, AppendMedia(nil, Media{Frame: 0x1234, Packet: 5,
			Payload: []byte{1, 2, 3, 4, 5, 0xff, 0xd9}}, nil)},
		{"audio", vecAudio, AppendMedia(nil, Media{Audio: true, Frame: 0x42,
			Payload: []byte{0, 0, 0, 0, 0x17, 0xa9, 0x8b}}, []byte{0x40, 0, 0, 0})},
		{"device closed", vecDeviceClosed, AppendDeviceClosed(nil)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := dump(t, c.vec)
			if !bytes.Equal(c.got, want) {
				t.Errorf("encoded\n%s\nwant\n%s", hex.Dump(c.got), hex.Dump(want))
			}
		})
	}
	// Appending keeps the prefix.
	if got := AppendPortRequest([]byte("xy")); string(got[:2]) != "xy" || !bytes.Equal(got[2:], dump(t, vecPortRequest)) {
		t.Errorf("AppendPortRequest does not append: % x", got)
	}
}

func TestDecodeVectors(t *testing.T) {
	cases := []struct {
		name  string
		vec   string
		kind  Kind
		media Media
	}{
		{"port response", vecPortResponse, KindPortResponse, Media{}},
		{"stream video", vecStreamVideo, KindControl, Media{}},
		{"sd card", vecSDCard, KindControl, Media{}},
		{"video packet 0", vecVideo0, KindMedia, Media{Frame: 0x1234, Packet: 0,
			Payload: []byte{0xff, 0xd8, 0xff, 0xfe, 0x00, 0x19, 0x66, 0x61}}},
		{"video last", vecVideoLast, KindMedia, Media{Frame: 0x1234, Packet: 5,
			Payload: []byte{1, 2, 3, 4, 5, 0xff, 0xd9}}},
		{"audio", vecAudio, KindMedia, Media{Audio: true, Frame: 0x42,
			Payload: []byte{0, 0, 0, 0, 0x17, 0xa9, 0x8b}}},
		{"device closed", vecDeviceClosed, KindDeviceClosed, Media{}},
		{"port request is not for the client", vecPortRequest, KindUnknown, Media{}},
		{"login is not for the client", vecLogin, KindUnknown, Media{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := dump(t, c.vec)
			// Trailing garbage after data_len must be tolerated.
			for _, in := range [][]byte{b, append(bytes.Clone(b), 0xee, 0xee)} {
				msg, err := Decode(in)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if msg.Kind != c.kind {
					t.Errorf("kind %v, want %v", msg.Kind, c.kind)
				}
				if int(msg.Header.DataLen)+HeaderLen != len(b) {
					t.Errorf("data_len %d for %d bytes", msg.Header.DataLen, len(b))
				}
				if c.kind != KindMedia {
					continue
				}
				m := msg.Media
				if m.Audio != c.media.Audio || m.Frame != c.media.Frame || m.Packet != c.media.Packet ||
					!bytes.Equal(m.Payload, c.media.Payload) {
					t.Errorf("media %+v, want %+v", m, c.media)
				}
				if cap(m.Payload) != len(m.Payload) {
					t.Errorf("payload capacity %d leaks the rest of the datagram", cap(m.Payload))
				}
				pm, err := ParseMedia(in)
				if err != nil || pm.Frame != m.Frame || !bytes.Equal(pm.Payload, m.Payload) {
					t.Errorf("ParseMedia = %+v, %v", pm, err)
				}
			}
		})
	}
}

func TestParseFixedMessages(t *testing.T) {
	pr, err := ParsePortResponse(dump(t, vecPortResponse))
	if err != nil {
		t.Fatal(err)
	}
	if pr.DataPort != 33277 || pr.IP != netip.MustParseAddr("10.10.1.30") || pr.Name != "FAKECAM-0A0A011E" {
		t.Errorf("port response %+v", pr)
	}
	// A 28-character name without NUL fills the whole field.
	long := strings.Repeat("N", NameLen)
	pr, err = ParsePortResponse(AppendPortResponse(nil, PortResponse{DataPort: 1, IP: netip.MustParseAddr("1.2.3.4"), Name: long + "cut"}))
	if err != nil || pr.Name != long {
		t.Errorf("long name: %+v %v", pr, err)
	}

	l, err := ParseLogin(dump(t, vecLogin))
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr != netip.MustParseAddrPort("10.10.1.5:41773") || l.PasswordHash != DefaultPasswordHash {
		t.Errorf("login %+v", l)
	}

	for _, c := range []struct {
		vec  string
		mask uint32
	}{{vecStreamVideo, MaskVideo}, {vecStreamAudio, MaskVideoAudio}} {
		ctl, perr := ParseControl(dump(t, c.vec))
		if perr != nil {
			t.Fatal(perr)
		}
		if ctl.Session != 1 || ctl.Command != 0 || ctl.Sub != 1 || len(ctl.Data) != 8 || cap(ctl.Data) != 8 || ctl.Response {
			t.Errorf("control %+v", ctl)
		}
		if m, ok := ctl.StreamMask(); !ok || m != c.mask {
			t.Errorf("StreamMask = %d, %v; want %d", m, ok, c.mask)
		}
	}
	ctl, err := ParseControl(dump(t, vecSDCard))
	if err != nil {
		t.Fatal(err)
	}
	if ctl.Command != 0x0f || ctl.Sub != 2 || len(ctl.Data) != 0 {
		t.Errorf("sd card control %+v", ctl)
	}
	if _, ok := ctl.StreamMask(); ok {
		t.Error("SD-card command taken for a stream request")
	}
	resp := AppendControl(nil, Control{Response: true, Session: 1, Sub: 1, Data: make([]byte, 84)})
	if ctl, err := ParseControl(resp); err != nil || !ctl.Response || len(ctl.Data) != 84 {
		t.Errorf("control response %+v %v", ctl, err)
	}
}

func TestMalformed(t *testing.T) {
	video0 := dump(t, vecVideo0)
	setU16 := func(b []byte, off int, v uint16) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint16(b[off:], v)
		return b
	}
	setU32 := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	badSig := bytes.Clone(video0)
	badSig[0] = '3'
	badSig2 := bytes.Clone(video0)
	badSig2[3] = 'X'
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"7 bytes", video0[:7], ErrShort},
		{"bad signature digit", badSig, ErrSignature},
		{"bad signature letters", badSig2, ErrSignature},
		{"truncated datagram", video0[:len(video0)-1], ErrLength},
		{"data_len beyond datagram", setU16(video0, 6, 0xffff), ErrLength},
		{"payload_len > data_len-16", setU32(video0, 20, 0x19), ErrMediaLength},
		{"payload_len huge", setU32(video0, 20, 0xffffffff), ErrMediaLength},
		{"media data_len below its header", setU16(video0, 6, 15), ErrMediaLength},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Decode(c.b); !errors.Is(err, c.want) {
				t.Errorf("Decode error %v, want %v", err, c.want)
			}
			if _, err := ParseMedia(c.b); !errors.Is(err, c.want) {
				t.Errorf("ParseMedia error %v, want %v", err, c.want)
			}
		})
	}
	// payload_len == data_len-16 is the largest legal value: no extension.
	if m, err := Decode(setU32(video0, 20, 0x18)); err != nil || len(m.Media.Payload) != 24 {
		t.Errorf("payload_len = data_len-16: %v %d", err, len(m.Media.Payload))
	}

	login := dump(t, vecLogin)
	if _, err := ParseLogin(setU16(login, 6, 39)); !errors.Is(err, ErrShort) {
		t.Errorf("short login: %v", err)
	}
	if _, err := ParseLogin(dump(t, vecPortRequest)); !errors.Is(err, ErrWrongMessage) {
		t.Errorf("login from port request: %v", err)
	}
	if _, err := ParsePortResponse(setU16(dump(t, vecPortResponse), 6, 31)[:39]); !errors.Is(err, ErrShort) {
		t.Errorf("short port response: %v", err)
	}
	if _, err := ParsePortResponse(dump(t, vecLogin)); !errors.Is(err, ErrWrongMessage) {
		t.Errorf("port response from login: %v", err)
	}
	sd := dump(t, vecSDCard)
	if _, err := ParseControl(setU32(sd, 20, 1)); !errors.Is(err, ErrLength) {
		t.Errorf("control n beyond data_len: %v", err)
	}
	if _, err := ParseControl(setU16(sd, 6, 19)); !errors.Is(err, ErrShort) {
		t.Errorf("control data_len 19: %v", err)
	}
	if _, err := ParseMedia(sd); !errors.Is(err, ErrWrongMessage) {
		t.Errorf("media from control: %v", err)
	}
	if _, err := ParseControl(video0); !errors.Is(err, ErrWrongMessage) {
		t.Errorf("control from media: %v", err)
	}
}

// fuzzSeeds are the datagrams the fuzz targets start from: every vector plus
// a few malformed variants.
func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, v := range []string{vecPortRequest, vecPortResponse, vecLogin, vecStreamVideo, vecStreamAudio,
		vecSDCard, vecVideo0, vecVideoLast, vecAudio, vecDeviceClosed} {
		seeds = append(seeds, dump(t, v))
	}
	v := dump(t, vecVideo0)
	seeds = append(seeds, v[:30], append(bytes.Clone(v[:20]), 0xff, 0xff, 0xff, 0xff))
	return seeds
}

// FuzzDecode feeds arbitrary datagrams to every decoder: none may panic, and
// whatever decodes must survive an encode/decode round trip.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, derr := Decode(b)
		if derr == nil && msg.Header.Len() > len(b) {
			t.Fatalf("header length %d beyond datagram %d", msg.Header.Len(), len(b))
		}
		if m, err := ParseMedia(b); err == nil {
			if derr != nil || msg.Kind != KindMedia {
				t.Fatalf("ParseMedia ok but Decode %v kind %v", derr, msg.Kind)
			}
			end := int(binary.LittleEndian.Uint16(b[6:8])) + HeaderLen
			ext := b[MediaHeaderLen : end-len(m.Payload)]
			re := AppendMedia(nil, m, ext)
			m2, err := ParseMedia(re)
			if err != nil {
				t.Fatalf("re-encoded media does not parse: %v", err)
			}
			if m2.Audio != m.Audio || m2.Frame != m.Frame || m2.Packet != m.Packet || !bytes.Equal(m2.Payload, m.Payload) {
				t.Fatalf("media round trip %+v != %+v", m2, m)
			}
			if !bytes.Equal(re[16:], b[16:end]) {
				t.Fatalf("media bytes after offset 16 differ after round trip")
			}
		}
		if c, err := ParseControl(b); err == nil {
			re := AppendControl(nil, c)
			c2, err := ParseControl(re)
			if err != nil || c2.Response != c.Response || c2.Session != c.Session || c2.Command != c.Command ||
				c2.Sub != c.Sub || c2.Flag != c.Flag || !bytes.Equal(c2.Data, c.Data) {
				t.Fatalf("control round trip %+v != %+v (%v)", c2, c, err)
			}
			if msg.Kind != KindControl {
				t.Fatalf("control decoded as kind %v", msg.Kind)
			}
		}
		if l, err := ParseLogin(b); err == nil {
			l2, err := ParseLogin(AppendLogin(nil, l))
			want := l
			if want.PasswordHash == "" {
				want.PasswordHash = DefaultPasswordHash
			}
			if err != nil || l2 != want {
				t.Fatalf("login round trip %+v != %+v (%v)", l2, want, err)
			}
		}
		if p, err := ParsePortResponse(b); err == nil {
			p2, err := ParsePortResponse(AppendPortResponse(nil, p))
			if err != nil || p2 != p {
				t.Fatalf("port response round trip %+v != %+v (%v)", p2, p, err)
			}
			if msg.Kind != KindPortResponse {
				t.Fatalf("port response decoded as kind %v", msg.Kind)
			}
		}
	})
}
