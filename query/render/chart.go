package render

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"time"
)

// Layout constants, in pixels.
const (
	pad       = 8  // margin around the image and between blocks
	tickLen   = 4  // length of a major tick mark outside the plot
	labelGap  = 3  // between a tick mark and its label
	swatch    = 10 // legend color square
	rowGap    = 4  // between legend rows
	statGap   = 14 // between legend stat columns
	noticeGap = 4
)

// axisScale is one Y axis ready to draw: its bounds, ticks and place.
type axisScale struct {
	lo, hi float64
	log    bool
	ticks  []tick
	label  string
	right  bool
	width  int // labels, ticks and title
	line   int // x of the axis line
}

// chart is a graph with its data sampled, stacked and scaled and its layout
// computed: everything a canvas needs, in image coordinates.
type chart struct {
	p       *prepared
	vals    [][]float64 // per series, on the graph grid
	lower   [][]float64 // per Stack series: lower edge; nil otherwise
	upper   [][]float64 // per Stack series: upper edge; nil otherwise
	stats   []Stats     // per series, only with ShowStats
	axes    []axisScale
	axisIdx []int // Graph axis index -> index in axes; -1 when not drawn
	times   []tick
	noData  bool

	size      image.Point
	plot      image.Rectangle
	titleBase int
	noticeTop int
	legendTop int
	legend    []legendRow
	statCol   int // width of one stats column
	more      int // series left out of the legend

	scratch path
}

type legendRow struct {
	label string
	c     color.NRGBA
	stats *Stats
}

// newChart samples, stacks and scales the data of p and lays out the image.
func newChart(p *prepared) (*chart, error) {
	if err := loadFaces(); err != nil {
		return nil, err
	}
	ch := &chart{p: p}
	g := &p.g
	ns := len(g.Series)
	ch.vals = make([][]float64, ns)
	ch.lower = make([][]float64, ns)
	ch.upper = make([][]float64, ns)
	ranges := make([]valueRange, len(p.axes))
	stacks := make([]*stacker, len(p.axes))
	for i := range g.Series {
		s := &g.Series[i]
		v := p.sampled(i)
		ch.vals[i] = v
		ax := s.Style.Axis
		r := &ranges[ax]
		log := p.axes[ax].Logarithmic
		switch s.Style.Kind {
		case Stack:
			if stacks[ax] == nil {
				stacks[ax] = newStacker(p.n)
			}
			lo, hi := stacks[ax].add(v)
			ch.lower[i], ch.upper[i] = lo, hi
			if !hasFinite(v) {
				break
			}
			for j := range hi {
				addValue(r, lo[j], log)
				addValue(r, hi[j], log)
			}
		case Area:
			if hasFinite(v) && !log {
				r.add(0) // an area is measured from zero; its base must show
			}
			fallthrough
		default:
			for _, x := range v {
				addValue(r, x, log)
			}
		}
	}
	ch.noData = true
	for _, r := range ranges {
		if r.ok {
			ch.noData = false
		}
	}
	if g.ShowStats && g.ShowLegend {
		ch.stats = make([]Stats, ns)
		for i := range g.Series {
			ch.stats[i] = ComputeStats(ch.vals[i])
		}
	}
	ch.layout(ranges)
	return ch, nil
}

func hasFinite(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return true
		}
	}
	return false
}

// addValue extends r by v, leaving out what a log axis cannot show.
func addValue(r *valueRange, v float64, log bool) {
	if log && !(v > 0) {
		return
	}
	r.add(v)
}

