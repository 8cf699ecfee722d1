package fakecam

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strconv"
	"strings"
	"sync"
)

// Image geometry of the generated frames: the camera's only resolution
// (PROTOCOL.md §5, §9.4).
const (
	Width  = 640
	Height = 480
)

// motionFrames is the number of pre-encoded images of the moving scene; they
// are cycled, so the box loops every motionFrames frames.
const motionFrames = 30

// comPrefix starts the COM marker spliced into every frame.
const comPrefix = "chinesium-fake cam="

// frameSet is a camera's pre-encoded JPEGs (without the COM marker): the
// still scene, and the images of the moving scene, each encoded the first
// time it is needed and kept.
type frameSet struct {
	base   *image.RGBA // the still scene, drawn once
	still  []byte
	moving [motionFrames]func() []byte
}

var (
	setsMu sync.Mutex
	sets   = map[string]*frameSet{} // by camera name; guarded by setsMu
)

// generatedFrames returns the cached test pattern images for a camera name.
func generatedFrames(name string) (*frameSet, error) {
	setsMu.Lock()
	defer setsMu.Unlock()
	if fs, ok := sets[name]; ok {
		return fs, nil
	}
	fs := &frameSet{base: drawBase(name)}
	still, err := encode(fs.base)
	if err != nil {
		return nil, err
	}
	fs.still = still
	for i := range fs.moving {
		fs.moving[i] = sync.OnceValue(func() []byte {
			b, err := encode(drawMotion(fs.base, i))
			if err != nil {
				// Encoding an in-memory image into a buffer cannot fail;
				// fall back to the still image rather than panicking.
				return still
			}
			return b
		})
	}
	sets[name] = fs
	return fs, nil
}

// movingFrame returns image i of the moving scene.
func (fs *frameSet) movingFrame(i uint64) []byte {
	return fs.moving[i%motionFrames]()
}

// Colours of the pattern: 75% bars as on a classic test card.
var (
	bars = []color.RGBA{
		{191, 191, 191, 255}, // white
		{191, 191, 0, 255},   // yellow
		{0, 191, 191, 255},   // cyan
		{0, 191, 0, 255},     // green
		{191, 0, 191, 255},   // magenta
		{191, 0, 0, 255},     // red
		{0, 0, 191, 255},     // blue
	}
	castellations = []color.RGBA{
		{0, 0, 191, 255}, {19, 19, 19, 255}, {191, 0, 191, 255}, {19, 19, 19, 255},
		{0, 191, 191, 255}, {19, 19, 19, 255}, {191, 191, 191, 255},
	}
	band  = color.RGBA{32, 36, 44, 255}
	ink   = color.RGBA{235, 235, 235, 255}
	amber = color.RGBA{255, 176, 0, 255}
)

// drawBase draws the still scene: colour bars, castellations, a dark band
// with the camera name and a grey ramp. Each kind of row is drawn once and
// copied.
func drawBase(name string) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	barW := Width / len(bars)
	row := func(y int, c func(x int) color.RGBA) {
		for x := range Width {
			img.SetRGBA(x, y, c(x))
		}
	}
	row(0, func(x int) color.RGBA { return bars[min(x/barW, len(bars)-1)] })
	row(320, func(x int) color.RGBA { return castellations[min(x/barW, len(bars)-1)] })
	row(360, func(int) color.RGBA { return band })
	row(460, func(x int) color.RGBA { g := uint8(x * 255 / (Width - 1)); return color.RGBA{g, g, g, 255} })
	for _, span := range [][2]int{{0, 320}, {320, 360}, {360, 460}, {460, Height}} {
		src := img.Pix[span[0]*img.Stride : (span[0]+1)*img.Stride]
		for y := span[0] + 1; y < span[1]; y++ {
			copy(img.Pix[y*img.Stride:], src)
		}
	}
	drawText(img, 16, 376, 6, strings.ToUpper(name), ink)
	return img
}

// drawMotion draws image step of the moving scene: a checkered box bouncing
// across the bars (a triangle wave in x, a slow ramp in y) and the counter.
func drawMotion(base *image.RGBA, step int) *image.RGBA {
	img := &image.RGBA{Pix: bytes.Clone(base.Pix), Stride: base.Stride, Rect: base.Rect}
	const box = 96
	span := motionFrames / 2
	tx := step % motionFrames
	if tx > span {
		tx = motionFrames - tx
	}
	x0 := tx * (Width - box) / span
	y0 := 40 + (step%motionFrames)*(320-box-80)/motionFrames
	for y := range box {
		for x := range box {
			c := color.RGBA{16, 16, 16, 255}
			if (x/16+y/16)%2 == 0 {
				c = amber
			}
			img.SetRGBA(x0+x, y0+y, c)
		}
	}
	drawText(img, Width-16-3*4*6, 416, 6, fmt.Sprintf("%03d", step), amber)
	return img
}

// encode encodes a baseline JPEG.
func encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encode test pattern: %w", err)
	}
	return buf.Bytes(), nil
}

