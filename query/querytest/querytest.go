// Package querytest holds what the differential tests of the query engine
// share, so that the same data set, expressions and comparison can run
// in-process (query's tests, against Prometheus' own engine) and later
// against the real binary's HTTP API: a generated data set, a list of
// PromQL expressions, an engine-neutral result shape with a decoder for
// the Prometheus API's JSON, and the comparison.
//
// It imports only the standard library and model, so any package's tests
// can use it.
package querytest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/stratus-metrics/stratus/model"
)

// Time range of the generated data, in milliseconds.
const (
	DataStart = int64(0)
	DataEnd   = int64(2 * 3600 * 1000)
)

// The evaluation times of the differential tests, in milliseconds relative
// to DataStart: instant queries at each of InstantTimes, range queries from
// RangeStart to RangeEnd every RangeStep milliseconds.
var InstantTimes = []int64{30 * 60_000, 61*60_000 + 7_000, DataEnd}

// Range query bounds and step of the differential tests (milliseconds).
const (
	RangeStart = int64(10 * 60_000)
	RangeEnd   = int64(110 * 60_000)
	RangeStep  = int64(60_000)
)

// DeliberateDifferences lists expressions whose results differ from
// Prometheus on purpose, with the reason; the differential tests skip them.
// Besides these, the native histogram functions (histogram_count,
// histogram_sum, ...) return an error in Stratus where Prometheus returns
// nothing for float series, and are therefore not in Expressions.
var DeliberateDifferences = map[string]string{
	"limitk(2, http_requests_total)": "limitk returns any k series of a group: Prometheus takes the first k in its " +
		"head's posting (creation) order, Stratus the first k in label order, which does not depend on ingestion history",
}

// Shift returns a copy of data with every timestamp moved by delta
// milliseconds, so that the data set can be placed where a running server
// accepts it (near its clock) instead of at the Unix epoch. Values,
// including staleness markers, are copied bit for bit.
func Shift(data []model.TimeSeries, delta int64) []model.TimeSeries {
	out := make([]model.TimeSeries, len(data))
	for i, ts := range data {
		samples := make([]model.Sample, len(ts.Samples))
		for j, s := range ts.Samples {
			samples[j] = model.Sample{T: s.T + delta, V: s.V}
		}
		out[i] = model.TimeSeries{Labels: ts.Labels, Samples: samples}
	}
	return out
}

// atLiteral matches an @ modifier with a literal Unix time in seconds.
var atLiteral = regexp.MustCompile(`@ ([0-9]+)\b`)

// ShiftExpr moves the literal times of expr's @ modifiers by delta
// milliseconds (a whole number of seconds), so that an expression written
// for the data set at its original place means the same over Shift(data,
// delta). Other absolute times (such as `hour(vector(1700000000))`) do not
// refer to the data and are left alone.
func ShiftExpr(expr string, delta int64) string {
	return atLiteral.ReplaceAllStringFunc(expr, func(m string) string {
		sec, err := strconv.ParseInt(m[2:], 10, 64)
		if err != nil {
			return m
		}
		return "@ " + strconv.FormatInt(sec+delta/1000, 10)
	})
}

