package ingest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/stratus-metrics/stratus/model"
)

// textOutcome is what decoding a text body did: the stored series in
// order, the error messages, and the counts.
type textOutcome struct {
	stored             string
	errs               []string
	accepted, rejected int
}

func decodeTextWith(t *testing.T, decode func(r *request)) textOutcome {
	t.Helper()
	env := newTestEnv(t, nil)
	r := env.h.newRequest(formatText, "line")
	decode(r)
	r.flush()
	out := textOutcome{stored: dump(env.app.series()), errs: slices.Clone(r.errs), accepted: r.accepted, rejected: r.rejected}
	r.release()
	return out
}

// checkTextAgainstLines decodes body with decodeText (one parser for the
// whole body, recovering after bad lines) and with decodeTextLines alone
// (a parser per line, the reference), as the Prometheus text format and
// as OpenMetrics, and fails unless they stored the same samples in the
// same order and reported the same errors.
func checkTextAgainstLines(t *testing.T, body []byte) {
	t.Helper()
	extra := []labels.Label{{Name: "job", Value: "import"}}
	for _, om := range []bool{false, true} {
		got := decodeTextWith(t, func(r *request) { r.decodeText(slices.Clone(body), om, extra) })
		want := decodeTextWith(t, func(r *request) {
			r.decodeTextLines(slices.Clone(body), 0, om, extra, labels.NewSymbolTable(), nil)
		})
		if got.stored != want.stored || !slices.Equal(got.errs, want.errs) || got.accepted != want.accepted || got.rejected != want.rejected {
			t.Fatalf("openmetrics=%v body %q\nwhole body: %d accepted, %d rejected, errors %q\n%s\nper line:   %d accepted, %d rejected, errors %q\n%s",
				om, body, got.accepted, got.rejected, got.errs, got.stored, want.accepted, want.rejected, want.errs, want.stored)
		}
	}
}

// textLines are the lines the generator draws from: good series, every
// kind of comment, blank and odd whitespace, and mistakes.
var textLines = []string{
	`# HELP rows_copied_total Rows copied to the target.`,
	`# TYPE rows_copied_total counter`,
	`rows_copied_total{table="invoices",country="pt"} 1027`,
	`rows_copied_total{table="ledger"} 5 1772366400000`,
	`replication_lag_seconds 0.25`,
	`  indented_metric 1`,
	`up{job="api"} NaN`,
	`up{job="api"} +Inf 1772366400000`,
	`# a free comment`,
	`#`,
	``,
	`   `,
	"\t",
	`bad line with spaces`,
	`metric{unclosed="x" 1`,
	`metric{a="b"} not_a_number`,
	`metric 1 2 3`,
	`metric{a="b",a="c"} 1`,
	`# TYPE h histogram`,
	`h_bucket{le="0.1"} 3`,
	`h_bucket{le="+Inf"} 4`,
	`h_sum 1.5`,
	`h_count 4`,
	"crlf_metric 1\r",
	`metric{job="override"} 7`,
	`{"__name__"="quoted"} 1`,
	`metric{le="x"} 1 -1`,
	// Forms plainTextLabels leaves to the parser, and their neighbours it
	// takes: normalised le and quantile values, escapes, blanks, quoted
	// and repeated names, a trailing comma, braces and commas in values.
	`h_bucket{le="Inf"} 5`,
	`h_bucket{le="1"} 2`,
	`h_bucket{le="1.0"} 2`,
	`h_bucket{le="1e3"} 2`,
	`# TYPE s summary`,
	`s{quantile="0.50"} 1`,
	`s{quantile="0.5"} 1`,
	`s{quantile="+Inf"} 1`,
	`esc{path="C:\\tmp",q="say \"hi\"",nl="a\nb"} 1`,
	`spaced{ a = "b" , c="d" } 1`,
	`trailing{a="b",} 1`,
	`odd{a="}{,=",b=""} 1`,
	`metric{__name__="other"} 1`,
	`metric{zz="1",aa="2",Mm="3",_x="4"} 1`,
	`{"dotted.name",a="b"} 1`,
	`quotedlabel{"a.b"="c"} 1`,
	`colon:name{a="b"} 1`,
	`utf8{ort="Zürich"} 1`,
	// OpenMetrics: the end marker, units, counters with _total and
	// _created, an exemplar, an escaped HELP (which the Prometheus text
	// format reads differently or refuses).
	`# EOF`,
	`# TYPE jobs counter`,
	`# UNIT jobs_seconds seconds`,
	`jobs_total{queue="retry"} 17`,
	`jobs_created{queue="retry"} 1772366000`,
	`jobs_total{queue="retry"} 18 # {trace_id="a1"} 0.5 1772366400`,
	`# HELP jobs Jobs \\ done \n here.`,
	`after_eof 1`,
}