// font3x5 is a tiny block font: five rows of three bits per glyph, most
// significant bit on the left. Enough for camera names and counters.
var font3x5 = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 2, 2, 2},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7},
	'A': {2, 5, 7, 5, 5}, 'B': {6, 5, 6, 5, 6}, 'C': {7, 4, 4, 4, 7}, 'D': {6, 5, 5, 5, 6},
	'E': {7, 4, 6, 4, 7}, 'F': {7, 4, 6, 4, 4}, 'G': {7, 4, 5, 5, 7}, 'H': {5, 5, 7, 5, 5},
	'I': {7, 2, 2, 2, 7}, 'J': {1, 1, 1, 5, 7}, 'K': {5, 5, 6, 5, 5}, 'L': {4, 4, 4, 4, 7},
	'M': {5, 7, 7, 5, 5}, 'N': {6, 5, 5, 5, 5}, 'O': {7, 5, 5, 5, 7}, 'P': {7, 5, 7, 4, 4},
	'Q': {7, 5, 5, 7, 1}, 'R': {6, 5, 6, 5, 5}, 'S': {7, 4, 7, 1, 7}, 'T': {7, 2, 2, 2, 2},
	'U': {5, 5, 5, 5, 7}, 'V': {5, 5, 5, 5, 2}, 'W': {5, 5, 7, 7, 5}, 'X': {5, 5, 2, 5, 5},
	'Y': {5, 5, 2, 2, 2}, 'Z': {7, 1, 2, 4, 7},
	'-': {0, 0, 7, 0, 0}, '.': {0, 0, 0, 0, 2}, ':': {0, 2, 0, 2, 0}, '_': {0, 0, 0, 0, 7},
	' ': {0, 0, 0, 0, 0}, '/': {1, 1, 2, 4, 4},
}

// drawText draws s with the block font, each font pixel scale×scale, each
// glyph advancing 4 font pixels. Unknown runes are drawn as a solid block.
func drawText(img *image.RGBA, x0, y0, scale int, s string, c color.RGBA) {
	for _, r := range s {
		g, ok := font3x5[r]
		if !ok {
			g = [5]uint8{7, 7, 7, 7, 7}
		}
		for row, bits := range g {
			for col := range 3 {
				if bits&(4>>col) == 0 {
					continue
				}
				for dy := range scale {
					for dx := range scale {
						x, y := x0+col*scale+dx, y0+row*scale+dy
						if image.Pt(x, y).In(img.Rect) {
							img.SetRGBA(x, y, c)
						}
					}
				}
			}
		}
		x0 += 4 * scale
	}
}

// MarkFrame returns a copy of jpg with a COM segment
// "chinesium-fake cam=<name> seq=<seq>" spliced in right after SOI: the
// marker every frame of a fake camera carries and FrameSeq reads back.
// Tests that publish their own frames mark them with it too.
func MarkFrame(jpg []byte, name string, seq uint64) []byte {
	text := comPrefix + name + " seq=" + strconv.FormatUint(seq, 10)
	out := make([]byte, 0, len(jpg)+4+len(text))
	out = append(out, 0xFF, 0xD8, 0xFF, 0xFE)
	out = binary.BigEndian.AppendUint16(out, uint16(2+len(text)))
	out = append(out, text...)
	return append(out, jpg[2:]...)
}

// FrameSeq reads back the COM marker a fake camera puts into every frame it
// sends: the camera name and the frame's sequence number (1 for the first
// frame a camera sends, counting up). It scans the JPEG's marker segments up
// to the start of scan, so it also finds the marker when other segments were
// inserted before it. ok is false when jpg carries no such marker.
func FrameSeq(jpg []byte) (cam string, seq uint64, ok bool) {
	if len(jpg) < 4 || jpg[0] != 0xFF || jpg[1] != 0xD8 {
		return "", 0, false
	}
	p := 2
	for p+4 <= len(jpg) {
		if jpg[p] != 0xFF {
			return "", 0, false
		}
		m := jpg[p+1]
		switch {
		case m == 0xFF: // fill byte
			p++
			continue
		case m == 0xDA || m == 0xD9: // start of scan, end of image
			return "", 0, false
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // no length
			p += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(jpg[p+2:]))
		if n < 2 || p+2+n > len(jpg) {
			return "", 0, false
		}
		if m == 0xFE {
			if cam, seq, ok := parseCOM(jpg[p+4 : p+2+n]); ok {
				return cam, seq, true
			}
		}
		p += 2 + n
	}
	return "", 0, false
}

func parseCOM(b []byte) (string, uint64, bool) {
	s := strings.TrimRight(string(b), "\x00")
	rest, ok := strings.CutPrefix(s, comPrefix)
	if !ok {
		return "", 0, false
	}
	i := strings.LastIndex(rest, " seq=")
	if i < 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(rest[i+len(" seq="):], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return rest[:i], seq, true
}
