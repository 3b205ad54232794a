package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stratus-metrics/stratus/model"
)

// serveConfig answers /api/v1/status/config in Prometheus' shape,
// {"yaml": "..."}, with the effective configuration.
func (u *UI) serveConfig(w http.ResponseWriter, r *http.Request) {
	if u.opts.Config == nil {
		writeErr(w, http.StatusNotFound, "not_found", errors.New("no configuration was handed to the UI"))
		return
	}
	text, err := redactedYAML(u.opts.Config)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "internal", err)
		return
	}
	writeData(w, http.StatusOK, map[string]string{"yaml": text})
}

// secretKeyParts mark a configuration key whose value must not be shown.
var secretKeyParts = []string{"password", "secret", "token", "api_key", "apikey", "credential", "authorization", "private_key", "bearer"}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, p := range secretKeyParts {
		if strings.Contains(k, p) {
			return true
		}
	}
	return false
}

// redactedYAML marshals cfg and replaces the value of every secret-looking
// key, at any depth, with "<secret>", as Prometheus shows its config.
func redactedYAML(cfg any) (string, error) {
	var n yaml.Node
	if err := n.Encode(cfg); err != nil {
		return "", fmt.Errorf("encode configuration: %w", err)
	}
	redactNode(&n)
	b, err := yaml.Marshal(&n)
	if err != nil {
		return "", fmt.Errorf("encode configuration: %w", err)
	}
	return string(b), nil
}

func redactNode(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if isSecretKey(k.Value) && v.Kind == yaml.ScalarNode && v.Value != "" {
				v.Value, v.Tag, v.Style = "<secret>", "!!str", 0
				continue
			}
			if v.Kind == yaml.ScalarNode {
				v.Value = redactURL(v.Value)
			}
			redactNode(v)
		}
		return
	}
	for _, c := range n.Content {
		redactNode(c)
	}
}

// redactURL hides the parts of a URL that carry credentials: the
// password of user:password@ and the query string (webhook URLs such as
// Slack's or a receiver's ?token= hold their secret there). Other values
// are returned as they are.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	changed := false
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "secret")
		changed = true
	}
	if u.RawQuery != "" {
		u.RawQuery = "secret"
		changed = true
	}
	if !changed {
		return s
	}
	return u.String()
}

// Cardinality is the index's cardinality, for /api/v1/status/tsdb. Each
// ranking is cut to the requested topN, largest first.
type Cardinality struct {
	NumSeries          int
	NumLabelPairs      int
	MetricsBySeries    []NameCount // metric names by series count
	LabelNamesByValues []NameCount // label names by distinct values
	LabelNamesBySeries []NameCount // label names by series carrying them
	LabelPairsBySeries []NameCount // name="value" pairs by series count
}

// NameCount is one ranking row, in Prometheus' JSON shape.
type NameCount struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

type tsdbStatus struct {
	HeadStats                   headStats   `json:"headStats"`
	SeriesCountByMetricName     []NameCount `json:"seriesCountByMetricName"`
	LabelValueCountByLabelName  []NameCount `json:"labelValueCountByLabelName"`
	MemoryInBytesByLabelName    []NameCount `json:"memoryInBytesByLabelName"`
	SeriesCountByLabelValuePair []NameCount `json:"seriesCountByLabelValuePair"`
	// Not in Prometheus: label names by the number of series carrying them.
	SeriesCountByLabelName []NameCount `json:"seriesCountByLabelName"`
}

type headStats struct {
	NumSeries     int   `json:"numSeries"`
	NumLabelPairs int   `json:"numLabelPairs"`
	ChunkCount    int   `json:"chunkCount"`
	MinTime       int64 `json:"minTime"`
	MaxTime       int64 `json:"maxTime"`
}

// serveTSDBStatus answers /api/v1/status/tsdb?limit=N in Prometheus'
// shape (limit defaults to 10, at most 10000).
func (u *UI) serveTSDBStatus(w http.ResponseWriter, r *http.Request) {
	limit := 10
	if s := r.FormValue("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			writeErr(w, http.StatusBadRequest, "bad_data", fmt.Errorf("invalid parameter \"limit\": %q must be an integer between 1 and 10000", s))
			return
		}
		limit = n
	}
	var c Cardinality
	if u.opts.Cardinality != nil {
		c = u.opts.Cardinality(limit)
	} else {
		st := u.opts.Storage()
		if st == nil {
			w.Header().Set("Retry-After", "5")
			writeErr(w, http.StatusServiceUnavailable, "unavailable", errors.New("storage is opening"))
			return
		}
		var err error
		if c, err = countCardinality(r.Context(), st, limit); err != nil {
			writeErr(w, http.StatusInternalServerError, "internal", err)
			return
		}
	}
	nz := func(s []NameCount) []NameCount {
		if s == nil {
			return []NameCount{}
		}
		return s
	}
	writeData(w, http.StatusOK, tsdbStatus{
		HeadStats:                   headStats{NumSeries: c.NumSeries, NumLabelPairs: c.NumLabelPairs},
		SeriesCountByMetricName:     nz(c.MetricsBySeries),
		LabelValueCountByLabelName:  nz(c.LabelNamesByValues),
		MemoryInBytesByLabelName:    []NameCount{},
		SeriesCountByLabelValuePair: nz(c.LabelPairsBySeries),
		SeriesCountByLabelName:      nz(c.LabelNamesBySeries),
	})
}

// countCardinality walks every series' labels. It is the fallback when
// the store offers no index statistics: O(series), fine for a status page.
func countCardinality(ctx context.Context, st Storage, topN int) (Cardinality, error) {
	all := model.MustNewMatcher(model.MatchRegexp, model.MetricName, ".+")
	ss := st.Select(ctx, math.MinInt64, math.MaxInt64, all)
	var (
		c        Cardinality
		metrics  = map[string]int{}
		pairs    = map[string]map[string]int{} // name -> value -> series
		nameSers = map[string]int{}
	)
	for ss.Next() {
		c.NumSeries++
		for _, l := range ss.At().Labels() {
			if l.Name == model.MetricName {
				metrics[l.Value]++
			}
			vs := pairs[l.Name]
			if vs == nil {
				vs = map[string]int{}
				pairs[l.Name] = vs
			}
			vs[l.Value]++
			nameSers[l.Name]++
		}
	}
	if err := ss.Err(); err != nil {
		return c, fmt.Errorf("list series: %w", err)
	}
	var byValues, pairRows []NameCount
	for name, vs := range pairs {
		c.NumLabelPairs += len(vs)
		byValues = append(byValues, NameCount{name, len(vs)})
		for v, n := range vs {
			pairRows = append(pairRows, NameCount{name + "=" + strconv.Quote(v), n})
		}
	}
	c.MetricsBySeries = topOf(mapRows(metrics), topN)
	c.LabelNamesByValues = topOf(byValues, topN)
	c.LabelNamesBySeries = topOf(mapRows(nameSers), topN)
	c.LabelPairsBySeries = topOf(pairRows, topN)
	return c, nil
}

func mapRows(m map[string]int) []NameCount {
	rows := make([]NameCount, 0, len(m))
	for k, v := range m {
		rows = append(rows, NameCount{k, v})
	}
	return rows
}

// topOf sorts rows by count, largest first (ties by name), and keeps n.
func topOf(rows []NameCount, n int) []NameCount {
	slices.SortFunc(rows, func(a, b NameCount) int {
		if c := cmp.Compare(b.Value, a.Value); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if len(rows) > n {
		rows = rows[:n]
	}
	return rows
}
