package main

import (
	"github.com/stratus-metrics/stratus/tsdb"
	"github.com/stratus-metrics/stratus/tsdb/index"
	"github.com/stratus-metrics/stratus/ui"
)

// cardinalityFrom adapts the tsdb index's statistics to the UI's
// /api/v1/status/tsdb answer; db returns nil while storage opens.
func cardinalityFrom(db func() *tsdb.DB) func(topN int) ui.Cardinality {
	return func(topN int) ui.Cardinality {
		d := db()
		if d == nil {
			return ui.Cardinality{}
		}
		st := d.Stats(topN)
		return ui.Cardinality{
			NumSeries:          st.NumSeries,
			NumLabelPairs:      st.NumLabelPairs,
			MetricsBySeries:    nameCounts(st.MetricsBySeries),
			LabelNamesByValues: nameCounts(st.LabelNamesByValues),
			LabelNamesBySeries: nameCounts(st.LabelNamesBySeries),
			LabelPairsBySeries: nameCounts(st.LabelPairsBySeries),
		}
	}
}

func nameCounts(cs []index.Count) []ui.NameCount {
	out := make([]ui.NameCount, len(cs))
	for i, c := range cs {
		out[i] = ui.NameCount{Name: c.Name, Value: c.Count}
	}
	return out
}
