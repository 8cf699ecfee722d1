package motion

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"sync"
	"sync/atomic"

	"github.com/chinesium/chinesium/internal/jpeg"
)

// This file decodes the 1/8-scale luma of a baseline JPEG straight from its
// entropy-coded data: the DC coefficient of each 8×8 luma block is the
// block's mean (ITU-T T.81 A.3.3: the DCT is orthonormal, so DC = 8 × mean
// of the level-shifted samples), and the AC coefficients, which must be
// Huffman-decoded anyway to find where the next block starts, give the
// block's texture without an inverse DCT. Chroma blocks are decoded only to
// be skipped. The headers are read by internal/jpeg. What this decoder does not handle (progressive or arithmetic
// coding, 12-bit samples, several scans) is reported as errUnsupported, and
// DecodeGrid then decodes the whole picture with image/jpeg.

// errUnsupported marks a valid JPEG this decoder does not handle.
var errUnsupported = errors.New("motion: jpeg coding not handled by the DC decoder")

// unzig maps the zig-zag index of a coefficient to its position row*8+col
// in the 8×8 block (T.81 Figure A.6).
var unzig = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// stepWeight[k] is, for the coefficient of zig-zag index k at horizontal
// frequency u and vertical frequency v, the energy of the luma steps
// between samples two pixels apart per unit of coefficient energy, averaged
// over both directions: a cosine of frequency u changes by 2·sin(πu/8) of
// its amplitude over two pixels. The grid's texture is the mean step
// between samples two pixels apart (NewGrid), so the block's texture is
// estimated as the root of Σ F²·stepWeight / 64, times textureScale.
var stepWeight = func() (w [64]float32) {
	for k, pos := range unzig {
		u, v := float64(pos%8), float64(pos/8)
		su, sv := math.Sin(math.Pi*u/8), math.Sin(math.Pi*v/8)
		w[k] = float32(2 * (su*su + sv*sv))
	}
	return w
}()

// textureScale turns the root mean square step estimated from the
// coefficients into the mean absolute step NewGrid measures (about 0.8 for
// noise-like texture: the mean of |x| is √(2/π) of its RMS).
const textureScale = 0.8

// huffLookBits is the number of bits of the fast Huffman lookup.
const huffLookBits = 9

// huffTable is a decoding table built from a DHT segment (T.81 Annex C).
type huffTable struct {
	// look holds, for each huffLookBits-bit prefix, the code length in the
	// high byte and the symbol in the low byte; 0 when the code is longer.
	look    [1 << huffLookBits]uint16
	maxCode [17]int32 // largest code of each length, -1 when none
	valPtr  [17]int32 // index in vals of the first code of each length
	minCode [17]int32
	vals    [256]uint8
	// fastAC holds, for an AC table, the coefficients whose code and value
	// bits together fit in huffLookBits: they are decoded in one lookup.
	fastAC [1 << huffLookBits]fastCoef
}

// fastCoef is one entry of huffTable.fastAC: len is 0 when the prefix
// does not hold a whole coefficient.
type fastCoef struct {
	val int16 // the coefficient
	run uint8 // zeros before it, or runEOB
	len uint8 // code and value bits
}

// runEOB is the run of a fastCoef that ends the block.
const runEOB = 0xFF

// build fills t from the counts of codes of each length and their symbols.
func (t *huffTable) build(counts []byte, vals []byte) error {
	*t = huffTable{}
	copy(t.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		t.valPtr[l] = k
		t.minCode[l] = code
		if n == 0 {
			t.maxCode[l] = -1
		} else {
			t.maxCode[l] = code + n - 1
		}
		for range n {
			if code >= 1<<l {
				return fmt.Errorf("motion: invalid huffman table: too many codes of length %d", l)
			}
			if l <= huffLookBits {
				shift := huffLookBits - l
				base := code << shift
				for i := range int32(1) << shift {
					t.look[base+i] = uint16(l)<<8 | uint16(t.vals[k])
				}
			}
			code++
			k++
		}
		code <<= 1
	}
	for p, e := range t.look {
		l, rs := uint(e>>8), uint8(e)
		size := uint(rs & 0x0F)
		switch {
		case l == 0 || l+size > huffLookBits:
		case size == 0 && rs != 0xF0:
			// EOB; other runs without a size are undefined in sequential
			// coding (T.81 F.1.2.2.1) and end the block, as in image/jpeg.
			t.fastAC[p] = fastCoef{run: runEOB, len: uint8(l)}
		default:
			// ZRL, sixteen zeros, is a run of 15 and a zero coefficient.
			v := uint32(p>>(huffLookBits-l-size)) & (1<<size - 1)
			t.fastAC[p] = fastCoef{val: int16(extend(v, size)), run: rs >> 4, len: uint8(l + size)}
		}
	}
	return nil
}

