package render

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update. PNG
// bytes depend on float32 rounding in the rasterizer's SIMD code, so PNG
// goldens are compared byte for byte only on amd64, where they were made;
// the property checks below run everywhere.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if filepath.Ext(name) == ".png" && runtime.GOARCH != "amd64" {
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		out := filepath.Join(t.TempDir(), name)
		_ = os.WriteFile(out, got, 0o644)
		t.Errorf("%s differs from the golden file; got written to %s (look at it, then -update)", name, out)
	}
}

func renderPNG(t *testing.T, g Graph) ([]byte, image.Image, *chart) {
	t.Helper()
	var b bytes.Buffer
	if err := PNG(&b, g); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("decode our png: %v", err)
	}
	p, err := prepare(g)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := newChart(p)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), img, ch
}

func nrgbaAt(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

// count returns how many pixels of r match.
func count(img image.Image, r image.Rectangle, match func(color.NRGBA) bool) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if match(nrgbaAt(img, x, y)) {
				n++
			}
		}
	}
	return n
}

// near says whether c is within d of want in every channel, which catches
// anti-aliased pixels that are mostly the series color.
func near(want color.NRGBA, d int) func(color.NRGBA) bool {
	return func(c color.NRGBA) bool {
		abs := func(a, b uint8) int { return int(math.Abs(float64(int(a) - int(b)))) }
		return abs(c.R, want.R) <= d && abs(c.G, want.G) <= d && abs(c.B, want.B) <= d
	}
}

func exactly(want color.NRGBA) func(color.NRGBA) bool { return near(want, 0) }

// checkCommon checks what every chart must satisfy: the plot has the
// requested size, the image has the theme's background, and the legend
// area has text in it.
func checkCommon(t *testing.T, img image.Image, ch *chart, g Graph) {
	t.Helper()
	if got := img.Bounds().Size(); got != ch.size {
		t.Errorf("image size %v, want %v", got, ch.size)
	}
	w, h := g.Width, g.Height
	if w == 0 {
		w, h = DefaultWidth, DefaultHeight
	}
	if ch.plot.Dx() != w || ch.plot.Dy() != h {
		t.Errorf("plot %v, want %dx%d", ch.plot, w, h)
	}
	th := ch.p.theme
	for _, p := range []image.Point{{1, 1}, {ch.size.X - 2, 1}, {1, ch.size.Y - 2}} {
		if got := nrgbaAt(img, p.X, p.Y); got != th.Background {
			t.Errorf("background at %v = %v, want %s theme's %v", p, got, th.Name, th.Background)
		}
	}
	if g.ShowLegend {
		legend := image.Rect(pad, ch.legendTop, ch.size.X-pad, ch.size.Y)
		if n := count(img, legend, near(th.Text, 60)); n < 100 {
			t.Errorf("legend has %d text pixels, want text", n)
		}
	}
}

func TestPNGLines(t *testing.T) {
	g := linesGraph()
	b, img, ch := renderPNG(t, g)
	golden(t, "lines.png", b)
	checkCommon(t, img, ch, g)
	if n := count(img, ch.plot, exactly(lightTheme.Canvas)); n < ch.plot.Dx()*ch.plot.Dy()/3 {
		t.Errorf("plot has %d canvas pixels, want a mostly white canvas", n)
	}
	for i, c := range ch.p.colors {
		if n := count(img, ch.plot, exactly(c)); n < 100 {
			t.Errorf("series %d: %d pixels of its color %v in the plot, want a line", i, n, c)
		}
		if c != armytage[i] {
			t.Errorf("series %d color %v, want palette color %v", i, c, armytage[i])
		}
	}
	// Series 1 has no data for steps 60..74: no pixel of its color there.
	fr := ch.p.colors[1]
	gap := image.Rect(int(ch.x(ch.p.timestamp(63))), ch.plot.Min.Y, int(ch.x(ch.p.timestamp(72))), ch.plot.Max.Y)
	if n := count(img, gap, near(fr, 40)); n != 0 {
		t.Errorf("%d pixels of series 1 inside its NaN gap %v", n, gap)
	}
	around := image.Rect(int(ch.x(ch.p.timestamp(40))), ch.plot.Min.Y, int(ch.x(ch.p.timestamp(50))), ch.plot.Max.Y)
	if n := count(img, around, near(fr, 40)); n == 0 {
		t.Errorf("series 1 missing outside its gap")
	}
	// The alert span is shaded.
	span := ch.p.spans[0]
	x := (ch.xCol(g.VSpans[0].Start) + ch.xCol(g.VSpans[0].End)) / 2
	want := blendOver(span, lightTheme.Canvas)
	if n := count(img, image.Rect(x, ch.plot.Min.Y, x+1, ch.plot.Max.Y), near(want, 2)); n < ch.plot.Dy()/2 {
		t.Errorf("span column has %d shaded pixels of %v", n, want)
	}
}

