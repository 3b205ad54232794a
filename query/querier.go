package query

import (
	"context"
	"fmt"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
)

// Querier is the read side of the store. Times are milliseconds, both
// bounds inclusive. Implementations are safe for concurrent use, and so
// are the series a Select returns: the engine reads different series of
// one set on several goroutines at once (each series on one goroutine,
// with its own iterator), while it walks the set on the query's.
type Querier interface {
	// Select returns the series matching all matchers with samples in
	// [mint, maxt], sorted by labels; their iterators are limited to the
	// range.
	Select(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet
	// LabelNames returns the sorted label names of matching series (all
	// series when ms is empty) with samples in [mint, maxt].
	LabelNames(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) ([]string, error)
	// LabelValues returns the sorted values of a label among matching
	// series with samples in [mint, maxt].
	LabelValues(ctx context.Context, name string, mint, maxt int64, ms ...*model.Matcher) ([]string, error)
}

// promql is the parser every Stratus component uses, configured once.
var promql = parser.NewParser(parser.Options{})

// ParseSelector parses a PromQL series selector such as
// `up{job="api",code=~"5.."}` into matchers.
func ParseSelector(s string) ([]*model.Matcher, error) {
	pms, err := promql.ParseMetricSelector(s)
	if err != nil {
		return nil, fmt.Errorf("parse selector %q: %w", s, err)
	}
	return ConvertMatchers(pms)
}

// matchTypePair is one of our matcher operators and Prometheus's twin.
type matchTypePair struct {
	ours   model.MatchType
	theirs labels.MatchType
}

// matchTypes pairs each of our matcher operators with Prometheus's.
var matchTypes = [...]matchTypePair{
	{model.MatchEqual, labels.MatchEqual},
	{model.MatchNotEqual, labels.MatchNotEqual},
	{model.MatchRegexp, labels.MatchRegexp},
	{model.MatchNotRegexp, labels.MatchNotRegexp},
}

// ConvertMatchers turns the parser's matchers into ours.
func ConvertMatchers(pms []*labels.Matcher) ([]*model.Matcher, error) {
	out := make([]*model.Matcher, 0, len(pms))
	for _, pm := range pms {
		i := slices.IndexFunc(matchTypes[:], func(mt matchTypePair) bool { return mt.theirs == pm.Type })
		if i < 0 {
			return nil, fmt.Errorf("unknown matcher type %v", pm.Type)
		}
		m, err := model.NewMatcher(matchTypes[i].ours, pm.Name, pm.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// promMatcher turns one of our matchers into Prometheus's, for code that
// evaluates with Prometheus's selector types.
func promMatcher(m *model.Matcher) (*labels.Matcher, error) {
	for _, mt := range matchTypes {
		if mt.ours == m.Type {
			pm, err := labels.NewMatcher(mt.theirs, m.Name, m.Value)
			if err != nil {
				return nil, fmt.Errorf("matcher %s: %w", m, err)
			}
			return pm, nil
		}
	}
	return nil, fmt.Errorf("unknown matcher type %v", m.Type)
}