// huffCache holds the decoding tables built so far, by their DHT bytes
// (counts then symbols): a camera sends the same tables in every frame,
// and building one costs more than a small frame's luma. At most
// maxCachedTables are kept (about 3.5 KB each); others are built each time.
// The map is never changed once stored, so a lookup takes no lock and,
// indexed by string(spec), allocates nothing; a new table stores a copy.
var (
	huffCache   atomic.Pointer[map[string]*huffTable]
	huffCacheMu sync.Mutex // serializes the copies
)

// maxCachedTables bounds huffCache: four tables per camera model.
const maxCachedTables = 32

// cachedTable returns the decoding table of spec, the 16 counts of codes
// of each length then the symbols.
func cachedTable(spec []byte) (*huffTable, error) {
	if m := huffCache.Load(); m != nil {
		if t, ok := (*m)[string(spec)]; ok {
			return t, nil
		}
	}
	t := new(huffTable)
	if err := t.build(spec[:16], spec[16:]); err != nil {
		return nil, err
	}
	huffCacheMu.Lock()
	defer huffCacheMu.Unlock()
	old := huffCache.Load()
	if old == nil || len(*old) < maxCachedTables {
		m := make(map[string]*huffTable, maxCachedTables)
		if old != nil {
			maps.Copy(m, *old)
		}
		m[string(spec)] = t
		huffCache.Store(&m)
	}
	return t, nil
}

// bitReader reads the entropy-coded data of a scan (T.81 F.2.2.5):
// stuffed bytes FF 00 are one FF; at a marker it stops and feeds zero bits,
// counting them so that a decoder running past the data is caught.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64 // bits, most significant first
	n      uint   // valid bits in acc
	marker bool   // stopped at a marker or at the end of data
	pad    uint   // zero bits fed after stopping
}

// fill tops acc up to at least 57 bits.
func (r *bitReader) fill() {
	// Fast path: the next 8 bytes hold no FF, so the bytes that fit in acc
	// are data, unstuffed.
	if !r.marker && r.pos+8 <= len(r.data) {
		x := binary.BigEndian.Uint64(r.data[r.pos:])
		// A byte is FF when it is still 0 after inverting; "haszero" trick.
		inv := ^x
		if (inv-0x0101010101010101)&^inv&0x8080808080808080 == 0 {
			k := (64 - r.n) / 8 // whole bytes that fit
			r.acc |= x >> r.n &^ (1<<(64-r.n-8*k) - 1)
			r.n += 8 * k
			r.pos += int(k)
			return
		}
	}
	for r.n <= 56 {
		var b byte
		switch {
		case r.marker:
			r.pad += 8
		case r.pos >= len(r.data):
			r.marker = true
			r.pad += 8
		default:
			b = r.data[r.pos]
			if b != 0xFF {
				r.pos++
				break
			}
			if r.pos+1 < len(r.data) && r.data[r.pos+1] == 0x00 {
				r.pos += 2
				break
			}
			// A marker (or FF at the very end): the data of this interval ends.
			r.marker = true
			r.pad += 8
			b = 0
		}
		r.acc |= uint64(b) << (56 - r.n)
		r.n += 8
	}
}

// overrun reports whether the decoder consumed bits past the end of the
// data: a truncated or corrupt scan.
func (r *bitReader) overrun() bool { return r.marker && r.pad > r.n }

// bits reads s bits (s ≤ 16) as an unsigned number.
func (r *bitReader) bits(s uint) uint32 {
	if r.n < s {
		r.fill()
	}
	v := uint32(r.acc >> (64 - s))
	r.acc <<= s
	r.n -= s
	return v
}

