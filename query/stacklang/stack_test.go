package stacklang_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/stacklang"
)

// TestStackEffects checks each stack word's effect through the constant
// lines it leaves: the legend is the number.
func TestStackEffects(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"1,:dup", "1 1"},
		{"1,2,:swap", "2 1"},
		{"1,2,:drop", "1"},
		{"1,2,:over", "1 2 1"},
		{"1,2,3,:rot", "2 3 1"},
		{"1,2,3,:-rot", "3 1 2"},
		{"1,2,:2over", "1 2 1 2"},
		{"1,2,:clear,3", "3"},
		{"7,7,:depth", "7 7 2"},
		{"x,5,:set,x,:get,x,:get", "5 5"},
		{"(,1,2,:add,),:call", "1,2,:add"},
		{"(,1,2,),(,10,:mul,),:each", "1,10,:mul 2,10,:mul"},
		{"(,1,2,),(,10,:mul,),:map,:call", "1,10,:mul 2,10,:mul"},
		{"1%s,(,0,),:format", "10"},
		{"%2$s%1$s,(,1,2,),:format", "21"},
		{"1,2,3,1,:pick", "1 2 3 2"},
		{"1,2,3,2,:roll", "2 3 1"},
		{"1,2,3,2,:ndrop", "1"},
		{"1,2,:nip", "2"},
		{"1,2,:tuck", "2 1 2"},
	} {
		p, err := stacklang.Parse(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		var got []string
		for _, e := range p.Exprs {
			got = append(got, e.String())
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s: got %q, want %q", c.expr, g, c.want)
		}
	}
}

// atlasTable checks a stateful word against a table from Atlas's docs.
func atlasTable(t *testing.T, expr string, in, want []float64) {
	t.Helper()
	e := newEngine(series(in, "__name__", "x"))
	r := eval(t, e, "name,x,:eq,:sum,"+expr, len(in))
	got := r.Series[0].Values
	for i := range want {
		if !(got[i] == want[i] || math.IsNaN(got[i]) && math.IsNaN(want[i]) || math.Abs(got[i]-want[i]) < 1e-3) {
			t.Errorf("%s: got %v, want %v", expr, got, want)
			return
		}
	}
}

func TestStatefulVocabulary(t *testing.T) {
	in := []float64{0, 1, -1, nan, 0, 1, 1, 1, 1, 0}
	atlasTable(t, "3,:rolling-count", in, []float64{0, 1, 2, 2, 1, 1, 2, 3, 3, 2})
	atlasTable(t, "3,:rolling-min", in, []float64{0, 0, -1, -1, -1, 0, 0, 1, 1, 0})
	atlasTable(t, "3,:rolling-max", in, []float64{0, 1, 1, 1, 0, 1, 1, 1, 1, 1})
	atlasTable(t, "3,2,:rolling-mean", []float64{0, 1, -1, nan, nan, 0, 1, 1, 1, 0},
		[]float64{nan, 0.5, 0, 0, nan, nan, 0.5, 0.667, 1, 0.667})
	atlasTable(t, "3,:rolling-sum", []float64{0, 1, -1, nan, nan, nan, 1, 1, 1, 0},
		[]float64{0, 1, 0, 0, -1, nan, 1, 2, 3, 2})
	atlasTable(t, ":integral", in, []float64{0, 1, 0, 0, 0, 1, 2, 3, 4, 4})
	atlasTable(t, ":derivative", []float64{1, 3, 6, 10}, []float64{nan, 2, 3, 4})
	atlasTable(t, "2,:delay", []float64{1, 2, 3, 4}, []float64{nan, nan, 1, 2})
	atlasTable(t, "2m,:trend", []float64{0, 1, -1, nan, 0, 1, 2, 1, 1, 0},
		[]float64{nan, 0.5, 0, -0.5, 0, 0.5, 1.5, 1.5, 1, 0.5})
	// DES on a constant predicts the constant once trained.
	atlasTable(t, "2,0.1,0.5,:des", []float64{5, 5, 5, 5, 5}, []float64{nan, nan, 5, 5, 5})
	atlasTable(t, ":des-fast", make([]float64, 12), append([]float64{nan, nan, nan, nan, nan, nan, nan, nan, nan, nan}, 0, 0))
	// Sliding DES: no prediction in the first window.
	atlasTable(t, "2,0.1,0.5,:sdes", []float64{5, 5, 5, 5, 5, 5}, []float64{nan, nan, 5, 5, 5, 5})
	atlasTable(t, "10,0.1,0.5,0.2,0.2,4,:des-epic-signal", []float64{1, 1, 1, 1}, []float64{0, 0, 0, 0})
}

