package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

func TestAppendAdmitAsksOnlyForNewSeries(t *testing.T) {
	db, _ := openTestDB(t, nil)
	a := model.FromStrings("__name__", "up", "job", "a")
	b := model.FromStrings("__name__", "up", "job", "b")
	if _, err := db.Append([]model.TimeSeries{{Labels: a, Samples: []model.Sample{{T: 1000, V: 1}}}}); err != nil {
		t.Fatal(err)
	}
	var asked []string
	admit := func(ls model.Labels) error {
		asked = append(asked, ls.String())
		return fmt.Errorf("%w: quota of 1 series", model.ErrSeriesLimit)
	}
	res, err := db.AppendWith([]model.TimeSeries{
		{Labels: a, Samples: []model.Sample{{T: 2000, V: 2}}},
		{Labels: b, Samples: []model.Sample{{T: 2000, V: 3}, {T: 3000, V: 4}}},
	}, model.AppendOptions{Admit: admit})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Rejected != 2 || res.NewSeries != 0 {
		t.Fatalf("result = %+v, want 1 accepted, 2 rejected, no new series", res)
	}
	if len(res.Rejections) != 1 || res.Rejections[0].Series != 1 || !errors.Is(res.Rejections[0].Err, model.ErrSeriesLimit) {
		t.Fatalf("rejections = %+v, want series 1 with ErrSeriesLimit", res.Rejections)
	}
	if len(asked) != 1 || asked[0] != b.String() {
		t.Fatalf("admit asked for %v, want only %s", asked, b)
	}
	if got := db.CountSeries(); got != 1 {
		t.Fatalf("CountSeries() = %d, want 1", got)
	}
	if got := db.CountSeries(model.MustNewMatcher(model.MatchEqual, "job", "a")); got != 1 {
		t.Fatalf("CountSeries(job=a) = %d, want 1", got)
	}
}

// TestAppendRefs checks that AppendRefs sets a reference for every series
// it stores, appends by reference without the labels, and looks a series
// up again once retention has removed the one its reference named.
func TestAppendRefs(t *testing.T) {
	db, clock := openTestDB(t, nil)
	a := model.FromStrings("__name__", "lag_seconds", "country", "pt")
	b := model.FromStrings("__name__", "lag_seconds", "country", "es")
	refs := make([]uint64, 2)
	batch := []model.TimeSeries{
		{Labels: a, Samples: []model.Sample{{T: t0, V: 1}}},
		{Labels: b, Samples: []model.Sample{{T: t0, V: 2}}},
	}
	res, err := db.AppendRefs(batch, refs)
	if err != nil || res.Accepted != 2 || res.NewSeries != 2 || refs[0] == 0 || refs[1] == 0 || refs[0] == refs[1] {
		t.Fatalf("first append: %+v, %v, refs %v", res, err, refs)
	}
	// With references the labels are not read: empty ones still land in
	// the right series.
	first := slices.Clone(refs)
	res, err = db.AppendRefs([]model.TimeSeries{
		{Samples: []model.Sample{{T: t0 + 1000, V: 10}}},
		{Samples: []model.Sample{{T: t0 + 1000, V: 20}}},
	}, refs)
	if err != nil || res.Accepted != 2 || res.NewSeries != 0 || !slices.Equal(refs, first) {
		t.Fatalf("append by reference: %+v, %v, refs %v (were %v)", res, err, refs, first)
	}
	got := query(t, db, math.MinInt64, math.MaxInt64, nameIs("lag_seconds"))
	if !sameSamples(got[a.String()], []model.Sample{{T: t0, V: 1}, {T: t0 + 1000, V: 10}}) ||
		!sameSamples(got[b.String()], []model.Sample{{T: t0, V: 2}, {T: t0 + 1000, V: 20}}) {
		t.Fatalf("stored %v", got)
	}
	if _, err := db.AppendRefs(batch, refs[:1]); err == nil {
		t.Fatal("references of the wrong length accepted")
	}

	// Retention removes both series; a's stale reference is looked up
	// again by its labels and gets the new series' reference.
	clock.Set(time.UnixMilli(t0 + db.opts.Retention.Milliseconds() + 3*7_200_000))
	db.Maintain(context.Background())
	if n := db.NumSeries(); n != 0 {
		t.Fatalf("%d series after retention, want 0", n)
	}
	now := clock.Now().UnixMilli()
	res, err = db.AppendRefs([]model.TimeSeries{{Labels: a, Samples: []model.Sample{{T: now, V: 3}}}}, refs[:1])
	if err != nil || res.Accepted != 1 || res.NewSeries != 1 || refs[0] == first[0] || refs[0] == 0 {
		t.Fatalf("append with a stale reference: %+v, %v, ref %d (was %d)", res, err, refs[0], first[0])
	}
	if got := query(t, db, now, now, nameIs("lag_seconds")); len(got) != 1 || len(got[a.String()]) != 1 {
		t.Fatalf("after retention: %v", got)
	}
}

