package tsdb

import (
	"errors"
	"fmt"
	"testing"

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
	res, err := db.AppendAdmit([]model.TimeSeries{
		{Labels: a, Samples: []model.Sample{{T: 2000, V: 2}}},
		{Labels: b, Samples: []model.Sample{{T: 2000, V: 3}, {T: 3000, V: 4}}},
	}, admit)
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
