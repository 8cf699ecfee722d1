// Package record records a camera into Matroska segment files on disk, for
// people without an NVR.
//
// A Recorder takes the frames (and audio) of one camera session and writes
// them into segments cut on clock boundaries (a 15 m segment starts at :00,
// :15, :30, :45 local time), one folder per camera, each file named after
// the local time of its first frame: cam-10-10-1-30-2026-12-02_14-15-00.mkv.
// The camera's JPEG frames are stored unchanged (codec V_MJPEG) with their
// real arrival times, so the variable frame rate of the cameras is kept;
// audio is decoded from IMA ADPCM to 16-bit PCM at 8 kHz (A_PCM/INT/LIT).
//
// The files are written for crashes: every frame is written as it comes
// (and the file synced to disk every second), the index is only an
// addition written at the end, and a file cut short by a kill or a power
// loss plays up to its last whole frame. When the camera goes away the
// segment is closed; a new one starts when frames return. No frame is ever
// made up to fill a gap.
//
// Old segments are deleted beyond an age (Keep) or a total size (MaxSize),
// and recording pauses with an error, and resumes by itself, while the free
// space on the disk is under MinFree. With Motion set, a camera is recorded
// only while SetMotion says there is motion, starting with the frames of
// the PreRoll before it; the detector's hold time is the post-roll.
package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/internal/jpeg"
)

// Defaults of Config.
const (
	// DefaultSegment is the length of a segment, as the original client's.
	DefaultSegment = 15 * time.Minute
	// DefaultKeep is how long segments are kept.
	DefaultKeep = 7 * 24 * time.Hour
	// DefaultMaxSize is the most a camera's segments may take together:
	// 20 GB, about 9 hours of one camera at 15 frames/s of 40 KB.
	DefaultMaxSize = 20_000_000_000
	// DefaultMinFree is the free space under which recording pauses: 1 GB.
	DefaultMinFree = 1_000_000_000
	// DefaultPreRoll is how much of the time before motion a motion-only
	// recording starts with.
	DefaultPreRoll = 5 * time.Second
	// DefaultGap is how long without frames closes the segment: the
	// camera session's own limit before it calls the camera lost.
	DefaultGap = camsession.DefaultMediaTimeout
	// DefaultQueue is how many frames and audio packets may wait for the
	// disk (about 10 s of video and audio) before they are dropped.
	DefaultQueue = 512
	// MinSegment is the shortest segment length accepted.
	MinSegment = time.Second
	// MaxSegment is the longest: segments are cut at midnight anyway.
	MaxSegment = 24 * time.Hour
)

const (
	// clusterSpan is how often a segment starts a new Matroska Cluster
	// and is synced to disk: what a power loss may cost.
	clusterSpan = time.Second
	// tickEvery is the period of the checks that need no frame: a camera
	// gone away, a paused recording to resume, retention.
	tickEvery = 250 * time.Millisecond
	// diskCheckEvery is how often the free space is checked while
	// recording (a statfs, about a microsecond).
	diskCheckEvery = 250 * time.Millisecond
	// pausedCheckEvery is how often a paused recording checks whether it
	// can resume.
	pausedCheckEvery = 2 * time.Second
	// retentionEvery is how often old segments are looked for besides
	// each segment's end.
	retentionEvery = time.Minute
	// audioSlack is how far an audio packet's arrival may stray from the
	// end of the previous one before its samples are placed by the
	// arrival time instead of right after the previous ones.
	audioSlack = 120 * time.Millisecond
	// defaultWidth and defaultHeight are the cameras' frame size, used
	// when a frame's size cannot be read from its JPEG header.
	defaultWidth, defaultHeight = 640, 480
)

// ErrLowDisk is wrapped by the error that pauses a recording when the free
// space on its disk fell under Config.MinFree.
var ErrLowDisk = errors.New("record: disk space low")

