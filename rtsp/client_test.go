package rtsp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawClient speaks RTSP by hand so tests can check every header.
type rawClient struct {
	t       *testing.T
	nc      net.Conn
	br      *bufio.Reader
	cseq    int
	session string
	authz   func(method, uri string) string
	// frames collects interleaved frames read while waiting for a response.
	frames []interleaved
}

type interleaved struct {
	ch   byte
	data []byte
	at   time.Time
}

type rawResponse struct {
	status int
	header header
	body   []byte
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// do sends a request and returns the response. hdr is "Key: value" lines.
func (c *rawClient) do(method, uri string, hdr ...string) *rawResponse {
	c.t.Helper()
	res, err := c.try(method, uri, hdr...)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, uri, err)
	}
	return res
}

func (c *rawClient) try(method, uri string, hdr ...string) (*rawResponse, error) {
	c.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: rawtest\r\n", method, uri, c.cseq)
	if c.session != "" {
		fmt.Fprintf(&b, "Session: %s\r\n", c.session)
	}
	if c.authz != nil {
		if a := c.authz(method, uri); a != "" {
			fmt.Fprintf(&b, "Authorization: %s\r\n", a)
		}
	}
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.nc, b.String()); err != nil {
		return nil, err
	}
	for {
		p, err := c.br.Peek(1)
		if err != nil {
			return nil, err
		}
		if p[0] == '$' {
			f, ferr := c.readFrame()
			if ferr != nil {
				return nil, ferr
			}
			c.frames = append(c.frames, f)
			continue
		}
		res, err := readRawResponse(c.br)
		if err != nil {
			return nil, err
		}
		if got := res.header.get("CSeq"); got != strconv.Itoa(c.cseq) {
			return nil, fmt.Errorf("CSeq %q, want %d", got, c.cseq)
		}
		return res, nil
	}
}

func (c *rawClient) readFrame() (interleaved, error) {
	buf := make([]byte, 65535)
	ch, data, err := readInterleaved(c.br, buf)
	if err != nil {
		return interleaved{}, err
	}
	return interleaved{ch: ch, data: append([]byte(nil), data...), at: time.Now()}, nil
}

func readRawResponse(br *bufio.Reader) (*rawResponse, error) {
	line, err := readLine(br)
	if err != nil {
		return nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	if proto != "RTSP/1.0" {
		return nil, fmt.Errorf("status line %q", line)
	}
	res := &rawResponse{}
	if res.status, err = strconv.Atoi(code); err != nil {
		return nil, fmt.Errorf("status line %q", line)
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		k, v, _ := strings.Cut(line, ":")
		res.header.add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if cl := res.header.get("Content-Length"); cl != "" {
		n, _ := strconv.Atoi(cl)
		res.body = make([]byte, n)
		if _, err := io.ReadFull(br, res.body); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (r *rawResponse) all(key string) []string {
	var out []string
	for _, f := range r.header {
		if strings.EqualFold(f.key, key) {
			out = append(out, f.value)
		}
	}
	return out
}

// rtpHeader is the part of an RTP header the tests look at.
type rtpHeader struct {
	marker bool
	pt     uint8
	seq    uint16
	ts     uint32
	ssrc   uint32
}

func parseRTP(t *testing.T, b []byte) rtpHeader {
	t.Helper()
	if len(b) < 12 || b[0]>>6 != 2 {
		t.Fatalf("not an RTP packet: % x", b[:min(len(b), 12)])
	}
	return rtpHeader{
		marker: b[1]&0x80 != 0, pt: b[1] & 0x7F,
		seq: binary.BigEndian.Uint16(b[2:]), ts: binary.BigEndian.Uint32(b[4:]), ssrc: binary.BigEndian.Uint32(b[8:]),
	}
}
