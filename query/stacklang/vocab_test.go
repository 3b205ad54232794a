package stacklang_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

var nan = math.NaN()

// fixture: requests by app and status, one sample per minute.

func fmtVals(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%g", math.Round(v*1000)/1000)
	}
	return strings.Join(parts, " ")
}

// lines renders a result as "label: v v v" lines for comparison.
func lines(t *testing.T, expr string, ss ...model.TimeSeries) string {
	t.Helper()
	e := newEngine(ss...)
	r := eval(t, e, expr, 4)
	var out []string
	for _, s := range r.Series {
		out = append(out, s.Label+": "+fmtVals(s.Values))
	}
	return strings.Join(out, "\n")
}

func data() []model.TimeSeries {
	return []model.TimeSeries{
		series([]float64{1, 2, 3, 4}, "__name__", "http.requests", "status", "5xx", "nf.app", "a"),
		series([]float64{10, 20, nan, 40}, "__name__", "http.requests", "status", "5xx", "nf.app", "b"),
		series([]float64{100, 100, 100, 100}, "__name__", "http.requests", "status", "2xx", "nf.app", "a"),
		series([]float64{7, 7, 7, 7}, "__name__", "cpu", "nf.app", "a", "zone", "us-east-1c"),
	}
}

type vocabCase struct{ expr, want string }