// decode reads one Huffman-coded symbol.
func (r *bitReader) decode(t *huffTable) (uint8, error) {
	if r.n < 16 {
		r.fill()
	}
	if e := t.look[r.acc>>(64-huffLookBits)]; e != 0 {
		l := uint(e >> 8)
		r.acc <<= l
		r.n -= l
		return uint8(e), nil
	}
	for l := huffLookBits + 1; l <= 16; l++ {
		code := int32(r.acc >> (64 - uint(l)))
		if code <= t.maxCode[l] {
			r.acc <<= uint(l)
			r.n -= uint(l)
			return t.vals[t.valPtr[l]+code-t.minCode[l]], nil
		}
	}
	return 0, errors.New("motion: bad huffman code")
}

// restart skips to the data after the next restart marker (T.81 F.2.2.5),
// which must be RSTn. It reports false when there is none or it is
// another: intervals were lost.
func (r *bitReader) restart(n int) bool {
	r.acc, r.n, r.pad, r.marker = 0, 0, 0, false
	for i := r.pos; i+1 < len(r.data); i++ {
		if r.data[i] == 0xFF && r.data[i+1] >= jpeg.RST0 && r.data[i+1] <= jpeg.RST7 {
			r.pos = i + 2
			return r.data[i+1] == byte(jpeg.RST0+n)
		}
	}
	return false
}

// extend turns s received bits into a signed coefficient (T.81 F.2.2.1).
func extend(v uint32, s uint) int32 {
	if s == 0 {
		return 0
	}
	if v < 1<<(s-1) {
		return int32(v) - (1 << s) + 1
	}
	return int32(v)
}

// dcImage is a JPEG's luma at 1/8 scale: one value per 8×8 luma block.
type dcImage struct {
	Width, Height int       // the picture's size in pixels
	BW, BH        int       // blocks per row and column, covering the picture
	Luma          []float32 // mean luma (0-255) of each block, row by row
	Texture       []float32 // estimated mean luma step of each block
}

// component is one colour component of the scan, as the decoder tracks it.
type component struct {
	h, v   int
	dc, ac *huffTable
	pred   int32
}

// decodeDCInto decodes into img, whose slices it reuses when they are
// large enough, the DC image of a baseline or extended sequential Huffman
// JPEG with one component or an interleaved scan of all of them. Other
// codings return an error wrapping errUnsupported.
func decodeDCInto(b []byte, img *dcImage) (*dcImage, error) {
	var hdr jpeg.Header
	if err := jpeg.Parse(b, &hdr); err != nil {
		if errors.Is(err, jpeg.ErrUnsupported) {
			return nil, fmt.Errorf("%w: %w", errUnsupported, err)
		}
		return nil, fmt.Errorf("motion: decode: %w", err)
	}
	if hdr.Width > MaxDimension || hdr.Height > MaxDimension {
		return nil, fmt.Errorf("motion: frame %dx%d larger than %dx%d", hdr.Width, hdr.Height, MaxDimension, MaxDimension)
	}
	// Only luma (the first of YCbCr, or grey) gives the DC image. A JFIF
	// header means YCbCr; otherwise an Adobe APP14 transform of 0 or
	// components named R, G, B mean RGB, as image/jpeg reads them.
	nf := hdr.NumComponents
	if nf == 2 || nf == 4 {
		return nil, fmt.Errorf("%w: %d colour components", errUnsupported, nf)
	}
	fc := &hdr.Components
	if nf == 3 && !hdr.JFIF && (hdr.Adobe && hdr.AdobeTransform == 0 || fc[0].ID == 'R' && fc[1].ID == 'G' && fc[2].ID == 'B') {
		return nil, fmt.Errorf("%w: RGB components", errUnsupported)
	}
	return decodeScan(b[hdr.DataOffset:], &hdr, img)
}

