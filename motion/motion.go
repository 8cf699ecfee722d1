// Package motion detects motion in a camera's JPEG frames by comparing small luma
// thumbnails of frames a few times per second.
//
// Each analysed frame is reduced to a Grid (by default 32×24 cells, each the mean luma
// of its block of pixels, and the block's texture) and compared with the previous
// analysed grid. A cell changed when its luma moved by more than Threshold after the
// global brightness shift (auto exposure) is taken out, or when its texture changed
// markedly (an object as bright as the background it covers); motion is seen when at
// least MinArea of the cells changed. The motion state turns true at once and turns false
// only after Hold has passed without motion. Only the frames analysed are decoded, and
// not whole: the grid comes from the DC coefficient of each 8×8 luma block (a 1/8-scale
// picture read from the entropy-coded data without an inverse DCT) and the texture from
// the AC coefficients. A 640×480 camera frame costs about a tenth of a full decode,
// 0.2–0.4 ms, so at the default 4 analyses per second 64 cameras take under a tenth of
// a core (see BenchmarkAnalyse). Progressive and other JPEGs the DC decoder does not
// handle are decoded whole with image/jpeg.
package motion

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/chinesium/chinesium/stream"
)

// Defaults of Config's fields.
const (
	// DefaultRate is the number of frames analysed per second.
	DefaultRate = 4.0
	// DefaultThreshold is the luma change (0-255) for a cell to count as
	// changed.
	DefaultThreshold = 14.0
	// DefaultMinArea is the fraction of cells that must change for
	// motion: about 8 cells of the default grid, or a 64×48 pixel area at
	// 640×480.
	DefaultMinArea = 0.01
	// DefaultHold is how long motion stays true after it was last seen.
	DefaultHold = 5 * time.Second
	// DefaultGridW and DefaultGridH are the grid size.
	DefaultGridW, DefaultGridH = 32, 24
)

// Config configures a Detector. Zero (or negative) fields take their
// defaults.
type Config struct {
	// Rate is the number of frames analysed per second. It defaults to
	// DefaultRate (4).
	Rate float64
	// Threshold is the luma change (0-255) for a cell to count as changed.
	// It defaults to DefaultThreshold (14).
	Threshold float64
	// MinArea is the fraction of cells (0-1) that must change for motion.
	// It defaults to DefaultMinArea (0.01).
	MinArea float64
	// Hold is how long motion stays true after it was last seen. It
	// defaults to DefaultHold (5 s).
	Hold time.Duration
	// GridW and GridH are the grid size. They default to DefaultGridW ×
	// DefaultGridH (32×24); when one of them is not positive, both take
	// their defaults.
	GridW, GridH int
	// OnChange is called (from the goroutine calling Analyse or Run) on each transition
	// of the motion state. It must not block for long.
	OnChange func(motion bool)
	// Logger receives the detector's debug logs, tagged component=motion.
	// Nil discards them.
	Logger *slog.Logger
}

// setDefaults fills every zero field with its default.
func (c *Config) setDefaults() {
	if c.Rate <= 0 {
		c.Rate = DefaultRate
	}
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	if c.MinArea <= 0 {
		c.MinArea = DefaultMinArea
	}
	if c.Hold <= 0 {
		c.Hold = DefaultHold
	}
	if c.GridW <= 0 || c.GridH <= 0 {
		c.GridW, c.GridH = DefaultGridW, DefaultGridH
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Stats counts the detector's work.
type Stats struct {
	Analysed   uint64 // frames decoded and compared
	Skipped    uint64 // frames skipped to keep to Rate
	BadFrames  uint64 // frames that did not decode
	Detections uint64 // analyses that saw motion
	LastArea   float64
}

// Detector is a frame-differencing motion detector for one camera. Its methods are
// safe for concurrent use.
type Detector struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	prev     *Grid
	spare    *Grid     // a grid for the next analysis to fill; nil while one does
	last     time.Time // time of the last analysis
	lastSeen time.Time // time motion was last detected
	motion   bool
	stats    Stats
}

// New returns a Detector with cfg's defaults filled in.
func New(cfg Config) *Detector {
	cfg.setDefaults()
	return &Detector{cfg: cfg, log: cfg.Logger.With("component", "motion")}
}

// Motion reports the current motion state.
func (d *Detector) Motion() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.motion
}

// Stats returns a snapshot of the counters.
func (d *Detector) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Interval is the time between analyses (1/Rate).
func (d *Detector) Interval() time.Duration { return time.Duration(float64(time.Second) / d.cfg.Rate) }

