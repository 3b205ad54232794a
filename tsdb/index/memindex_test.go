package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

func TestAddOutOfOrder(t *testing.T) {
	inOrder, shuffled := New(), New()
	r := rand.New(rand.NewPCG(5, 6))
	var series []model.Labels
	for i := range 500 {
		series = append(series, model.FromStrings(model.MetricName, fmt.Sprint("m", i%7), "i", fmt.Sprint(i%13)))
		inOrder.Add(uint32(i), series[i])
	}
	for _, i := range r.Perm(len(series)) {
		shuffled.Add(uint32(i), series[i])
		if i%50 == 0 {
			shuffled.Select(eq("i", "3")) // interleave reads with the disorder
		}
	}
	shuffled.Add(17, series[17]) // a repeated add changes nothing
	if got, want := shuffled.NumSeries(), len(series); got != want {
		t.Errorf("NumSeries = %d, want %d", got, want)
	}
	for _, ms := range [][]*model.Matcher{
		{eq("i", "3")}, {re(model.MetricName, "m1|m2")}, {neq("i", "4")}, {re("i", ".+")}, nil,
	} {
		got, want := shuffled.Select(ms...), inOrder.Select(ms...)
		if !slices.Equal(got, want) {
			t.Errorf("Select(%v) after shuffled adds = %v, want %v", ms, got, want)
		}
	}
	if got, want := shuffled.LabelValues("i", nil), inOrder.LabelValues("i", nil); !slices.Equal(got, want) {
		t.Errorf("LabelValues = %v, want %v", got, want)
	}
}

func TestDelete(t *testing.T) {
	ix := newPromIndex()
	ix.Delete(Postings{4, 2}) // unsorted on purpose
	if got, want := ix.NumSeries(), 4; got != want {
		t.Errorf("NumSeries = %d, want %d", got, want)
	}
	if got, want := ix.LabelValues("i", nil), []string{"b"}; !slices.Equal(got, want) {
		t.Errorf("LabelValues(i) = %q, want %q", got, want)
	}
	if got, want := ix.Select(eq("n", "1")), (Postings{1, 3}); !slices.Equal(got, want) {
		t.Errorf("Select(n=1) = %v, want %v", got, want)
	}
	ix.Delete(Postings{3, 100})
	if got, want := ix.LabelNames(nil), []string{"n"}; !slices.Equal(got, want) {
		t.Errorf("LabelNames = %q, want %q (i has no series left)", got, want)
	}
	if got := ix.Select(re("i", ".+")); got != nil {
		t.Errorf("Select(i=~.+) = %v, want none", got)
	}
	if got, want := ix.Select(eq("i", "")), (Postings{1, 5, 6}); !slices.Equal(got, want) {
		t.Errorf(`Select(i="") = %v, want %v`, got, want)
	}
	ix.Delete(ix.AllPostings())
	if got := ix.NumSeries(); got != 0 {
		t.Errorf("NumSeries after deleting all = %d", got)
	}
	if got := ix.LabelNames(nil); len(got) != 0 {
		t.Errorf("LabelNames after deleting all = %q", got)
	}
	ix.Add(10, model.FromStrings("n", "1"))
	if got, want := ix.Select(eq("n", "1")), (Postings{10}); !slices.Equal(got, want) {
		t.Errorf("Select after re-add = %v, want %v", got, want)
	}
}

func TestEmptyValueIsAbsent(t *testing.T) {
	ix := New()
	ix.Add(1, model.Labels{{Name: "a", Value: ""}, {Name: "b", Value: "1"}})
	if got := ix.LabelNames(nil); !slices.Equal(got, []string{"b"}) {
		t.Errorf("LabelNames = %q, want [b]", got)
	}
	if got := ix.Select(eq("a", "")); !slices.Equal(got, Postings{1}) {
		t.Errorf(`Select(a="") = %v, want [1]`, got)
	}
}

func TestLabelNamesAndValues(t *testing.T) {
	ix := newPromIndex()
	ix.Add(7, model.FromStrings("n", "3", "j", "z"))
	cases := []struct {
		ps         Postings
		names      []string
		nValues    []string
		iValues    []string
		missingVal []string
	}{
		{nil, []string{"i", "j", "n"}, []string{"1", "2", "2.5", "3"}, []string{"\n", "a", "b"}, nil},
		{Postings{}, nil, nil, nil, nil},
		{Postings{1, 5}, []string{"n"}, []string{"1", "2"}, nil, nil},
		{Postings{2, 7}, []string{"i", "j", "n"}, []string{"1", "3"}, []string{"a"}, nil},
		{Postings{4, 100}, []string{"i", "n"}, []string{"1"}, []string{"\n"}, nil},
	}
	for _, c := range cases {
		if got := ix.LabelNames(c.ps); !slices.Equal(got, c.names) {
			t.Errorf("LabelNames(%v) = %q, want %q", c.ps, got, c.names)
		}
		if got := ix.LabelValues("n", c.ps); !slices.Equal(got, c.nValues) {
			t.Errorf("LabelValues(n, %v) = %q, want %q", c.ps, got, c.nValues)
		}
		if got := ix.LabelValues("i", c.ps); !slices.Equal(got, c.iValues) {
			t.Errorf("LabelValues(i, %v) = %q, want %q", c.ps, got, c.iValues)
		}
		if got := ix.LabelValues("missing", c.ps); got != nil {
			t.Errorf("LabelValues(missing, %v) = %q, want none", c.ps, got)
		}
	}
}

