package render

import (
	"bytes"
	"hash/adler32"
	"image"
	"image/png"
	"testing"
)

// TestAdler32Cat checks the checksum of a concatenation against the
// checksum of the whole, at every split of data that wraps both sums.
func TestAdler32Cat(t *testing.T) {
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i*7919 + i/251)
	}
	for _, cut := range []int{0, 1, 5551, 65520, 65521, 65522, 123_456, 299_999, 300_000} {
		got := adler32Cat(adler32.Checksum(data[:cut]), adler32.Checksum(data[cut:]), len(data)-cut)
		if want := adler32.Checksum(data); got != want {
			t.Errorf("cut at %d: %08x, want %08x", cut, got, want)
		}
	}
}

// TestEncodePNGBands encodes images that split into one to
// maxEncodeBands bands and decodes them back pixel for pixel.
func TestEncodePNGBands(t *testing.T) {
	for _, h := range []int{1, 2, 200, 700, 1400, 3000} {
		img := image.NewRGBA(image.Rect(0, 0, 640, h))
		for i := range img.Pix {
			if i%4 == 3 {
				img.Pix[i] = 255
			} else if (i/4)%640 > 320 {
				img.Pix[i] = byte(i / 4 / 640) // rows that differ, and runs
			}
		}
		var b bytes.Buffer
		if err := encodePNG(&b, img); err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(&b)
		if err != nil {
			t.Fatalf("height %d: decode: %v", h, err)
		}
		for y := range h {
			for x := range 640 {
				r1, g1, b1, _ := got.At(x, y).RGBA()
				r2, g2, b2, _ := img.At(x, y).RGBA()
				if r1 != r2 || g1 != g2 || b1 != b2 {
					t.Fatalf("height %d: pixel %d,%d differs", h, x, y)
				}
			}
		}
	}
}
