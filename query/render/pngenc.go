package render

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"image"
	"io"
	"sync"
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

	// The rows are filtered and compressed in bands at once, each band a
	// run of deflate blocks that ends on a byte boundary (a sync flush),
	// the last one final: their concatenation is one deflate stream, as
	// pigz writes it. A band starts without the previous band's window,
	// which costs a few bytes of output. The number of bands depends on
	// the image alone, so that the bytes do not depend on the machine.
	bands := min(maxEncodeBands, max(1, height*width*3/minBandBytes))
	parts := make([]encodedBand, bands)
	var wg sync.WaitGroup
	for i := range bands {
		y0, y1 := height*i/bands, height*(i+1)/bands
		wg.Go(func() { parts[i] = encodeBand(img, y0, y1, i == bands-1) })
	}
	wg.Wait()
	idat := make([]byte, 0, 2+4+func() int {
		n := 0
		for _, p := range parts {
			n += len(p.data)
		}
		return n
	}())
	// zlib header: deflate with a 32 KiB window, the fastest level.
	idat = append(idat, 0x78, 0x01)
	var sum uint32 = 1
	for _, p := range parts {
		if p.err != nil {
			return fmt.Errorf("render: png deflate: %w", p.err)
		}
		idat = append(idat, p.data...)
		sum = adler32Cat(sum, p.adler, p.n)
	}
	idat = binary.BigEndian.AppendUint32(idat, sum)
	writeChunk(&out, "IDAT", idat)
	writeChunk(&out, "IEND", nil)
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("render: write png: %w", err)
	}
	return nil
}

// Limits of the bands encodePNG compresses at once: at most
// maxEncodeBands (more than the cores of a small server gains nothing),
// each of at least minBandBytes of pixels, since a small chart is
// encoded faster than goroutines start.
const (
	maxEncodeBands = 4
	minBandBytes   = 512 << 10
)

// deflaters holds *flate.Writer at BestSpeed: each is half a megabyte of
// tables that a profile of the 100-line benchmark found being cleared
// for every band of every image.
var deflaters sync.Pool

func getDeflater(w io.Writer) *flate.Writer {
	if zw, ok := deflaters.Get().(*flate.Writer); ok {
		zw.Reset(w)
		return zw
	}
	zw, err := flate.NewWriter(w, flate.BestSpeed)
	if err != nil {
		panic("BUG: flate.NewWriter at BestSpeed: " + err.Error())
	}
	return zw
}

// encodedBand is one band's raw deflate blocks, the Adler-32 checksum of
// its filtered bytes, and their number.
type encodedBand struct {
	data  []byte
	adler uint32
	n     int
	err   error
}

// encodeBand filters rows y0 to y1 of img (each against the row above it,
// which may lie in the band before) and compresses them; the last band
// ends the deflate stream.
func encodeBand(img *image.RGBA, y0, y1 int, last bool) encodedBand {
	b := img.Bounds()
	width := b.Dx()
	var buf bytes.Buffer
	buf.Grow((y1 - y0) * width / 4)
	zw := getDeflater(&buf)
	defer deflaters.Put(zw)
	var err error
	sum := adler32.New()
	n := 3 * width
	sub := make([]byte, 1+n)
	up := make([]byte, 1+n)
	sub[0], up[0] = 1, 2
	// Rows are read in place, RGBA; the row above the first is all zero.
	row := func(y int) []byte {
		off := img.PixOffset(b.Min.X, b.Min.Y+y)
		return img.Pix[off : off+4*width : off+4*width]
	}
	prev := make([]byte, 4*width)
	if y0 > 0 {
		prev = row(y0 - 1)
	}
	for y := y0; y < y1; y++ {
		cur := row(y)
		var out []byte
		if bytes.Equal(cur, prev) {
			// A row like the one above (background, the legend's gaps):
			// Up is all zeros. (The image is opaque: alpha is always 255.)
			clear(up[1:])
			out = up
		} else {
			sumSub, sumUp := filterRow(sub[1:], up[1:], cur, prev)
			out = sub
			if sumUp < sumSub {
				out = up
			}
		}
		sum.Write(out)
		if _, err := zw.Write(out); err != nil {
			return encodedBand{err: err}
		}
		prev = cur
	}
	if last {
		err = zw.Close()
	} else {
		err = zw.Flush()
	}
	return encodedBand{data: buf.Bytes(), adler: sum.Sum32(), n: (y1 - y0) * (1 + n), err: err}
}

// adler32Cat returns the Adler-32 checksum of the concatenation of two
// byte strings from the checksum a of the first, b of the second and the
// length n of the second. With A = 1 + the sum of the bytes and B = the
// sum of the A after each byte (both mod 65521), appending n bytes adds
// their sum less one to A, and to B their own B plus n times the first
// string's A less one.
func adler32Cat(a, b uint32, n int) uint32 {
	const mod = 65521
	a1, b1 := a&0xffff, a>>16
	a2, b2 := b&0xffff, b>>16
	na := (a1 + a2 + mod - 1) % mod
	nb := (b1 + b2 + uint32(uint64(n)%mod*uint64(a1+mod-1)%mod)) % mod
	return nb<<16 | na
}

// filterRow writes the Sub and Up filtered forms of the RGB of cur, an
// RGBA row (the alpha bytes are skipped: the PNG is RGB), against the row
// above, prev, and returns the PNG heuristic's cost of each: the sum of
// the filtered bytes' distances from zero as signed values.
func filterRow(sub, up, cur, prev []byte) (sumSub, sumUp int) {
	w := len(cur) / 4
	if w == 0 {
		return 0, 0
	}
	sub, up, cur, prev = sub[:3*w], up[:3*w], cur[:4*w], prev[:4*w]
	var l0, l1, l2 byte // the pixel to the left; zero before the first
	for x := range w {
		c := cur[4*x : 4*x+3 : 4*x+3]
		p := prev[4*x : 4*x+3 : 4*x+3]
		s := sub[3*x : 3*x+3 : 3*x+3]
		u := up[3*x : 3*x+3 : 3*x+3]
		s[0], s[1], s[2] = c[0]-l0, c[1]-l1, c[2]-l2
		u[0], u[1], u[2] = c[0]-p[0], c[1]-p[1], c[2]-p[2]
		sumSub += absDelta(s[0]) + absDelta(s[1]) + absDelta(s[2])
		sumUp += absDelta(u[0]) + absDelta(u[1]) + absDelta(u[2])
		l0, l1, l2 = c[0], c[1], c[2]
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
