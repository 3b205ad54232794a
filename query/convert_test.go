package query

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/stratus-metrics/stratus/model"
)

func fromPromLabels(ls labels.Labels) model.Labels {
	out := model.Labels{}
	ls.Range(func(l labels.Label) { out = append(out, model.Label{Name: l.Name, Value: l.Value}) })
	return out
}
