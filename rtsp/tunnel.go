package rtsp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/chinesium/chinesium/internal/connlimit"
)

// tunnel is an RTSP-over-HTTP tunnel (the QuickTime scheme that ONVIF
// Streaming §5.1.1.4 requires): the client opens a GET that carries the
// server's output for the whole session and sends its RTSP requests
// base64-encoded in the body of one or more POSTs; both carry the same
// x-sessioncookie. The HTTP layer itself is not authenticated (ONVIF),
// the RTSP requests inside are.
type tunnel struct {
	cookie string
	remote netip.Addr
	pr     *io.PipeReader
	pw     *io.PipeWriter
	mu     sync.Mutex // serializes POST bodies into pw
	seq    uint64     // the tunnel's age: lower is older
	get    net.Conn   // closing it ends the tunnel

	amu    sync.Mutex        // guards authed, slots, posts and ended
	authed bool              // a request in the tunnel authenticated
	slots  []*connlimit.Slot // the GET's and the POSTs' places in the limits
	posts  []net.Conn        // the POSTs, closed when the tunnel ends
	ended  bool
}

// end closes the tunnel's POSTs: none outlives its tunnel (one that sent
// nothing would otherwise hold its connection until IdleTimeout).
func (tn *tunnel) end() {
	tn.amu.Lock()
	defer tn.amu.Unlock()
	tn.ended = true
	for _, p := range tn.posts {
		p.Close()
	}
}

// addPost counts a POST of the tunnel; it is protected from eviction if
// the tunnel has authenticated already. It reports false when the tunnel
// has ended.
func (tn *tunnel) addPost(nc net.Conn, sl *connlimit.Slot) bool {
	tn.amu.Lock()
	defer tn.amu.Unlock()
	if tn.ended {
		return false
	}
	tn.posts = append(tn.posts, nc)
	tn.slots = append(tn.slots, sl)
	if tn.authed {
		sl.SetEvictable(false)
	}
	return true
}

// authenticated protects the tunnel's connections from eviction.
func (tn *tunnel) authenticated() {
	tn.amu.Lock()
	defer tn.amu.Unlock()
	tn.authed = true
	for _, sl := range tn.slots {
		sl.SetEvictable(false)
	}
}

func (tn *tunnel) isAuthed() bool {
	tn.amu.Lock()
	defer tn.amu.Unlock()
	return tn.authed
}

