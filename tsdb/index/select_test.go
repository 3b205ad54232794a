package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

func eq(n, v string) *model.Matcher  { return model.MustNewMatcher(model.MatchEqual, n, v) }
func neq(n, v string) *model.Matcher { return model.MustNewMatcher(model.MatchNotEqual, n, v) }
func re(n, v string) *model.Matcher  { return model.MustNewMatcher(model.MatchRegexp, n, v) }
func nre(n, v string) *model.Matcher { return model.MustNewMatcher(model.MatchNotRegexp, n, v) }

// The series of Prometheus's TestPostingsForMatchers, ids 1 to 6.
var promSeries = []model.Labels{
	model.FromStrings("n", "1"),
	model.FromStrings("n", "1", "i", "a"),
	model.FromStrings("n", "1", "i", "b"),
	model.FromStrings("n", "1", "i", "\n"),
	model.FromStrings("n", "2"),
	model.FromStrings("n", "2.5"),
}

func newPromIndex() *MemIndex {
	ix := New()
	for i, ls := range promSeries {
		ix.Add(uint32(i+1), ls)
	}
	return ix
}

// TestSelect mirrors the cases of Prometheus's TestPostingsForMatchers
// (tsdb/querier_test.go); want lists ids into promSeries, 1-based.
func TestSelect(t *testing.T) {
	ix := newPromIndex()
	all := []uint32{1, 2, 3, 4, 5, 6}
	cases := []struct {
		ms   []*model.Matcher
		want []uint32
	}{
		// Equality.
		{[]*model.Matcher{eq("n", "1")}, []uint32{1, 2, 3, 4}},
		{[]*model.Matcher{eq("n", "1"), eq("i", "a")}, []uint32{2}},
		{[]*model.Matcher{eq("n", "1"), eq("i", "missing")}, nil},
		{[]*model.Matcher{eq("missing", "")}, all},
		// Not equal.
		{[]*model.Matcher{neq("n", "1")}, []uint32{5, 6}},
		{[]*model.Matcher{neq("i", "")}, []uint32{2, 3, 4}},
		{[]*model.Matcher{neq("missing", "")}, nil},
		{[]*model.Matcher{eq("n", "1"), neq("i", "a")}, []uint32{1, 3, 4}},
		{[]*model.Matcher{eq("n", "1"), neq("i", "")}, []uint32{2, 3, 4}},
		// Regexp.
		{[]*model.Matcher{re("n", "^1$")}, []uint32{1, 2, 3, 4}},
		{[]*model.Matcher{eq("n", "1"), re("i", "^a$")}, []uint32{2}},
		{[]*model.Matcher{eq("n", "1"), re("i", "^a?$")}, []uint32{1, 2}},
		{[]*model.Matcher{re("i", "^$")}, []uint32{1, 5, 6}},
		{[]*model.Matcher{eq("n", "1"), re("i", "^$")}, []uint32{1}},
		{[]*model.Matcher{eq("n", "1"), re("i", "^.*$")}, []uint32{1, 2, 3, 4}},
		{[]*model.Matcher{eq("n", "1"), re("i", "^.+$")}, []uint32{2, 3, 4}},
		// Not regexp.
		{[]*model.Matcher{nre("i", "")}, []uint32{2, 3, 4}},
		{[]*model.Matcher{nre("n", "^1$")}, []uint32{5, 6}},
		{[]*model.Matcher{nre("n", "1")}, []uint32{5, 6}},
		{[]*model.Matcher{nre("n", "1|2.5")}, []uint32{5}},
		{[]*model.Matcher{nre("n", "(1|2.5)")}, []uint32{5}},
		{[]*model.Matcher{eq("n", "1"), nre("i", "^a$")}, []uint32{1, 3, 4}},
		{[]*model.Matcher{eq("n", "1"), nre("i", "^a?$")}, []uint32{3, 4}},
		{[]*model.Matcher{eq("n", "1"), nre("i", "^$")}, []uint32{2, 3, 4}},
		{[]*model.Matcher{eq("n", "1"), nre("i", "^.*$")}, nil},
		{[]*model.Matcher{eq("n", "1"), nre("i", "^.+$")}, []uint32{1}},
		// Combinations.
		{[]*model.Matcher{eq("n", "1"), neq("i", ""), eq("i", "a")}, []uint32{2}},
		{[]*model.Matcher{eq("n", "1"), neq("i", "b"), re("i", "^(b|a).*$")}, []uint32{2}},
		// Set lookups.
		{[]*model.Matcher{re("n", "1|2")}, []uint32{1, 2, 3, 4, 5}},
		{[]*model.Matcher{re("i", "a|b")}, []uint32{2, 3}},
		{[]*model.Matcher{re("i", "(a|b)")}, []uint32{2, 3}},
		{[]*model.Matcher{re("n", "x1|2")}, []uint32{5}},
		{[]*model.Matcher{re("n", "2|2\\.5")}, []uint32{5, 6}},
		// Sets holding the empty string.
		{[]*model.Matcher{re("i", "c||d")}, []uint32{1, 5, 6}},
		{[]*model.Matcher{re("i", "(c||d)")}, []uint32{1, 5, 6}},
		// Shortcuts for .* and .+.
		{[]*model.Matcher{re("i", ".*")}, all},
		{[]*model.Matcher{re("n", ".*"), re("i", "^.*$")}, all},
		{[]*model.Matcher{re("n", "^.*$"), eq("i", "a")}, []uint32{2}},
		{[]*model.Matcher{nre("i", ".*")}, nil},
		{[]*model.Matcher{nre("n", "^.*$"), nre("i", ".*")}, nil},
		{[]*model.Matcher{re("n", ".*"), nre("i", ".*")}, nil},
		{[]*model.Matcher{eq("n", "1"), nre("i", "^.*$")}, nil},
		{[]*model.Matcher{re("n", ".*"), nre("i", ".+")}, []uint32{1, 5, 6}},
		// Cases of our own: newline matched by `.`, prefixes,
		// case-insensitivity, and no matchers at all.
		{[]*model.Matcher{re("i", ".")}, []uint32{2, 3, 4}},
		{[]*model.Matcher{re("n", "2.*")}, []uint32{5, 6}},
		{[]*model.Matcher{re("n", "2.+")}, []uint32{6}},
		{[]*model.Matcher{nre("n", "2.*")}, []uint32{1, 2, 3, 4}},
		{[]*model.Matcher{re("i", "(?i)A")}, []uint32{2}},
		{[]*model.Matcher{re("missing", ".+")}, nil},
		{[]*model.Matcher{re("missing", ".*")}, all},
		{[]*model.Matcher{nre("missing", "x")}, all},
		{nil, all},
	}
	for _, c := range cases {
		var name []string
		for _, m := range c.ms {
			name = append(name, m.String())
		}
		t.Run(strings.Join(name, ","), func(t *testing.T) {
			got := ix.Select(c.ms...)
			if !slices.Equal(got, Postings(c.want)) {
				t.Errorf("Select(%v) = %v, want %v", c.ms, got, c.want)
			}
		})
	}
}