// layout places every block of the image. The plot canvas has exactly the
// requested size; the image grows around it.
func (ch *chart) layout(ranges []valueRange) {
	g := &ch.p.g
	// Axis 0 is always drawn, as in Atlas; others when configured or used.
	used := make([]bool, len(ch.p.axes))
	used[0] = true
	for i := range g.Axes {
		used[i] = true
	}
	for _, s := range g.Series {
		used[s.Style.Axis] = true
	}
	nTicks := max(2, g.Height/40)
	leftW, rightW := 0, 0
	ch.axisIdx = make([]int, len(ch.p.axes))
	for i, a := range ch.p.axes {
		ch.axisIdx[i] = -1
		if !used[i] {
			continue
		}
		ch.axisIdx[i] = len(ch.axes)
		as := axisScale{log: a.Logarithmic, label: a.Label, right: i > 0}
		if as.log {
			as.lo, as.hi, as.ticks = logScale(ranges[i], a.Min, a.Max)
		} else {
			as.lo, as.hi, as.ticks = linearScale(ranges[i], a.Min, a.Max, nTicks)
		}
		lw := 0
		for _, t := range as.ticks {
			lw = max(lw, fSmall.width(t.label))
		}
		as.width = tickLen + labelGap + lw + labelGap
		if as.label != "" {
			as.width += fSmall.height() + labelGap
		}
		if as.right {
			rightW += as.width
		} else {
			leftW += as.width
		}
		ch.axes = append(ch.axes, as)
	}
	top := pad
	if g.Title != "" {
		ch.titleBase = top + fTitle.ascent
		top += fTitle.height() + pad/2
	}
	ch.noticeTop = top
	top += len(g.Notices) * (fSmall.height() + 2*noticeGap)
	left := pad + leftW
	ch.plot = image.Rect(left, top, left+g.Width, top+g.Height)
	// Lay out the right axes outward from the plot, and the left one.
	xr := ch.plot.Max.X
	for i := range ch.axes {
		if ch.axes[i].right {
			ch.axes[i].line = xr
			xr += ch.axes[i].width
		} else {
			ch.axes[i].line = ch.plot.Min.X - 1
		}
	}
	ch.times = timeTicks(g.Start, g.End, max(2, g.Width/90))
	w := xr + pad
	h := ch.plot.Max.Y + tickLen + labelGap + fSmall.height() + pad
	if g.ShowLegend {
		ch.legendTop = h
		for i, s := range g.Series {
			if len(ch.legend) == MaxLegendRows {
				ch.more = len(g.Series) - i
				break
			}
			r := legendRow{label: s.Label, c: ch.p.colors[i]}
			if ch.stats != nil {
				r.stats = &ch.stats[i]
			}
			ch.legend = append(ch.legend, r)
		}
		for i, v := range g.VSpans {
			if v.Label != "" {
				ch.legend = append(ch.legend, legendRow{label: v.Label, c: ch.p.spans[i]})
			}
		}
		rows := len(ch.legend) + 1 // + footer
		if ch.more > 0 {
			rows++
		}
		if ch.stats != nil {
			rows++ // header
			ch.statCol = fText.width("-888.8m")
			for _, st := range ch.stats {
				for _, v := range []float64{st.Max, st.Min, st.Avg, st.Last} {
					ch.statCol = max(ch.statCol, fText.width(FormatValue(v)))
				}
			}
		}
		h += rows * (fText.height() + rowGap)
	}
	ch.size = image.Pt(w, h)
}

// x returns the horizontal pixel center for timestamp t.
func (ch *chart) x(t int64) float32 {
	g := &ch.p.g
	f := float64(t-g.Start) / float64(g.End-g.Start)
	return float32(float64(ch.plot.Min.X) + 0.5 + f*float64(ch.plot.Dx()-1))
}

