package render

import (
	"image"
	"image/color"
	"strconv"
	"unicode/utf8"
)

// svgFonts names the Go fonts first, which is what the PNG uses and what
// the layout measured; the fallbacks have similar metrics.
const svgFonts = `Go, 'Go Regular', 'Helvetica Neue', Helvetica, Arial, sans-serif`

// svgCanvas writes a chart as SVG elements. It appends to one buffer and
// formats numbers with strconv, so the same chart is the same bytes.
type svgCanvas struct {
	buf   []byte
	clips []image.Rectangle // clip-path ids are indexes into clips
}

func (s *svgCanvas) group(class string) {
	s.buf = append(s.buf, `<g class="`...)
	s.buf = appendXML(s.buf, class)
	s.buf = append(s.buf, "\">\n"...)
}

func (s *svgCanvas) end() { s.buf = append(s.buf, "</g>\n"...) }

func (s *svgCanvas) fillRect(r image.Rectangle, c color.NRGBA) {
	if r.Empty() || c.A == 0 {
		return
	}
	s.buf = append(s.buf, `<rect x="`...)
	s.buf = strconv.AppendInt(s.buf, int64(r.Min.X), 10)
	s.buf = append(s.buf, `" y="`...)
	s.buf = strconv.AppendInt(s.buf, int64(r.Min.Y), 10)
	s.buf = append(s.buf, `" width="`...)
	s.buf = strconv.AppendInt(s.buf, int64(r.Dx()), 10)
	s.buf = append(s.buf, `" height="`...)
	s.buf = strconv.AppendInt(s.buf, int64(r.Dy()), 10)
	s.buf = append(s.buf, '"')
	s.buf = appendPaint(s.buf, "fill", c)
	s.buf = append(s.buf, "/>\n"...)
}

func (s *svgCanvas) line(x0, y0, x1, y1 float32, c color.NRGBA, dashed bool) {
	s.buf = append(s.buf, `<line x1="`...)
	s.buf = appendCoord(s.buf, x0)
	s.buf = append(s.buf, `" y1="`...)
	s.buf = appendCoord(s.buf, y0)
	s.buf = append(s.buf, `" x2="`...)
	s.buf = appendCoord(s.buf, x1)
	s.buf = append(s.buf, `" y2="`...)
	s.buf = appendCoord(s.buf, y1)
	s.buf = append(s.buf, '"')
	s.buf = appendPaint(s.buf, "stroke", c)
	if dashed {
		s.buf = append(s.buf, ` stroke-dasharray="3,3"`...)
	}
	s.buf = append(s.buf, "/>\n"...)
}

func (s *svgCanvas) hline(x0, x1, y int, c color.NRGBA, dashed bool) {
	if x1 > x0 {
		s.line(float32(x0), float32(y)+0.5, float32(x1), float32(y)+0.5, c, dashed)
	}
}

func (s *svgCanvas) vline(x, y0, y1 int, c color.NRGBA, dashed bool) {
	if y1 > y0 {
		s.line(float32(x)+0.5, float32(y0), float32(x)+0.5, float32(y1), c, dashed)
	}
}

func (s *svgCanvas) clip(r image.Rectangle) int {
	for i, c := range s.clips {
		if c == r {
			return i
		}
	}
	s.clips = append(s.clips, r)
	return len(s.clips) - 1
}

func (s *svgCanvas) appendPath(p *path, closed bool) {
	s.buf = append(s.buf, `<path d="`...)
	p.subpaths(func(sp []pt) {
		for i, q := range sp {
			if i == 0 {
				s.buf = append(s.buf, 'M')
			} else {
				s.buf = append(s.buf, 'L')
			}
			s.buf = appendCoord(s.buf, q.x)
			s.buf = append(s.buf, ',')
			s.buf = appendCoord(s.buf, q.y)
		}
		if closed {
			s.buf = append(s.buf, 'Z')
		}
	})
	s.buf = append(s.buf, '"')
}

func (s *svgCanvas) appendClip(r image.Rectangle) {
	s.buf = append(s.buf, ` clip-path="url(#c`...)
	s.buf = strconv.AppendInt(s.buf, int64(s.clip(r)), 10)
	s.buf = append(s.buf, `)"`...)
}

func (s *svgCanvas) fill(p *path, c color.NRGBA, clip image.Rectangle) {
	if len(p.ends) == 0 {
		return
	}
	s.appendPath(p, true)
	s.buf = appendPaint(s.buf, "fill", c)
	s.appendClip(clip)
	s.buf = append(s.buf, "/>\n"...)
}

func (s *svgCanvas) stroke(p *path, width float32, c color.NRGBA, clip image.Rectangle) {
	if len(p.ends) == 0 {
		return
	}
	s.appendPath(p, false)
	s.buf = append(s.buf, ` fill="none"`...)
	s.buf = appendPaint(s.buf, "stroke", c)
	if width != 1 {
		s.buf = append(s.buf, ` stroke-width="`...)
		s.buf = appendCoord(s.buf, width)
		s.buf = append(s.buf, '"')
	}
	s.buf = append(s.buf, ` stroke-linejoin="round"`...)
	s.appendClip(clip)
	s.buf = append(s.buf, "/>\n"...)
}