// Config configures a Recorder. Dir and Name are required; every other
// zero value takes its default.
type Config struct {
	// Dir is the folder under which each camera records into a folder of
	// its own, CameraDir(Dir, Name). It is created if missing.
	Dir string
	// Name is the camera's name: its folder and the start of its file
	// names. Letters, digits, '-', '_' and '.'.
	Name string
	// Segment is the length of a segment; segments start on multiples of
	// it from local midnight. It defaults to DefaultSegment; from
	// MinSegment to MaxSegment.
	Segment time.Duration
	// Keep deletes segments that ended longer ago than this. It defaults
	// to DefaultKeep; negative keeps them whatever their age.
	Keep time.Duration
	// MaxSize deletes the oldest segments while the camera's segments take
	// more than this many bytes together. It defaults to DefaultMaxSize;
	// negative means no limit.
	MaxSize int64
	// MinFree pauses recording, with an error, while the free space on the
	// disk is under this many bytes, and resumes it when the free space is
	// 10 % above it again. It defaults to DefaultMinFree; negative turns
	// the check off.
	MinFree int64
	// Audio records the audio packets given to AddAudio as a PCM track.
	Audio bool
	// Motion records only while SetMotion(true) is in force, starting with
	// the PreRoll before it.
	Motion bool
	// PreRoll is how much time before motion a motion-only recording
	// starts with, from frames kept in memory. It defaults to
	// DefaultPreRoll; negative means none.
	PreRoll time.Duration
	// Gap closes the segment when no frame came for this long. It
	// defaults to DefaultGap.
	Gap time.Duration
	// Queue is how many frames and audio packets may wait to be written.
	// It defaults to DefaultQueue.
	Queue int
	// Logger receives segment, retention and disk space events, tagged
	// component=record. A nil Logger discards them.
	Logger *slog.Logger

	// OnOpen is called with the path of each segment file created.
	OnOpen func(path string)
	// OnClose is called with each segment closed.
	OnClose func(Recording)
	// OnRemove is called with the path of each segment deleted by
	// retention.
	OnRemove func(path string)
	// OnPause is called when recording pauses: the free space is low
	// (the error wraps ErrLowDisk) or a file cannot be written.
	OnPause func(err error)
	// OnResume is called when a paused recording resumes.
	OnResume func()
}

