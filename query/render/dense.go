package render

import (
	"image"
	"image/color"
	"math"
)

// Dense lines: when a line has more points than the plot has pixel
// columns (a day of minutes on a 700-pixel plot has two per column), what
// a one-pixel line shows in a column is the range of values it passes
// through there. strokeDense draws exactly that: per column, one vertical
// span from the lowest to the highest point of the polyline within the
// column, widened so that it holds as much ink as the line's band does in
// the column, anti-aliased at its ends and at the line's ends. It touches each pixel once, where stroking every
// segment as a polygon costs an edge setup and an accumulation per
// segment, three times the whole drawing of a 100-line chart. The browser
// chart (ui/static/js/chart.js) draws dense lines the same way.

// denseMaxWidth is the widest line strokeDense draws: a thick line's
// horizontal extent matters, and a span per column would lose it.
const denseMaxWidth = 1

// denseSubpath reports whether s is drawn as column spans: at least one
// point per pixel column on average, left to right.
func denseSubpath(s []pt) bool {
	if len(s) < 3 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i].x < s[i-1].x {
			return false
		}
	}
	return s[len(s)-1].x-s[0].x <= float32(len(s)-1)
}

// strokeDense draws the dense subpath s with half width hw in color c
// within clip (already intersected with the image).
func (r *raster) strokeDense(s []pt, hw float32, c color.NRGBA, clip image.Rectangle) {
	xa, xb := s[0].x-hw, s[len(s)-1].x+hw
	c0 := max(int(math.Floor(float64(xa))), clip.Min.X)
	c1 := min(int(math.Ceil(float64(xb))), clip.Max.X)
	if c1 <= c0 {
		return
	}
	n := c1 - c0
	if cap(r.colLo) < n {
		r.colLo, r.colHi = make([]float32, n), make([]float32, n)
	}
	lo, hi := r.colLo[:n], r.colHi[:n]
	for i := range lo {
		lo[i], hi[i] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	add := func(x, y float32) {
		i := int(math.Floor(float64(x))) - c0
		if i >= 0 && i < n {
			lo[i], hi[i] = fmin(lo[i], y), fmax(hi[i], y)
		}
	}
	// Every vertex, and where each segment crosses a column boundary,
	// counts for the columns on both sides of the boundary.
	for k, q := range s {
		add(q.x, q.y)
		if k == 0 {
			continue
		}
		p := s[k-1]
		if p.x == q.x {
			continue
		}
		for b := float32(math.Floor(float64(p.x))) + 1; b <= q.x; b++ {
			y := p.y + (q.y-p.y)*(b-p.x)/(q.x-p.x)
			add(b, y)
			add(b-1, y)
		}
	}
	// The line's ends extend half a width past its first and last point,
	// at their heights.
	for x := xa; x < s[0].x; x++ {
		add(x, s[0].y)
	}
	for x := s[len(s)-1].x + hw; x > s[len(s)-1].x; x-- {
		add(x, s[len(s)-1].y)
	}
	y0, y1 := float32(clip.Min.Y), float32(clip.Max.Y)
	for i := range n {
		if lo[i] > hi[i] {
			continue
		}
		x := c0 + i
		// Horizontal coverage: partial in the columns the line starts or
		// ends in.
		fx := fmin(float32(x+1), xb) - fmax(float32(x), xa)
		if fx <= 0 {
			continue
		}
		fx = fmin(fx, 1)
		// A line of width 2hw and slope d crosses a column with
		// 2hw*sqrt(1+d²) pixels of ink; the span's height, d plus twice
		// its margin, is made that much, so that slopes are no bolder than
		// flat stretches.
		d := hi[i] - lo[i]
		m := fmax(hw*float32(math.Sqrt(float64(1+d*d)))-d/2, 0)
		top, bot := fmax(lo[i]-m, y0), fmin(hi[i]+m, y1)
		for y := int(math.Floor(float64(top))); float32(y) < bot; y++ {
			cov := (fmin(float32(y+1), bot) - fmax(float32(y), top)) * fx
			m := uint32(cov*255 + 0.5)
			if m == 0 {
				continue
			}
			r.blendRound(x, y, c, min(m, 255))
		}
	}
}

// blendRound composes c with coverage m (0 to 255) over one pixel, rounded
// as composite rounds, so that a line looks the same whichever way it was
// drawn.
func (r *raster) blendRound(x, y int, c color.NRGBA, m uint32) {
	off := r.img.PixOffset(x, y)
	px := r.img.Pix[off : off+4 : off+4]
	a := uint32(c.A) * m / 255
	if a == 255 {
		px[0], px[1], px[2], px[3] = c.R, c.G, c.B, 255
		return
	}
	px[0] = uint8((uint32(c.R)*a + uint32(px[0])*(255-a) + 127) / 255)
	px[1] = uint8((uint32(c.G)*a + uint32(px[1])*(255-a) + 127) / 255)
	px[2] = uint8((uint32(c.B)*a + uint32(px[2])*(255-a) + 127) / 255)
	px[3] = uint8(a + (uint32(px[3])*(255-a)+127)/255)
}

// fmin and fmax are min and max for values that are never NaN, without
// the builtins' handling of NaN and signed zeros.
func fmin(a, b float32) float32 {
	if a < b {
		return a
	}
	return b
}

func fmax(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}