func blendOver(c, bg color.NRGBA) color.NRGBA {
	a := float64(c.A) / 255
	mix := func(s, d uint8) uint8 { return uint8(math.Round(float64(s)*a + float64(d)*(1-a))) }
	return color.NRGBA{mix(c.R, bg.R), mix(c.G, bg.G), mix(c.B, bg.B), 255}
}

func TestPNGStackDark(t *testing.T) {
	g := stackGraph()
	b, img, ch := renderPNG(t, g)
	golden(t, "stack_dark.png", b)
	checkCommon(t, img, ch, g)
	if ch.p.theme != &darkTheme {
		t.Fatal("want the dark theme")
	}
	// Stack layers are opaque fills: each shows as a solid band.
	for i := range 5 {
		if n := count(img, ch.plot, exactly(ch.p.colors[i])); n < 2000 {
			t.Errorf("stack layer %d: %d pixels of %v, want a filled band", i, n, ch.p.colors[i])
		}
	}
	// The bottom layer sits on zero: the rows just above the zero grid line
	// (the plot's last row) are its color.
	row := image.Rect(ch.plot.Min.X+5, ch.plot.Max.Y-2, ch.plot.Max.X-5, ch.plot.Max.Y-1)
	if n := count(img, row, exactly(ch.p.colors[0])); n < row.Dx()*9/10 {
		t.Errorf("bottom row has %d of %d pixels of the first layer", n, row.Dx())
	}
	// The right axis exists, for the lag line.
	if len(ch.axes) != 2 || !ch.axes[1].right {
		t.Errorf("axes %+v, want left and right", ch.axes)
	}
	if n := count(img, ch.plot, exactly(rgb(0xFFFFFF))); n < 300 {
		t.Errorf("lag line: %d white pixels", n)
	}
}

func TestPNGNoData(t *testing.T) {
	g := emptyGraph()
	b, img, ch := renderPNG(t, g)
	golden(t, "nodata.png", b)
	checkCommon(t, img, ch, g)
	if !ch.noData {
		t.Fatal("chart not marked as having no data")
	}
	hatch := blendOver(lightTheme.Hatch, lightTheme.Canvas)
	if n := count(img, ch.plot, near(hatch, 30)); n < 2000 {
		t.Errorf("%d hatch pixels, want the plot hatched", n)
	}
	mid := image.Rect(ch.plot.Min.X+ch.plot.Dx()/3, ch.plot.Min.Y+ch.plot.Dy()/3, ch.plot.Max.X-ch.plot.Dx()/3, ch.plot.Max.Y-ch.plot.Dy()/3)
	if n := count(img, mid, near(lightTheme.Text, 60)); n < 50 {
		t.Errorf("%d text pixels in the middle of the plot, want the no-data message", n)
	}
}