// Data generates a varied data set: counters with resets, gauges with
// negative values and NaN, classic histograms (_bucket with le, _sum,
// _count), sparse series, series that go stale (with staleness markers)
// and come back, and series whose samples sit on and off a 15 s grid.
// The same seed gives the same data.
func Data(seed uint64) []model.TimeSeries {
	rng := rand.New(rand.NewPCG(seed, 42))
	var out []model.TimeSeries
	add := func(ls model.Labels, samples []model.Sample) {
		if len(samples) > 0 {
			out = append(out, model.TimeSeries{Labels: ls, Samples: samples})
		}
	}
	// scrape returns sample times every interval from offset, with jitter
	// (0 keeps them on the grid).
	scrape := func(interval, offset, jitter int64) []int64 {
		var ts []int64
		for t := DataStart + offset; t <= DataEnd; t += interval {
			j := int64(0)
			if jitter > 0 {
				j = rng.Int64N(2*jitter+1) - jitter
			}
			if t+j >= DataStart && t+j <= DataEnd && (len(ts) == 0 || t+j > ts[len(ts)-1]) {
				ts = append(ts, t+j)
			}
		}
		return ts
	}
	// Counters.
	for _, job := range []string{"api", "web", "db"} {
		for inst := range 2 {
			for _, code := range []string{"200", "404", "500"} {
				ls := model.FromStrings(model.MetricName, "http_requests_total", "job", job, "instance", fmt.Sprintf("10.0.0.%d:80", inst+1), "code", code)
				var jitter int64
				if inst == 1 {
					jitter = 2000
				}
				v := float64(rng.IntN(1000))
				var samples []model.Sample
				for _, t := range scrape(15000, int64(inst)*3000, jitter) {
					if rng.IntN(150) == 0 {
						v = float64(rng.IntN(5)) // counter reset
					} else {
						v += float64(rng.IntN(50)) * map[string]float64{"200": 1, "404": 0.2, "500": 0.05}[code]
					}
					samples = append(samples, model.Sample{T: t, V: v})
				}
				add(ls, samples)
			}
		}
	}
	// Gauges, one with a NaN sample and one with infinities.
	for i, zone := range []string{"eu", "us", "ap"} {
		for inst := range 2 {
			ls := model.FromStrings(model.MetricName, "node_temperature_celsius", "zone", zone, "instance", fmt.Sprintf("n%d", inst))
			v := 20.0 + float64(i)
			var samples []model.Sample
			for k, t := range scrape(30000, 7000, 0) {
				v += rng.NormFloat64() * 3
				x := v
				if zone == "us" && inst == 0 && k == 40 {
					x = math.NaN()
				}
				if zone == "ap" && inst == 1 && k == 60 {
					x = math.Inf(1)
				}
				samples = append(samples, model.Sample{T: t, V: x})
			}
			add(ls, samples)
		}
	}
	ls := model.FromStrings(model.MetricName, "balance", "account", "a")
	var samples []model.Sample
	for _, t := range scrape(60000, 0, 0) {
		samples = append(samples, model.Sample{T: t, V: rng.NormFloat64() * 100})
	}
	add(ls, samples)
	// Classic histograms.
	bounds := []string{"0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"}
	for _, job := range []string{"api", "web"} {
		counts := make([]float64, len(bounds))
		var sum float64
		series := make([][]model.Sample, len(bounds)+2)
		for _, t := range scrape(15000, 1000, 0) {
			for range rng.IntN(40) {
				d := rng.ExpFloat64() * 0.3
				sum += d
				for b, le := range bounds {
					ub, _ := strconv.ParseFloat(le, 64)
					if d <= ub {
						counts[b]++
					}
				}
			}
			for b := range bounds {
				series[b] = append(series[b], model.Sample{T: t, V: counts[b]})
			}
			series[len(bounds)] = append(series[len(bounds)], model.Sample{T: t, V: sum})
			series[len(bounds)+1] = append(series[len(bounds)+1], model.Sample{T: t, V: counts[len(bounds)-1]})
		}
		for b, le := range bounds {
			add(model.FromStrings(model.MetricName, "request_duration_seconds_bucket", "job", job, "le", le), series[b])
		}
		add(model.FromStrings(model.MetricName, "request_duration_seconds_sum", "job", job), series[len(bounds)])
		add(model.FromStrings(model.MetricName, "request_duration_seconds_count", "job", job), series[len(bounds)+1])
	}
	// Sparse series: a sample every 7 minutes, off the grid.
	for _, job := range []string{"batch", "etl"} {
		var s []model.Sample
		for _, t := range scrape(7*60000, 13000, 0) {
			s = append(s, model.Sample{T: t, V: float64(t / 1000)})
		}
		add(model.FromStrings(model.MetricName, "job_last_success_seconds", "job", job), s)
	}
	// Series that go stale and come back.
	for pod := range 3 {
		var s []model.Sample
		for k, t := range scrape(15000, 500, 0) {
			phase := (k / (40 + 10*pod)) % 2
			if phase == 1 {
				if len(s) > 0 && !model.IsStaleNaN(s[len(s)-1].V) {
					s = append(s, model.Sample{T: t, V: model.StaleNaN()})
				}
				continue
			}
			s = append(s, model.Sample{T: t, V: float64(k%17) + float64(pod)})
		}
		add(model.FromStrings(model.MetricName, "pod_memory_bytes", "pod", fmt.Sprintf("p%d", pod), "namespace", "prod"), s)
	}
	// Two metrics with the same labels but the name, for duplicate label
	// set errors once the name is dropped.
	for _, name := range []string{"queue_depth", "queue_capacity"} {
		var s []model.Sample
		for _, t := range scrape(30000, 0, 0) {
			s = append(s, model.Sample{T: t, V: float64(rng.IntN(100))})
		}
		add(model.FromStrings(model.MetricName, name, "queue", "orders"), s)
	}
	return out
}

// Point is one value of a result series; T is in milliseconds.
type Point struct {
	T int64
	F float64
}

// Series is one result series with its labels rendered as a string.
type Series struct {
	Labels string
	Points []Point
}

