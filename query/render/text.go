package render

import (
	"fmt"
	"image"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// face is one font at one size with a glyph cache. The Go fonts are
// embedded, so every machine renders the same text to the same pixels; that
// is what makes our PNGs byte-for-byte reproducible.
//
// Glyphs are rasterized once and kept: a chart draws a few hundred glyphs,
// and rasterizing each from its outline would cost more than the lines.
// Text is placed on whole pixels (full hinting gives whole-pixel advances),
// which keeps small text crisp and lets one mask serve every occurrence.
type face struct {
	size    float64 // pixels, for SVG font-size
	bold    bool
	ascent  int
	descent int

	mu     sync.Mutex // guards f and glyphs
	f      font.Face
	glyphs map[rune]*glyph
	latin  [256]*glyph // immutable after init: lock-free lookups for common text
}

// glyph is a cached, rasterized rune.
type glyph struct {
	mask *image.Alpha // nil for blank glyphs such as space
	off  image.Point  // top-left of mask relative to the dot
	adv  int
}

var (
	facesOnce sync.Once
	facesErr  error
	// fTitle, fText and fSmall are the three sizes a chart uses: one title
	// size and two body sizes keep the typography consistent.
	fTitle, fText, fSmall *face
)

func loadFaces() error {
	facesOnce.Do(func() {
		reg, err := opentype.Parse(goregular.TTF)
		if err != nil {
			facesErr = fmt.Errorf("render: parse Go Regular: %w", err)
			return
		}
		bold, err := opentype.Parse(gobold.TTF)
		if err != nil {
			facesErr = fmt.Errorf("render: parse Go Bold: %w", err)
			return
		}
		if fTitle, facesErr = newFace(bold, 14, true); facesErr != nil {
			return
		}
		if fText, facesErr = newFace(reg, 12, false); facesErr != nil {
			return
		}
		fSmall, facesErr = newFace(reg, 11, false)
	})
	return facesErr
}

func newFace(f *opentype.Font, size float64, bold bool) (*face, error) {
	of, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("render: font face %gpx: %w", size, err)
	}
	m := of.Metrics()
	fc := &face{size: size, bold: bold, f: of, ascent: m.Ascent.Ceil(), descent: m.Descent.Ceil(), glyphs: map[rune]*glyph{}}
	for r := rune(0x20); r < 0x100; r++ {
		if r >= 0x7f && r < 0xa0 {
			continue
		}
		fc.latin[r] = fc.rasterize(r)
	}
	return fc, nil
}

// rasterize renders r with the glyph origin at (0, 0). The face's mask
// buffer is reused by the next call, so the mask is copied.
func (fc *face) rasterize(r rune) *glyph {
	dr, mask, mp, adv, ok := fc.f.Glyph(fixed.Point26_6{}, r)
	if !ok {
		dr, mask, mp, adv, _ = fc.f.Glyph(fixed.Point26_6{}, '\ufffd')
	}
	g := &glyph{off: dr.Min, adv: adv.Round()}
	if !dr.Empty() && mask != nil {
		g.mask = image.NewAlpha(image.Rect(0, 0, dr.Dx(), dr.Dy()))
		draw.Draw(g.mask, g.mask.Rect, mask, mp, draw.Src)
	}
	return g
}

func (fc *face) glyph(r rune) *glyph {
	if r >= 0 && r < 256 {
		if g := fc.latin[r]; g != nil {
			return g
		}
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	g, ok := fc.glyphs[r]
	if !ok {
		g = fc.rasterize(r)
		fc.glyphs[r] = g
	}
	return g
}

// width returns the advance of s in pixels.
func (fc *face) width(s string) int {
	w := 0
	for _, r := range s {
		w += fc.glyph(r).adv
	}
	return w
}

// height is the line height used to stack rows of text.
func (fc *face) height() int { return fc.ascent + fc.descent }

// truncate shortens s with an ellipsis so that it fits in w pixels.
func (fc *face) truncate(s string, w int) string {
	if fc.width(s) <= w {
		return s
	}
	ell := fc.width("…")
	used := 0
	for i, r := range s {
		a := fc.glyph(r).adv
		if used+a+ell > w {
			return s[:i] + "…"
		}
		used += a
	}
	return s
}
