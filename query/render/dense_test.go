package render

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// TestDenseLine draws dense polylines as column spans and checks each
// column against the band of a one-pixel line: as much ink as the band
// has in the column (sqrt(1+m²) pixels for slope m), centered where the
// line crosses the column's middle, and nothing past the line's ends.
func TestDenseLine(t *testing.T) {
	const w, h = 300, 200
	black := color.NRGBA{A: 255}
	for _, c := range []struct {
		name  string
		f     func(x float64) float64
		slope func(x float64) float64
	}{
		{"on a row", func(float64) float64 { return 100.5 }, func(float64) float64 { return 0 }},
		{"between rows", func(float64) float64 { return 73.0 }, func(float64) float64 { return 0 }},
		{"slope 0.5", func(x float64) float64 { return 20 + 0.5*x }, func(float64) float64 { return 0.5 }},
		{"slope -0.6", func(x float64) float64 { return 190 - 0.6*x }, func(float64) float64 { return -0.6 }},
		{"sine", func(x float64) float64 { return 100 + 30*math.Sin(x/17) }, func(x float64) float64 { return 30.0 / 17 * math.Cos(x/17) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p path
			for x := 20.0; x <= 280; x += 0.45 {
				p.add(float32(x), float32(c.f(x)))
			}
			p.close()
			if !denseSubpath(p.pts) {
				t.Fatal("not dense")
			}
			r := newRaster(image.Pt(w, h))
			r.stroke(&p, 1, black, image.Rect(0, 0, w, h))
			for x := range w {
				var ink, mid float64
				for y := range h {
					a := float64(r.img.Pix[r.img.PixOffset(x, y)+3]) / 255
					ink += a
					mid += a * (float64(y) + 0.5)
				}
				if x < 19 || x > 280 {
					if ink != 0 {
						t.Errorf("column %d, past the line's ends: %.2f px of ink", x, ink)
					}
					continue
				}
				if x < 21 || x > 278 {
					continue // the line's ends
				}
				mid /= ink
				m := c.slope(float64(x) + 0.5)
				want := math.Sqrt(1 + m*m)
				if math.Abs(ink-want) > 0.05*want+2.0/255 || math.Abs(mid-c.f(float64(x)+0.5)) > 0.15 {
					t.Errorf("column %d: %.3f px of ink around row %.2f, want %.3f around %.2f", x, ink, mid, want, c.f(float64(x)+0.5))
				}
			}
		})
	}
}

func TestDenseSubpath(t *testing.T) {
	for _, c := range []struct {
		pts  []pt
		want bool
	}{
		{[]pt{{0, 0}, {0.5, 1}, {1, 0}}, true},
		{[]pt{{0, 0}, {1, 1}, {2, 0}}, true},
		{[]pt{{0, 0}, {1.5, 1}, {3, 0}}, false},   // sparser than one point per column
		{[]pt{{0, 0}, {0.5, 1}, {0.2, 0}}, false}, // goes back left
		{[]pt{{0, 0}, {0.5, 1}}, false},           // too short to matter
	} {
		if got := denseSubpath(c.pts); got != c.want {
			t.Errorf("denseSubpath(%v) = %v, want %v", c.pts, got, c.want)
		}
	}
}
