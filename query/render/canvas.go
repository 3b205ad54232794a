package render

import (
	"image"
	"image/color"
	"math"
)

// pt is a point in image pixels; float32 because that is what the
// rasterizer takes and what an SVG needs (a tenth of a pixel).
type pt struct{ x, y float32 }

// path is a set of subpaths in one flat slice, reused from series to series
// so that drawing a chart does not allocate per line.
type path struct {
	pts  []pt
	ends []int // ends[i] is the end offset in pts of subpath i
}

func (p *path) reset() {
	p.pts = p.pts[:0]
	p.ends = p.ends[:0]
}

func (p *path) add(x, y float32) { p.pts = append(p.pts, pt{x, y}) }

// close ends the current subpath; an empty one is dropped.
func (p *path) close() {
	start := 0
	if len(p.ends) > 0 {
		start = p.ends[len(p.ends)-1]
	}
	if len(p.pts) > start {
		p.ends = append(p.ends, len(p.pts))
	}
}

// subpaths calls fn for each subpath.
func (p *path) subpaths(fn func([]pt)) {
	start := 0
	for _, end := range p.ends {
		fn(p.pts[start:end])
		start = end
	}
}

// bounds returns the smallest integer rectangle holding every point, grown
// by pad pixels on each side.
func (p *path) bounds(pad float32) image.Rectangle {
	if len(p.pts) == 0 {
		return image.Rectangle{}
	}
	x0, y0, x1, y1 := p.pts[0].x, p.pts[0].y, p.pts[0].x, p.pts[0].y
	for _, q := range p.pts[1:] {
		x0, x1 = min(x0, q.x), max(x1, q.x)
		y0, y1 = min(y0, q.y), max(y1, q.y)
	}
	return image.Rect(
		int(math.Floor(float64(x0-pad))), int(math.Floor(float64(y0-pad))),
		int(math.Ceil(float64(x1+pad))), int(math.Ceil(float64(y1+pad))))
}

type align uint8

const (
	alignLeft align = iota
	alignCenter
	alignRight
)

// canvas is what a chart is drawn on. The chart code decides every position
// and color; a canvas only turns those decisions into pixels (raster) or
// elements (svg), so both formats show the same chart.
//
// Pixel-aligned operations take integer coordinates: grid lines and frames
// land on whole pixels and stay crisp. Paths take pixel coordinates where
// (x+0.5, y+0.5) is the center of pixel (x, y).
type canvas interface {
	// group starts a named group of elements (an SVG <g class=...>), so the
	// structure of the output can be inspected; end closes it.
	group(class string)
	end()
	fillRect(r image.Rectangle, c color.NRGBA)
	// hline draws row y from x0 to x1 (exclusive); dashed lines have 3 on,
	// 3 off pixels, phased by absolute x so that parallel lines line up.
	hline(x0, x1, y int, c color.NRGBA, dashed bool)
	// vline draws column x from y0 to y1 (exclusive).
	vline(x, y0, y1 int, c color.NRGBA, dashed bool)
	// fill fills every closed subpath of p inside clip.
	fill(p *path, c color.NRGBA, clip image.Rectangle)
	// stroke draws every subpath of p as a polyline of the given width.
	stroke(p *path, width float32, c color.NRGBA, clip image.Rectangle)
	// text draws s with its baseline at y, anchored at x.
	text(x, y int, s string, f *face, c color.NRGBA, a align)
	// textUp draws s rotated to read bottom to top, its baseline at column x
	// and its middle at row y.
	textUp(x, y int, s string, f *face, c color.NRGBA)
}
