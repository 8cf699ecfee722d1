package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/record"
	"github.com/chinesium/chinesium/stream"
)

const recordHelp = `
Records one camera until Ctrl-C into Matroska (.mkv) segment files: the
camera's own JPEG frames, unchanged, with the times they arrived (and its
audio as 8 kHz PCM with -audio). Segments are cut on the clock (with
-segment 15m at :00, :15, :30 and :45) and named after their first frame,
in a folder of the camera's own:

  DIR/cam-10-10-1-30/cam-10-10-1-30-2026-12-02_14-15-00.mkv

Every frame is written as it arrives, so a file cut short by a crash or a
power cut plays up to its last frame. When the camera goes away the segment
is closed; a new one starts when it is back.

Segments older than -keep and, oldest first, those beyond -max-size are
deleted; recording pauses (and says why) while the disk has less than
-min-free free, and resumes by itself when there is room again. With
-motion only motion is recorded: from -pre-roll before it until the
-motion-hold time after it.

The path of each new segment is printed on stdout; logs go to stderr.

Examples:
  chinesium record 10.10.1.30 -dir /srv/recordings
  chinesium record 10.10.1.30 -dir /srv/recordings -segment 5m -keep 30d -max-size 100GB -audio
  chinesium record 10.10.1.30 -dir /srv/recordings -motion -pre-roll 5s -motion-hold 10s`

// limitFlag is a -keep, -max-size or -min-free value: a duration or a
// size, or "off" (also 0), which the record package takes as -1.
type limitFlag struct {
	v      int64
	parse  func(string) (int64, error)
	format func(int64) string
}

func (f *limitFlag) String() string {
	if f.format == nil {
		return ""
	}
	if f.v < 0 {
		return "off"
	}
	return f.format(f.v)
}

func (f *limitFlag) Set(s string) error {
	if s == "off" || s == "0" {
		f.v = -1
		return nil
	}
	v, err := f.parse(s)
	if err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "record: "))
	}
	if v == 0 {
		f.v = -1
		return nil
	}
	f.v = v
	return nil
}

func sizeLimit(fs *flagSet, name string, def int64, usage string) *limitFlag {
	f := &limitFlag{v: def, parse: record.ParseSize, format: record.FormatSize}
	fs.Var(f, name, usage)
	return f
}

func ageLimit(fs *flagSet, name string, def time.Duration, usage string) *limitFlag {
	f := &limitFlag{
		v:      int64(def),
		parse:  func(s string) (int64, error) { d, err := record.ParseAge(s); return int64(d), err },
		format: func(v int64) string { return record.FormatAge(time.Duration(v)) },
	}
	fs.Var(f, name, usage)
	return f
}