// TestDeterministic renders the same graphs concurrently (which also
// exercises the shared glyph cache under -race) and wants identical bytes.
func TestDeterministic(t *testing.T) {
	graphs := []Graph{linesGraph(), stackGraph(), emptyGraph()}
	want := make([][]byte, len(graphs))
	for i, g := range graphs {
		var b bytes.Buffer
		if err := PNG(&b, g); err != nil {
			t.Fatal(err)
		}
		want[i] = b.Bytes()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			i := w % len(graphs)
			var b bytes.Buffer
			if err := PNG(&b, graphs[i]); err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(b.Bytes(), want[i]) {
				errs <- fmt.Errorf("graph %d: bytes differ between renders", i)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestPNGOptions draws the options the goldens leave out — areas, a
// logarithmic axis, three axes, fixed bounds, notices, an overlong legend,
// a series off the graph grid, an isolated point — and checks each shows.
func TestPNGOptions(t *testing.T) {
	step := int64(60000)
	n := 120
	var series []Series
	for i := range MaxLegendRows + 3 {
		series = append(series, Series{Label: fmt.Sprintf("s%d", i), Start: testStart, Step: step, Values: wave(n, float64(i), 50, 10)})
	}
	area := wave(n, 9, 20, 15)
	series[0].Style = Style{Kind: Area, Color: "00aa00"}
	series[0].Values = area
	lonely := make([]float64, n)
	for i := range lonely {
		lonely[i] = math.NaN()
	}
	lonely[50] = 5
	series[1] = Series{Label: "lonely", Start: testStart, Step: step, Values: lonely, Style: Style{Color: "ff00ff", LineWidth: 3, Axis: 2}}
	series[2] = Series{Label: "log", Start: testStart + 30*step, Step: 2 * step, Values: []float64{1, 10, 100, 1000, 10000, -1, 5}, Style: Style{Axis: 1, Color: "0000ff"}}
	g := Graph{
		Title: "options", Width: 500, Height: 200, Start: testStart, End: testStart + int64(n)*step, Step: step,
		Series:     series,
		Axes:       []Axis{{Min: Bound(0), Max: Bound(80), Label: "left"}, {Logarithmic: true, Label: "log"}, {Label: "third"}},
		Notices:    []string{"query hit the series limit; showing the first 53"},
		ShowLegend: true, ShowStats: true,
	}
	_, img, ch := renderPNG(t, g)
	checkCommon(t, img, ch, g)
	if len(ch.axes) != 3 || ch.axes[1].lo != 1 || ch.axes[1].hi != 10000 {
		t.Errorf("axes = %+v", ch.axes)
	}
	if ch.more != 3 || len(ch.legend) != MaxLegendRows {
		t.Errorf("legend rows %d, more %d; want %d and 3", len(ch.legend), ch.more, MaxLegendRows)
	}
	checks := []struct {
		name string
		c    color.NRGBA
		min  int
	}{
		{"area fill", blendOver(color.NRGBA{0, 0xaa, 0, areaAlpha}, lightTheme.Canvas), 2000},
		{"area outline", rgb(0x00aa00), 100},
		{"isolated point", rgb(0xff00ff), 6},
		{"log line", rgb(0x0000ff), 10},
	}
	for _, c := range checks {
		if got := count(img, ch.plot, near(c.c, 3)); got < c.min {
			t.Errorf("%s: %d pixels of %v, want at least %d", c.name, got, c.c, c.min)
		}
	}
	notice := image.Rect(pad, ch.noticeTop, ch.size.X-pad, ch.plot.Min.Y)
	if got := count(img, notice, exactly(lightTheme.NoticeBackground)); got < 1000 {
		t.Errorf("notice bar: %d pixels", got)
	}
	if out := os.Getenv("RENDER_OPTIONS_PNG"); out != "" {
		// For a human to look at: RENDER_OPTIONS_PNG=/tmp/options.png.
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := PNG(f, g); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEncodePNG checks our encoder against the standard decoder, pixel for
// pixel, on an image with every kind of row.
func TestEncodePNG(t *testing.T) {
	img, err := Image(linesGraph())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := encodePNG(&b, img); err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != img.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), img.Bounds())
	}
	for y := range img.Rect.Dy() {
		for x := range img.Rect.Dx() {
			if a, b := nrgbaAt(got, x, y), nrgbaAt(img, x, y); a != b {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, a, b)
			}
		}
	}
}