func runVocab(t *testing.T, cases []vocabCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			if got := lines(t, c.expr, data()...); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestQueryVocabulary(t *testing.T) {
	runVocab(t, []vocabCase{
		{"name,http.requests,:eq,:sum", "name=http.requests: 111 122 103 144"},
		{"name,http.requests,:eq,status,5,:re,:and", "name=http.requests and status~/^5/: 11 22 3 44"},
		{"name,http.requests,:eq,status,5XX,:reic,:and", "name=http.requests and status~/^5XX/: 11 22 3 44"},
		{"name,http.requests,:eq,nf.app,(,b,c,),:in,:and", "name=http.requests and nf.app in (b,c): 10 20 NaN 40"},
		{"zone,:has", "has(zone): 7 7 7 7"},
		{"zone,east,:contains", "zone contains east: 7 7 7 7"},
		{"name,cp,:starts", "name starts cp: 7 7 7 7"},
		{"status,xx,:ends,nf.app,a,:eq,:and", "status ends xx and nf.app=a: 101 102 103 104"},
		{"status,3xx,:lt", "status<3xx: 100 100 100 100"},
		{"status,2xx,:le", "status<=2xx: 100 100 100 100"},
		{"status,2xx,:gt", "status>2xx: 11 22 3 44"},
		{"status,5xx,:ge", "status>=5xx: 11 22 3 44"},
		{"name,cpu,:eq,name,http.requests,:eq,status,2xx,:eq,:and,:or", "(name=cpu) or (name=http.requests and status=2xx): 107 107 107 107"},
		{"name,http.requests,:eq,status,5xx,:eq,:not,:and", "name=http.requests and not(status=5xx): 100 100 100 100"},
		{":true,:sum", "true: 118 129 110 151"},
		{":false,:sum", "NO DATA: NaN NaN NaN NaN"},
	})
}

func TestDataVocabulary(t *testing.T) {
	runVocab(t, []vocabCase{
		{"name,http.requests,:eq,:count", "name=http.requests: 3 3 2 3"},
		{"name,http.requests,:eq,:min", "name=http.requests: 1 2 3 4"},
		{"name,http.requests,:eq,:max", "name=http.requests: 100 100 100 100"},
		{"name,http.requests,:eq,:avg", "avg(name=http.requests): 37 40.667 51.5 48"},
		{"name,http.requests,:eq,:all", "{__name__=\"http.requests\", nf.app=\"a\", status=\"2xx\"}: 100 100 100 100\n" +
			"{__name__=\"http.requests\", nf.app=\"a\", status=\"5xx\"}: 1 2 3 4\n" +
			"{__name__=\"http.requests\", nf.app=\"b\", status=\"5xx\"}: 10 20 NaN 40"},
		{"name,http.requests,:eq,(,nf.app,),:by", "(nf.app=a): 101 102 103 104\n(nf.app=b): 10 20 NaN 40"},
		{"name,http.requests,:eq,:max,(,nf.app,status,),:by", "(nf.app=a status=2xx): 100 100 100 100\n(nf.app=a status=5xx): 1 2 3 4\n(nf.app=b status=5xx): 10 20 NaN 40"},
		{"name,http.requests,:eq,:avg,(,nf.app,),:by", "(nf.app=a): 50.5 51 51.5 52\n(nf.app=b): 10 20 NaN 40"},
		{"name,http.requests,:eq,:sum,1m,:offset", "name=http.requests: NaN 111 122 103"},
		{"name,http.requests,:eq,(,nf.app,),:by,1m,:offset", "(nf.app=a): NaN 101 102 103\n(nf.app=b): NaN 10 20 NaN"},
		{"name,http.requests,:eq,(,nf.app,),:by,1,:head", "(nf.app=a): 101 102 103 104"},
		{"name,http.requests,:eq,(,nf.app,),:by,:sum", "name=http.requests: 111 122 103 144"},
	})
}

func TestMathVocabulary(t *testing.T) {
	runVocab(t, []vocabCase{
		{"name,cpu,:eq,3,:add", "(name=cpu + 3): 10 10 10 10"},
		{"name,cpu,:eq,3,:sub", "(name=cpu - 3): 4 4 4 4"},
		{"name,cpu,:eq,3,:mul", "(name=cpu * 3): 21 21 21 21"},
		{"name,cpu,:eq,2,:div", "(name=cpu / 2): 3.5 3.5 3.5 3.5"},
		{"name,cpu,:eq,2,:pow", "pow(name=cpu, 2): 49 49 49 49"},
		{"name,cpu,:eq,:neg,:abs", "abs(neg(name=cpu)): 7 7 7 7"},
		{"49,:sqrt", "sqrt(49): 7 7 7 7"},
		{"name,cpu,:eq,:per-step", "per-step(name=cpu): 420 420 420 420"},
		{"name,cpu,:eq,8,:clamp-min", "clamp-min(name=cpu, 8): 8 8 8 8"},
		{"name,cpu,:eq,5,:clamp-max", "clamp-max(name=cpu, 5): 5 5 5 5"},
		{"name,cpu,:eq,7,:gt", "(name=cpu > 7): 0 0 0 0"},
		{"name,cpu,:eq,7,:ge", "(name=cpu >= 7): 1 1 1 1"},
		{"name,cpu,:eq,8,:lt", "(name=cpu < 8): 1 1 1 1"},
		{"name,cpu,:eq,6,:le", "(name=cpu <= 6): 0 0 0 0"},
		{"name,cpu,:eq,0,:and", "(name=cpu AND 0): 0 0 0 0"},
		{"name,cpu,:eq,0,:or", "(name=cpu OR 0): 1 1 1 1"},
		// NaN-aware add/sub versus strict floating point.
		{"nf.app,b,:eq,:sum,1,:add", "(nf.app=b + 1): 11 21 1 41"},
		{"nf.app,b,:eq,:sum,1,:fadd", "(nf.app=b + 1): 11 21 NaN 41"},
		{"nf.app,b,:eq,:sum,1,:sub", "(nf.app=b - 1): 9 19 -1 39"},
		{"nf.app,b,:eq,:sum,1,:fsub", "(nf.app=b - 1): 9 19 NaN 39"},
		{"nf.app,b,:eq,:sum,2,:fmul", "(nf.app=b * 2): 20 40 NaN 80"},
		{"0,0,:div", "(0 / 0): 0 0 0 0"},
		{"1,0,:div", "(1 / 0): NaN NaN NaN NaN"},
		{"1,0,:fdiv", "(1 / 0): +Inf +Inf +Inf +Inf"},
		{"name,http.requests,:eq,(,nf.app,),:by,:max", "max((nf.app=a)): 101 102 103 104"},
		{"name,http.requests,:eq,(,nf.app,),:by,:min", "min((nf.app=a)): 10 20 103 40"},
		{"name,http.requests,:eq,(,nf.app,),:by,:count", "count((nf.app=a)): 2 2 1 2"},
		{"name,http.requests,:eq,(,nf.app,),:by,:avg", "(name=http.requests / count((nf.app=a))): 55.5 61 103 72"},
		{"name,http.requests,:eq,(,nf.app,),:by,:stddev", "stddev((nf.app=a)): 45.5 41 0 32"},
		{"name,http.requests,:eq,(,nf.app,),:by,:pct", "(((nf.app=a) / name=http.requests) * 100): 90.991 83.607 100 72.222\n(((nf.app=b) / name=http.requests) * 100): 9.009 16.393 NaN 27.778"},
		{"name,http.requests,:eq,(,nf.app,),:by,name,cpu,:eq,(,nf.app,),:by,:div", "((nf.app=a) / (nf.app=a)): 14.429 14.571 14.714 14.857"},
		{"name,http.requests,:eq,(,nf.app,status,),:by,name,http.requests,:eq,(,nf.app,),:by,:div", "((nf.app=a status=2xx) / (nf.app=a)): 0.99 0.98 0.971 0.962\n((nf.app=a status=5xx) / (nf.app=a)): 0.01 0.02 0.029 0.038\n((nf.app=b status=5xx) / (nf.app=b)): 1 1 NaN 1"},
		{"name,http.requests,:eq,(,nf.app,status,),:by,:max,(,nf.app,),:by", "(nf.app=a): 100 100 100 100\n(nf.app=b): 10 20 NaN 40"},
		{"2,:const", "2: 2 2 2 2"},
	})
}

func TestDistVocabulary(t *testing.T) {
	ss := []model.TimeSeries{
		series([]float64{4, 4, 4, 4}, "__name__", "lat", "statistic", "count"),
		series([]float64{8, 8, 8, 8}, "__name__", "lat", "statistic", "totalTime"),
		series([]float64{20, 20, 20, 20}, "__name__", "lat", "statistic", "totalOfSquares"),
		series([]float64{3, 3, 3, 3}, "__name__", "lat", "statistic", "max"),
	}
	for _, c := range []vocabCase{
		{"name,lat,:eq,:dist-avg", "dist-avg(name=lat): 2 2 2 2"},
		{"name,lat,:eq,:dist-max", "dist-max(name=lat): 3 3 3 3"},
		// sqrt((4*20 - 8^2) / 4^2) = 1
		{"name,lat,:eq,:dist-stddev", "dist-stddev(name=lat): 1 1 1 1"},
	} {
		if got := lines(t, c.expr, ss...); got != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.expr, got, c.want)
		}
	}
}