func runRecord(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "record", "[flags] IP -dir DIR", recordHelp)
	dir := fs.String("dir", "", "folder for the recordings (required); the camera records into a folder of its own in it")
	name := fs.String("name", "", "the camera's name: its folder and the start of its file names (default cam- and the IP with dashes)")
	segment := fs.Duration("segment", record.DefaultSegment, fmt.Sprintf("segment length, %v to %v; segments start on multiples of it from midnight", record.MinSegment, record.MaxSegment))
	keep := ageLimit(fs, "keep", record.DefaultKeep, "delete segments older than this, e.g. 7d, 36h (off: whatever their age)")
	maxSize := sizeLimit(fs, "max-size", record.DefaultMaxSize, "delete the oldest segments while the camera's take more than this together, e.g. 20GB, 500MB (off: no limit)")
	minFree := sizeLimit(fs, "min-free", record.DefaultMinFree, "pause recording while the disk has less free space than this (off: no check)")
	withAudio := fs.Bool("audio", false, "ask the camera for audio and record it (8 kHz 16-bit PCM)")
	motionOnly := fs.Bool("motion", false, "record only while motion is detected, from -pre-roll before it to -motion-hold after it")
	preRoll := fs.Duration("pre-roll", record.DefaultPreRoll, "with -motion: how much of the time before motion each recording starts with")
	sens := fs.Int("motion-sensitivity", motion.DefaultSensitivity, fmt.Sprintf("with -motion: sensitivity, %d (only large, strong changes) to %d (small, faint ones)", motion.MinSensitivity, motion.MaxSensitivity))
	hold := fs.Duration("motion-hold", motion.DefaultHold, "with -motion: how long motion lasts after it was last seen (the post-roll)")
	local := addLocalFlags(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	ip, err := cameraArg("record", pos)
	if err != nil {
		return err
	}
	if *dir == "" {
		return usagef("say where to record with -dir, e.g. chinesium record %v -dir /srv/recordings", ip)
	}
	if *segment < record.MinSegment || *segment > record.MaxSegment {
		return usagef("-segment must be between %v and %v", record.MinSegment, record.MaxSegment)
	}
	if *sens < motion.MinSensitivity || *sens > motion.MaxSensitivity {
		return usagef("-motion-sensitivity must be between %d and %d", motion.MinSensitivity, motion.MaxSensitivity)
	}
	if *hold <= 0 || *preRoll < 0 {
		return usagef("-motion-hold must be positive and -pre-roll not negative")
	}
	if *name == "" {
		*name = bridge.DefaultName(ip)
	}
	log := fs.logger(e)

	var outMu sync.Mutex
	rcfg := record.Config{
		Dir:     *dir,
		Name:    *name,
		Segment: *segment,
		Keep:    time.Duration(keep.v),
		MaxSize: maxSize.v,
		MinFree: minFree.v,
		Audio:   *withAudio,
		Motion:  *motionOnly,
		PreRoll: *preRoll,
		Logger:  log.With("camera", *name),
		OnOpen: func(path string) {
			outMu.Lock()
			defer outMu.Unlock()
			fmt.Fprintf(e.stdout, "segment %s\n", path)
		},
	}
	if *motionOnly && *preRoll == 0 {
		rcfg.PreRoll = -1 // no pre-roll asked for; 0 would take the default
	}
	rec, err := record.New(rcfg)
	if err != nil {
		return err
	}

	var hub *stream.Hub
	var det *motion.Detector
	scfg := camsession.Config{Camera: ip, Audio: *withAudio, OnFrame: rec.AddFrame}
	if err = local.config(&scfg); err != nil {
		return err
	}
	bridge.LogSession(log.With("camera", ip.String()), &scfg, bridge.HintCommand)
	if *withAudio {
		scfg.OnAudio = rec.AddAudio
	}
	if *motionOnly {
		// The detector analyses the frames as the bridge's does.
		hub = stream.NewHub()
		mcfg := motion.Config{Hold: *hold}.WithSensitivity(*sens)
		mcfg.OnChange = rec.SetMotion
		mcfg.Logger = log
		det = motion.New(mcfg)
		scfg.OnFrame = func(f *camsession.Frame) {
			rec.AddFrame(f)
			hub.Publish(f)
		}
		logState := scfg.OnState
		scfg.OnState = func(s camsession.State) {
			logState(s)
			if s == camsession.StateLost {
				det.Reset(time.Now())
			}
		}
	}
	sess, err := camsession.New(scfg)
	if err != nil {
		return err
	}

	outMu.Lock()
	fmt.Fprintf(e.stdout, "recording camera %v into %s (Ctrl-C stops)\n", ip, rec.Dir())
	outMu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { _ = sess.Run(ctx) })
	if det != nil {
		wg.Go(func() { _ = det.Run(ctx, hub) })
	}
	err = rec.Run(ctx)
	wg.Wait()
	if hub != nil {
		hub.Close()
	}
	st := rec.Stats()
	log.Info("recording stopped", "segments", st.Segments, "frames", st.Frames, "dropped", st.Dropped, "deleted", st.Removed)
	return err
}
