package render

import (
	"io"
	"testing"
)

// BenchmarkPNG renders and encodes the target shape: 100 lines of
// 1,440 points on the default 700x300 canvas, with a stats legend. The
// goal is under 50 ms (BENCHMARKS.md, "Graph API").
func BenchmarkPNG(b *testing.B) {
	g := benchGraph()
	if len(g.Series) != 100 || len(g.Series[0].Values) != 1440 {
		b.Fatalf("benchmark graph has %d lines of %d points, want 100 x 1440", len(g.Series), len(g.Series[0].Values))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := PNG(io.Discard, g); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImage is BenchmarkPNG without the encoder, to tell drawing time
// from compression time.
func BenchmarkImage(b *testing.B) {
	g := benchGraph()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Image(g); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSVG writes the same graph as SVG.
func BenchmarkSVG(b *testing.B) {
	g := benchGraph()
	b.ReportAllocs()
	for b.Loop() {
		if err := SVG(io.Discard, g); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSON writes the same graph's data as JSON.
func BenchmarkJSON(b *testing.B) {
	g := benchGraph()
	b.ReportAllocs()
	for b.Loop() {
		if err := JSON(io.Discard, g); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPNGNoLegend is the 700x300 chart alone: without the stats
// legend (50 rows and a summary line) the image is a third of the size.
func BenchmarkPNGNoLegend(b *testing.B) {
	g := benchGraph()
	g.ShowLegend = false
	b.ReportAllocs()
	for b.Loop() {
		if err := PNG(io.Discard, g); err != nil {
			b.Fatal(err)
		}
	}
}
