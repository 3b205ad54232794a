package render

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"
)

// Palettes lists the palette names a Graph may ask for, default first.
var Palettes = []string{"armytage", "classic"}

// armytage is Paul Green-Armytage's "alphabet" of colors chosen to be told
// apart even in large numbers; Atlas uses it as its default palette, so our
// graphs color the n-th series as an Atlas user expects.
var armytage = []color.NRGBA{
	rgb(0x0075DC), rgb(0x993F00), rgb(0x9DCC00), rgb(0x4C005C),
	rgb(0x00998F), rgb(0xFFA405), rgb(0x5EF1F2), rgb(0xF0A3FF),
	rgb(0x94FFB5), rgb(0xFF0010), rgb(0x2BCE48), rgb(0x740AFF),
	rgb(0x191919), rgb(0xFF5005), rgb(0x005C31), rgb(0xFFCC99),
	rgb(0x808080), rgb(0x8F7C00), rgb(0xC20088), rgb(0x003380),
	rgb(0xFFA8BB), rgb(0x426600), rgb(0x990000), rgb(0xFFE100),
}

// classic is the primary-color list of older Atlas and RRDtool graphs,
// kept for dashboards whose readers learned those colors.
var classic = []color.NRGBA{
	rgb(0xFF0000), rgb(0x00FF00), rgb(0x0000FF), rgb(0xFF00FF),
	rgb(0xFFFF00), rgb(0x00FFFF), rgb(0xFFAFAF), rgb(0xFFC800),
}

func rgb(v uint32) color.NRGBA {
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}
}

func paletteByName(name string) ([]color.NRGBA, error) {
	switch name {
	case "", "armytage":
		return armytage, nil
	case "classic":
		return classic, nil
	}
	return nil, fmt.Errorf("render: unknown palette %q (have %s)", name, strings.Join(Palettes, ", "))
}

// ParseColor parses the color forms Atlas accepts: "rgb", "rrggbb" and
// "rrggbbaa", each with an optional leading '#'.
func ParseColor(s string) (color.NRGBA, error) {
	h := strings.TrimPrefix(s, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) == 6 {
		h += "ff"
	}
	if len(h) != 8 {
		return color.NRGBA{}, fmt.Errorf("color %q: want rgb, rrggbb or rrggbbaa hex", s)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return color.NRGBA{}, fmt.Errorf("color %q: want rgb, rrggbb or rrggbbaa hex", s)
	}
	return color.NRGBA{R: uint8(v >> 24), G: uint8(v >> 16), B: uint8(v >> 8), A: uint8(v)}, nil
}

// luma is the perceived brightness of c in [0, 255] (Rec. 601 weights).
func luma(c color.NRGBA) float64 {
	return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
}

// usable drops the palette colors that would vanish against the theme's
// canvas, such as armytage's near-black on the dark theme. The palette order
// is otherwise kept, so the n-th series keeps a predictable color.
func (t *Theme) usable(pal []color.NRGBA) []color.NRGBA {
	bg := luma(t.Canvas)
	out := slices.DeleteFunc(slices.Clone(pal), func(c color.NRGBA) bool {
		d := luma(c) - bg
		return d < minPaletteContrast && d > -minPaletteContrast
	})
	if len(out) == 0 {
		return pal
	}
	return out
}

// minPaletteContrast is the brightness difference below which a line on the
// canvas is hard to see at one pixel wide.
const minPaletteContrast = 40
