package tenant

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb"
)

func openStore(t testing.TB) *tsdb.DB {
	t.Helper()
	db, err := tsdb.Open("", tsdb.DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func series(now int64, v float64, kv ...string) model.TimeSeries {
	return model.TimeSeries{Labels: model.FromStrings(kv...), Samples: []model.Sample{{T: now, V: v}}}
}

func selectAll(t *testing.T, q interface {
	Select(context.Context, int64, int64, ...*model.Matcher) model.SeriesSet
}, ms ...*model.Matcher) []string {
	t.Helper()
	if len(ms) == 0 {
		ms = []*model.Matcher{model.MustNewMatcher(model.MatchRegexp, model.MetricName, ".+")}
	}
	set := q.Select(context.Background(), math.MinInt64, math.MaxInt64, ms...)
	var got []string
	for set.Next() {
		got = append(got, set.At().Labels().String())
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestScopesSeeOnlyTheirOwnSeries(t *testing.T) {
	db := openStore(t)
	now := time.Now().UnixMilli()
	a := NewScope(db, "team-a", Limits{})
	b := NewScope(db, "team-b", Limits{})
	def := NewScope(db, Default, Limits{})

	for _, w := range []struct {
		s  *Scope
		ts model.TimeSeries
	}{
		{a, series(now, 1, "__name__", "up", "job", "api")},
		// A client may not choose its tenant by label: the scope's wins.
		{a, series(now, 2, "__name__", "up", "job", "sneaky", Label, "team-b")},
		{b, series(now, 3, "__name__", "up", "job", "billing")},
		{def, series(now, 4, "__name__", "up", "job", "ops", Label, "team-a")},
	} {
		res, err := w.s.Append([]model.TimeSeries{w.ts})
		if err != nil || res.Accepted != 1 {
			t.Fatalf("%s append %v: %+v, %v", w.s.ID(), w.ts.Labels, res, err)
		}
	}

	for _, tc := range []struct {
		s    *Scope
		want []string
	}{
		{a, []string{`{__name__="up", job="api"}`, `{__name__="up", job="sneaky"}`}},
		{b, []string{`{__name__="up", job="billing"}`}},
		{def, []string{`{__name__="up", job="ops"}`}},
	} {
		if got := selectAll(t, tc.s); !slices.Equal(got, tc.want) {
			t.Errorf("%s sees %v, want %v", tc.s.ID(), got, tc.want)
		}
		// Naming another tenant in a matcher finds nothing.
		if got := selectAll(t, tc.s, model.MustNewMatcher(model.MatchEqual, Label, "team-b")); tc.s.ID() != "team-b" && len(got) != 0 {
			t.Errorf("%s selecting %s=team-b sees %v", tc.s.ID(), Label, got)
		}
		names, err := tc.s.LabelNames(context.Background(), math.MinInt64, math.MaxInt64)
		if err != nil || slices.Contains(names, Label) {
			t.Errorf("%s label names %v, %v: must not list %s", tc.s.ID(), names, err, Label)
		}
		vals, _ := tc.s.LabelValues(context.Background(), Label, math.MinInt64, math.MaxInt64)
		if len(vals) != 0 {
			t.Errorf("%s lists tenants %v", tc.s.ID(), vals)
		}
		jobs, _ := tc.s.LabelValues(context.Background(), "job", math.MinInt64, math.MaxInt64)
		if len(jobs) != len(tc.want) {
			t.Errorf("%s job values %v, want %d", tc.s.ID(), jobs, len(tc.want))
		}
		if n := tc.s.CountSeries(); n != len(tc.want) {
			t.Errorf("%s counts %d series, want %d", tc.s.ID(), n, len(tc.want))
		}
	}
	// The store holds the tenant label on the others' series only.
	if got := selectAll(t, db, model.MustNewMatcher(model.MatchEqual, Label, "team-a")); len(got) != 2 {
		t.Errorf("store holds %v for team-a, want 2 series", got)
	}
}

func TestScopeSeriesQuota(t *testing.T) {
	db := openStore(t)
	now := time.Now().UnixMilli()
	a := NewScope(db, "a", Limits{MaxSeries: 2})
	batch := []model.TimeSeries{
		series(now, 1, "__name__", "m", "i", "1"),
		series(now, 1, "__name__", "m", "i", "2"),
		series(now, 1, "__name__", "m", "i", "3"),
	}
	res, err := a.Append(batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Rejected != 1 || !errors.Is(res.Rejections[0].Err, model.ErrSeriesLimit) {
		t.Fatalf("result %+v, want 2 accepted and 1 series-limit rejection", res)
	}
	msg := res.Rejections[0].Err.Error()
	if !strings.Contains(msg, `tenant "a"`) || !strings.Contains(msg, "max_series 2") || strings.Contains(msg, Label) {
		t.Errorf("message %q must name the tenant and the limit, not the internal label", msg)
	}
	// Known series still take samples at the limit; another tenant is not
	// affected by a's quota.
	batch[0].Samples[0].T, batch[1].Samples[0].T = now+1000, now+1000
	if res, _ := a.Append(batch[:2]); res.Accepted != 2 {
		t.Fatalf("known series at the quota: %+v", res)
	}
	b := NewScope(db, "b", Limits{MaxSeries: 3})
	if res, _ := b.Append(batch); res.Accepted != 3 {
		t.Fatalf("tenant b: %+v", res)
	}
	// A new Scope counts the existing series.
	if got := NewScope(db, "a", Limits{}).Series(); got != 2 {
		t.Errorf("recounted %d series for a, want 2", got)
	}
}

func TestScopeIngestRate(t *testing.T) {
	db := openStore(t)
	clock := time.Unix(1_700_000_000, 0)
	a := NewScope(db, "a", Limits{IngestRate: 10, IngestBurst: 20})
	a.now = func() time.Time { return clock }
	now := time.Now().UnixMilli()
	mk := func(n int, t0 int64) []model.TimeSeries {
		ts := model.TimeSeries{Labels: model.FromStrings("__name__", "m")}
		for i := range n {
			ts.Samples = append(ts.Samples, model.Sample{T: t0 + int64(i), V: 1})
		}
		return []model.TimeSeries{ts}
	}
	if res, _ := a.Append(mk(15, now)); res.Accepted != 15 {
		t.Fatalf("within burst: %+v", res)
	}
	res, _ := a.Append(mk(10, now+100))
	if res.Accepted != 0 || res.Rejected != 10 || !errors.Is(res.Rejections[0].Err, model.ErrRateLimited) {
		t.Fatalf("over the rate: %+v, want all 10 rejected as rate limited", res)
	}
	if msg := res.Rejections[0].Err.Error(); !strings.Contains(msg, "10 samples/s") {
		t.Errorf("message %q must name the limit", msg)
	}
	clock = clock.Add(time.Second) // 5 left + 10 refilled
	if res, _ := a.Append(mk(10, now+200)); res.Accepted != 10 {
		t.Fatalf("after refill: %+v", res)
	}
}

func TestScopeQuerySlots(t *testing.T) {
	a := NewScope(openStore(t), "a", Limits{QueryConcurrency: 1})
	if !a.AcquireQuery() {
		t.Fatal("first query refused")
	}
	if a.AcquireQuery() {
		t.Fatal("second concurrent query admitted over a limit of 1")
	}
	a.ReleaseQuery()
	if !a.AcquireQuery() {
		t.Fatal("query refused after release")
	}
}

func TestValidID(t *testing.T) {
	for _, id := range []string{"a", "team-a", "Team_1.prod", strings.Repeat("x", 64)} {
		if err := ValidID(id); err != nil {
			t.Errorf("ValidID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", "a b", "ä", strings.Repeat("x", 65), "a\x00"} {
		if err := ValidID(id); err == nil {
			t.Errorf("ValidID(%q) accepted", id)
		}
	}
}

// TestScopeAppendRefs: references learned through a scope name the
// tenant's series, so later batches skip the relabelling and the lookup
// and still land there.
func TestScopeAppendRefs(t *testing.T) {
	db := openStore(t)
	now := time.Now().UnixMilli()
	a := NewScope(db, "a", Limits{})
	refs := make([]uint64, 1)
	batch := []model.TimeSeries{series(now, 1, "__name__", "m", "job", "x")}
	if res, err := a.AppendRefs(batch, refs); err != nil || res.Accepted != 1 || refs[0] == 0 {
		t.Fatalf("first append: %+v %v, ref %d", res, err, refs[0])
	}
	batch[0].Samples[0] = model.Sample{T: now + 1000, V: 2}
	if res, err := a.AppendRefs(batch, refs); err != nil || res.Accepted != 1 {
		t.Fatalf("append by reference: %+v %v", res, err)
	}
	set := a.Select(context.Background(), math.MinInt64, math.MaxInt64, model.MustNewMatcher(model.MatchEqual, model.MetricName, "m"))
	n := 0
	for set.Next() {
		it := set.At().Iterator(nil)
		for it.Next() {
			n++
		}
	}
	if n != 2 {
		t.Errorf("tenant a's series holds %d samples, want 2", n)
	}
	if got := selectAll(t, NewScope(db, Default, Limits{})); len(got) != 0 {
		t.Errorf("default tenant sees %v", got)
	}
}
