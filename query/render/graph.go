package render

import (
	"fmt"
	"image/color"
	"math"
)

// Kind says how a series is drawn. The zero value is Line so that a Series
// written without a Style renders as Atlas renders an expression without a
// style operator.
type Kind uint8

const (
	// Line draws the series as a polyline that breaks at NaN values.
	Line Kind = iota
	// Area fills between zero and the series, broken at NaN values.
	Area
	// Stack fills between the sum of the preceding Stack series on the same
	// axis and that sum plus this series. NaN counts as zero so that a missing
	// layer does not tear a hole through the layers above it.
	Stack
)

// String returns the Atlas name of the kind, as used in :line, :area, :stack.
func (k Kind) String() string {
	switch k {
	case Line:
		return "line"
	case Area:
		return "area"
	case Stack:
		return "stack"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Style is how one series is drawn. Every zero value means "the default", so
// that callers set only what an expression asked for.
type Style struct {
	// Kind selects line, area or stack rendering.
	Kind Kind
	// Color is "rrggbb", "rrggbbaa", "rgb" (an optional leading '#' is
	// accepted) or empty to take the next color of the graph's palette.
	Color string
	// Alpha in (0, 1] overrides the color's opacity; 0 keeps the default,
	// which is opaque for lines and stacks and translucent for areas so that
	// overlapping areas stay readable.
	Alpha float64
	// LineWidth is in pixels; 0 means 1, the Atlas default.
	LineWidth float64
	// Axis is the index of the Y axis the series is scaled against: 0 is
	// the left axis, 1 and above are drawn on the right, outward.
	Axis int
}

// Series is one line of a graph: values on a regular time grid.
//
// The renderer samples every series on the graph's own grid (Graph.Start,
// Graph.Step), so a caller normally evaluates series at the graph's step; a
// series on another grid is sampled by the step that contains each graph
// timestamp.
type Series struct {
	// Label is the legend text, with any $tag substitution already done.
	Label string
	// Tags are the series' dimensions, written as the "metrics" of the
	// JSON output; the renderer does not interpret them.
	Tags map[string]string
	// Start is the timestamp of Values[0] in Unix milliseconds.
	Start int64
	// Step is the distance between two values in milliseconds.
	Step int64
	// Values holds one value per step; NaN means no data and draws a gap.
	Values []float64
	// Style says how to draw the series.
	Style Style
}

// Axis is the configuration of one Y axis. Graph.Axes[i] configures the axis
// that series with Style.Axis == i use; a missing entry means defaults.
type Axis struct {
	// Label is drawn along the axis, rotated.
	Label string
	// Min and Max fix the bounds of the axis; nil means "fit the data",
	// rounded outward to a tick.
	Min, Max *float64
	// Logarithmic uses a base-10 scale; values <= 0 cannot be placed on it
	// and are drawn as gaps.
	Logarithmic bool
}

// Bound returns a pointer to v, for Axis.Min and Axis.Max literals.
func Bound(v float64) *float64 { return &v }

// VSpan shades a time range of the plot, for example the window in which an
// alert was firing.
type VSpan struct {
	// Start and End are Unix milliseconds; End is exclusive.
	Start, End int64
	// Color is as in Style.Color; empty means the theme's span color.
	Color string
	// Label, if set, gives the span a legend entry.
	Label string
}

// Graph is everything needed to draw one chart. The zero value of every
// optional field means the Atlas default.
type Graph struct {
	// Title is drawn centered above the plot.
	Title string
	// Width and Height are the size of the plot canvas in pixels, not of the
	// image: as in Atlas, axes, title and legend add to the image so that
	// graphs with the same w and h line up on a dashboard. 0 means 700x300.
	Width, Height int
	// Start and End are the time range in Unix milliseconds, End exclusive.
	Start, End int64
	// Step is the distance between two grid timestamps in milliseconds.
	Step int64
	// Series are drawn in order; stacks stack in this order per axis.
	Series []Series
	// Axes configures the Y axes by index; see Axis.
	Axes []Axis
	// Theme is "light" (the default) or "dark".
	Theme string
	// Palette names the color list that series without a Color take their
	// color from: "armytage" (the default) or "classic". See Palettes.
	Palette string
	// VSpans are shaded behind the series.
	VSpans []VSpan
	// ShowLegend adds a legend below the plot with a color swatch per series.
	ShowLegend bool
	// ShowStats adds max, min, avg and last columns to the legend.
	ShowStats bool
	// NoDataMessage replaces "No data available" on a graph without a
	// single finite value.
	NoDataMessage string
	// Notices are warnings for the reader (for example that a result was
	// truncated); JSON writes them as "notices", images show them above the
	// plot.
	Notices []string
}

// Limits of what a Graph may ask for. They bound the memory and time of one
// render, since the graph API takes its sizes from a URL.
const (
	DefaultWidth  = 700
	DefaultHeight = 300
	MinSize       = 32
	MaxWidth      = 4000
	MaxHeight     = 2000
	MaxAxes       = 5
	// MaxPoints bounds the number of grid timestamps between Start and End.
	MaxPoints = 1 << 20
	// MaxLegendRows is how many series the legend lists before it summarizes
	// the rest in one line, as Atlas does.
	MaxLegendRows = 50
)

// prepared is a validated Graph with its defaults applied and its colors
// parsed; everything downstream works on it and never sees user errors.
type prepared struct {
	g      Graph
	theme  *Theme
	n      int           // grid timestamps in [Start, End)
	colors []color.NRGBA // per series, alpha applied
	spans  []color.NRGBA // per VSpan
	axes   []Axis        // len == max used axis + 1, at least 1
}

// prepare validates g and resolves its defaults. Its errors name the field
// and value that were wrong, since they reach the graph API's user.
func prepare(g Graph) (*prepared, error) {
	if g.Width == 0 {
		g.Width = DefaultWidth
	}
	if g.Height == 0 {
		g.Height = DefaultHeight
	}
	if g.Width < MinSize || g.Width > MaxWidth {
		return nil, fmt.Errorf("render: width %d out of range [%d, %d]", g.Width, MinSize, MaxWidth)
	}
	if g.Height < MinSize || g.Height > MaxHeight {
		return nil, fmt.Errorf("render: height %d out of range [%d, %d]", g.Height, MinSize, MaxHeight)
	}
	if g.Step <= 0 {
		return nil, fmt.Errorf("render: step %dms must be positive", g.Step)
	}
	if g.End <= g.Start {
		return nil, fmt.Errorf("render: end %d must be after start %d", g.End, g.Start)
	}
	span := g.End - g.Start
	if span/g.Step >= MaxPoints {
		return nil, fmt.Errorf("render: %d steps of %dms between start and end exceed the limit of %d", span/g.Step, g.Step, MaxPoints)
	}
	p := &prepared{g: g, n: int((span + g.Step - 1) / g.Step)}
	var err error
	if p.theme, err = themeByName(g.Theme); err != nil {
		return nil, err
	}
	pal, err := paletteByName(g.Palette)
	if err != nil {
		return nil, err
	}
	pal = p.theme.usable(pal)
	maxAxis := 0
	next := 0
	p.colors = make([]color.NRGBA, len(g.Series))
	for i, s := range g.Series {
		st := s.Style
		if s.Step <= 0 && len(s.Values) > 0 {
			return nil, fmt.Errorf("render: series %d (%q): step %dms must be positive", i, s.Label, s.Step)
		}
		if st.Kind > Stack {
			return nil, fmt.Errorf("render: series %d (%q): unknown kind %d", i, s.Label, st.Kind)
		}
		if st.Axis < 0 || st.Axis >= MaxAxes {
			return nil, fmt.Errorf("render: series %d (%q): axis %d out of range [0, %d)", i, s.Label, st.Axis, MaxAxes)
		}
		if !(st.Alpha >= 0 && st.Alpha <= 1) {
			return nil, fmt.Errorf("render: series %d (%q): alpha %g out of range [0, 1]", i, s.Label, st.Alpha)
		}
		if !(st.LineWidth >= 0 && st.LineWidth <= 20) {
			return nil, fmt.Errorf("render: series %d (%q): line width %g out of range [0, 20]", i, s.Label, st.LineWidth)
		}
		maxAxis = max(maxAxis, st.Axis)
		var c color.NRGBA
		if st.Color == "" {
			c = pal[next%len(pal)]
			next++
		} else if c, err = ParseColor(st.Color); err != nil {
			return nil, fmt.Errorf("render: series %d (%q): %w", i, s.Label, err)
		}
		switch {
		case st.Alpha > 0:
			c.A = uint8(math.Round(st.Alpha * 255))
		case st.Kind == Area && c.A == 255:
			c.A = areaAlpha
		}
		p.colors[i] = c
	}
	if len(g.Axes) > MaxAxes {
		return nil, fmt.Errorf("render: %d axes exceed the limit of %d", len(g.Axes), MaxAxes)
	}
	maxAxis = max(maxAxis, len(g.Axes)-1)
	p.axes = make([]Axis, maxAxis+1)
	copy(p.axes, g.Axes)
	for i, a := range p.axes {
		for _, b := range []*float64{a.Min, a.Max} {
			if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
				return nil, fmt.Errorf("render: axis %d: bound %g must be finite", i, *b)
			}
		}
		if a.Min != nil && a.Max != nil && *a.Min >= *a.Max {
			return nil, fmt.Errorf("render: axis %d: min %g must be below max %g", i, *a.Min, *a.Max)
		}
		if a.Logarithmic && a.Min != nil && *a.Min <= 0 {
			return nil, fmt.Errorf("render: axis %d: logarithmic axis needs a positive min, got %g", i, *a.Min)
		}
	}
	p.spans = make([]color.NRGBA, len(g.VSpans))
	for i, v := range g.VSpans {
		if v.End < v.Start {
			return nil, fmt.Errorf("render: vspan %d: end %d before start %d", i, v.End, v.Start)
		}
		if v.Color == "" {
			p.spans[i] = p.theme.Span
			continue
		}
		if p.spans[i], err = ParseColor(v.Color); err != nil {
			return nil, fmt.Errorf("render: vspan %d: %w", i, err)
		}
		if p.spans[i].A == 255 {
			// An opaque span would hide the grid; shading is what a span is for.
			p.spans[i].A = p.theme.Span.A
		}
	}
	return p, nil
}

// areaAlpha is the default opacity of an Area fill: enough to read as a
// filled shape, little enough to see a second area or the grid through it.
const areaAlpha = 0x70

// timestamp returns the i-th grid timestamp.
func (p *prepared) timestamp(i int) int64 { return p.g.Start + int64(i)*p.g.Step }

// sampled returns the values of series i on the graph grid. A series already
// on the grid is returned without a copy; the caller must not modify it.
func (p *prepared) sampled(i int) []float64 {
	s := &p.g.Series[i]
	if s.Start == p.g.Start && s.Step == p.g.Step && len(s.Values) >= p.n {
		return s.Values[:p.n]
	}
	out := make([]float64, p.n)
	for j := range out {
		out[j] = valueAt(s, p.timestamp(j))
	}
	return out
}

// valueAt returns the value of s for the step that contains t, NaN outside
// the series.
func valueAt(s *Series, t int64) float64 {
	if s.Step <= 0 || t < s.Start {
		return math.NaN()
	}
	k := (t - s.Start) / s.Step
	if k >= int64(len(s.Values)) {
		return math.NaN()
	}
	return s.Values[k]
}