// Analyse feeds a frame received at now. Frames arriving sooner than Interval after
// the last analysed one are skipped without decoding. It returns the motion state.
func (d *Detector) Analyse(jpg []byte, now time.Time) bool {
	d.mu.Lock()
	if !d.last.IsZero() && now.Sub(d.last) < d.Interval() {
		d.stats.Skipped++
		m := d.updateLocked(now, false)
		d.mu.Unlock()
		return m
	}
	d.last = now
	spare := d.spare
	d.spare = nil
	d.mu.Unlock()

	g, err := decodeGrid(jpg, d.cfg.GridW, d.cfg.GridH, spare)

	d.mu.Lock()
	if err != nil {
		d.spare = spare
		d.stats.BadFrames++
		m := d.updateLocked(now, false)
		d.mu.Unlock()
		d.log.Debug("undecodable frame", "err", err)
		return m
	}
	d.stats.Analysed++
	seen := false
	if d.prev != nil {
		area := d.prev.ChangedArea(g, d.cfg.Threshold)
		d.stats.LastArea = area
		seen = area >= d.cfg.MinArea
	}
	// The grid compared with is not needed any more: the next analysis
	// fills it again.
	d.spare, d.prev = d.prev, g
	if seen {
		d.stats.Detections++
	}
	m := d.updateLocked(now, seen)
	d.mu.Unlock()
	return m
}

// Tick re-evaluates the hold time at now without a frame (a camera that stopped
// sending must not stay in motion forever). It returns the motion state.
func (d *Detector) Tick(now time.Time) bool {
	d.mu.Lock()
	m := d.updateLocked(now, false)
	d.mu.Unlock()
	return m
}

// Reset forgets the reference frame (after a signal loss, the first frame back must
// not be compared with one from long ago) and ends motion.
func (d *Detector) Reset(now time.Time) {
	d.mu.Lock()
	d.prev = nil
	d.last = time.Time{}
	d.lastSeen = time.Time{}
	d.mu.Unlock()
	d.Tick(now.Add(d.cfg.Hold))
}

// updateLocked applies one observation and fires OnChange on a transition. The
// callback runs with d.mu released.
func (d *Detector) updateLocked(now time.Time, seen bool) bool {
	if seen {
		d.lastSeen = now
	}
	want := !d.lastSeen.IsZero() && now.Sub(d.lastSeen) < d.cfg.Hold
	if seen {
		want = true
	}
	if want == d.motion {
		return want
	}
	d.motion = want
	if cb := d.cfg.OnChange; cb != nil {
		d.mu.Unlock()
		cb(want)
		d.mu.Lock()
	}
	return want
}

// Run analyses the frames published on hub until ctx is done, ticking the hold time
// while no frames arrive. It returns nil on cancellation or when the hub closes.
func (d *Detector) Run(ctx context.Context, hub *stream.Hub) error {
	r := hub.NewReaderAfterLatest()
	defer r.Close()
	for {
		wait, cancel := context.WithTimeout(ctx, d.Interval())
		f, err := r.Next(wait)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, stream.ErrClosed):
			return nil
		case err != nil:
			d.Tick(time.Now())
			continue
		}
		d.Analyse(f.JPEG, time.Now())
		// Frames that queued while decoding are stale: analyse the live picture next.
		r.SkipToLatest()
	}
}

// Grid is a luma thumbnail: W×H cells, each the mean luma of its pixel block, and the
// block's texture (mean absolute luma step between neighbouring samples), so that an
// object as bright as the background it covers still shows.
type Grid struct {
	W, H    int
	Cells   []float32
	Texture []float32
}

// MaxDimension bounds the width and height of a frame DecodeGrid decodes.
// image/jpeg allocates the whole picture as soon as it has read the frame
// header, so a few hundred bytes claiming 65535×65535 pixels would cost
// gigabytes; the cameras send 640×480.
const MaxDimension = 4096

// DecodeGrid reduces a JPEG's luma to a w×h grid. A baseline (or extended
// sequential) Huffman-coded JPEG is not decoded whole: only its 1/8-scale
// luma, the DC coefficient of each 8×8 block, and the texture its AC
// coefficients give (see decodeDCInto). Other JPEGs (progressive, arithmetic,
// 12-bit) are decoded with image/jpeg. Frames wider or taller than
// MaxDimension are refused before decoding.
func DecodeGrid(jpg []byte, w, h int) (*Grid, error) { return decodeGrid(jpg, w, h, nil) }