// decodeScan decodes the first scan of the frame hdr, whose entropy-coded
// data starts data, into img.
func decodeScan(data []byte, hdr *jpeg.Header, img *dcImage) (*dcImage, error) {
	ns := hdr.NumScanComponents
	if ns != hdr.NumComponents {
		return nil, fmt.Errorf("%w: scan of %d of %d components", errUnsupported, ns, hdr.NumComponents)
	}
	var (
		comps [jpeg.MaxComponents]component
		order [jpeg.MaxComponents]*component
	)
	for i, sc := range hdr.Scan[:ns] {
		dcSpec, acSpec := hdr.DC[sc.Td].Spec, hdr.AC[sc.Ta].Spec
		if dcSpec == nil || acSpec == nil {
			return nil, errors.New("motion: decode: scan uses an undefined huffman table")
		}
		c := &comps[sc.Index]
		fc := &hdr.Components[sc.Index]
		c.h, c.v = int(fc.H), int(fc.V)
		var err error
		if c.dc, err = cachedTable(dcSpec); err != nil {
			return nil, err
		}
		if c.ac, err = cachedTable(acSpec); err != nil {
			return nil, err
		}
		order[i] = c
	}
	luma := &comps[0]
	lq := &hdr.Quant[hdr.Components[0].Tq]
	if lq.Data == nil {
		return nil, errors.New("motion: decode: missing quantization table")
	}
	hmax, vmax := 1, 1
	for _, c := range comps[:ns] {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	if luma.h != hmax || luma.v != vmax {
		return nil, fmt.Errorf("%w: luma sampled %dx%d below %dx%d", errUnsupported, luma.h, luma.v, hmax, vmax)
	}
	width, height, restart := hdr.Width, hdr.Height, hdr.RestartInterval
	var mcuX, mcuY, lumaBW, lumaBH int
	if ns == 1 {
		// A single component is not interleaved: each MCU is one block.
		luma.h, luma.v = 1, 1
		mcuX, mcuY = (width+7)/8, (height+7)/8
	} else {
		mcuX, mcuY = (width+8*hmax-1)/(8*hmax), (height+8*vmax-1)/(8*vmax)
	}
	lumaBW, lumaBH = mcuX*luma.h, mcuY*luma.v
	img.Width, img.Height = width, height
	img.BW, img.BH = (width+7)/8, (height+7)/8
	img.Luma = resize(img.Luma, img.BW*img.BH)
	img.Texture = resize(img.Texture, img.BW*img.BH)

	// Dequantization folded into the weights: luma coefficient k contributes
	// (v·q[k])²·stepWeight[k] to the block's step energy.
	var w [64]float32
	for k := range w {
		q := float32(lq.At(k))
		w[k] = q * q * stepWeight[k]
	}
	dcScale := float32(lq.At(0)) / 8

	r := &bitReader{data: data}
	mcus := mcuX * mcuY
	for m := range mcus {
		if restart > 0 && m > 0 && m%restart == 0 {
			if r.overrun() {
				return nil, errors.New("motion: decode: restart interval ends early")
			}
			// Restart markers count RST0 to RST7 and start again.
			if !r.restart((m/restart - 1) % 8) {
				return nil, errors.New("motion: decode: restart marker missing or out of sequence")
			}
			for i := range comps {
				comps[i].pred = 0
			}
		}
		mx, my := m%mcuX, m/mcuX
		for _, c := range order[:ns] {
			isLuma := c == luma
			for by := range c.v {
				for bx := range c.h {
					// DC: the difference from the previous block (T.81 F.2.2.1).
					s, err := r.decode(c.dc)
					if err != nil {
						return nil, err
					}
					if s > 11 {
						return nil, fmt.Errorf("motion: decode: DC category %d", s)
					}
					c.pred += extend(r.bits(uint(s)), uint(s))
					// AC: run/size pairs up to end of block (T.81 F.2.2.2).
					var energy float32
					for k := 1; k < 64; k++ {
						if r.n < huffLookBits {
							r.fill()
						}
						if e := c.ac.fastAC[r.acc>>(64-huffLookBits)]; e.len != 0 {
							r.acc <<= e.len
							r.n -= uint(e.len)
							if e.run == runEOB {
								break
							}
							k += int(e.run)
							if k > 63 {
								return nil, errors.New("motion: decode: AC coefficient out of the block")
							}
							if isLuma {
								f := float32(e.val)
								energy += f * f * w[k]
							}
							continue
						}
						rs, err := r.decode(c.ac)
						if err != nil {
							return nil, err
						}
						run, size := int(rs>>4), uint(rs&0x0F)
						if size == 0 {
							if run != 15 {
								break // end of block
							}
							k += 15
							continue
						}
						k += run
						if k > 63 || size > 10 {
							return nil, errors.New("motion: decode: AC coefficient out of the block")
						}
						v := r.bits(size)
						if isLuma {
							f := float32(extend(v, size))
							energy += f * f * w[k]
						}
					}
					if !isLuma {
						continue
					}
					x, y := mx*c.h+bx, my*c.v+by
					if x >= lumaBW || y >= lumaBH || x >= img.BW || y >= img.BH {
						continue // padding blocks outside the picture
					}
					i := y*img.BW + x
					img.Luma[i] = min(255, max(0, float32(c.pred)*dcScale+128))
					img.Texture[i] = textureScale * float32(math.Sqrt(float64(energy)/64))
				}
			}
		}
		// A scan running out of data decodes zeros: stop at the end of the
		// row of MCUs rather than decoding a huge picture of nothing.
		if mx == mcuX-1 && r.overrun() {
			return nil, errors.New("motion: decode: scan data ends early")
		}
	}
	return img, nil
}

// resize returns s with n zeros, in s's memory when it has room.
func resize(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// scratch is the memory an analysis works in, kept for the next one
// instead of allocated for each (scratches).
type scratch struct {
	img     dcImage
	xs, ys  axis
	weights []float32
}

// scratches keeps the memory of finished analyses for the next ones, of
// any Detector: as many are kept as analyses ran at once, up to
// maxScratches, not one for each camera.
var scratches struct {
	sync.Mutex
	free []*scratch
}

// maxScratches bounds scratches: more analyses than this at once are
// rare, and allocate.
const maxScratches = 8

// maxKeptBlocks bounds the DC image a kept scratch holds: a 1920×1088
// picture's (256 KB). The memory of a larger picture is not kept.
const maxKeptBlocks = 1920 / 8 * 1088 / 8

// getScratch returns the memory of a finished analysis, or new memory.
func getScratch() *scratch {
	scratches.Lock()
	defer scratches.Unlock()
	n := len(scratches.free)
	if n == 0 {
		return new(scratch)
	}
	sc := scratches.free[n-1]
	scratches.free[n-1] = nil
	scratches.free = scratches.free[:n-1]
	return sc
}

// putScratch keeps sc for a later analysis.
func putScratch(sc *scratch) {
	if cap(sc.img.Luma) > maxKeptBlocks {
		return
	}
	scratches.Lock()
	defer scratches.Unlock()
	if len(scratches.free) < maxScratches {
		scratches.free = append(scratches.free, sc)
	}
}

// axis is the overlaps of blocks and cells along an axis of size pixels
// and n cells.
type axis struct {
	size, n int
	o       []overlap
}

// overlaps returns the overlaps for size pixels and n cells, made again
// only when they differ from the last ones.
func (a *axis) overlaps(size, n int) []overlap {
	if a.o == nil || a.size != size || a.n != n {
		a.size, a.n, a.o = size, n, overlaps(size, n)
	}
	return a.o
}

// grid reduces the DC image to a w×h grid: each cell is the area-weighted
// mean of the blocks it covers. It works in sc, and fills g (a new Grid
// when nil).
func (d *dcImage) grid(w, h int, sc *scratch, g *Grid) (*Grid, error) {
	if d.Width < 2*w || d.Height < 2*h {
		return nil, fmt.Errorf("motion: image %dx%d too small for a %dx%d grid", d.Width, d.Height, w, h)
	}
	xs := sc.xs.overlaps(d.Width, w)
	ys := sc.ys.overlaps(d.Height, h)
	if g == nil {
		g = &Grid{}
	}
	g.W, g.H = w, h
	g.Cells, g.Texture = resize(g.Cells, w*h), resize(g.Texture, w*h)
	sc.weights = resize(sc.weights, w*h)
	weights := sc.weights
	for _, oy := range ys {
		row := oy.block * d.BW
		for _, ox := range xs {
			a := float32(oy.len * ox.len)
			i := oy.cell*w + ox.cell
			j := row + ox.block
			g.Cells[i] += a * d.Luma[j]
			g.Texture[i] += a * d.Texture[j]
			weights[i] += a
		}
	}
	for i, a := range weights {
		if a > 0 {
			g.Cells[i] /= a
			g.Texture[i] /= a
		}
	}
	return g, nil
}

// overlap is the length in pixels shared by a block and a cell along one
// axis.
type overlap struct{ block, cell, len int }

// overlaps lists along an axis of size pixels the overlaps of the 8-pixel
// blocks with the cells of a grid of n cells (pixel p is in cell p·n/size,
// as in NewGrid).
func overlaps(size, n int) []overlap {
	out := make([]overlap, 0, size/8+n+1)
	for c := range n {
		lo, hi := (c*size+n-1)/n, ((c+1)*size+n-1)/n
		for p := lo; p < hi; {
			blk := p / 8
			end := min(hi, blk*8+8)
			out = append(out, overlap{block: blk, cell: c, len: end - p})
			p = end
		}
	}
	return out
}
