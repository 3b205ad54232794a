package render

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/vector"
)

// raster draws a chart into an RGBA image. Paths go through
// golang.org/x/image/vector, an exact-area anti-aliasing rasterizer;
// rectangles, grid lines and text go straight to the pixels.
type raster struct {
	img  *image.RGBA
	z    vector.Rasterizer
	src  image.Uniform
	mask image.Alpha // coverage of the last rasterized path, reused
	// strips[i] lists the segments (by end index) a stroke has in strip i.
	strips [][]int32
	// colLo and colHi are strokeDense's per-column ranges; sparse holds
	// the subpaths of a stroke that are not dense (dense.go).
	colLo, colHi []float32
	sparse       path
}

func newRaster(size image.Point) *raster {
	return &raster{img: image.NewRGBA(image.Rectangle{Max: size})}
}

func (r *raster) group(string) {}
func (r *raster) end()         {}

func (r *raster) fillRect(rect image.Rectangle, c color.NRGBA) {
	rect = rect.Intersect(r.img.Rect)
	if rect.Empty() || c.A == 0 {
		return
	}
	r.src.C = c
	op := draw.Over
	if c.A == 255 {
		op = draw.Src
	}
	draw.Draw(r.img, rect, &r.src, image.Point{}, op)
}

func (r *raster) hline(x0, x1, y int, c color.NRGBA, dashed bool) {
	if !dashed {
		r.fillRect(image.Rect(x0, y, x1, y+1), c)
		return
	}
	for x := x0 - mod(x0, 6); x < x1; x += 6 {
		r.fillRect(image.Rect(max(x, x0), y, min(x+3, x1), y+1), c)
	}
}

func (r *raster) vline(x, y0, y1 int, c color.NRGBA, dashed bool) {
	if !dashed {
		r.fillRect(image.Rect(x, y0, x+1, y1), c)
		return
	}
	for y := y0 - mod(y0, 6); y < y1; y += 6 {
		r.fillRect(image.Rect(x, max(y, y0), x+1, min(y+3, y1)), c)
	}
}

func mod(a, m int) int { return ((a % m) + m) % m }

// begin sizes the rasterizer to the part of the image that the path can
// touch: accumulating coverage costs per pixel of the rasterizer, and a
// line across a corner of the plot should not pay for the whole plot.
func (r *raster) begin(p *path, grow float32, clip image.Rectangle) (image.Rectangle, bool) {
	bb := p.bounds(grow).Intersect(clip).Intersect(r.img.Rect)
	if bb.Empty() {
		return bb, false
	}
	r.z.Reset(bb.Dx(), bb.Dy())
	return bb, true
}

func (r *raster) fill(p *path, c color.NRGBA, clip image.Rectangle) {
	bb, ok := r.begin(p, 1, clip)
	if !ok || c.A == 0 {
		return
	}
	ox, oy := float32(bb.Min.X), float32(bb.Min.Y)
	p.subpaths(func(s []pt) {
		if len(s) < 3 {
			return
		}
		r.z.MoveTo(s[0].x-ox, s[0].y-oy)
		for _, q := range s[1:] {
			r.z.LineTo(q.x-ox, q.y-oy)
		}
		r.z.ClosePath()
	})
	r.composite(bb, c)
}