// y returns the vertical pixel center for v on axis a, or NaN for a value
// the axis cannot show. Values far outside the axis are pulled in to a
// distance where float32 keeps its precision; they are clipped anyway.
func (ch *chart) y(a *axisScale, v float64) float32 {
	var f float64
	if a.log {
		if !(v > 0) {
			return float32(math.NaN())
		}
		f = (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
	} else {
		f = (v - a.lo) / (a.hi - a.lo)
	}
	if math.IsNaN(f) {
		return float32(math.NaN())
	}
	f = min(max(f, -1e4), 1e4)
	return float32(float64(ch.plot.Max.Y) - 0.5 - f*float64(ch.plot.Dy()-1))
}

// yEdge is y for fills: the axis bounds map to the plot's edges rather than
// to the centers of its outermost rows, so a stack standing on zero covers
// the bottom row fully instead of half.
func (ch *chart) yEdge(a *axisScale, v float64) float32 {
	y := ch.y(a, v)
	if y != y {
		return y
	}
	mid := float32(ch.plot.Min.Y+ch.plot.Max.Y) / 2
	scale := float32(ch.plot.Dy()) / float32(ch.plot.Dy()-1)
	return mid + (y-mid)*scale
}

// axisOf returns the scale that series i is drawn against.
func (ch *chart) axisOf(i int) *axisScale {
	return &ch.axes[ch.axisIdx[ch.p.g.Series[i].Style.Axis]]
}

// draw renders the chart onto cv, back to front.
func (ch *chart) draw(cv canvas) {
	g := &ch.p.g
	th := ch.p.theme
	cv.fillRect(image.Rectangle{Max: ch.size}, th.Background)
	if g.Title != "" {
		cv.group("title")
		cv.text(ch.size.X/2, ch.titleBase, fTitle.truncate(g.Title, ch.size.X-2*pad), fTitle, th.Text, alignCenter)
		cv.end()
	}
	ch.drawNotices(cv)
	cv.fillRect(ch.plot, th.Canvas)
	ch.drawSpans(cv)
	if ch.noData {
		ch.drawNoData(cv)
	} else {
		ch.drawFills(cv)
	}
	if !ch.noData {
		// The hatching already fills an empty plot; a grid over it is noise.
		ch.drawGrid(cv)
		ch.drawLines(cv)
	}
	ch.drawAxes(cv)
	if g.ShowLegend {
		ch.drawLegend(cv)
	}
}

func (ch *chart) drawNotices(cv canvas) {
	th := ch.p.theme
	if len(ch.p.g.Notices) == 0 {
		return
	}
	cv.group("notices")
	y := ch.noticeTop
	rh := fSmall.height() + 2*noticeGap
	for _, n := range ch.p.g.Notices {
		cv.fillRect(image.Rect(pad, y, ch.size.X-pad, y+rh-2), th.NoticeBackground)
		cv.text(pad+noticeGap, y+noticeGap+fSmall.ascent-1, fSmall.truncate(n, ch.size.X-2*pad-2*noticeGap), fSmall, th.NoticeText, alignLeft)
		y += rh
	}
	cv.end()
}

// xCol returns the pixel column boundary for timestamp t, clamped to the plot.
func (ch *chart) xCol(t int64) int {
	g := &ch.p.g
	f := float64(t-g.Start) / float64(g.End-g.Start)
	x := ch.plot.Min.X + int(math.Round(f*float64(ch.plot.Dx())))
	return min(max(x, ch.plot.Min.X), ch.plot.Max.X)
}

func (ch *chart) drawSpans(cv canvas) {
	if len(ch.p.g.VSpans) == 0 {
		return
	}
	cv.group("vspans")
	for i, v := range ch.p.g.VSpans {
		x0, x1 := ch.xCol(v.Start), ch.xCol(v.End)
		if x1 == x0 && v.End > v.Start && x0 < ch.plot.Max.X {
			x1 = x0 + 1 // a span shorter than a pixel still shows
		}
		cv.fillRect(image.Rect(x0, ch.plot.Min.Y, x1, ch.plot.Max.Y), ch.p.spans[i])
	}
	cv.end()
}

// drawNoData hatches the canvas and says why it is empty, so that an empty
// graph is not mistaken for a graph of zeros.
func (ch *chart) drawNoData(cv canvas) {
	th := ch.p.theme
	pl := ch.plot
	cv.group("nodata")
	p := &ch.scratch
	p.reset()
	h := float32(pl.Dy())
	for x := pl.Min.X - pl.Dy(); x < pl.Max.X; x += 10 {
		p.add(float32(x), float32(pl.Max.Y))
		p.add(float32(x)+h, float32(pl.Min.Y))
		p.close()
	}
	cv.stroke(p, 1, th.Hatch, pl)
	msg := ch.p.g.NoDataMessage
	if msg == "" {
		msg = "No data available"
	}
	msg = fText.truncate(msg, pl.Dx()-4*pad)
	w := fText.width(msg) + 2*pad
	bh := fText.height() + pad
	cx, cy := (pl.Min.X+pl.Max.X)/2, (pl.Min.Y+pl.Max.Y)/2
	box := image.Rect(cx-w/2, cy-bh/2, cx-w/2+w, cy-bh/2+bh)
	cv.fillRect(box, th.Canvas)
	cv.hline(box.Min.X, box.Max.X, box.Min.Y, th.Muted, false)
	cv.hline(box.Min.X, box.Max.X, box.Max.Y-1, th.Muted, false)
	cv.vline(box.Min.X, box.Min.Y, box.Max.Y, th.Muted, false)
	cv.vline(box.Max.X-1, box.Min.Y, box.Max.Y, th.Muted, false)
	cv.text(cx, box.Min.Y+pad/2+fText.ascent, msg, fText, th.Text, alignCenter)
	cv.end()
}

// halfStep is half the pixel distance between two grid timestamps, at least
// a pixel: the width given to a point that has no neighbor to connect to.
func (ch *chart) halfStep() float32 {
	g := &ch.p.g
	w := float32(float64(g.Step) / float64(g.End-g.Start) * float64(ch.plot.Dx()) / 2)
	return max(w, 1)
}

func (ch *chart) drawFills(cv canvas) {
	g := &ch.p.g
	hs := ch.halfStep()
	for i := range g.Series {
		s := &g.Series[i]
		if s.Style.Kind == Line {
			continue
		}
		a := ch.axisOf(i)
		p := &ch.scratch
		p.reset()
		bottom := float32(ch.plot.Max.Y)
		if s.Style.Kind == Stack {
			if !hasFinite(ch.vals[i]) {
				continue
			}
			lo, hi := ch.lower[i], ch.upper[i]
			for j := range hi {
				p.add(ch.x(ch.p.timestamp(j)), orBottom(ch.yEdge(a, hi[j]), bottom))
			}
			for j := len(lo) - 1; j >= 0; j-- {
				p.add(ch.x(ch.p.timestamp(j)), orBottom(ch.yEdge(a, lo[j]), bottom))
			}
			p.close()
		} else {
			base := bottom
			if !a.log {
				base = min(max(ch.yEdge(a, 0), float32(ch.plot.Min.Y)), bottom)
			}
			ch.runs(i, a, hs, func(run []pt) {
				p.add(run[0].x, base)
				p.pts = append(p.pts, run...)
				p.add(run[len(run)-1].x, base)
				p.close()
			})
		}
		cv.group("series " + s.Style.Kind.String())
		cv.fill(p, ch.p.colors[i], ch.plot)
		cv.end()
	}
}

func orBottom(y, bottom float32) float32 {
	if y != y { // NaN
		return bottom
	}
	return y
}

// runs calls fn for each maximal run of drawable points of series i. A
// point alone between gaps becomes a short horizontal dash one step wide, so
// that a single sample is visible rather than lost.
func (ch *chart) runs(i int, a *axisScale, hs float32, fn func([]pt)) {
	var run []pt
	v := ch.vals[i]
	flush := func() {
		switch len(run) {
		case 0:
			return
		case 1:
			q := run[0]
			run = append(run[:0], pt{q.x - hs, q.y}, pt{q.x + hs, q.y})
		}
		fn(run)
		run = run[:0]
	}
	for j, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			flush()
			continue
		}
		y := ch.y(a, x)
		if y != y {
			flush()
			continue
		}
		run = append(run, pt{ch.x(ch.p.timestamp(j)), y})
	}
	flush()
}

