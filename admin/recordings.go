package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
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
		})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// serveRecording sends one recording as a download. Only a file the
// recorder lists is served: the name is looked up, never joined into a
// path.
func (s *Server) serveRecording(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("id"), r.PathValue("file")
	rec, ok := s.recorder(id)
	if !ok {
		http.NotFound(w, r)
		return
	}
	list, err := rec.List()
	if err != nil {
		http.Error(w, "500 cannot list the recordings: "+err.Error(), http.StatusInternalServerError)
		return
	}
	for _, f := range list {
		if filepath.Base(f.Path) != file {
			continue
		}
		fh, err := os.Open(f.Path)
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
		return
	}
	http.NotFound(w, r)
}
