package rtsp

import (
	"net"
	"strconv"
	"strings"
)

// Stream names: the last segment of a camera's stream URLs,
// rtsp://host:port/<camera>/<stream>.
const (
	// StreamJPEG is the camera's own JPEG frames as RTP/JPEG (RFC 2435).
	StreamJPEG = "jpeg"
	// StreamH264 is an H.264 transcode (RFC 6184), encoded by ffmpeg while
	// watched.
	StreamH264 = "h264"
)

// PathName makes a camera name usable as the single path segment Handle
// takes: letters, digits, '-', '_' and '.' are kept, anything else becomes
// '-'; a name left empty becomes "cam".
func PathName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		return "cam"
	}
	return s
}

// URL returns the URL of stream (StreamJPEG or StreamH264) of the source
// handled as name, reached at host (a name, an IPv4 address, or an IPv6
// address with or without brackets) and port.
func URL(host string, port int, name, stream string) string {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return "rtsp://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/" + name + "/" + stream
}

// Remove stops serving the source handled as name: its URLs answer 404
// from now on and the sessions playing it end (with the connections that
// carry them interleaved, so their clients notice at once). Removing a
// name that is not handled does nothing.
func (s *Server) Remove(name string) {
	s.init()
	name = strings.Trim(name, "/")
	s.mu.Lock()
	p := s.paths[name]
	delete(s.paths, name)
	var sessions []*session
	for _, ss := range s.sessions {
		if p != nil && ss.path == p {
			sessions = append(sessions, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range sessions {
		ss.close("source removed")
		if ss.kind == transportTCP {
			ss.conn.close()
		}
	}
}

// CloseUser ends the sessions that user set up on the source handled as
// name ("" for those set up without authentication), with the connections
// that carry them interleaved, and returns how many it ended: the user was
// deleted or its credentials changed, and must authenticate again.
func (s *Server) CloseUser(name, user string) int {
	s.init()
	name = strings.Trim(name, "/")
	s.mu.Lock()
	p := s.paths[name]
	var sessions []*session
	for _, ss := range s.sessions {
		if p != nil && ss.path == p && ss.user == user {
			sessions = append(sessions, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range sessions {
		ss.close("the user's credentials changed")
		if ss.kind == transportTCP {
			ss.conn.close()
		}
	}
	return len(sessions)
}