// TestLabelValuesManyValues exercises the merge of recently added values
// into the sorted list, and prefix lookups across both.
func TestLabelValuesManyValues(t *testing.T) {
	ix := New()
	r := rand.New(rand.NewPCG(7, 8))
	var want []string
	for i, n := range r.Perm(3000) {
		v := fmt.Sprintf("v%04d", n)
		want = append(want, v)
		ix.Add(uint32(i), model.FromStrings("l", v))
	}
	slices.Sort(want)
	if got := ix.LabelValues("l", nil); !slices.Equal(got, want) {
		t.Fatalf("LabelValues returned %d values, not the sorted %d", len(got), len(want))
	}
	if got := ix.Select(re("l", "v01.*")); len(got) != 100 {
		t.Errorf("Select(l=~v01.*) = %d series, want 100", len(got))
	}
	if got := ix.Select(re("l", "v000.|v2999")); len(got) != 11 {
		t.Errorf("Select(l=~v000.|v2999) = %d series, want 11", len(got))
	}
}

func TestStats(t *testing.T) {
	ix := New()
	ix.Add(1, model.FromStrings(model.MetricName, "up", "job", "a", "instance", "1"))
	ix.Add(2, model.FromStrings(model.MetricName, "up", "job", "a", "instance", "2"))
	ix.Add(3, model.FromStrings(model.MetricName, "up", "job", "b", "instance", "3"))
	ix.Add(4, model.FromStrings(model.MetricName, "errors_total", "job", "b"))
	s := ix.Stats(2)
	if s.NumSeries != 4 || s.NumLabelNames != 3 || s.NumLabelPairs != 2+2+3 {
		t.Errorf("Stats counts = %d series, %d names, %d pairs; want 4, 3, 7", s.NumSeries, s.NumLabelNames, s.NumLabelPairs)
	}
	checkCounts := func(what string, got, want []Count) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	checkCounts("LabelNamesByValues", s.LabelNamesByValues, []Count{{"instance", 3}, {"__name__", 2}})
	checkCounts("LabelNamesBySeries", s.LabelNamesBySeries, []Count{{"__name__", 4}, {"job", 4}})
	checkCounts("MetricsBySeries", s.MetricsBySeries, []Count{{"up", 3}, {"errors_total", 1}})
	checkCounts("LabelPairsBySeries", s.LabelPairsBySeries, []Count{{`__name__="up"`, 3}, {`job="a"`, 2}})
	if got := ix.Stats(0); got.MetricsBySeries != nil {
		t.Errorf("Stats(0) ranks %v, want none", got.MetricsBySeries)
	}
}

// TestConcurrentAddSelectDelete runs writers and readers together; run it
// with -race. Readers check invariants that hold at every instant: results
// sorted, and every selected series matching.
func TestConcurrentAddSelectDelete(t *testing.T) {
	ix := New()
	const n = 3000
	var wg sync.WaitGroup
	wg.Add(3)
	halfAdded := make(chan struct{})
	go func() { // adds ids in order, then replays some out of order
		defer wg.Done()
		for i := range n {
			if i == n/2 {
				close(halfAdded)
			}
			ix.Add(uint32(i), model.FromStrings(model.MetricName, "m", "mod", fmt.Sprint(i%10)))
		}
		for i := n + 100; i >= n; i-- {
			ix.Add(uint32(i), model.FromStrings(model.MetricName, "m", "mod", fmt.Sprint(i%10)))
		}
	}()
	go func() { // deletes old series in batches, as retention does
		defer wg.Done()
		<-halfAdded
		for lo := 0; lo < n/2; lo += 100 {
			var dead Postings
			for id := lo; id < lo+100; id++ {
				dead = append(dead, uint32(id))
			}
			ix.Delete(dead)
		}
	}()
	var held []Postings
	go func() {
		defer wg.Done()
		for range 300 {
			for _, ms := range [][]*model.Matcher{{eq("mod", "3")}, {re("mod", "1|2"), neq(model.MetricName, "x")}, {nre("mod", "[0-4]")}} {
				p := ix.Select(ms...)
				if !slices.IsSorted(p) {
					t.Errorf("Select(%v) unsorted: %v", ms, p)
					return
				}
				held = append(held, p)
			}
			_ = ix.LabelValues("mod", ix.AllPostings())
			_ = ix.Stats(3)
		}
	}()
	wg.Wait()
	// Everything handed out stayed sorted while writers went on.
	for _, p := range held {
		if !slices.IsSorted(p) {
			t.Fatalf("a held result changed: %v", p)
		}
	}
	if got, want := ix.NumSeries(), n+101-n/2; got != want {
		t.Errorf("NumSeries = %d, want %d", got, want)
	}
}
