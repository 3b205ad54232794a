package render

import (
	"fmt"
	"image"
	"io"
	"sync"
)

// PNG draws g and writes it as a PNG image. The same Graph always gives the
// same bytes on the same architecture (fonts are embedded, drawing is
// integer- or float32-exact and map order never leaks), so tests and caches
// can compare hashes.
func PNG(w io.Writer, g Graph) error {
	p, err := prepare(g)
	if err != nil {
		return err
	}
	ch, err := newChart(p)
	if err != nil {
		return err
	}
	// The pixels are encoded and dropped: their buffer is reused.
	n := 4 * ch.size.X * ch.size.Y
	bp, _ := pixBuffers.Get().(*[]byte)
	if bp == nil || cap(*bp) < n {
		b := make([]byte, n)
		bp = &b
	}
	defer pixBuffers.Put(bp)
	pix := (*bp)[:n]
	if p.theme.Background.A != 255 {
		// The background is blended, not copied, over what is there.
		clear(pix)
	}
	r := &raster{img: &image.RGBA{Pix: pix, Stride: 4 * ch.size.X, Rect: image.Rectangle{Max: ch.size}}}
	ch.draw(r)
	return encodePNG(w, r.img)
}

// pixBuffers holds the pixel buffers of PNG renders (*[]byte): four bytes
// per pixel, 4 MB for a 100-line chart with its legend, which a profile
// found being allocated and cleared for every render, then painted over.
var pixBuffers sync.Pool

// Image draws g into a new RGBA image, for callers that compose or encode
// charts themselves.
func Image(g Graph) (*image.RGBA, error) {
	p, err := prepare(g)
	if err != nil {
		return nil, err
	}
	ch, err := newChart(p)
	if err != nil {
		return nil, err
	}
	r := newRaster(ch.size)
	ch.draw(r)
	return r.img, nil
}

// SVG draws g as a standalone SVG document with the same layout as PNG.
// Elements are grouped by role (<g class="series line">, "grid", "axes",
// "legend", "nodata", ...) so that a browser can style or script them.
func SVG(w io.Writer, g Graph) error {
	p, err := prepare(g)
	if err != nil {
		return err
	}
	ch, err := newChart(p)
	if err != nil {
		return err
	}
	s := &svgCanvas{}
	ch.draw(s)
	if _, err := w.Write(s.document(ch.size)); err != nil {
		return fmt.Errorf("render: write svg: %w", err)
	}
	return nil
}
