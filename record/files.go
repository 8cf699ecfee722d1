package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// nameLayout is the time in a segment's file name: the local time of its
// first frame, as the original client's ffmpeg named them.
const nameLayout = "2006-01-02_15-04-05"

// Ext is the extension of the segment files.
const Ext = ".mkv"

// Recording is one segment file of a camera.
type Recording struct {
	// Path is the file's path.
	Path string
	// Start is when its first frame was taken.
	Start time.Time
	// Duration is how long it plays. For a file that is still being
	// written, or that was cut short (a crash, a power loss), it is the
	// time from Start to the file's last modification.
	Duration time.Duration
	// Size is the file's size in bytes.
	Size int64
	// Complete is true for a file that was closed properly (it carries
	// its duration and an index for seeking).
	Complete bool
	// Audio is true when the file has an audio track.
	Audio bool
}

// CameraDir returns the folder in which a camera named name records under
// root.
func CameraDir(root, name string) string { return filepath.Join(root, name) }

// checkName refuses camera names that are not one plain path element
// made of letters, digits, '-', '_' and '.'.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.Trim(name, ".") == "" {
		return fmt.Errorf("record: camera name %q is not usable as a folder name", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("record: camera name %q: only letters, digits, '-', '_' and '.' are allowed", name)
		}
	}
	return nil
}

// segmentName is the file name of a segment of camera name whose first
// frame was taken at t; n > 1 tells apart segments starting in the same
// second.
func segmentName(name string, t time.Time, n int) string {
	s := name + "-" + t.Format(nameLayout)
	if n > 1 {
		s += "-" + strconv.Itoa(n)
	}
	return s + Ext
}

// parseSegmentName returns the start time (to the second, local time) in
// a segment file name of camera name, and false for any other file.
func parseSegmentName(name, file string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(file, name+"-")
	if !ok {
		return time.Time{}, false
	}
	rest, ok = strings.CutSuffix(rest, Ext)
	if !ok || len(rest) < len(nameLayout) {
		return time.Time{}, false
	}
	if extra := rest[len(nameLayout):]; extra != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(extra, "-"))
		if extra[0] != '-' || err != nil || n < 2 {
			return time.Time{}, false
		}
	}
	t, err := time.ParseInLocation(nameLayout, rest[:len(nameLayout)], time.Local)
	return t, err == nil
}

// nextBoundary returns the first clock boundary after t for segments of
// length period: boundaries are local midnight plus whole periods (a 15 m
// segment starts at :00, :15, :30, :45), and midnight itself when the
// period does not divide the day.
func nextBoundary(t time.Time, period time.Duration) time.Time {
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	tomorrow := time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
	t = t.Round(0) // wall clock: boundaries are clock readings
	k := t.Sub(midnight) / period
	b := midnight.Add((k + 1) * period)
	if b.After(tomorrow) {
		return tomorrow
	}
	return b
}

// segmentFile is one segment file found in a camera's folder.
type segmentFile struct {
	path  string
	start time.Time // from the name
	mod   time.Time
	size  int64
}

// segmentFiles lists the segment files of camera name in dir, oldest
// first (by the time in the name, then by modification). Other files are
// ignored.
func segmentFiles(dir, name string) ([]segmentFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("record: list %s: %w", dir, err)
	}
	var out []segmentFile
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		start, ok := parseSegmentName(name, e.Name())
		if !ok {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			return nil, fmt.Errorf("record: %w", err)
		}
		out = append(out, segmentFile{path: filepath.Join(dir, e.Name()), start: start, mod: fi.ModTime(), size: fi.Size()})
	}
	slices.SortFunc(out, func(a, b segmentFile) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	return out, nil
}

// List returns the recordings in a camera's folder (CameraDir), oldest
// first: the segment files named after the folder's camera, with their
// start, duration and size read from each file's header. A file whose
// header cannot be read (being created, damaged) is listed with the time
// of its name, its size and Complete false.
func List(dir string) ([]Recording, error) {
	files, err := segmentFiles(dir, filepath.Base(dir))
	if err != nil {
		return nil, err
	}
	out := make([]Recording, 0, len(files))
	for _, sf := range files {
		rec := Recording{Path: sf.path, Start: sf.start, Size: sf.size}
		if h, err := headerOf(sf.path); err == nil {
			rec.Start, rec.Audio = h.Start, h.Audio
			rec.Complete = h.HasDuration
			if h.HasDuration {
				rec.Duration = h.Duration
			}
		}
		if !rec.Complete {
			rec.Duration = max(sf.mod.Sub(rec.Start), 0)
		}
		out = append(out, rec)
	}
	return out, nil
}

func headerOf(path string) (fileHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileHeader{}, err
	}
	defer f.Close()
	return readHeader(f)
}
