package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chinesium/chinesium/record"
	"github.com/chinesium/chinesium/stream"
)

// RecordingStatus is a recorded camera's recorder in /api/cameras.
type RecordingStatus struct {
	// Active is true while a segment is being written.
	Active bool `json:"active"`
	// Paused says why recording is paused (low disk space, a write
	// error); "" while it is not.
	Paused string `json:"paused,omitempty"`
	// Frames and Dropped count the frames written and the frames and
	// audio packets lost because the disk did not keep up.
	Frames  uint64 `json:"frames"`
	Dropped uint64 `json:"dropped"`
	// List is where the camera's recordings are listed, relative to the
	// admin server's root.
	List string `json:"list"`
}

// RecordingFile is one recording in /api/cameras/<id>/recordings.
type RecordingFile struct {
	// File is the file's name.
	File string `json:"file"`
	// Start is when its first frame was taken.
	Start time.Time `json:"start"`
	// Duration is how long it plays, in seconds (for a file still being
	// written or cut short: up to its last write).
	Duration float64 `json:"duration_seconds"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// Complete is true for a file that was closed properly.
	Complete bool `json:"complete"`
	// Audio is true when it has an audio track.
	Audio bool `json:"audio"`
	// URL downloads the file, relative to the admin server's root.
	URL string `json:"url"`
	// Play plays the file in a browser's <img> (multipart MJPEG at the
	// recorded pace), relative to the admin server's root; ?t=SECONDS
	// starts that far in.
	Play string `json:"play"`
}

// Recordings is the answer of /api/cameras/<id>/recordings.
type Recordings struct {
	Recordings []RecordingFile `json:"recordings"`
}

// recordingStatus returns the recorder part of a camera's status.
func recordingStatus(c Camera) *RecordingStatus {
	if c.Recorder == nil {
		return nil
	}
	st := c.Recorder.Stats()
	rs := &RecordingStatus{
		Active: st.Recording != "", Frames: st.Frames, Dropped: st.Dropped,
		List: strings.TrimPrefix(CamerasPath, "/") + "/" + url.PathEscape(c.ID) + "/recordings",
	}
	if st.Paused != nil {
		rs.Paused = st.Paused.Error()
	}
	return rs
}

// recorder returns the recorder of the camera with the given ID.
func (s *Server) recorder(id string) (Recorder, bool) {
	for _, c := range s.cfg.Cameras() {
		if c.ID == id && c.Recorder != nil {
			return c.Recorder, true
		}
	}
	return nil, false
}

// serveRecordings lists a camera's recordings, oldest first.
func (s *Server) serveRecordings(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec, ok := s.recorder(id)
	if !ok {
		http.Error(w, fmt.Sprintf("404 no recorded camera %q", id), http.StatusNotFound)
		return
	}
	list, err := rec.List()
	if err != nil {
		s.log.Warn("cannot list recordings", "camera", id, "err", err)
		http.Error(w, "500 cannot list the recordings: "+err.Error(), http.StatusInternalServerError)
		return
	}
	out := Recordings{Recordings: make([]RecordingFile, 0, len(list))}
	base := strings.TrimPrefix(LivePrefix, "/") + url.PathEscape(id) + "/recordings/"
	for _, f := range list {
		name := filepath.Base(f.Path)
		out.Recordings = append(out.Recordings, RecordingFile{
			File: name, Start: f.Start, Duration: f.Duration.Seconds(), Size: f.Size,
			Complete: f.Complete, Audio: f.Audio, URL: base + url.PathEscape(name),
			Play: base + url.PathEscape(name) + "/play",
		})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// recordingPath returns the path of the recording file of camera id, as
// the recorder lists it: the name is looked up, never joined into a
// path, so no request can reach another file. On failure it has answered
// the request.
func (s *Server) recordingPath(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, file := r.PathValue("id"), r.PathValue("file")
	rec, ok := s.recorder(id)
	if !ok {
		http.NotFound(w, r)
		return "", false
	}
	list, err := rec.List()
	if err != nil {
		http.Error(w, "500 cannot list the recordings: "+err.Error(), http.StatusInternalServerError)
		return "", false
	}
	for _, f := range list {
		if filepath.Base(f.Path) == file {
			return f.Path, true
		}
	}
	http.NotFound(w, r)
	return "", false
}

// serveRecording sends one recording as a download.
func (s *Server) serveRecording(w http.ResponseWriter, r *http.Request) {
	p, ok := s.recordingPath(w, r)
	if !ok {
		return
	}
	file := filepath.Base(p)
	fh, err := os.Open(p)
	if err != nil {
		http.Error(w, "404 recording gone: "+file, http.StatusNotFound)
		return
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		http.Error(w, "500 "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "video/x-matroska")
	h.Set("Content-Disposition", `attachment; filename="`+file+`"`)
	http.ServeContent(w, r, file, fi.ModTime(), fh)
}

// servePlay plays one recording for a browser's <img>: its frames, byte
// for byte, as multipart/x-mixed-replace MJPEG, each sent at its recorded
// time from the start (?t=SECONDS starts that far into the file). A
// client address plays at most MaxPlayersPerClient recordings at once and
// the server MaxPlayers; beyond that the answer is 429.
func (s *Server) servePlay(w http.ResponseWriter, r *http.Request) {
	p, ok := s.recordingPath(w, r)
	if !ok {
		return
	}
	var from time.Duration
	if t := r.URL.Query().Get("t"); t != "" {
		sec, err := strconv.ParseFloat(t, 64)
		if err != nil || !(sec >= 0 && sec <= maxPlayOffset.Seconds()) {
			http.Error(w, fmt.Sprintf("400 t=%q: want the seconds from the recording's start, e.g. t=90", t), http.StatusBadRequest)
			return
		}
		from = time.Duration(sec * float64(time.Second))
	}
	client := clientAddr(r)
	if !s.players.acquire(client) {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "429 too many recordings playing: stop one first", http.StatusTooManyRequests)
		return
	}
	defer s.players.release(client)
	fh, err := os.Open(p)
	if err != nil {
		http.Error(w, "404 recording gone: "+filepath.Base(p), http.StatusNotFound)
		return
	}
	defer fh.Close()
	fr, err := record.NewFrameReader(fh)
	if err != nil {
		http.Error(w, "500 cannot read the recording: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fr.Seek(from)
	h := w.Header()
	h.Set("Content-Type", stream.MultipartContentType)
	h.Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start, first := time.Now(), time.Duration(-1)
	part := []byte("--" + stream.Boundary + "\r\n")
	for {
		ts, jpeg, err := fr.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Warn("recording stops playing", "file", p, "err", err)
			}
			return // the recording is over: the last frame stays shown
		}
		if first < 0 {
			first = ts
		}
		if wait := time.Until(start.Add(ts - first)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-r.Context().Done():
				return
			case <-timer.C:
			}
		}
		part = append(part, "Content-Type: image/jpeg\r\nContent-Length: "...)
		part = strconv.AppendInt(part, int64(len(jpeg)), 10)
		part = append(part, "\r\n\r\n"...)
		part = append(part, jpeg...)
		part = append(part, "\r\n--"+stream.Boundary+"\r\n"...)
		_ = rc.SetWriteDeadline(time.Now().Add(stream.DefaultWriteTimeout))
		if _, err := w.Write(part); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		part = part[:0]
	}
}

// maxPlayOffset bounds ?t=: far beyond any segment's length.
const maxPlayOffset = 7 * 24 * time.Hour

// clientAddr is the address a request came from.
func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// players counts the recordings playing, per client address.
type players struct {
	max, perClient int
	mu             sync.Mutex
	n              int                // guarded by mu
	byClient       map[netip.Addr]int // guarded by mu
}

// acquire takes a place for a player of client, false when none is left.
func (p *players) acquire(client netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n >= p.max || p.byClient[client] >= p.perClient {
		return false
	}
	p.n++
	p.byClient[client]++
	return true
}

// release gives back a place acquire took.
func (p *players) release(client netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n--
	if p.byClient[client]--; p.byClient[client] <= 0 {
		delete(p.byClient, client)
	}
}