func TestStyleVocabulary(t *testing.T) {
	e := newEngine(data()...)
	r := eval(t, e, "name,http.requests,:eq,(,nf.app,),:by,app_$nf.app,:legend,ff0000,:color,40,:alpha,:area,2,:lw,1,:axis,app_,x,:s,name,cpu,:eq,:stack,classic,:palette,name,cpu,:eq,:vspan,name,cpu,:eq,:heatmap,a_2Fb,:legend,hex,:decode,:line", 4)
	var got []string
	for _, s := range r.Series {
		st := s.Style
		got = append(got, fmt.Sprintf("%s color=%s alpha=%.2f ls=%s lw=%g axis=%d palette=%s", s.Label, st.Color, st.Alpha, st.LineStyle, st.LineWidth, st.Axis, st.Palette))
	}
	want := []string{
		"xa color=ff0000 alpha=0.25 ls=area lw=2 axis=1 palette=",
		"xb color=ff0000 alpha=0.25 ls=area lw=2 axis=1 palette=",
		"name=cpu color= alpha=0.00 ls=stack lw=0 axis=0 palette=classic",
		"name=cpu color= alpha=0.00 ls=vspan lw=0 axis=0 palette=",
		"a/b color= alpha=0.00 ls=line lw=0 axis=0 palette=",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