func TestFilterVocabulary(t *testing.T) {
	runVocab(t, []vocabCase{
		{"name,http.requests,:eq,(,nf.app,),:by,max,:stat", "stat-max((nf.app=a)): 104 104 104 104\nstat-max((nf.app=b)): 40 40 40 40"},
		{"name,http.requests,:eq,(,nf.app,),:by,:stat-avg,50,:gt,:filter", "(nf.app=a): 101 102 103 104"},
		{"name,http.requests,:eq,(,nf.app,),:by,:stat-min,50,:lt,:filter", "(nf.app=b): 10 20 NaN 40"},
		{"name,http.requests,:eq,(,nf.app,),:by,:stat-last,40,:le,:filter", "(nf.app=b): 10 20 NaN 40"},
		{"name,http.requests,:eq,(,nf.app,),:by,:stat-total,100,:gt,:filter", "(nf.app=a): 101 102 103 104"},
		{"name,http.requests,:eq,(,nf.app,),:by,:stat-max,1000,:gt,:filter", ""},
		{"name,http.requests,:eq,(,nf.app,),:by,avg,1,:topk", "(nf.app=a): 101 102 103 104"},
		{"name,http.requests,:eq,(,nf.app,),:by,avg,1,:bottomk", "(nf.app=b): 10 20 NaN 40"},
		{"name,http.requests,:eq,(,nf.app,status,),:by,max,1,:topk-others-sum", "(nf.app=a status=2xx): 100 100 100 100\n--others--: 11 22 3 44"},
		{"name,http.requests,:eq,(,nf.app,status,),:by,max,1,:topk-others-avg", "(nf.app=a status=2xx): 100 100 100 100\n--others--: 5.5 11 3 22"},
		{"name,http.requests,:eq,(,nf.app,status,),:by,max,1,:bottomk-others-sum", "(nf.app=a status=5xx): 1 2 3 4\n--others--: 110 120 100 140"},
	})
}

