package rtsp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on what a client may send (RFC 2326 sets none; these keep a
// hostile client from making the server buffer without bound).
const (
	maxLineLen    = 4096
	maxHeaders    = 64
	maxBodyLen    = 64 << 10
	readBufferLen = 8192
)

// errMessage reports a request the server cannot parse.
var errMessage = errors.New("rtsp: malformed request")

// header holds RTSP header fields in the order they were received.
// Look-ups are case-insensitive.
type header []field

type field struct{ key, value string }

// get returns the first value of key, or "".
func (h header) get(key string) string {
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			return f.value
		}
	}
	return ""
}

// add appends a field.
func (h *header) add(key, value string) { *h = append(*h, field{key, value}) }

// request is one RTSP request (RFC 2326 §6).
type request struct {
	method string
	uri    string
	proto  string
	header header
	body   []byte
}

// readLine returns one line without its CRLF or LF. Lines longer than the
// reader's buffer (maxLineLen) are an error.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", fmt.Errorf("%w: line longer than %d bytes", errMessage, br.Size())
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	return string(line), nil
}

// readRequest reads one request: the request line, the header fields up to
// an empty line, and a body of Content-Length bytes.
func readRequest(br *bufio.Reader) (*request, error) {
	line, err := readLine(br)
	if err != nil {
		return nil, err
	}
	// Tolerate empty lines between requests (RFC 2326 §15.1 allows a
	// client to send CRLF as a keep-alive on some stacks).
	for n := 0; line == ""; n++ {
		if n > 8 {
			return nil, fmt.Errorf("%w: empty lines", errMessage)
		}
		if line, err = readLine(br); err != nil {
			return nil, err
		}
	}
	method, rest, ok1 := strings.Cut(line, " ")
	uri, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method == "" || uri == "" || strings.Contains(proto, " ") {
		return nil, fmt.Errorf("%w: request line %q", errMessage, line)
	}
	if !validProto(proto) {
		return nil, fmt.Errorf("%w: protocol %q", errMessage, proto)
	}
	for _, c := range method {
		if c < 'A' || c > 'Z' {
			if c != '_' && c != '-' {
				return nil, fmt.Errorf("%w: method %q", errMessage, method)
			}
		}
	}
	r := &request{method: method, uri: uri, proto: proto}
	for {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(r.header) == 0 {
				return nil, fmt.Errorf("%w: continuation line first", errMessage)
			}
			last := &r.header[len(r.header)-1]
			last.value += " " + strings.TrimSpace(line)
			continue
		}
		if len(r.header) >= maxHeaders {
			return nil, fmt.Errorf("%w: more than %d header fields", errMessage, maxHeaders)
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%w: header line %q", errMessage, line)
		}
		r.header.add(k, strings.TrimSpace(v))
	}
	if cl := r.header.get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > maxBodyLen {
			return nil, fmt.Errorf("%w: Content-Length %q", errMessage, cl)
		}
		r.body = make([]byte, n)
		if _, err := io.ReadFull(br, r.body); err != nil {
			return nil, fmt.Errorf("rtsp: reading body: %w", err)
		}
	}
	return r, nil
}

// validProto reports whether proto is "RTSP/<digits>.<digits>". Versions
// other than 1.x parse (so the reply can echo the CSeq) and get 505.
func validProto(proto string) bool {
	v, ok := strings.CutPrefix(proto, "RTSP/")
	if !ok {
		return false
	}
	major, minor, ok := strings.Cut(v, ".")
	return ok && isDigits(major) && isDigits(minor)
}

func isDigits(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// supportedVersion reports whether the server speaks the request's RTSP
// version (1.x; RFC 2326 §3.1 lets minor versions differ).
func (r *request) supportedVersion() bool { return strings.HasPrefix(r.proto, "RTSP/1.") }

// marshal writes r in wire format (used by tests and the fuzz round trip).
func (r *request) marshal() []byte {
	var b bytes.Buffer
	b.WriteString(r.method + " " + r.uri + " " + r.proto + "\r\n")
	for _, f := range r.header {
		if strings.EqualFold(f.key, "Content-Length") {
			continue
		}
		b.WriteString(f.key + ": " + f.value + "\r\n")
	}
	if len(r.body) > 0 {
		b.WriteString("Content-Length: " + strconv.Itoa(len(r.body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// response is one RTSP response.
type response struct {
	status int
	header header
	body   []byte
}

// statusText returns the reason phrase of the RTSP status codes the server
// uses (RFC 2326 §7.1.1).
func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 454:
		return "Session Not Found"
	case 455:
		return "Method Not Valid in This State"
	case 459:
		return "Aggregate Operation Not Allowed"
	case 461:
		return "Unsupported Transport"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "RTSP Version Not Supported"
	}
	return "Status " + strconv.Itoa(code)
}

// appendTo appends the response in wire format; cseq is echoed first.
func (r *response) appendTo(b []byte, cseq string) []byte {
	b = append(b, "RTSP/1.0 "...)
	b = strconv.AppendInt(b, int64(r.status), 10)
	b = append(b, ' ')
	b = append(b, statusText(r.status)...)
	b = append(b, "\r\n"...)
	if cseq != "" {
		b = append(b, "CSeq: "...)
		b = append(b, cseq...)
		b = append(b, "\r\n"...)
	}
	for _, f := range r.header {
		b = append(b, f.key...)
		b = append(b, ": "...)
		b = append(b, f.value...)
		b = append(b, "\r\n"...)
	}
	if len(r.body) > 0 {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(r.body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, r.body...)
}

// interleavedMagic starts an RTP or RTCP packet sent over the RTSP
// connection (RFC 2326 §10.12): '$', channel, 16-bit length, data.
const interleavedMagic = '$'

// readInterleaved reads one interleaved frame into buf (which must hold
// 65535 bytes) and returns its channel and data.
func readInterleaved(br *bufio.Reader, buf []byte) (channel byte, data []byte, err error) {
	var h [4]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0] != interleavedMagic {
		return 0, nil, fmt.Errorf("%w: interleaved frame starts with 0x%02x", errMessage, h[0])
	}
	n := int(h[2])<<8 | int(h[3])
	if n > len(buf) {
		return 0, nil, fmt.Errorf("%w: interleaved frame of %d bytes", errMessage, n)
	}
	if _, err := io.ReadFull(br, buf[:n]); err != nil {
		return 0, nil, fmt.Errorf("rtsp: reading interleaved frame: %w", io.ErrUnexpectedEOF)
	}
	return h[1], buf[:n], nil
}

// appendInterleavedHeader appends the 4-byte header of an interleaved frame.
func appendInterleavedHeader(b []byte, channel byte, n int) []byte {
	return append(b, interleavedMagic, channel, byte(n>>8), byte(n))
}