// naiveSelect is the definition Select must agree with: every matcher
// accepts the series' value of its label, "" when absent.
func naiveSelect(series map[uint32]model.Labels, ms []*model.Matcher) Postings {
	var out Postings
	for id, ls := range series {
		ok := true
		for _, m := range ms {
			if !m.Matches(ls.Get(m.Name)) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// TestSelectAgainstNaive compares Select with naiveSelect on random series
// and random matchers, after random out-of-order adds and deletes.
func TestSelectAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	names := []string{"a", "b", "c"}
	values := []string{"", "x", "y", "xy", "yx", "xx", "X", "\n", "long-value"}
	patterns := []string{"", ".*", ".+", "x", "x.*", "x|y", "x||y", "(?i)x", "y.", ".*x", "xy|yx|xx", "[xy]", "x?", "long-.*", "\n"}
	types := []model.MatchType{model.MatchEqual, model.MatchNotEqual, model.MatchRegexp, model.MatchNotRegexp}

	ix := New()
	series := map[uint32]model.Labels{}
	ids := r.Perm(300)
	for _, id := range ids {
		var b model.Builder
		b.Reset(model.FromStrings(model.MetricName, "m"))
		for _, n := range names {
			b.Set(n, values[r.IntN(len(values))])
		}
		ls := b.Labels()
		series[uint32(id)] = ls
		ix.Add(uint32(id), ls)
	}
	var dead Postings
	for id := range series {
		if r.IntN(4) == 0 {
			dead = append(dead, id)
			delete(series, id)
		}
	}
	ix.Delete(dead)

	for range 2000 {
		ms := make([]*model.Matcher, 1+r.IntN(3))
		for i := range ms {
			v := patterns[r.IntN(len(patterns))]
			ms[i] = model.MustNewMatcher(types[r.IntN(len(types))], names[r.IntN(len(names))], v)
		}
		got, want := ix.Select(ms...), naiveSelect(series, ms)
		if !slices.Equal(got, want) {
			t.Fatalf("Select(%v):\n got %v\nwant %v", ms, got, want)
		}
	}
}

func TestSelectResultIsStableWhileWritersContinue(t *testing.T) {
	ix := newPromIndex()
	got := ix.Select(eq("n", "1"))
	want := slices.Clone(got)
	_ = append(got, 99) // the caller appending must not write into the index
	ix.Add(7, model.FromStrings("n", "1"))
	ix.Add(0, model.FromStrings("n", "1")) // out of order: repaired by copy
	ix.Delete(Postings{2})
	if !slices.Equal(got, want) {
		t.Errorf("result changed to %v, want %v", got, want)
	}
	if got, want := ix.Select(eq("n", "1")), (Postings{0, 1, 3, 4, 7}); !slices.Equal(got, want) {
		t.Errorf("after writes Select = %v, want %v", got, want)
	}
}

func ExampleMemIndex_Select() {
	ix := New()
	ix.Add(1, model.FromStrings(model.MetricName, "up", "job", "api"))
	ix.Add(2, model.FromStrings(model.MetricName, "up", "job", "db"))
	ix.Add(3, model.FromStrings(model.MetricName, "up"))
	fmt.Println(ix.Select(eq(model.MetricName, "up"), neq("job", "db")))
	// Output: [1 3]
}