// TestConsolidation: 10s data on a 1m grid, each step covering (t-1m, t].
func TestConsolidation(t *testing.T) {
	var ss []model.TimeSeries
	for i, name := range []string{"a", "b"} {
		ts := model.TimeSeries{Labels: model.FromStrings("__name__", "c", "host", name)}
		for j := 1; j <= 12; j++ { // (0, 2m]: 6 samples per minute
			ts.Samples = append(ts.Samples, model.Sample{T: int64(j) * 10_000, V: float64(j + 10*i)})
		}
		ss = append(ss, ts)
	}
	e := newEngine(ss...)
	for _, c := range []struct {
		expr string
		want []float64
	}{
		// host a: minute 1 = avg(1..6) = 3.5, minute 2 = avg(7..12) = 9.5; b adds 10.
		{"name,c,:eq,:sum", []float64{3.5 + 13.5, 9.5 + 19.5}},
		{"name,c,:eq,:count", []float64{2, 2}},
		{"name,c,:eq,:min", []float64{1, 7}},
		{"name,c,:eq,:max", []float64{16, 22}},
		{"name,c,:eq,:sum,:cf-max", []float64{6 + 16, 12 + 22}},
		{"name,c,:eq,:sum,:cf-min", []float64{1 + 11, 7 + 17}},
		{"name,c,:eq,:sum,:cf-sum", []float64{21 + 81, 57 + 117}},
		{"name,c,:eq,:max,:cf-avg", []float64{13.5, 19.5}},
		{"name,c,:eq,:min,(,host,),:by,:cf-max", []float64{6, 12}},
	} {
		p, err := stacklang.Parse(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.Eval(t.Context(), p, minute, minute, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Series[0].Values; got[0] != c.want[0] || got[1] != c.want[1] {
			t.Errorf("%s: got %v, want %v", c.expr, got, c.want)
		}
	}
}

// TestConsolidateSteps checks the shared step alignment directly.
func TestConsolidateSteps(t *testing.T) {
	pts := []query.FPoint{{T: 5, F: 1}, {T: 10, F: 3}, {T: 11, F: math.NaN()}, {T: 25, F: 8}}
	got := query.ConsolidateSteps(nil, pts, 10, 10, 3, query.ConsolidateAvg)
	want := []float64{2, math.NaN(), 8}
	for i := range want {
		if !(got[i] == want[i] || math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestErrorPositions(t *testing.T) {
	for _, c := range []struct {
		expr, word    string
		index, offset int
		msg           string
	}{
		{"name,sps,:eq,nf.app,:by", ":by", 4, 20, "expects a list of keys, got string \"nf.app\""},
		{"name,sps,:eq,(,nf.app,:by", "(", 3, 13, "opens a list that is never closed"},
		{"name,sps,:eqq", ":eqq", 2, 9, "is not a known word"},
		{"  :dup", ":dup", 0, 2, "needs 1 items"},
		{"a,b,c", "a", 0, 0, "leaves string \"a\" on the stack"},
		{"name,(,),:re", ":re", 3, 9, "expects a value string"},
		{"name,[,:re", ":re", 2, 7, "invalid regular expression"},
		{"name,sps,:eq,:sum,5m,:foo", ":foo", 5, 21, "is not a known word"},
		{"name,sps,:eq,abc,:offset", ":offset", 4, 17, "invalid duration"},
		{"name,sps,:eq,:sum,zz,:color", ":color", 5, 21, "expects a color"},
		{"(,:dup,),:call", ":call", 3, 9, "called :dup which needs 1 items"},
		{"x,:get", ":get", 1, 2, "found no variable"},
		{"name,a,:eq,(,k,),:by,name,b,:eq,(,j,),:by,:add", ":add", 14, 42, "expects both sides grouped by the same keys"},
		{"name,sps,:eq,(,x,),:percentiles", ":percentiles", 6, 19, "expects numeric percentiles"},
	} {
		_, err := stacklang.Parse(c.expr)
		var se *stacklang.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: got %v, want a *stacklang.Error", c.expr, err)
			continue
		}
		if se.Word != c.word || se.Index != c.index || se.Offset != c.offset || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%s: got %q (word %q, index %d, offset %d), want word %q index %d offset %d containing %q",
				c.expr, se.Error(), se.Word, se.Index, se.Offset, c.word, c.index, c.offset, c.msg)
		}
	}
}

func FuzzStackParse(f *testing.F) {
	for _, s := range []string{
		"name,http.requests,:eq,status,5xx,:re,:and,:sum,(,nf.app,),:by",
		"(,:dup,:call,),:dup,:call",
		"1,2,:swap,:rot,:-rot,(,a,b,),(,:dup,),:each",
		"name,x,:eq,(,50,99,),:percentiles,$percentile,:legend",
		"name,x,:eq,:sum,:stat-max,5,:gt,:filter,10,0.1,0.5,:sdes",
		"a%s,(,(,),),:format,x,:set,x,:get,:depth,:nlist,1,:pick",
	} {
		f.Add(s)
	}
	e := newEngine(series([]float64{1, 2, 3}, "__name__", "x", "nf.app", "a", "percentile", "T0042"))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := stacklang.Parse(s)
		if err != nil {
			var se *stacklang.Error
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is not a *stacklang.Error", s, err)
			}
			return
		}
		// Whatever parses must evaluate without panicking.
		_, _ = e.Eval(t.Context(), p, 0, minute, 3)
	})
}
