package render

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"io"
)

// encodePNG writes img, which must be opaque, as an 8-bit RGB PNG.
//
// image/png would do, but it tries all five row filters on every row
// (Paeth included) and spends longer on that than we spend drawing the
// chart. A chart is flat color and straight lines, for which Sub (runs
// along a row) and Up (rows repeated, as in the legend) are the filters that
// pay; choosing between just those two keeps most of the size benefit at a
// fraction of the cost. The output is a plain PNG any decoder reads.
func encodePNG(w io.Writer, img *image.RGBA) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	var out bytes.Buffer
	out.Grow(64 << 10)
	out.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8] = 8  // bit depth
	ihdr[9] = 2  // color type: truecolor
	ihdr[10] = 0 // deflate
	ihdr[11] = 0 // adaptive filtering
	ihdr[12] = 0 // no interlace
	writeChunk(&out, "IHDR", ihdr[:])

	var idat bytes.Buffer
	zw, err := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	if err != nil {
		return fmt.Errorf("render: png deflate: %w", err)
	}
	n := 3 * width
	prev := make([]byte, n) // the row above the first row is all zero
	cur := make([]byte, n)
	sub := make([]byte, 1+n)
	up := make([]byte, 1+n)
	sub[0], up[0] = 1, 2
	for y := range height {
		src := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
		src = src[:4*width]
		for x, j := 0, 0; x < len(src); x, j = x+4, j+3 {
			px := src[x : x+3 : x+3]
			c := cur[j : j+3 : j+3]
			c[0], c[1], c[2] = px[0], px[1], px[2]
		}
		sumSub, sumUp := filterRow(sub[1:], up[1:], cur, prev)
		row := sub
		if sumUp < sumSub {
			row = up
		}
		if _, err := zw.Write(row); err != nil {
			return fmt.Errorf("render: png deflate: %w", err)
		}
		prev, cur = cur, prev
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("render: png deflate: %w", err)
	}
	writeChunk(&out, "IDAT", idat.Bytes())
	writeChunk(&out, "IEND", nil)
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("render: write png: %w", err)
	}
	return nil
}

// filterRow writes the Sub and Up filtered forms of cur (3 bytes per
// pixel) and returns the PNG heuristic's cost of each: the sum of the
// filtered bytes' distances from zero as signed values.
func filterRow(sub, up, cur, prev []byte) (sumSub, sumUp int) {
	n := len(cur)
	sub, up, prev = sub[:n], up[:n], prev[:n]
	for i := 0; i < 3 && i < n; i++ {
		sub[i] = cur[i]
		up[i] = cur[i] - prev[i]
		sumSub += absDelta(sub[i])
		sumUp += absDelta(up[i])
	}
	for i := 3; i < n; i++ {
		s, u := cur[i]-cur[i-3], cur[i]-prev[i]
		sub[i], up[i] = s, u
		sumSub += absDelta(s)
		sumUp += absDelta(u)
	}
	return sumSub, sumUp
}

// absDelta is |int8(v)|, without a branch.
func absDelta(v byte) int {
	x := int(int8(v))
	m := x >> 63
	return (x ^ m) - m
}

func writeChunk(out *bytes.Buffer, typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	out.Write(hdr[:])
	out.Write(data)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	out.Write(sum[:])
}