// composite rasterizes the rasterizer's path into the coverage mask and
// blends c through it onto bb. The rasterizer's own RGBA path blends every
// pixel of its bounds; a line covers a few pixels per column, so skipping
// zero coverage here is most of the speed of drawing lines.
func (r *raster) composite(bb image.Rectangle, c color.NRGBA) {
	n := bb.Dx() * bb.Dy()
	if cap(r.mask.Pix) < n {
		r.mask.Pix = make([]uint8, n)
	}
	r.mask.Pix = r.mask.Pix[:n]
	clear(r.mask.Pix)
	r.mask.Stride = bb.Dx()
	r.mask.Rect = image.Rectangle{Max: bb.Size()}
	r.z.DrawOp = draw.Src
	r.z.Draw(&r.mask, r.mask.Rect, image.Opaque, image.Point{})
	w := bb.Dx()
	for y := range bb.Dy() {
		row := r.mask.Pix[y*w : y*w+w]
		off := r.img.PixOffset(bb.Min.X, bb.Min.Y+y)
		for x, m := range row {
			if m == 0 {
				continue
			}
			a := uint32(c.A) * uint32(m) / 255
			px := r.img.Pix[off+4*x : off+4*x+4 : off+4*x+4]
			if a == 255 {
				px[0], px[1], px[2], px[3] = c.R, c.G, c.B, 255
				continue
			}
			px[0] = uint8((uint32(c.R)*a + uint32(px[0])*(255-a) + 127) / 255)
			px[1] = uint8((uint32(c.G)*a + uint32(px[1])*(255-a) + 127) / 255)
			px[2] = uint8((uint32(c.B)*a + uint32(px[2])*(255-a) + 127) / 255)
			px[3] = uint8(a + (uint32(px[3])*(255-a)+127)/255)
		}
	}
}

// stripWidth is the width of the column strips a stroke is rasterized in.
// The rasterizer's cost is per pixel of its bounds, and a wiggly line's
// bounding box is most of the plot; in 32-pixel strips the boxes hug the
// line. Strips are clipped to their columns, so no pixel is drawn twice.
const stripWidth = 32

// stroke draws dense one-pixel lines as column spans (dense.go), and
// every other segment as its own rectangle, extended by half the line
// width at both ends so that consecutive segments overlap and joins have no
// notch. All rectangles wind the same way, so where they overlap the
// rasterizer's coverage saturates at 1 instead of cancelling.
func (r *raster) stroke(p *path, width float32, c color.NRGBA, clip image.Rectangle) {
	// Below a pixel a line fades rather than thins; keep it a pixel wide.
	hw := max(width, 1) / 2
	if c.A == 0 {
		return
	}
	if width <= denseMaxWidth {
		// Dense subpaths are column spans; the others are stroked below.
		sp := &r.sparse
		sp.reset()
		clip := clip.Intersect(r.img.Rect)
		p.subpaths(func(s []pt) {
			if denseSubpath(s) {
				r.strokeDense(s, hw, c, clip)
				return
			}
			sp.pts = append(sp.pts, s...)
			sp.close()
		})
		if len(sp.pts) == 0 {
			return
		}
		p = sp
	}
	bb := p.bounds(hw + 1).Intersect(clip).Intersect(r.img.Rect)
	if bb.Empty() {
		return
	}
	// Deal each segment to the strips its x extent reaches: one pass over
	// the path instead of one per strip.
	n := (bb.Dx() + stripWidth - 1) / stripWidth
	if cap(r.strips) < n {
		r.strips = make([][]int32, n)
	}
	r.strips = r.strips[:n]
	for i := range r.strips {
		r.strips[i] = r.strips[i][:0]
	}
	start := 0
	for _, end := range p.ends {
		for k := start + 1; k < end; k++ {
			a, b := p.pts[k-1], p.pts[k]
			s0 := int(math.Floor(float64(min(a.x, b.x)-hw-1-float32(bb.Min.X)))) / stripWidth
			s1 := int(math.Floor(float64(max(a.x, b.x)+hw+1-float32(bb.Min.X)))) / stripWidth
			for s := max(s0, 0); s <= min(s1, n-1); s++ {
				r.strips[s] = append(r.strips[s], int32(k))
			}
		}
		start = end
	}
	for i, segs := range r.strips {
		if len(segs) == 0 {
			continue
		}
		x0 := bb.Min.X + i*stripWidth
		r.strokeStrip(p.pts, segs, hw, image.Rect(x0, bb.Min.Y, min(x0+stripWidth, bb.Max.X), bb.Max.Y), c)
	}
}