// TestAppendWithRelabel checks that the label rewrite applies to the
// series stored and admitted, and is skipped for series appended by
// reference until retention removes the series a reference names.
func TestAppendWithRelabel(t *testing.T) {
	db, clock := openTestDB(t, nil)
	calls := 0
	relabel := func(dst []model.Label, ls model.Labels) []model.Label {
		calls++
		dst = append(dst, ls...)
		return append(dst, model.Label{Name: "zone", Value: "eu-1"})
	}
	var admitted []string
	admit := func(ls model.Labels) error {
		admitted = append(admitted, ls.String())
		return nil
	}
	a := model.FromStrings("__name__", "rows", "table", "invoices")
	b := model.FromStrings("__name__", "rows", "table", "ledger")
	wantA := model.FromStrings("__name__", "rows", "table", "invoices", "zone", "eu-1")
	wantB := model.FromStrings("__name__", "rows", "table", "ledger", "zone", "eu-1")
	refs := make([]uint64, 2)
	o := model.AppendOptions{Refs: refs, Admit: admit, Relabel: relabel}
	batch := func(ts int64) []model.TimeSeries {
		return []model.TimeSeries{
			{Labels: a, Samples: []model.Sample{{T: ts, V: 1}}},
			{Labels: b, Samples: []model.Sample{{T: ts, V: 2}}},
		}
	}
	if res, err := db.AppendWith(batch(t0), o); err != nil || res.Accepted != 2 || res.NewSeries != 2 {
		t.Fatalf("first append: %+v, %v", res, err)
	}
	if calls != 2 || !slices.Equal(admitted, []string{wantA.String(), wantB.String()}) {
		t.Fatalf("relabel called %d times, admitted %v; want 2 calls admitting the rewritten labels", calls, admitted)
	}
	if res, err := db.AppendWith(batch(t0+1000), o); err != nil || res.Accepted != 2 || res.NewSeries != 0 {
		t.Fatalf("append by reference: %+v, %v", res, err)
	}
	if calls != 2 {
		t.Fatalf("relabel called %d times for series with references, want none", calls-2)
	}
	got := query(t, db, math.MinInt64, math.MaxInt64, nameIs("rows"))
	if len(got) != 2 || len(got[wantA.String()]) != 2 || len(got[wantB.String()]) != 2 {
		t.Fatalf("stored %v, want two samples in each rewritten series", got)
	}
	// Without references every series is rewritten, and lands in the
	// same series.
	if res, err := db.AppendWith(batch(t0+2000), model.AppendOptions{Relabel: relabel}); err != nil || res.Accepted != 2 || res.NewSeries != 0 {
		t.Fatalf("append by labels: %+v, %v", res, err)
	}
	if calls != 4 {
		t.Fatalf("relabel called %d times after an append without references, want 4", calls)
	}

	// Retention removes the series: the stale reference is rewritten and
	// looked up again, so the new series carries the rewritten labels too.
	clock.Set(time.UnixMilli(t0 + db.opts.Retention.Milliseconds() + 3*7_200_000))
	db.Maintain(context.Background())
	now := clock.Now().UnixMilli()
	if res, err := db.AppendWith(batch(now)[:1], model.AppendOptions{Refs: refs[:1], Relabel: relabel}); err != nil || res.NewSeries != 1 {
		t.Fatalf("append with a stale reference: %+v, %v", res, err)
	}
	if got := query(t, db, now, now, nameIs("rows")); len(got) != 1 || len(got[wantA.String()]) != 1 {
		t.Fatalf("after retention: %v, want %s", got, wantA)
	}
	if _, err := db.AppendWith(batch(now), model.AppendOptions{Refs: refs[:1]}); err == nil {
		t.Fatal("references of the wrong length accepted")
	}
}
