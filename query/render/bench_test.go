package render

import (
	"io"
	"testing"
)

// BenchmarkPNG renders and encodes the target shape: 20 series of
// 1440 points on a 700x300 canvas, with a stats legend. The budget is 20ms.
func BenchmarkPNG(b *testing.B) {
	g := benchGraph()
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

// BenchmarkPNGNoLegend is the 700x300 chart alone: without the 20-row stats
// legend the image is half the size, and so is the encoding.
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
