package render

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CSV writes the graph's data as Atlas's csv format does: a header of
// quoted labels after "timestamp", then one row per grid timestamp in
// [Start, End) with the time in RFC 3339 UTC and one value per series
// (NaN where there is none). Series are sampled on the graph grid exactly
// as the image draws them. The whole Graph is validated, image settings
// included, so that a request that fails as a PNG does not pass as CSV.
func CSV(w io.Writer, g Graph) error { return delimited(w, g, ',') }

// TSV writes the same table as CSV with tabs between the fields, which is
// Atlas's txt format: it shows in a browser as it is and pastes into a
// spreadsheet. Tabs and line breaks inside labels become spaces.
func TSV(w io.Writer, g Graph) error { return delimited(w, g, '\t') }

func delimited(w io.Writer, g Graph, sep byte) error {
	p, err := prepare(g)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	buf := make([]byte, 0, 256)
	buf = append(buf, `"timestamp"`...)
	for _, s := range g.Series {
		buf = append(buf, sep)
		label := s.Label
		if sep == '\t' {
			label = strings.Map(func(r rune) rune {
				if r == '\t' || r == '\n' || r == '\r' {
					return ' '
				}
				return r
			}, label)
		}
		buf = appendCSVQuoted(buf, label)
	}
	buf = append(buf, '\n')
	vals := make([][]float64, len(g.Series))
	for i := range g.Series {
		vals[i] = p.sampled(i)
	}
	for j := range p.n {
		buf = time.UnixMilli(p.timestamp(j)).UTC().AppendFormat(buf, time.RFC3339)
		for i := range vals {
			buf = append(buf, sep)
			buf = appendNumber(buf, vals[i][j])
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("render: write csv: %w", err)
		}
		buf = buf[:0]
	}
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("render: write csv: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render: write csv: %w", err)
	}
	return nil
}

// JSON writes the graph's data in the shape of Atlas's graph json:
//
//	{"start":ms,"step":ms,"legend":[label...],"metrics":[{tag:value...}...],
//	 "values":[[v per series]...],"notices":[...]}
//
// with one values row per grid timestamp. JSON has no NaN, so a missing
// value is the string "NaN", as Atlas writes it; tags are sorted by key.
func JSON(w io.Writer, g Graph) error {
	p, err := prepare(g)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	buf := make([]byte, 0, 256)
	buf = append(buf, `{"start":`...)
	buf = strconv.AppendInt(buf, g.Start, 10)
	buf = append(buf, `,"step":`...)
	buf = strconv.AppendInt(buf, g.Step, 10)
	buf = append(buf, `,"legend":[`...)
	for i, s := range g.Series {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, s.Label)
	}
	buf = append(buf, `],"metrics":[`...)
	var keys []string
	for i, s := range g.Series {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '{')
		keys = keys[:0]
		for k := range s.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for j, k := range keys {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			buf = appendJSONString(buf, s.Tags[k])
		}
		buf = append(buf, '}')
	}
	buf = append(buf, `],"values":[`...)
	vals := make([][]float64, len(g.Series))
	for i := range g.Series {
		vals[i] = p.sampled(i)
	}
	for j := range p.n {
		if j > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		for i := range vals {
			if i > 0 {
				buf = append(buf, ',')
			}
			v := vals[i][j]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				buf = append(buf, '"')
				buf = appendNumber(buf, v)
				buf = append(buf, '"')
			} else {
				buf = appendNumber(buf, v)
			}
		}
		buf = append(buf, ']')
		if len(buf) > 4096 {
			if _, err := bw.Write(buf); err != nil {
				return fmt.Errorf("render: write json: %w", err)
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, `],"notices":[`...)
	for i, n := range g.Notices {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, n)
	}
	buf = append(buf, "]}\n"...)
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("render: write json: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render: write json: %w", err)
	}
	return nil
}

// appendNumber writes v in the shortest form that reads back as the same
// float64; plain decimals in the usual range, exponents outside it.
func appendNumber(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "Infinity"...)
	case math.IsInf(v, -1):
		return append(b, "-Infinity"...)
	}
	if a := math.Abs(v); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'e', -1, 64)
}

// appendCSVQuoted writes s as an RFC 4180 quoted field.
func appendCSVQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// appendJSONString writes s as a JSON string, replacing invalid UTF-8 with
// U+FFFD as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			// Valid JSON, but not valid JavaScript; escaped for JSONP users.
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&15])
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