func (ch *chart) drawLines(cv canvas) {
	g := &ch.p.g
	hs := ch.halfStep()
	for i := range g.Series {
		s := &g.Series[i]
		if s.Style.Kind == Stack {
			continue
		}
		a := ch.axisOf(i)
		p := &ch.scratch
		p.reset()
		ch.runs(i, a, hs, func(run []pt) {
			p.pts = append(p.pts, run...)
			p.close()
		})
		c := ch.p.colors[i]
		if s.Style.Kind == Area {
			// The outline of an area is drawn opaque: the fill says "area",
			// the edge says where the value is.
			c.A = 255
		}
		w := float32(s.Style.LineWidth)
		if w == 0 {
			w = 1
		}
		cv.group("series line")
		cv.stroke(p, w, c, ch.plot)
		cv.end()
	}
}

// yRow returns the pixel row of value v on axis a.
func (ch *chart) yRow(a *axisScale, v float64) int {
	return int(math.Floor(float64(ch.y(a, v))))
}

func (ch *chart) xColCenter(t int64) int {
	return int(math.Floor(float64(ch.x(t))))
}

func (ch *chart) drawGrid(cv canvas) {
	th := ch.p.theme
	pl := ch.plot
	cv.group("grid")
	for _, major := range []bool{false, true} {
		c := th.MinorGrid
		if major {
			c = th.MajorGrid
		}
		for _, t := range ch.times {
			if t.major == major {
				cv.vline(ch.xColCenter(int64(t.v)), pl.Min.Y, pl.Max.Y, c, true)
			}
		}
		// Only the first axis draws horizontal grid lines: two axes' grids
		// would cross at unrelated heights.
		a := &ch.axes[0]
		for _, t := range a.ticks {
			if t.major == major {
				cv.hline(pl.Min.X, pl.Max.X, ch.yRow(a, t.v), c, true)
			}
		}
	}
	cv.end()
}

