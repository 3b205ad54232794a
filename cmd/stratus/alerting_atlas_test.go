package main

import (
	"context"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/alert"
	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/tsdb"
)

// TestAtlasRuleQuery checks that a rule written in the Atlas stack language
// fires for exactly the lines whose condition holds at the evaluation time,
// with their tags as labels.
func TestAtlasRuleQuery(t *testing.T) {
	now := time.Now().Truncate(time.Minute)
	opts := tsdb.DefaultOptions()
	opts.Now = func() time.Time { return now }
	db, err := tsdb.Open("", opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var batch []model.TimeSeries
	for country, lag := range map[string]float64{"pt": 420, "es": 3} {
		var samples []model.Sample
		for ts := now.Add(-5 * time.Minute); !ts.After(now); ts = ts.Add(10 * time.Second) {
			samples = append(samples, model.Sample{T: ts.UnixMilli(), V: lag})
		}
		batch = append(batch, model.TimeSeries{
			Labels:  model.FromStrings(model.MetricName, "migration_replication_lag_seconds", "country", country),
			Samples: samples,
		})
	}
	if res, err := db.Append(batch); err != nil || res.Rejected > 0 {
		t.Fatalf("append: %v %+v", err, res.Rejections)
	}
	q := engineQueryFunc(query.NewEngine(db, query.DefaultEngineOptions()))
	got, err := q(context.Background(), alert.LangAtlas,
		"name,migration_replication_lag_seconds,:eq,:max,(,country,),:by,300,:gt", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Labels.Get("country") != "pt" || got[0].V != 1 || got[0].Labels.Has(model.MetricName) {
		t.Fatalf("atlas rule samples: %+v", got)
	}
	if _, err := q(context.Background(), alert.LangAtlas, "name,x,:eq,:by", now); err == nil {
		t.Fatal("a malformed stack expression must fail with its position")
	}
}
