package render

import (
	"fmt"
	"image"
	"io"
)

// PNG draws g and writes it as a PNG image. The same Graph always gives the
// same bytes on the same architecture (fonts are embedded, drawing is
// integer- or float32-exact and map order never leaks), so tests and caches
// can compare hashes.
func PNG(w io.Writer, g Graph) error {
	img, err := Image(g)
	if err != nil {
		return err
	}
	return encodePNG(w, img)
}

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