func (s *svgCanvas) textAttrs(f *face, c color.NRGBA) {
	s.buf = append(s.buf, ` font-size="`...)
	s.buf = strconv.AppendFloat(s.buf, f.size, 'f', -1, 64)
	s.buf = append(s.buf, '"')
	if f.bold {
		s.buf = append(s.buf, ` font-weight="bold"`...)
	}
	s.buf = appendPaint(s.buf, "fill", c)
}

func (s *svgCanvas) text(x, y int, str string, f *face, c color.NRGBA, a align) {
	s.buf = append(s.buf, `<text x="`...)
	s.buf = strconv.AppendInt(s.buf, int64(x), 10)
	s.buf = append(s.buf, `" y="`...)
	s.buf = strconv.AppendInt(s.buf, int64(y), 10)
	s.buf = append(s.buf, '"')
	switch a {
	case alignCenter:
		s.buf = append(s.buf, ` text-anchor="middle"`...)
	case alignRight:
		s.buf = append(s.buf, ` text-anchor="end"`...)
	}
	s.textAttrs(f, c)
	s.buf = append(s.buf, '>')
	s.buf = appendXML(s.buf, str)
	s.buf = append(s.buf, "</text>\n"...)
}

func (s *svgCanvas) textUp(x, y int, str string, f *face, c color.NRGBA) {
	s.buf = append(s.buf, `<text transform="translate(`...)
	s.buf = strconv.AppendInt(s.buf, int64(x), 10)
	s.buf = append(s.buf, ',')
	s.buf = strconv.AppendInt(s.buf, int64(y), 10)
	s.buf = append(s.buf, `) rotate(-90)" text-anchor="middle"`...)
	s.textAttrs(f, c)
	s.buf = append(s.buf, '>')
	s.buf = appendXML(s.buf, str)
	s.buf = append(s.buf, "</text>\n"...)
}

// document wraps the drawn elements in the svg root and the clip paths.
func (s *svgCanvas) document(size image.Point) []byte {
	var b []byte
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" width="`...)
	b = strconv.AppendInt(b, int64(size.X), 10)
	b = append(b, `" height="`...)
	b = strconv.AppendInt(b, int64(size.Y), 10)
	b = append(b, `" viewBox="0 0 `...)
	b = strconv.AppendInt(b, int64(size.X), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(size.Y), 10)
	b = append(b, `" font-family="`...)
	b = append(b, svgFonts...)
	b = append(b, "\">\n<defs>\n"...)
	for i, r := range s.clips {
		b = append(b, `<clipPath id="c`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `"><rect x="`...)
		b = strconv.AppendInt(b, int64(r.Min.X), 10)
		b = append(b, `" y="`...)
		b = strconv.AppendInt(b, int64(r.Min.Y), 10)
		b = append(b, `" width="`...)
		b = strconv.AppendInt(b, int64(r.Dx()), 10)
		b = append(b, `" height="`...)
		b = strconv.AppendInt(b, int64(r.Dy()), 10)
		b = append(b, "\"/></clipPath>\n"...)
	}
	b = append(b, "</defs>\n"...)
	b = append(b, s.buf...)
	return append(b, "</svg>\n"...)
}

// appendCoord writes a coordinate with at most two decimals: finer than any
// screen shows, and short.
func appendCoord(b []byte, v float32) []byte {
	r := float64(int64(float64(v)*100+copysign(0.5, v))) / 100
	return strconv.AppendFloat(b, r, 'f', -1, 64)
}

func copysign(h float64, v float32) float64 {
	if v < 0 {
		return -h
	}
	return h
}

// appendPaint writes a fill or stroke color, with its opacity when not opaque.
func appendPaint(b []byte, attr string, c color.NRGBA) []byte {
	const hex = "0123456789abcdef"
	b = append(b, ' ')
	b = append(b, attr...)
	b = append(b, `="#`...)
	for _, v := range []uint8{c.R, c.G, c.B} {
		b = append(b, hex[v>>4], hex[v&15])
	}
	b = append(b, '"')
	if c.A != 255 {
		b = append(b, ' ')
		b = append(b, attr...)
		b = append(b, `-opacity="`...)
		b = strconv.AppendFloat(b, float64(c.A)/255, 'f', 3, 64)
		b = append(b, '"')
	}
	return b
}

// appendXML escapes s for XML text and attribute values, replacing invalid
// UTF-8 and the control characters XML 1.0 forbids.
func appendXML(b []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '"':
			b = append(b, "&quot;"...)
		case r == '\'':
			b = append(b, "&apos;"...)
		case r == utf8.RuneError, r < 0x20 && r != '\t' && r != '\n' && r != '\r':
			b = append(b, "\uFFFD"...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}
