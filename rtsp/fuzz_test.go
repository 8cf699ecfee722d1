package rtsp

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"testing"
)

// requestSeeds are real client requests (ffmpeg, VLC/live555, ONVIF Device
// Manager) plus edge cases.
var requestSeeds = []string{
	"OPTIONS rtsp://127.0.0.1:8554/cam/jpeg RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf59.27.100\r\n\r\n",
	"DESCRIBE rtsp://127.0.0.1:8554/cam/jpeg RTSP/1.0\r\nAccept: application/sdp\r\nCSeq: 2\r\nUser-Agent: LibVLC/3.0.18 (LIVE555 Streaming Media v2022.01.21)\r\n\r\n",
	"SETUP rtsp://127.0.0.1:8554/cam/jpeg/trackID=0 RTSP/1.0\r\nTransport: RTP/AVP/UDP;unicast;client_port=36000-36001\r\nCSeq: 3\r\n\r\n",
	"SETUP rtsp://h/cam/h264/trackID=1 RTSP/1.0\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3\r\nSession: 0123456789abcdef\r\nCSeq: 4\r\n\r\n",
	"PLAY rtsp://h/cam/jpeg/ RTSP/1.0\r\nRange: npt=0.000-\r\nCSeq: 5\r\nSession: 0123456789abcdef\r\nAuthorization: Digest username=\"admin\", realm=\"chinesium\", nonce=\"abc\", uri=\"rtsp://h/cam/jpeg/\", response=\"0123\"\r\n\r\n",
	"SET_PARAMETER rtsp://h/cam/jpeg RTSP/1.0\r\nCSeq: 6\r\nContent-Type: text/parameters\r\nContent-Length: 10\r\n\r\nbarparam: ",
	"GET_PARAMETER rtsp://h/cam/jpeg RTSP/1.0\r\nCSeq: 7\r\nX-Folded: a\r\n b\r\n\r\n",
	"TEARDOWN * RTSP/1.0\nCSeq: 8\n\n",
	"\r\n\r\nOPTIONS * RTSP/1.0\r\n\r\n",
	"PLAY x HTTP/1.1\r\n\r\n",
	"OPTIONS * RTSP/1.0\r\nContent-Length: 99999999\r\n\r\n",
}

func FuzzReadRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := readRequest(bufio.NewReaderSize(bytes.NewReader(b), readBufferLen))
		if err != nil {
			return
		}
		if len(r.body) > maxBodyLen || len(r.header) > maxHeaders {
			t.Fatalf("limits exceeded: body %d, %d headers", len(r.body), len(r.header))
		}
		// Round trip: what was accepted marshals to a request that parses
		// to the same thing.
		r2, err := readRequest(bufio.NewReaderSize(bytes.NewReader(r.marshal()), readBufferLen))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", r.marshal(), err)
		}
		if r2.method != r.method || r2.uri != r.uri || !bytes.Equal(r2.body, r.body) {
			t.Fatalf("round trip changed the request: %+v vs %+v", r, r2)
		}
		for _, k := range []string{"CSeq", "Session", "Transport"} {
			if r.header.get(k) != r2.header.get(k) {
				t.Fatalf("%s %q became %q", k, r.header.get(k), r2.header.get(k))
			}
		}
		// Whatever a request carries, the server's URL and header helpers
		// must cope.
		_, _ = parseTransport(r.header.get("Transport"))
		_ = sessionID(r.header.get("Session"))
		c := &conn{srv: &Server{}}
		_, _ = c.resolve(r.uri)
	})
}

func FuzzReadInterleaved(f *testing.F) {
	f.Add([]byte{'$', 0, 0, 4, 0x80, 0x1A, 0, 1})
	f.Add([]byte{'$', 1, 0, 8, 0x81, 0xC9, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{'$', 3, 0xFF, 0xFF})
	f.Add([]byte{'$', 0, 0, 0, '$', 1, 0, 2, 1, 2})
	f.Add([]byte("OPTIONS"))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(bytes.NewReader(b))
		buf := make([]byte, 65535)
		total := 0
		for {
			ch, data, err := readInterleaved(br, buf)
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errMessage) {
					return
				}
				t.Fatalf("unexpected error %v", err)
			}
			total += 4 + len(data)
			if total > len(b) {
				t.Fatalf("read %d bytes from %d", total, len(b))
			}
			// Writing the frame back gives the same bytes.
			w := appendInterleavedHeader(nil, ch, len(data))
			w = append(w, data...)
			if !bytes.Equal(w, b[total-len(w):total]) {
				t.Fatal("interleaved frame does not round-trip")
			}
		}
	})
}

// FuzzTunnelBase64 feeds the tunnel's POST decoder: any input is either
// decoded or rejected, and messages encoded one by one (padding in the
// middle, as QuickTime clients send them) come out whole.
func FuzzTunnelBase64(f *testing.F) {
	f.Add([]byte("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"), []byte("DESCRIBE x RTSP/1.0\r\n\r\n"), uint8(3))
	f.Add([]byte("a"), []byte("bc"), uint8(1))
	f.Add([]byte{}, []byte{0xFF, 0}, uint8(7))
	f.Fuzz(func(t *testing.T, m1, m2 []byte, chunk uint8) {
		enc := base64.StdEncoding.EncodeToString(m1) + "\r\n" + base64.StdEncoding.EncodeToString(m2)
		got, err := io.ReadAll(&base64Stream{r: &chunkReader{b: []byte(enc), n: int(chunk%16) + 1}})
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if want := append(append([]byte{}, m1...), m2...); !bytes.Equal(got, want) {
			t.Fatalf("decoded %q, want %q", got, want)
		}
		// Raw fuzz input as base64 text: must not panic or loop.
		_, _ = io.ReadAll(&base64Stream{r: bytes.NewReader(append(m1, m2...))})
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := min(c.n, len(p), len(c.b))
	copy(p, c.b[:k])
	c.b = c.b[k:]
	return k, nil
}

func FuzzParseTransport(f *testing.F) {
	for _, s := range []string{
		"RTP/AVP;unicast;client_port=5000-5001",
		"RTP/AVP/TCP;unicast;interleaved=0-1",
		"RTP/AVP;multicast;destination=224.1.1.1;port=5000-5001,RTP/AVP/TCP;interleaved=2-3",
		"RTP/AVP/UDP;unicast;client_port=5000",
		"RTP/AVP;unicast;client_port=-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := parseTransport(s)
		if err != nil {
			return
		}
		switch tp.kind {
		case transportUDP:
			if tp.clientPorts[0] <= 0 || tp.clientPorts[0] > 65535 || tp.clientPorts[1] <= 0 || tp.clientPorts[1] > 65535 {
				t.Fatalf("accepted client ports %v", tp.clientPorts)
			}
		case transportTCP:
			if tp.hasChannels && (tp.interleaved[0] < 0 || tp.interleaved[0] > 255 || tp.interleaved[1] < 0 || tp.interleaved[1] > 255) {
				t.Fatalf("accepted channels %v", tp.interleaved)
			}
		}
	})
}
