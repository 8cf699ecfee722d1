package record

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// lateRecorder passes a session's frames to a recorder set after the
// session started.
type lateRecorder struct {
	mu  sync.Mutex
	rec *Recorder
}

func (l *lateRecorder) on(f *camsession.Frame) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rec != nil {
		l.rec.AddFrame(f)
	}
}

func (l *lateRecorder) set(t *testing.T, cfg Config) *Recorder {
	t.Helper()
	rec, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.rec = rec
	l.mu.Unlock()
	return rec
}

// plant writes a file of size bytes, last modified age ago.
func plant(t *testing.T, path string, size int, age time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestRetentionByAge: segments that ended longer ago than Keep are
// deleted, those left from earlier runs at start and the recorded ones as
// they age; files in the folder that are not this camera's segments are
// never touched.
func TestRetentionByAge(t *testing.T) {
	t.Parallel()
	const keep = 3 * time.Second
	var l lateRecorder
	startRig(t, "127.0.14.3", fakecam.Config{FPS: 15}, l.on, nil)
	root := t.TempDir()
	dir := CameraDir(root, "cam")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, segmentName("cam", time.Now().Add(-10*24*time.Hour), 1))
	plant(t, old, 1000, 10*24*time.Hour)
	keepers := []string{
		filepath.Join(dir, "notes.txt"),
		filepath.Join(dir, "cam-holiday.mkv"),
		filepath.Join(dir, segmentName("other", time.Now().Add(-10*24*time.Hour), 1)),
	}
	for _, p := range keepers {
		plant(t, p, 1000, 10*24*time.Hour)
	}
	var ev events
	cfg := Config{Dir: root, Name: "cam", Segment: time.Second, Keep: keep, MinFree: -1}
	ev.hook(&cfg)
	rec := l.set(t, cfg)
	recRun := testutil.Go(t, rec.Run)
	waitFor(t, 20*time.Second, "recorded segment deleted", func() bool { return len(ev.get().removed) >= 3 })
	recRun.Stop(t)

	e := ev.get()
	if e.removed[0] != old {
		t.Errorf("first deleted %s, want the 10 days old segment", e.removed[0])
	}
	if exists(old) {
		t.Error("the 10 days old segment is still there")
	}
	for _, p := range keepers {
		if !exists(p) {
			t.Errorf("%s was deleted: it is not a segment of this camera", p)
		}
	}
	// What was deleted was recorded first, and what remains ended within
	// Keep (plus the second between two retention runs).
	if !slices.Equal(e.removed[1:], e.opened[:len(e.removed)-1]) {
		t.Errorf("deleted %v, want the oldest segments of %v", e.removed[1:], e.opened)
	}
	now := time.Now()
	files, err := segmentFiles(dir, "cam")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if age := now.Sub(f.mod); age > keep+1500*time.Millisecond {
			t.Errorf("%s ended %v ago, beyond %v", filepath.Base(f.path), age, keep)
		}
	}
}

// TestRetentionBySize: while the camera's segments take more than
// MaxSize together, the oldest are deleted, so that what remains are the
// newest within MaxSize; other files count for nothing and stay.
func TestRetentionBySize(t *testing.T) {
	t.Parallel()
	const maxSize = 600_000
	var l lateRecorder
	startRig(t, "127.0.14.4", fakecam.Config{FPS: 15}, l.on, nil)
	root := t.TempDir()
	dir := CameraDir(root, "cam")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "big-file.bin")
	plant(t, other, 2*maxSize, time.Hour)
	var ev events
	cfg := Config{Dir: root, Name: "cam", Segment: time.Second, MaxSize: maxSize, MinFree: -1}
	ev.hook(&cfg)
	rec := l.set(t, cfg)
	recRun := testutil.Go(t, rec.Run)
	waitFor(t, 30*time.Second, "segments deleted", func() bool { return len(ev.get().removed) >= 3 })
	recRun.Stop(t)

	e := ev.get()
	remaining := segmentPaths(t, dir)
	var total int64
	for _, p := range remaining {
		total += fileSize(t, p)
	}
	if total > maxSize {
		t.Errorf("segments take %d bytes, over the %d allowed", total, maxSize)
	}
	if len(remaining) == 0 || len(remaining)+len(e.removed) != len(e.opened) {
		t.Fatalf("%d opened, %d deleted, %d remain", len(e.opened), len(e.removed), len(remaining))
	}
	k := len(e.removed)
	if !slices.Equal(e.removed, e.opened[:k]) || !slices.Equal(remaining, e.opened[k:]) {
		t.Errorf("deleted %v and kept %v; want the oldest deleted of %v", e.removed, remaining, e.opened)
	}
	if !exists(other) {
		t.Error("a file that is not a segment was deleted")
	}
	t.Logf("%d segments recorded, %d deleted, %d bytes kept", len(e.opened), k, total)
}