// strokeStrip rasterizes the segments ending at pts[k] for k in segs, within
// the columns of strip and the rows those segments span.
func (r *raster) strokeStrip(pts []pt, segs []int32, hw float32, strip image.Rectangle, c color.NRGBA) {
	ymin, ymax := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, k := range segs {
		a, b := pts[k-1], pts[k]
		ymin = min(ymin, a.y, b.y)
		ymax = max(ymax, a.y, b.y)
	}
	bb := image.Rect(strip.Min.X, int(math.Floor(float64(ymin-hw-1))), strip.Max.X, int(math.Ceil(float64(ymax+hw+1)))).Intersect(strip)
	if bb.Empty() {
		return
	}
	z := &r.z
	z.Reset(bb.Dx(), bb.Dy())
	ox, oy := float32(bb.Min.X), float32(bb.Min.Y)
	for _, k := range segs {
		a, b := pts[k-1], pts[k]
		dx, dy := b.x-a.x, b.y-a.y
		l := float32(math.Sqrt(float64(dx*dx + dy*dy)))
		if l == 0 {
			continue
		}
		ux, uy := dx/l*hw, dy/l*hw
		nx, ny := -uy, ux
		ax, ay := a.x-ux-ox, a.y-uy-oy
		bx, by := b.x+ux-ox, b.y+uy-oy
		z.MoveTo(ax+nx, ay+ny)
		z.LineTo(bx+nx, by+ny)
		z.LineTo(bx-nx, by-ny)
		z.LineTo(ax-nx, ay-ny)
		z.ClosePath()
	}
	r.composite(bb, c)
}

func (r *raster) text(x, y int, s string, f *face, c color.NRGBA, a align) {
	switch a {
	case alignCenter:
		x -= f.width(s) / 2
	case alignRight:
		x -= f.width(s)
	}
	r.src.C = c
	for _, ru := range s {
		g := f.glyph(ru)
		if g.mask != nil {
			dr := g.mask.Rect.Add(image.Pt(x, y).Add(g.off))
			draw.DrawMask(r.img, dr, &r.src, image.Point{}, g.mask, image.Point{}, draw.Over)
		}
		x += g.adv
	}
}

// textUp renders s into a scratch mask and copies it rotated a quarter turn
// counterclockwise, which is how a Y axis title reads.
func (r *raster) textUp(x, y int, s string, f *face, c color.NRGBA) {
	w, h := f.width(s), f.height()
	if w == 0 {
		return
	}
	m := image.NewAlpha(image.Rect(0, 0, w, h))
	dx := 0
	for _, ru := range s {
		g := f.glyph(ru)
		if g.mask != nil {
			dr := g.mask.Rect.Add(image.Pt(dx, f.ascent).Add(g.off))
			draw.DrawMask(m, dr, image.Opaque, image.Point{}, g.mask, image.Point{}, draw.Over)
		}
		dx += g.adv
	}
	// Mask (tx, ty) lands at (x0+ty, y0+w-1-tx): the text's baseline
	// becomes column x, its start the bottom.
	x0, y0 := x-f.ascent, y-w/2
	for ty := range h {
		for tx := range w {
			if cov := m.Pix[ty*m.Stride+tx]; cov != 0 {
				r.blend(x0+ty, y0+w-1-tx, c, cov)
			}
		}
	}
}

// blend composes c with coverage cov over one pixel.
func (r *raster) blend(x, y int, c color.NRGBA, cov uint8) {
	if !(image.Point{x, y}.In(r.img.Rect)) {
		return
	}
	a := uint32(c.A) * uint32(cov) / 255
	i := r.img.PixOffset(x, y)
	px := r.img.Pix[i : i+4 : i+4]
	px[0] = uint8((uint32(c.R)*a + uint32(px[0])*(255-a)) / 255)
	px[1] = uint8((uint32(c.G)*a + uint32(px[1])*(255-a)) / 255)
	px[2] = uint8((uint32(c.B)*a + uint32(px[2])*(255-a)) / 255)
	px[3] = uint8(a + uint32(px[3])*(255-a)/255)
}