// Result is an engine-neutral query result: its type name, the series
// (a vector has one point per series, a scalar one series without labels)
// or the error.
type Result struct {
	Type   string
	Series []Series
	Err    string
}

// LabelsString renders a label map the same way for every source.
func LabelsString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	b.WriteByte('}')
	return b.String()
}

// DecodeAPI decodes a Prometheus API query answer into a Result.
func DecodeAPI(body []byte) (Result, error) {
	var env struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Result{}, fmt.Errorf("decode API answer: %w", err)
	}
	if env.Status != "success" {
		return Result{Err: env.Error}, nil
	}
	res := Result{Type: env.Data.ResultType}
	point := func(raw [2]any) (Point, error) {
		t, ok := raw[0].(float64)
		s, ok2 := raw[1].(string)
		if !ok || !ok2 {
			return Point{}, fmt.Errorf("malformed point %v", raw)
		}
		f, err := strconv.ParseFloat(s, 64)
		return Point{T: int64(math.Round(t * 1000)), F: f}, err
	}
	switch res.Type {
	case "scalar", "string":
		var raw [2]any
		if err := json.Unmarshal(env.Data.Result, &raw); err != nil {
			return res, err
		}
		p, err := point(raw)
		res.Series = []Series{{Labels: "{}", Points: []Point{p}}}
		return res, err
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(env.Data.Result, &vec); err != nil {
			return res, err
		}
		for _, s := range vec {
			p, err := point(s.Value)
			if err != nil {
				return res, err
			}
			res.Series = append(res.Series, Series{Labels: LabelsString(s.Metric), Points: []Point{p}})
		}
	case "matrix":
		var mat []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		}
		if err := json.Unmarshal(env.Data.Result, &mat); err != nil {
			return res, err
		}
		for _, s := range mat {
			ser := Series{Labels: LabelsString(s.Metric)}
			for _, v := range s.Values {
				p, err := point(v)
				if err != nil {
					return res, err
				}
				ser.Points = append(ser.Points, p)
			}
			res.Series = append(res.Series, ser)
		}
	}
	return res, nil
}

// Ordered reports whether the order of an expression's result is part of
// its meaning (sort functions at the top level).
func Ordered(expr string) bool {
	e := strings.TrimSpace(expr)
	return strings.HasPrefix(e, "sort(") || strings.HasPrefix(e, "sort_desc(") || strings.HasPrefix(e, "sort_by_label")
}

// Compare returns nil when got and want agree: both failed, or the same
// type and label sets with values within 1e-9 relative (NaN equals NaN),
// in the same order when ordered is set.
func Compare(got, want Result, ordered bool) error {
	if (got.Err != "") != (want.Err != "") {
		return fmt.Errorf("error mismatch: got %q, want %q", got.Err, want.Err)
	}
	if got.Err != "" {
		return nil
	}
	if got.Type != want.Type {
		return fmt.Errorf("result type %s, want %s", got.Type, want.Type)
	}
	g, w := slices.Clone(got.Series), slices.Clone(want.Series)
	byLabels := func(a, b Series) int { return strings.Compare(a.Labels, b.Labels) }
	if ordered {
		// Equal values may come in either order; compare the values in
		// order and the label sets as sets.
		if len(g) != len(w) {
			return fmt.Errorf("%d series, want %d", len(g), len(w))
		}
		for i := range g {
			if !valuesMatch(g[i].Points, w[i].Points) {
				return fmt.Errorf("series %d: %s %v, want %s %v", i, g[i].Labels, g[i].Points, w[i].Labels, w[i].Points)
			}
		}
	}
	slices.SortFunc(g, byLabels)
	slices.SortFunc(w, byLabels)
	for i := 0; i < len(g) || i < len(w); i++ {
		switch {
		case i >= len(g):
			return fmt.Errorf("missing series %s %v", w[i].Labels, w[i].Points)
		case i >= len(w):
			return fmt.Errorf("unexpected series %s %v", g[i].Labels, g[i].Points)
		case g[i].Labels != w[i].Labels:
			return fmt.Errorf("series %s, want %s", g[i].Labels, w[i].Labels)
		case !valuesMatch(g[i].Points, w[i].Points):
			return fmt.Errorf("series %s:\n got %v\nwant %v", g[i].Labels, g[i].Points, w[i].Points)
		}
	}
	return nil
}

func valuesMatch(a, b []Point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].T != b[i].T || !FloatsMatch(a[i].F, b[i].F) {
			return false
		}
	}
	return true
}

// FloatsMatch compares with a relative tolerance of 1e-9; NaN equals NaN
// and infinities must be equal.
func FloatsMatch(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return false
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