// TestTextMatchesLines runs bodies drawn from textLines through both
// decoders.
func TestTextMatchesLines(t *testing.T) {
	for i := range 2000 {
		var b strings.Builder
		n := 1 + i%12
		for j := range n {
			b.WriteString(textLines[(i*7+j*j*3+j*i)%len(textLines)])
			if j < n-1 || i%5 != 0 { // every fifth body lacks its last newline
				b.WriteByte('\n')
			}
		}
		checkTextAgainstLines(t, []byte(b.String()))
	}
}

// FuzzTextMatchesLines is TestTextMatchesLines on bodies the fuzzer
// writes.
func FuzzTextMatchesLines(f *testing.F) {
	for i := range textLines {
		f.Add([]byte(strings.Join(textLines[i:], "\n")))
	}
	f.Add([]byte(fmt.Sprintf("a 1\n\n#\nb{x=\"1\"} 2 %d\nbad\nc 3", testNowMs)))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTextAgainstLines(t, body)
	})
}

// TestPlainTextLabels pins which series forms take the fast path, so that
// TestTextMatchesLines keeps testing it rather than only the parser.
func TestPlainTextLabels(t *testing.T) {
	env := newTestEnv(t, nil)
	for _, tc := range []struct {
		series string
		want   string // the labels, sorted; "" when the parser must decide
	}{
		{`up`, `{__name__="up"}`},
		{`up{}`, `{__name__="up"}`},
		{`rows_copied_total{table="invoices",country="pt"}`, `{__name__="rows_copied_total", country="pt", table="invoices"}`},
		{`odd{a="}{,=",b=""}`, `{__name__="odd", a="}{,=", b=""}`},
		{`trailing{a="b",}`, `{__name__="trailing", a="b"}`},
		{`colon:name{Z="1",_a="2"}`, `{Z="1", __name__="colon:name", _a="2"}`},
		{`h_bucket{le="+Inf"}`, `{__name__="h_bucket", le="+Inf"}`},
		{`h_bucket{le="0.1"}`, `{__name__="h_bucket", le="0.1"}`},
		{`h_bucket{le="x"}`, `{__name__="h_bucket", le="x"}`},
		{`h_bucket{le="1"}`, ``},
		{`h_bucket{le="Inf"}`, ``},
		{`s{quantile="0.50"}`, ``},
		{`esc{a="x\\y"}`, ``},
		{`spaced{ a="b"}`, ``},
		{`spaced{a ="b"}`, ``},
		{`dup{a="b",a="c"}`, ``},
		{`dup{__name__="x"}`, ``},
		{`{"dotted.name"}`, ``},
		{`q{"a.b"="c"}`, ``},
		{`9bad{a="b"}`, ``},
		{`open{a="b"`, ``},
	} {
		r := env.h.newRequest(formatText, "line")
		r.startSeries()
		ok := r.plainTextLabels([]byte(tc.series))
		got := ""
		if ok {
			got = describe(model.Labels(r.labels[r.labelStart:]))
		} else if len(r.labels) != r.labelStart {
			t.Errorf("%s: refused but left %d labels behind", tc.series, len(r.labels)-r.labelStart)
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.series, got, tc.want)
		}
		r.release()
	}
}