// setDefaults validates c and fills in the defaults.
func (c *Config) setDefaults() error {
	if c.Dir == "" {
		return errors.New("record: no folder to record into")
	}
	if err := checkName(c.Name); err != nil {
		return err
	}
	if c.Segment == 0 {
		c.Segment = DefaultSegment
	}
	if c.Segment < MinSegment || c.Segment > MaxSegment {
		return fmt.Errorf("record: segment length %v out of range %v to %v", c.Segment, MinSegment, MaxSegment)
	}
	if c.Keep == 0 {
		c.Keep = DefaultKeep
	}
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.MinFree == 0 {
		c.MinFree = DefaultMinFree
	}
	switch {
	case c.PreRoll == 0:
		c.PreRoll = DefaultPreRoll
	case c.PreRoll < 0:
		c.PreRoll = 0 // none
	}
	if c.Gap == 0 {
		c.Gap = DefaultGap
	}
	if c.Queue == 0 {
		c.Queue = DefaultQueue
	}
	if c.Gap < 0 || c.Queue < 0 {
		return errors.New("record: Gap and Queue must not be negative")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Stats are a Recorder's counters.
type Stats struct {
	Frames   uint64 // frames written
	Audio    uint64 // audio packets written
	Dropped  uint64 // frames and audio packets lost because the disk did not keep up
	Skipped  uint64 // frames not recorded while paused
	Segments uint64 // segment files created
	Removed  uint64 // segment files deleted by retention
	Bytes    uint64 // bytes written into segments
	// Recording is the path of the segment being written, "" when none.
	Recording string
	// Paused is why recording is paused, nil while it is not.
	Paused error
}

// item is one queued frame or audio packet.
type item struct {
	frame *camsession.Frame
	audio *camsession.Audio
}

func (it item) time() time.Time {
	if it.frame != nil {
		return it.frame.Time
	}
	return it.audio.Time
}

// Recorder records one camera. Feed it with AddFrame and AddAudio (from
// the camera session's hooks) and run it with Run.
type Recorder struct {
	cfg Config
	dir string
	log *slog.Logger

	q       chan item
	wake    chan struct{}
	motion  atomic.Bool
	dropped atomic.Uint64
	running atomic.Bool

	mu    sync.Mutex
	stats Stats // guarded by mu; Dropped is kept in dropped

	// Owned by Run's goroutine.
	seg           *segment
	paused        error
	nextCheck     time.Time // paused: when to look at the disk again
	lastDisk      time.Time // last free space check while recording
	lastRetention time.Time
	motionOn      bool
	ring          []item // frames and audio kept for the pre-roll
	dec           audio.Decoder
	pcm           []byte
	loggedAt      time.Time // when the last pause was logged as an error
	loggedMsg     string
}

// segment is the open segment file.
type segment struct {
	file     *os.File
	w        *mkvWriter
	path     string
	start    time.Time // first frame
	end      time.Time // the clock boundary that ends it
	last     time.Time // latest frame
	frames   int
	lastSync time.Time

	audioNext  time.Time // where the next audio samples go; zero: by arrival
	audioIndex uint16
}

// New validates cfg and creates the camera's folder, so that a folder that
// cannot be written fails here.
func New(cfg Config) (*Recorder, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	dir := CameraDir(cfg.Dir, cfg.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("record: cannot create the folder for the recordings: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return nil, fmt.Errorf("record: cannot write into %s: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &Recorder{
		cfg:  cfg,
		dir:  dir,
		log:  cfg.Logger.With("component", "record"),
		q:    make(chan item, cfg.Queue),
		wake: make(chan struct{}, 1),
	}, nil
}

// Dir returns the camera's folder, where its segments are.
func (r *Recorder) Dir() string { return r.dir }

// List returns the camera's recordings, oldest first (see List).
func (r *Recorder) List() ([]Recording, error) { return List(r.dir) }

// AddFrame queues a frame to be recorded. It never blocks: when the queue
// is full the frame is dropped and counted. It may be called from any
// goroutine, such as a camera session's OnFrame hook.
func (r *Recorder) AddFrame(f *camsession.Frame) {
	select {
	case r.q <- item{frame: f}:
	default:
		r.dropped.Add(1)
	}
}

// AddAudio queues an audio packet; like AddFrame it never blocks. Packets
// are ignored unless Config.Audio is set.
func (r *Recorder) AddAudio(a *camsession.Audio) {
	if !r.cfg.Audio {
		return
	}
	select {
	case r.q <- item{audio: a}:
	default:
		r.dropped.Add(1)
	}
}

// SetMotion tells a motion-only recorder whether there is motion (a
// motion.Config.OnChange hook). It never blocks.
func (r *Recorder) SetMotion(on bool) {
	r.motion.Store(on)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stats returns a snapshot of the counters; it may be called from any
// goroutine.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	st := r.stats
	r.mu.Unlock()
	st.Dropped = r.dropped.Load()
	return st
}

func (r *Recorder) update(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}

// Run records until ctx is done, then writes what is queued, closes the
// open segment and returns nil. Run may be called only once.
func (r *Recorder) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("record: Run called twice")
	}
	r.retain(time.Now())
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for drained := false; !drained; {
				select {
				case it := <-r.q:
					r.handle(it)
				default:
					drained = true
				}
			}
			r.closeSegment(time.Time{})
			return nil
		case it := <-r.q:
			r.handle(it)
		case <-r.wake:
			r.motionChanged()
		case now := <-tick.C:
			r.tick(now)
		}
	}
}

