package stacklang

import (
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
)

// StyleExpr is an expression with presentation settings from the style
// vocabulary (:legend, :color, :ls, ...). Every expression left on the
// stack becomes one; unset fields mean the renderer's defaults.
type StyleExpr struct {
	// Expr is what is drawn.
	Expr TimeSeriesExpr
	// Color is "rrggbb" or "rrggbbaa" (:color); empty for the palette.
	Color string
	// Palette names a render palette or, from a list, colors to cycle
	// through for the expression's lines (:palette).
	Palette string
	// Colors is a palette given as a list of colors.
	Colors []string
	// Alpha is in (0, 1]; 0 keeps the default (:alpha takes two hex digits).
	Alpha float64
	// LineStyle is line, area, stack, vspan or heatmap (:ls and shorthands).
	LineStyle string
	// LineWidth in pixels (:lw); 0 for the default.
	LineWidth float64
	// Axis is the Y axis index (:axis).
	Axis int
	// labelOps rewrite each line's legend in word order: :legend, :s, :decode.
	labelOps []labelOp
	settings []string // in stack-language form, for String
}

type labelOp struct {
	kind     string // legend, s, decode
	text     string
	re       *regexp.Regexp
	replaced string
}

// String implements the stack-language form of the styled expression.
func (s *StyleExpr) String() string {
	if len(s.settings) == 0 {
		return s.Expr.String()
	}
	return s.Expr.String() + "," + strings.Join(s.settings, ",")
}

func (s *StyleExpr) clone() *StyleExpr {
	c := *s
	c.labelOps = append([]labelOp(nil), s.labelOps...)
	c.settings = append([]string(nil), s.settings...)
	c.Colors = append([]string(nil), s.Colors...)
	return &c
}

var legendVar = regexp.MustCompile(`\$\(([^)]*)\)|\$([-_.a-zA-Z0-9]+)`)

// substitute replaces $key and $(key) with the line's tag values; a key
// the line does not have stays as written, as in Atlas.
func substitute(pattern string, tags map[string]string) string {
	return legendVar.ReplaceAllStringFunc(pattern, func(m string) string {
		k := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(m, "$"), "("), ")")
		if v, ok := tags[k]; ok {
			return v
		}
		return m
	})
}

// hexEscape matches the escapes of :decode's hex encoding: _ and two hex
// digits.
var hexEscape = regexp.MustCompile(`_[0-9a-fA-F]{2}`)

// label returns the legend of one line after the expression's label ops.
func (s *StyleExpr) label(ts TimeSeries) string {
	l := ts.Label
	for _, op := range s.labelOps {
		switch op.kind {
		case "legend":
			l = substitute(op.text, ts.Tags)
		case "s":
			l = op.re.ReplaceAllString(l, op.replaced)
		case "decode":
			l = hexEscape.ReplaceAllStringFunc(l, func(m string) string {
				b, err := hex.DecodeString(m[1:])
				if err != nil {
					return m
				}
				return string(b)
			})
		}
	}
	return l
}

// parseAlpha reads :alpha's two hex digits (00 transparent, ff opaque).
func parseAlpha(s string) (float64, bool) {
	if len(s) != 2 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 16, 8)
	if err != nil {
		return 0, false
	}
	return float64(v) / 255, true
}
