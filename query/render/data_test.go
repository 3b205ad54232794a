package render

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// dataGraph has two series, one off the graph grid and shorter than it, to
// show sampling, NaN and quoting in the data formats.
func dataGraph() Graph {
	return Graph{
		Start: testStart, End: testStart + 4*60000, Step: 60000,
		Series: []Series{
			{Label: `cpu "user"`, Tags: map[string]string{"nf.app": "billing", "name": "cpu", "country": "de"},
				Start: testStart, Step: 60000, Values: []float64{1, 2.5, math.NaN(), 1e-9}},
			{Label: "lag\tms", Start: testStart + 60000, Step: 120000, Values: []float64{1e6, 0.125}},
		},
		Notices: []string{"results truncated"},
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := CSV(&b, dataGraph()); err != nil {
		t.Fatal(err)
	}
	want := `"timestamp","cpu ""user""","lag	ms"
2024-01-01T00:00:00Z,1,NaN
2024-01-01T00:01:00Z,2.5,1000000
2024-01-01T00:02:00Z,NaN,1000000
2024-01-01T00:03:00Z,1e-09,0.125
`
	if got := b.String(); got != want {
		t.Errorf("CSV =\n%s\nwant\n%s", got, want)
	}
}

func TestTSV(t *testing.T) {
	var b bytes.Buffer
	if err := TSV(&b, dataGraph()); err != nil {
		t.Fatal(err)
	}
	// The tab in the second label is a space: it would start a column.
	want := "\"timestamp\"\t\"cpu \"\"user\"\"\"\t\"lag ms\"\n" +
		"2024-01-01T00:00:00Z\t1\tNaN\n" +
		"2024-01-01T00:01:00Z\t2.5\t1000000\n" +
		"2024-01-01T00:02:00Z\tNaN\t1000000\n" +
		"2024-01-01T00:03:00Z\t1e-09\t0.125\n"
	if got := b.String(); got != want {
		t.Errorf("TSV =\n%s\nwant\n%s", got, want)
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, dataGraph()); err != nil {
		t.Fatal(err)
	}
	want := `{"start":1704067200000,"step":60000,"legend":["cpu \"user\"","lag\tms"],` +
		`"metrics":[{"country":"de","name":"cpu","nf.app":"billing"},{}],` +
		`"values":[[1,"NaN"],[2.5,1000000],["NaN",1000000],[1e-09,0.125]],` +
		`"notices":["results truncated"]}` + "\n"
	if got := b.String(); got != want {
		t.Errorf("JSON =\n%s\nwant\n%s", got, want)
	}
	var v struct {
		Start, Step int64
		Legend      []string
		Metrics     []map[string]string
		Values      [][]any
		Notices     []string
	}
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(v.Values) != 4 || v.Legend[1] != "lag\tms" {
		t.Errorf("decoded %+v", v)
	}
}

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         `"plain"`,
		"a\"b\\c":       `"a\"b\\c"`,
		"\x01\n":        `"\u0001\n"`,
		"bad \xff utf8": `"bad \ufffd utf8"`,
		"μs \u2028":     `"μs \u2028"`,
	} {
		got := string(appendJSONString(nil, in))
		if got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: not JSON: %v", in, got, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := func() Graph { return Graph{Start: 0, End: 60000, Step: 1000} }
	for _, tc := range []struct {
		name string
		mod  func(*Graph)
		want string
	}{
		{"zero step", func(g *Graph) { g.Step = 0 }, "step 0ms must be positive"},
		{"end before start", func(g *Graph) { g.End = -1 }, "end -1 must be after start 0"},
		{"too wide", func(g *Graph) { g.Width = 5000 }, "width 5000 out of range"},
		{"too many points", func(g *Graph) { g.Step = 1; g.End = 1 << 30 }, "exceed the limit"},
		{"theme", func(g *Graph) { g.Theme = "neon" }, `unknown theme "neon"`},
		{"palette", func(g *Graph) { g.Palette = "x" }, `unknown palette "x"`},
		{"color", func(g *Graph) {
			g.Series = []Series{{Label: "a", Step: 1000, Values: []float64{1}, Style: Style{Color: "blue"}}}
		}, `series 0 ("a"): color "blue"`},
		{"axis", func(g *Graph) { g.Series = []Series{{Label: "a", Style: Style{Axis: 7}}} }, `series 0 ("a"): axis 7 out of range`},
		{"series step", func(g *Graph) { g.Series = []Series{{Label: "a", Values: []float64{1}}} }, `series 0 ("a"): step 0ms`},
		{"bounds", func(g *Graph) { g.Axes = []Axis{{Min: Bound(5), Max: Bound(1)}} }, "axis 0: min 5 must be below max 1"},
		{"log min", func(g *Graph) { g.Axes = []Axis{{Min: Bound(0), Logarithmic: true}} }, "needs a positive min"},
		{"span", func(g *Graph) { g.VSpans = []VSpan{{Start: 5, End: 1}} }, "vspan 0: end 1 before start 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := ok()
			tc.mod(&g)
			for _, f := range []func() error{
				func() error { return PNG(&bytes.Buffer{}, g) },
				func() error { return SVG(&bytes.Buffer{}, g) },
				func() error { return CSV(&bytes.Buffer{}, g) },
				func() error { return JSON(&bytes.Buffer{}, g) },
			} {
				err := f()
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.want)
				}
			}
		})
	}
	if err := PNG(&bytes.Buffer{}, ok()); err != nil {
		t.Errorf("valid graph: %v", err)
	}
}