// handle takes one queued item: kept for the pre-roll while a motion-only
// recorder waits for motion, recorded otherwise.
func (r *Recorder) handle(it item) {
	if r.cfg.Motion && !r.motionOn {
		r.keep(it)
		return
	}
	r.record(it)
}

// keep adds an item to the pre-roll, forgetting what is older than
// PreRoll before it.
func (r *Recorder) keep(it item) {
	r.ring = append(r.ring, it)
	r.trimRing(it.time().Add(-r.cfg.PreRoll))
}

// trimRing forgets the pre-roll items taken before from.
func (r *Recorder) trimRing(from time.Time) {
	i := 0
	for i < len(r.ring) && r.ring[i].time().Before(from) {
		i++
	}
	if i > 0 {
		r.ring = slices.Delete(r.ring, 0, i)
	}
}

// motionChanged starts a motion-only recording with its pre-roll, or ends
// it.
func (r *Recorder) motionChanged() {
	on := r.motion.Load()
	if !r.cfg.Motion || on == r.motionOn {
		return
	}
	r.motionOn = on
	if !on {
		r.log.Debug("motion ended: segment closed")
		r.closeSegment(time.Time{})
		return
	}
	r.trimRing(time.Now().Add(-r.cfg.PreRoll))
	r.log.Debug("motion: recording", "pre_roll_frames", len(r.ring))
	ring := r.ring
	r.ring = nil
	for _, it := range ring {
		r.record(it)
	}
	clear(ring)
	r.ring = ring[:0]
}

// record writes one item into the open segment, cutting segments on clock
// boundaries and gaps, opening one on a video frame when none is open.
func (r *Recorder) record(it item) {
	if it.audio != nil {
		r.recordAudio(it.audio)
		return
	}
	f := it.frame
	if s := r.seg; s != nil {
		switch {
		case !f.Time.Before(s.end) || f.Time.Sub(s.start) >= r.cfg.Segment:
			r.closeSegment(f.Time) // continues in the next segment
		case f.Time.Sub(s.last) > r.cfg.Gap:
			r.closeSegment(time.Time{})
		}
	}
	if r.paused != nil {
		r.update(func(st *Stats) { st.Skipped++ })
		return
	}
	if r.seg == nil && !r.openSegment(f) {
		r.update(func(st *Stats) { st.Skipped++ })
		return
	}
	s := r.seg
	before := s.w.Size()
	if err := s.w.Video(f.Time.Sub(s.start), f.JPEG); err != nil {
		r.pause(fmt.Errorf("record: write %s: %w", s.path, err))
		return
	}
	s.last = f.Time
	s.frames++
	n := s.w.Size() - before
	r.update(func(st *Stats) { st.Frames++; st.Bytes += uint64(n) })

	now := f.Time
	if now.Sub(s.lastSync) >= clusterSpan {
		s.lastSync = now
		if err := s.file.Sync(); err != nil {
			r.pause(fmt.Errorf("record: write %s: %w", s.path, err))
			return
		}
	}
	if now.Sub(r.lastDisk) >= diskCheckEvery {
		r.lastDisk = now
		if err := r.checkDisk(); err != nil {
			r.pause(err)
		}
	}
}

// recordAudio decodes an audio packet into the open segment. Samples
// follow the previous packet's without a gap unless the arrival time
// strays by more than audioSlack (then they are placed by arrival) or
// packets were lost (their time is left silent).
func (r *Recorder) recordAudio(a *camsession.Audio) {
	s := r.seg
	if s == nil || r.paused != nil {
		return
	}
	r.pcm = r.dec.AppendPCM16LE(r.pcm[:0], a.ADPCM)
	if len(r.pcm) == 0 {
		return
	}
	d := time.Duration(len(r.pcm)/2) * time.Second / audio.SampleRate
	start := a.Time.Add(-d)
	if !s.audioNext.IsZero() {
		expect := s.audioNext
		if lost := a.Index - s.audioIndex - 1; lost > 0 && lost < 16 {
			expect = expect.Add(time.Duration(lost) * d)
		}
		if diff := start.Sub(expect); diff < audioSlack && diff > -audioSlack {
			start = expect
		}
	}
	s.audioNext, s.audioIndex = start.Add(d), a.Index
	before := s.w.Size()
	if err := s.w.Audio(start.Sub(s.start), r.pcm); err != nil {
		r.pause(fmt.Errorf("record: write %s: %w", s.path, err))
		return
	}
	n := s.w.Size() - before
	if n > 0 {
		r.update(func(st *Stats) { st.Audio++; st.Bytes += uint64(n) })
	}
}

