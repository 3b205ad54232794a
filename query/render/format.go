package render

import (
	"math"
	"strconv"
)

// siPrefixes are the decimal unit prefixes from 1e-24 to 1e24, indexed by
// exponent/3 + 8. "μ" is the real micro sign: the Go fonts have it, and "u"
// reads as a typo on a graph.
var siPrefixes = [...]string{"y", "z", "a", "f", "p", "n", "μ", "m", "", "k", "M", "G", "T", "P", "E", "Z", "Y"}

// siExponent returns the multiple of 3 that puts |v| into [1, 1000),
// clamped to the prefixes we have.
func siExponent(v float64) int {
	v = math.Abs(v)
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	e := int(math.Floor(math.Log10(v)))
	// Log10 can land just below an exact power of ten; correct for it.
	if math.Pow(10, float64(e+1)) <= v {
		e++
	}
	e3 := int(math.Floor(float64(e) / 3))
	return min(max(e3, -8), 8) * 3
}

func siPrefix(exp int) string { return siPrefixes[exp/3+8] }

// appendSI appends v with an SI prefix and sig significant digits, the way
// the legend shows stats: 1.235k, 12.35M, 500.0m. Values below 1e-24 in
// magnitude print as 0, and non-finite values as NaN, Inf or -Inf.
func appendSI(dst []byte, v float64, sig int) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	case math.Abs(v) < 1e-24:
		return append(dst, '0')
	}
	exp := siExponent(v)
	f := v / math.Pow(10, float64(exp))
	// Rounding can carry into the next prefix: 999.96 with 4 digits is 1000.
	if r := roundSig(math.Abs(f), sig); r >= 1000 && exp < 24 {
		exp += 3
		f = v / math.Pow(10, float64(exp))
	}
	digits := 1
	if a := math.Abs(f); a >= 100 {
		digits = 3
	} else if a >= 10 {
		digits = 2
	}
	dst = strconv.AppendFloat(dst, f, 'f', max(sig-digits, 0), 64)
	return append(dst, siPrefix(exp)...)
}

func roundSig(a float64, sig int) float64 {
	if a == 0 {
		return 0
	}
	p := math.Pow(10, float64(sig-1-int(math.Floor(math.Log10(a)))))
	return math.Round(a*p) / p
}

// FormatValue formats v as the legend does: four significant digits and an
// SI prefix.
func FormatValue(v float64) string { return string(appendSI(nil, v, 4)) }

// tickLabels formats the labels of ticks at multiples of step. All labels of
// an axis share one prefix and one number of decimals, so that their decimal
// points line up and the reader compares like with like (Atlas does the
// same): 0.5k, 1.0k, 1.5k rather than 500, 1k, 1.5k.
func tickLabels(vals []float64, step float64) []string {
	maxAbs := 0.0
	for _, v := range vals {
		maxAbs = max(maxAbs, math.Abs(v))
	}
	exp := siExponent(maxAbs)
	factor := math.Pow(10, float64(exp))
	// Decimals: as many as the step needs to be an integer, at most 3.
	dec := 0
	for s := step / factor; dec < 3 && math.Abs(s-math.Round(s)) > 1e-9*max(1, math.Abs(s)); s *= 10 {
		dec++
	}
	out := make([]string, len(vals))
	var buf []byte
	for i, v := range vals {
		if v == 0 {
			out[i] = "0"
			continue
		}
		buf = strconv.AppendFloat(buf[:0], v/factor, 'f', dec, 64)
		buf = append(buf, siPrefix(exp)...)
		out[i] = string(buf)
	}
	return out
}