// mountTmpfs mounts a tmpfs of size bytes on a temporary folder for the
// test. It needs root: the test is skipped otherwise (failed in CI).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testutil.Unavailable(t, "mounting a small tmpfs for the disk space test needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		testutil.Unavailable(t, "cannot mount a tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestLowDiskPauseAndResume records onto a 4 MiB tmpfs with a 2.5 MB
// minimum of free space: recording pauses with an error that says why
// before the disk is full (every segment written is whole and playable),
// frames are not recorded meanwhile, and when the user frees space it
// resumes by itself into a new segment.
func TestLowDiskPauseAndResume(t *testing.T) {
	t.Parallel()
	const minFree = 2_500_000
	root := mountTmpfs(t, 4<<20)
	var l lateRecorder
	startRig(t, "127.0.14.6", fakecam.Config{FPS: 30}, l.on, nil)
	var ev events
	cfg := Config{Dir: root, Name: "cam", Segment: time.Hour, MinFree: minFree}
	ev.hook(&cfg)
	rec := l.set(t, cfg)
	recRun := testutil.Go(t, rec.Run)

	waitFor(t, 30*time.Second, "pause", func() bool { return len(ev.get().paused) > 0 })
	free, ok := freeSpace(rec.Dir())
	if !ok {
		t.Fatal("free space unknown")
	}
	perr := ev.get().paused[0]
	if !errors.Is(perr, ErrLowDisk) || !strings.Contains(perr.Error(), "resumes by itself") {
		t.Errorf("paused with %v, want the low disk space error", perr)
	}
	t.Logf("paused at %d bytes free: %v", free, perr)
	if free < minFree-300_000 {
		t.Errorf("only %d bytes free at the pause: recording went far below the %d minimum", free, minFree)
	}
	if st := rec.Stats(); st.Paused == nil || st.Recording != "" {
		t.Errorf("stats while paused: %+v", st)
	}
	skipped := rec.Stats().Skipped
	waitFor(t, 5*time.Second, "frames skipped while paused", func() bool { return rec.Stats().Skipped > skipped+10 })
	if n := len(ev.get().opened); n != 1 {
		t.Errorf("%d segments opened while the disk is low", n)
	}
	for _, p := range segmentPaths(t, rec.Dir()) {
		probe(t, p)
		checkWhole(t, p)
	}

	// The user makes room.
	for _, p := range segmentPaths(t, rec.Dir()) {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	frames := rec.Stats().Frames
	waitFor(t, 10*time.Second, "resume", func() bool { return ev.get().resumed == 1 })
	waitFor(t, 10*time.Second, "frames recorded again", func() bool { return rec.Stats().Frames > frames+30 })
	recRun.Stop(t)
	e := ev.get()
	if len(e.opened) != 2 || len(e.paused) < 1 {
		t.Errorf("after resuming: %d segments opened, paused %v", len(e.opened), e.paused)
	}
	for _, p := range segmentPaths(t, rec.Dir()) {
		probe(t, p)
	}
}

// checkWhole checks that a segment was closed properly.
func checkWhole(t *testing.T, path string) {
	t.Helper()
	h, err := headerOf(path)
	if err != nil || !h.HasDuration {
		t.Errorf("%s not closed properly: %+v %v", filepath.Base(path), h, err)
	}
}