// openSegment creates the segment that starts with frame f. It returns
// false (and pauses) when it cannot.
func (r *Recorder) openSegment(f *camsession.Frame) bool {
	if err := r.checkDisk(); err != nil {
		r.pause(err)
		return false
	}
	r.lastDisk = f.Time
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		r.pause(fmt.Errorf("record: cannot create %s: %w", r.dir, err))
		return false
	}
	var file *os.File
	var path string
	for n := 1; ; n++ {
		path = filepath.Join(r.dir, segmentName(r.cfg.Name, f.Time, n))
		var err error
		file, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || n == 100 {
			r.pause(fmt.Errorf("record: cannot create a segment: %w", err))
			return false
		}
	}
	width, height, err := jpeg.Size(f.JPEG)
	if err != nil {
		width, height = defaultWidth, defaultHeight
	}
	tracks := mkvTracks{Width: width, Height: height, Audio: r.cfg.Audio, AudioRate: audio.SampleRate}
	w, err := newMKVWriter(file, f.Time, r.cfg.Name, tracks, clusterSpan)
	if err != nil {
		file.Close()
		os.Remove(path)
		r.pause(fmt.Errorf("record: write %s: %w", path, err))
		return false
	}
	r.seg = &segment{
		file:     file,
		w:        w,
		path:     path,
		start:    f.Time,
		end:      nextBoundary(f.Time, r.cfg.Segment),
		last:     f.Time,
		lastSync: f.Time,
	}
	r.dec.Reset()
	r.update(func(st *Stats) { st.Segments++; st.Recording = path; st.Bytes += uint64(w.Size()) })
	r.log.Info("recording", "file", path)
	if r.cfg.OnOpen != nil {
		r.cfg.OnOpen(path)
	}
	return true
}

// closeSegment finishes the open segment, if any. next is the time of the
// frame that continues the recording in the next segment (its duration
// then ends there), or zero when the recording stops or breaks off (it
// then ends one frame interval after its last frame).
func (r *Recorder) closeSegment(next time.Time) {
	s := r.seg
	if s == nil {
		return
	}
	r.seg = nil
	dur := s.last.Sub(s.start)
	switch {
	case !next.IsZero():
		dur = next.Sub(s.start)
	case s.frames > 1:
		dur += dur / time.Duration(s.frames-1)
	}
	dur = max(dur, time.Millisecond)
	err := s.w.Close(dur)
	if serr := s.file.Sync(); err == nil {
		err = serr
	}
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	r.update(func(st *Stats) { st.Recording = "" })
	rec := Recording{Path: s.path, Start: s.start, Duration: dur, Size: s.w.Size(), Complete: err == nil, Audio: r.cfg.Audio}
	if err != nil {
		r.log.Warn("segment not finished properly; it plays up to its last whole frame", "file", s.path, "err", err)
	} else {
		r.log.Info("segment closed", "file", s.path, "duration", dur.Round(time.Millisecond).String(), "frames", s.frames, "bytes", rec.Size)
	}
	if r.cfg.OnClose != nil {
		r.cfg.OnClose(rec)
	}
	r.retain(time.Now())
}