// decodeGrid is DecodeGrid filling g (a new Grid when nil), working in
// memory kept from earlier analyses (scratches).
func decodeGrid(jpg []byte, w, h int, g *Grid) (*Grid, error) {
	sc := getScratch()
	defer putScratch(sc)
	dc, err := decodeDCInto(jpg, &sc.img)
	if err == nil {
		return dc.grid(w, h, sc, g)
	}
	if !errors.Is(err, errUnsupported) {
		return nil, err
	}
	return decodeGridFull(jpg, w, h)
}

// decodeGridFull decodes the whole picture with image/jpeg and reduces its
// luma to a w×h grid.
func decodeGridFull(jpg []byte, w, h int) (*Grid, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(jpg))
	if err != nil {
		return nil, fmt.Errorf("motion: decode: %w", err)
	}
	if cfg.Width > MaxDimension || cfg.Height > MaxDimension {
		return nil, fmt.Errorf("motion: frame %dx%d larger than %dx%d", cfg.Width, cfg.Height, MaxDimension, MaxDimension)
	}
	img, err := jpeg.Decode(bytes.NewReader(jpg))
	if err != nil {
		return nil, fmt.Errorf("motion: decode: %w", err)
	}
	return NewGrid(img, w, h)
}

// NewGrid reduces img's luma to a w×h grid, sampling every second pixel of every
// second row.
func NewGrid(img image.Image, w, h int) (*Grid, error) {
	b := img.Bounds()
	if b.Dx() < 2*w || b.Dy() < 2*h {
		return nil, fmt.Errorf("motion: image %dx%d too small for a %dx%d grid", b.Dx(), b.Dy(), w, h)
	}
	g := &Grid{W: w, H: h, Cells: make([]float32, w*h), Texture: make([]float32, w*h)}
	counts := make([]uint32, w*h)
	sums := make([]uint32, w*h)
	steps := make([]uint32, w*h)
	cellX := make([]int, b.Dx())
	for x := range cellX {
		cellX[x] = x * w / b.Dx()
	}
	// addRow accumulates one row of luma samples (every second pixel).
	addRow := func(y int, row []uint8) {
		base := (y - b.Min.Y) * h / b.Dy() * w
		prev := int(row[0])
		for x := 0; x < len(row); x += 2 {
			i := base + cellX[x]
			v := int(row[x])
			sums[i] += uint32(v)
			d := v - prev
			if d < 0 {
				d = -d
			}
			steps[i] += uint32(d)
			prev = v
			counts[i]++
		}
	}
	switch m := img.(type) {
	case *image.YCbCr:
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			off := m.YOffset(b.Min.X, y)
			addRow(y, m.Y[off:off+b.Dx()])
		}
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			off := m.PixOffset(b.Min.X, y)
			addRow(y, m.Pix[off:off+b.Dx()])
		}
	default:
		row := make([]uint8, b.Dx())
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			for x := range row {
				r, gg, bb, _ := img.At(b.Min.X+x, y).RGBA()
				row[x] = uint8((19595*r + 38470*gg + 7471*bb + 1<<15) >> 24)
			}
			addRow(y, row)
		}
	}
	for i := range g.Cells {
		if counts[i] > 0 {
			g.Cells[i] = float32(sums[i]) / float32(counts[i])
			g.Texture[i] = float32(steps[i]) / float32(counts[i])
		}
	}
	return g, nil
}

// ChangedArea returns the fraction of cells that changed between g and o: their luma
// moved by more than threshold after removing the mean difference (a global
// brightness change), or their texture (scaled with the brightness ratio, since
// contrast follows exposure) moved by more than twice threshold and by more than half. Grids of different sizes
// count as fully changed.
func (g *Grid) ChangedArea(o *Grid, threshold float64) float64 {
	if g.W != o.W || g.H != o.H || len(g.Cells) == 0 || len(g.Texture) != len(g.Cells) || len(o.Texture) != len(o.Cells) {
		return 1
	}
	var mean, lumA, lumB float64
	for i, c := range g.Cells {
		mean += float64(o.Cells[i] - c)
		lumA += float64(c)
		lumB += float64(o.Cells[i])
	}
	mean /= float64(len(g.Cells))
	gain := 1.0
	if lumA > 0 {
		gain = lumB / lumA
	}
	changed := 0
	for i, c := range g.Cells {
		d := float64(o.Cells[i]-c) - mean
		// Texture counts only when it changed by twice the threshold and by half of
		// itself: clipping in over-exposed areas and noise must not count.
		ta, tb := gain*float64(g.Texture[i]), float64(o.Texture[i])
		tx := math.Abs(tb - ta)
		texture := tx > 2*threshold && tx > 0.5*max(ta, tb)
		if d > threshold || d < -threshold || texture {
			changed++
		}
	}
	return float64(changed) / float64(len(g.Cells))
}
