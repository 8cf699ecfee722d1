package admin

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/rtsp"
	"github.com/chinesium/chinesium/stream"
)

// Status is the answer of /api/cameras.
type Status struct {
	Cameras []CameraStatus `json:"cameras"`
}

// CameraStatus is one camera in /api/cameras.
type CameraStatus struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	IP   string `json:"ip"`
	// State is the session's state: "connecting", "streaming" or "lost".
	State string `json:"state"`
	// Online is true while the camera streams.
	Online bool `json:"online"`
	// FPS is the frame rate over the last second.
	FPS float64 `json:"fps"`
	// Frames and FramesDropped count the frames received whole and the
	// frames lost (missing packets) since the bridge started.
	Frames        uint64 `json:"frames"`
	FramesDropped uint64 `json:"frames_dropped"`
	// Reconnects counts the handshakes redone after the first.
	Reconnects uint64 `json:"reconnects"`
	// LastFrameAge is how long ago the newest frame arrived, in seconds;
	// null before the first frame.
	LastFrameAge *float64 `json:"last_frame_age_seconds"`
	// Viewers are the clients watching now.
	Viewers Viewers `json:"viewers"`
	// BytesSent counts the bytes sent to HTTP and RTSP viewers.
	BytesSent uint64 `json:"bytes_sent"`
	// Motion is whether motion is seen now; null when detection is off.
	Motion *bool `json:"motion"`
	// URLs are the camera's addresses for clients.
	URLs *URLs `json:"urls,omitempty"`
	// Live and Snapshot are the page's picture of the camera, relative to
	// the admin server's root; empty when it has none.
	Live     string `json:"live,omitempty"`
	Snapshot string `json:"snapshot,omitempty"`
	// Recording is the camera's recorder; absent when it is not recorded.
	Recording *RecordingStatus `json:"recording,omitempty"`
}

// Viewers counts a camera's viewers by protocol.
type Viewers struct {
	MJPEG    int `json:"mjpeg"`     // /stream.mjpeg, the page's live views among them
	RawMJPEG int `json:"raw_mjpeg"` // /raw.mjpeg
	WAV      int `json:"wav"`       // /audio.wav
	RTSP     int `json:"rtsp"`      // RTSP sessions playing, any URL and transport
	Total    int `json:"total"`
}

// readings are the Stats of one camera's components, read once per request.
type readings struct {
	cam     Camera
	state   camsession.State
	session camsession.Stats
	http    stream.Stats
	rtsp    rtsp.PathStats
}

// read reads the Stats of every camera and of the RTSP server.
func (s *Server) read() []readings {
	cams := s.cameras()
	var paths map[string]rtsp.PathStats
	if s.cfg.RTSP != nil {
		paths = s.cfg.RTSP.Stats().Paths
	}
	out := make([]readings, len(cams))
	for i, c := range cams {
		r := readings{cam: c, state: c.Session.State(), session: c.Session.Stats()}
		if c.HTTP != nil {
			r.http = c.HTTP.Stats()
		}
		if c.RTSPPath != "" {
			r.rtsp = paths[c.RTSPPath]
		}
		out[i] = r
	}
	return out
}

// status builds a camera's status for a client that reached the server at
// host.
func (r readings) status(host string, now time.Time) CameraStatus {
	c := r.cam
	st := CameraStatus{
		ID: c.ID, Name: c.Name, IP: c.IP.String(),
		State:         r.state.String(),
		Online:        r.state == camsession.StateStreaming,
		FPS:           r.session.FPS,
		Frames:        r.session.FramesComplete,
		FramesDropped: r.session.FramesDropped,
		Reconnects:    r.session.Reconnects,
		BytesSent:     r.http.BytesSent + r.rtsp.BytesSent,
		Viewers: Viewers{
			MJPEG: r.http.Multipart, RawMJPEG: r.http.Raw, WAV: r.http.Audio,
			RTSP: r.rtsp.JPEG.Total() + r.rtsp.H264.Total(),
		},
	}
	st.Viewers.Total = st.Viewers.MJPEG + st.Viewers.RawMJPEG + st.Viewers.WAV + st.Viewers.RTSP
	if !r.session.LastFrame.IsZero() {
		age := max(now.Sub(r.session.LastFrame), 0).Seconds()
		st.LastFrameAge = &age
	}
	if c.Motion != nil {
		m := c.Motion.Motion()
		st.Motion = &m
	}
	if c.URLs != nil {
		u := c.URLs(host)
		st.URLs = &u
	}
	if c.Live != nil {
		base := strings.TrimPrefix(LivePrefix, "/") + url.PathEscape(c.ID) + "/"
		st.Live, st.Snapshot = base+"stream.mjpeg", base+"snapshot.jpg"
	}
	st.Recording = recordingStatus(c)
	return st
}

// serveCameras answers the status of every camera as JSON.
func (s *Server) serveCameras(w http.ResponseWriter, r *http.Request) {
	host := requestHost(r)
	now := time.Now()
	st := Status{Cameras: []CameraStatus{}}
	for _, rd := range s.read() {
		st.Cameras = append(st.Cameras, rd.status(host, now))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(st)
}

// serveHealth answers 200 when every camera streams and 503 naming those
// that do not, one line each, in plain text a person and a script can read:
//
//	OK 2/2 cameras streaming
//
//	FAIL 1/2 cameras streaming
//	cam-10-0-0-31 lost: last frame 12.5s ago
func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	rds := s.read()
	var down []string
	for _, rd := range rds {
		if rd.state == camsession.StateStreaming {
			continue
		}
		why := "no frame yet"
		if t := rd.session.LastFrame; !t.IsZero() {
			why = fmt.Sprintf("last frame %s ago", now.Sub(t).Round(100*time.Millisecond))
		}
		down = append(down, fmt.Sprintf("%s %s: %s", rd.cam.Name, rd.state, why))
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	up := len(rds) - len(down)
	if len(down) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "FAIL %d/%d cameras streaming\n%s\n", up, len(rds), strings.Join(down, "\n"))
		return
	}
	fmt.Fprintf(w, "OK %d/%d cameras streaming\n", up, len(rds))
}

// requestHost returns the host a client used to reach the server, without
// the port (IPv6 in brackets), or "localhost" when the Host header is not a
// plain host name or address.
func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := splitHostPort(host); err == nil {
		host = h
	}
	if !validHost(host) {
		return "localhost"
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// splitHostPort is net.SplitHostPort that also takes a host without a port.
func splitHostPort(hostport string) (host, port string, err error) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p, nil
	}
	h := strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	return h, "", nil
}

// validHost reports whether h is an IP address or a DNS name.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}