// checkDisk returns an error wrapping ErrLowDisk when the free space is
// under MinFree.
func (r *Recorder) checkDisk() error {
	if r.cfg.MinFree < 0 {
		return nil
	}
	free, ok := freeSpace(r.dir)
	if ok && free < r.cfg.MinFree {
		return fmt.Errorf("%w: %s free on the disk of %s, under the minimum of %s; recording is paused and resumes by itself when space is freed",
			ErrLowDisk, FormatSize(free), r.dir, FormatSize(r.cfg.MinFree))
	}
	return nil
}

// pause stops recording after err (low disk space, a write error). The
// open segment is closed, retention runs (it may free space by its
// rules), and tick tries to resume every pausedCheckEvery.
func (r *Recorder) pause(err error) {
	r.closeSegment(time.Time{})
	now := time.Now()
	first := r.paused == nil
	r.paused = err
	r.nextCheck = now.Add(pausedCheckEvery)
	r.update(func(st *Stats) { st.Paused = err })
	if first {
		// The same failure again right after resuming is logged once a
		// minute, not every pausedCheckEvery.
		if msg := err.Error(); msg != r.loggedMsg || now.Sub(r.loggedAt) >= time.Minute {
			r.loggedMsg, r.loggedAt = msg, now
			r.log.Error("recording paused", "err", err)
		}
		if r.cfg.OnPause != nil {
			r.cfg.OnPause(err)
		}
	}
	r.retain(now)
}

// tick does what needs no frame: it closes the segment of a camera that
// went away, resumes a paused recording, forgets stale pre-roll and runs
// retention.
func (r *Recorder) tick(now time.Time) {
	if s := r.seg; s != nil && now.Sub(s.last) > r.cfg.Gap {
		r.log.Info("no frames: segment closed until they return", "silence", now.Sub(s.last).Round(time.Millisecond).String())
		r.closeSegment(time.Time{})
	}
	if r.paused != nil && !now.Before(r.nextCheck) {
		r.tryResume(now)
	}
	if r.cfg.Motion && !r.motionOn {
		r.trimRing(now.Add(-r.cfg.PreRoll))
	}
	if now.Sub(r.lastRetention) >= retentionEvery {
		r.retain(now)
	}
}

// tryResume resumes a paused recording when the free space is back 10 %
// above MinFree.
func (r *Recorder) tryResume(now time.Time) {
	r.nextCheck = now.Add(pausedCheckEvery)
	if r.cfg.MinFree >= 0 {
		if free, ok := freeSpace(r.dir); ok && free < r.cfg.MinFree+r.cfg.MinFree/10 {
			return
		}
	}
	r.log.Info("recording resumed")
	r.paused = nil
	r.update(func(st *Stats) { st.Paused = nil })
	if r.cfg.OnResume != nil {
		r.cfg.OnResume()
	}
}

// retain deletes the segments older than Keep and, oldest first, those
// beyond MaxSize. The open segment counts towards MaxSize but is never
// deleted.
func (r *Recorder) retain(now time.Time) {
	r.lastRetention = now
	files, err := segmentFiles(r.dir, r.cfg.Name)
	if err != nil {
		r.log.Warn("retention: cannot list the recordings", "err", err)
		return
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	open := ""
	if r.seg != nil {
		open = r.seg.path
	}
	for _, f := range files {
		if f.path == open {
			continue
		}
		old := r.cfg.Keep > 0 && now.Sub(f.mod) > r.cfg.Keep
		big := r.cfg.MaxSize > 0 && total > r.cfg.MaxSize
		if !old && !big {
			continue
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			r.log.Warn("retention: cannot delete a recording", "file", f.path, "err", err)
			continue
		}
		total -= f.size
		why := "older than " + FormatAge(r.cfg.Keep)
		if !old {
			why = "recordings over " + FormatSize(r.cfg.MaxSize)
		}
		r.log.Info("deleted old recording", "file", f.path, "reason", why)
		r.update(func(st *Stats) { st.Removed++ })
		if r.cfg.OnRemove != nil {
			r.cfg.OnRemove(f.path)
		}
	}
}
