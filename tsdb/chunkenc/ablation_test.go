package chunkenc

import (
	"testing"

	"github.com/golang/snappy"
)

// TestEncodingAblation measures what each encoding choice buys on the
// comparison data set, by forcing one choice at a time. FORMAT.md quotes
// its output; run it with
//
//	go test -run TestEncodingAblation -v ./tsdb/chunkenc/
func TestEncodingAblation(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	type variant struct {
		name  string
		bytes int
	}
	variants := []*variant{
		{name: "chosen (AppendBlock)"},
		{name: "values always XOR"},
		{name: "values always decimal delta (XOR if impossible)"},
		{name: "values always decimal dod (XOR if impossible)"},
		{name: "no snappy"},
		{name: "snappy always"},
		{name: "timestamps always dod-varint"},
		{name: "timestamps always dod-bits"},
	}
	const header = 16 // a typical header: version, flags, n, mint, span
	e := &blockEncoder{}
	samples := 0
	for _, s := range datagenSeries(cmpSeries) {
		samples += len(s)
		b := encodeBlock(t, s)
		variants[0].bytes += len(b)
		ts := appendTimestamps(nil, chooseTimestampEncoding(s), s)
		withSnappy := func(p []byte) int { return header + min(len(p), len(snappy.Encode(nil, p))) }
		variants[1].bytes += withSnappy(appendXORValues(ts, s))
		exp, ok := e.decimalMantissas(s)
		for k, enc := range []byte{valDecDelta, valDecDoD} {
			if ok {
				variants[2+k].bytes += withSnappy(e.appendDecimal(append([]byte(nil), ts...), exp, enc, s))
			} else {
				variants[2+k].bytes += withSnappy(appendXORValues(ts, s))
			}
		}
		p, _ := e.appendValues(append([]byte(nil), ts...), s)
		variants[4].bytes += header + len(p)
		variants[5].bytes += header + len(snappy.Encode(nil, p))
		for k, enc := range []byte{tsDoDVarint, tsDoDBits} {
			var tp []byte
			if len(s) > 2 {
				tp = appendTimestamps(nil, enc, s)
			}
			tp, _ = e.appendValues(tp, s)
			variants[6+k].bytes += withSnappy(tp)
		}
	}
	prom := 0
	for _, s := range datagenSeries(cmpSeries) {
		prom += promSize(t, s)
	}
	for _, v := range variants {
		t.Logf("%-50s %.3f B/sample (%.3f of Prometheus)", v.name, float64(v.bytes)/float64(samples), float64(v.bytes)/float64(prom))
	}
	t.Logf("%-50s %.3f B/sample", "Prometheus XOR chunks of 120 samples", float64(prom)/float64(samples))
}