func (ch *chart) drawAxes(cv canvas) {
	th := ch.p.theme
	pl := ch.plot
	cv.group("axes")
	// Time axis.
	cv.hline(pl.Min.X-1, pl.Max.X+1, pl.Max.Y, th.Axis, false)
	base := pl.Max.Y + tickLen + labelGap + fSmall.ascent
	for _, t := range ch.times {
		x := ch.xColCenter(int64(t.v))
		if !t.major {
			cv.vline(x, pl.Max.Y+1, pl.Max.Y+1+tickLen/2, th.Axis, false)
			continue
		}
		cv.vline(x, pl.Max.Y+1, pl.Max.Y+1+tickLen, th.Axis, false)
		w := fSmall.width(t.label)
		// Keep edge labels inside the image rather than cut in half.
		lx := min(max(x-w/2, pad), ch.size.X-pad-w)
		cv.text(lx, base, t.label, fSmall, th.Text, alignLeft)
	}
	// Value axes.
	xl := pad
	for i := range ch.axes {
		a := &ch.axes[i]
		cv.vline(a.line, pl.Min.Y, pl.Max.Y+1, th.Axis, false)
		dir := -1
		if a.right {
			dir = 1
		}
		for _, t := range a.ticks {
			y := ch.yRow(a, t.v)
			n := tickLen
			if !t.major {
				n = tickLen / 2
			}
			if a.right {
				cv.hline(a.line+1, a.line+1+n, y, th.Axis, false)
			} else {
				cv.hline(a.line-n, a.line, y, th.Axis, false)
			}
			if t.label == "" {
				continue
			}
			ly := y + (fSmall.ascent-fSmall.descent)/2 + 1
			ly = min(max(ly, pl.Min.Y+fSmall.ascent-fSmall.descent), pl.Max.Y+fSmall.descent)
			lx := a.line + dir*(tickLen+labelGap)
			if a.right {
				cv.text(lx+1, ly, t.label, fSmall, th.Text, alignLeft)
			} else {
				cv.text(lx, ly, t.label, fSmall, th.Text, alignRight)
			}
		}
		if a.label != "" {
			cy := (pl.Min.Y + pl.Max.Y) / 2
			lbl := fSmall.truncate(a.label, pl.Dy())
			if a.right {
				cv.textUp(a.line+a.width-labelGap-fSmall.descent, cy, lbl, fSmall, th.Text)
			} else {
				cv.textUp(xl+fSmall.ascent, cy, lbl, fSmall, th.Text)
			}
		}
	}
	cv.end()
}

func (ch *chart) drawLegend(cv canvas) {
	g := &ch.p.g
	th := ch.p.theme
	cv.group("legend")
	rh := fText.height() + rowGap
	y := ch.legendTop
	left, right := pad, ch.size.X-pad
	labelRight := right
	statNames := [...]string{"Max", "Min", "Avg", "Last"}
	colRight := func(k int) int { return right - (len(statNames)-1-k)*(ch.statCol+statGap) }
	if ch.stats != nil {
		labelRight = colRight(0) - ch.statCol - statGap
		for k, name := range statNames {
			cv.text(colRight(k), y+fText.ascent, name, fText, th.Muted, alignRight)
		}
		y += rh
	}
	var buf []byte
	for _, r := range ch.legend {
		sy := y + (fText.height()-swatch)/2
		cv.fillRect(image.Rect(left, sy, left+swatch, sy+swatch), r.c)
		lx := left + swatch + 6
		cv.text(lx, y+fText.ascent, fText.truncate(r.label, labelRight-lx), fText, th.Text, alignLeft)
		if r.stats != nil {
			for k, v := range []float64{r.stats.Max, r.stats.Min, r.stats.Avg, r.stats.Last} {
				buf = appendSI(buf[:0], v, 4)
				cv.text(colRight(k), y+fText.ascent, string(buf), fText, th.Text, alignRight)
			}
		}
		y += rh
	}
	if ch.more > 0 {
		cv.text(left+swatch+6, y+fText.ascent, fmt.Sprintf("… and %d more", ch.more), fText, th.Muted, alignLeft)
		y += rh
	}
	end := time.UnixMilli(g.End).UTC().Format("2006-01-02 15:04")
	foot := fmt.Sprintf("Frame: %s, End: %s UTC, Step: %s", formatDuration(g.End-g.Start), end, formatDuration(g.Step))
	cv.text(left, y+fSmall.ascent+1, fSmall.truncate(foot, right-left), fSmall, th.Muted, alignLeft)
	cv.end()
}