func remoteAddr(nc net.Conn) netip.Addr {
	ap, err := netip.ParseAddrPort(nc.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func (s *Server) serveTunnel(ctx context.Context, nc net.Conn, br *bufio.Reader, udp *udpPair, slot *connlimit.Slot) {
	// http.ReadRequest does not bound the header: it must be in br's
	// buffer (readBufferLen bytes) before it is parsed.
	if !headerBuffered(br) {
		if br.Buffered() < br.Size() {
			nc.Close() // the client went away or stayed silent
			return
		}
		httpError(nc, http.StatusRequestHeaderFieldsTooLarge, "request header too large")
		return
	}
	req, err := http.ReadRequest(br)
	if err != nil {
		nc.Close()
		return
	}
	cookie := req.Header.Get("X-Sessioncookie")
	if cookie == "" || len(cookie) > 128 {
		httpError(nc, 400, "RTSP over HTTP needs an x-sessioncookie header")
		return
	}
	switch req.Method {
	case http.MethodGet:
		s.tunnelGet(ctx, nc, br, udp, cookie, slot)
	case http.MethodPost:
		s.tunnelPost(nc, br, cookie, slot)
	default:
		httpError(nc, 405, "only GET and POST are tunnelled")
	}
}

// headerBuffered waits until br's buffer holds a whole HTTP header (up to
// the empty line). It returns false when the header does not fit in the
// buffer or the connection ends first.
func headerBuffered(br *bufio.Reader) bool {
	for {
		b, _ := br.Peek(br.Buffered())
		if bytes.Contains(b, []byte("\r\n\r\n")) || bytes.Contains(b, []byte("\n\n")) {
			return true
		}
		if len(b) >= br.Size() {
			return false
		}
		if _, err := br.Peek(len(b) + 1); err != nil { // wait for more
			return false
		}
	}
}

func httpError(nc net.Conn, code int, msg string) {
	_ = nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(nc, "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s\n",
		code, http.StatusText(code), len(msg)+1, msg)
	nc.Close()
}

// tunnelGet answers the GET and runs the tunnel's RTSP connection: input
// from the pipe the POSTs feed, output on the GET connection.
func (s *Server) tunnelGet(ctx context.Context, nc net.Conn, br *bufio.Reader, udp *udpPair, cookie string, slot *connlimit.Slot) {
	pr, pw := io.Pipe()
	tn := &tunnel{cookie: cookie, remote: remoteAddr(nc), pr: pr, pw: pw, get: nc, slots: []*connlimit.Slot{slot}}
	s.mu.Lock()
	if _, dup := s.tunnels[cookie]; dup {
		s.mu.Unlock()
		httpError(nc, 503, "tunnel cookie in use")
		return
	}
	victims, ok := s.roomForTunnel(tn.remote)
	if !ok {
		s.mu.Unlock()
		httpError(nc, 503, "too many tunnels")
		return
	}
	s.tunnelSeq++
	tn.seq = s.tunnelSeq
	s.tunnels[cookie] = tn
	s.mu.Unlock()
	for _, v := range victims {
		v.get.Close()
	}
	defer func() {
		tn.end()
		s.mu.Lock()
		if s.tunnels[cookie] == tn {
			delete(s.tunnels, cookie)
		}
		s.mu.Unlock()
	}()
	_ = nc.SetReadDeadline(time.Time{})
	_ = nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := io.WriteString(nc, "HTTP/1.0 200 OK\r\n"+
		"Server: "+serverName+"\r\n"+
		"Connection: close\r\n"+
		"Cache-Control: no-store\r\n"+
		"Pragma: no-cache\r\n"+
		"Content-Type: application/x-rtsp-tunnelled\r\n\r\n"); err != nil {
		nc.Close()
		return
	}
	// The client sends nothing more on the GET; its end means the tunnel's end.
	go func() {
		_, _ = io.Copy(io.Discard, br)
		pr.CloseWithError(io.EOF)
		nc.Close()
	}()
	c := newConn(s, pipeCloser{pr}, bufio.NewReaderSize(pr, readBufferLen), nc, udp)
	c.tunnel = true
	c.tn = tn
	c.serve(ctx)
}

// roomForTunnel makes room for a new tunnel from addr within
// MaxTunnelsPerAddr and MaxTunnels, taking out of the table the oldest
// tunnels that have not authenticated as needed (the caller closes them
// once it has let go of mu). It reports false when there is no room to
// make. Called with mu held.
func (s *Server) roomForTunnel(addr netip.Addr) (victims []*tunnel, ok bool) {
	oldestUnauthed := func(fromAddr bool) *tunnel {
		var o *tunnel
		for _, tn := range s.tunnels {
			if (!fromAddr || tn.remote == addr) && !tn.isAuthed() && (o == nil || tn.seq < o.seq) {
				o = tn
			}
		}
		return o
	}
	n := 0
	for _, tn := range s.tunnels {
		if tn.remote == addr {
			n++
		}
	}
	if n >= s.MaxTunnelsPerAddr {
		v := oldestUnauthed(true)
		if v == nil {
			return nil, false
		}
		delete(s.tunnels, v.cookie)
		victims = append(victims, v)
	}
	if len(s.tunnels) >= s.MaxTunnels {
		v := oldestUnauthed(false)
		if v == nil {
			return nil, false
		}
		delete(s.tunnels, v.cookie)
		victims = append(victims, v)
	}
	return victims, true
}

type pipeCloser struct{ pr *io.PipeReader }

func (p pipeCloser) Close() error { return p.pr.CloseWithError(io.EOF) }

// tunnelPost decodes the POST body into the tunnel's RTSP input until the
// client closes the POST. The body is read from the connection directly:
// clients send a bogus Content-Length (32767) and keep writing.
func (s *Server) tunnelPost(nc net.Conn, br *bufio.Reader, cookie string, slot *connlimit.Slot) {
	defer nc.Close()
	s.mu.Lock()
	tn := s.tunnels[cookie]
	s.mu.Unlock()
	if tn == nil || tn.remote != remoteAddr(nc) {
		httpError(nc, 404, "no tunnel with this x-sessioncookie")
		return
	}
	if !tn.addPost(nc, slot) {
		httpError(nc, 404, "no tunnel with this x-sessioncookie")
		return
	}
	tn.mu.Lock()
	defer tn.mu.Unlock()
	dec := &base64Stream{r: br}
	buf := make([]byte, 4096)
	for {
		_ = nc.SetReadDeadline(time.Now().Add(s.IdleTimeout))
		n, err := dec.Read(buf)
		if n > 0 {
			if _, werr := tn.pw.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Info("bad tunnel POST body", "remote", tn.remote, "err", err)
				tn.pw.CloseWithError(err)
			}
			return
		}
	}
}

// base64Stream decodes a stream of base64 text in which every RTSP message
// may have been encoded separately, so padding ('=') can occur in the
// middle. It decodes quantum by quantum and ignores whitespace.
type base64Stream struct {
	r    io.Reader
	in   [512]byte
	quad [4]byte
	n    int    // characters in quad
	out  []byte // decoded, not yet returned
	err  error
}

func (d *base64Stream) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.r.Read(d.in[:])
		for _, c := range d.in[:n] {
			switch c {
			case ' ', '\t', '\r', '\n':
				continue
			}
			d.quad[d.n] = c
			d.n++
			if d.n == 4 {
				var dec [3]byte
				k, derr := base64.StdEncoding.Decode(dec[:], d.quad[:])
				if derr != nil {
					d.err = fmt.Errorf("%w: base64: %w", errMessage, derr)
					break
				}
				d.out = append(d.out, dec[:k]...)
				d.n = 0
			}
		}
		if err != nil && d.err == nil {
			d.err = err
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	if len(d.out) == 0 {
		d.out = d.out[:0:0]
	}
	return n, nil
}
