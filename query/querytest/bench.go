package querytest

import (
	"fmt"
	"math/rand/v2"

	"github.com/stratus-metrics/stratus/model"
)

// The benchmark data set: BenchSamples samples per series, one every
// BenchInterval milliseconds (2 hours at 10 s).
const (
	BenchInterval = int64(10_000)
	BenchSamples  = 720
)

// BenchQuery is one query of the benchmarks against peers.
type BenchQuery struct {
	Name, Expr string
}

// BenchQueries are what a Grafana dashboard over the benchmark data asks:
// a rate by code, a latency quantile, a top 10, a regex selection, a
// subquery and a ratio joined on instance. The in-process benchmark
// against Prometheus' engine and the HTTP benchmark against
// VictoriaMetrics run the same list.
var BenchQueries = []BenchQuery{
	{"sum_rate", `sum by (code) (rate(http_requests_total[5m]))`},
	{"histogram_quantile", `histogram_quantile(0.99, sum by (le) (rate(request_duration_seconds_bucket[5m])))`},
	{"topk", `topk(10, rate(http_requests_total[5m]))`},
	{"regex", `sum(rate(http_requests_total{handler=~"/api/v1/.*", code=~"5.."}[5m]))`},
	{"subquery", `max_over_time(sum by (code) (rate(http_requests_total[1m]))[30m:1m])`},
	{"join", `sum by (instance) (rate(http_requests_total{code=~"5.."}[5m])) / on (instance) sum by (instance) (rate(http_requests_total[5m]))`},
}

// BenchData generates the benchmark data set: n series of BenchSamples
// samples from start (milliseconds), half request counters
// (http_requests_total by instance, handler and code), half classic
// histogram buckets (request_duration_seconds_bucket by instance and le).
// The same n gives the same series and values wherever start is.
func BenchData(n int, start int64) []model.TimeSeries {
	rng := rand.New(rand.NewPCG(7, 7))
	out := make([]model.TimeSeries, 0, n)
	codes := []string{"200", "201", "404", "500", "503"}
	les := []string{"0.005", "0.01", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "10", "+Inf"}
	for i := 0; len(out) < n/2; i++ {
		handler := fmt.Sprintf("/api/v%d/items/%d", i%3, i/5%20)
		ls := model.FromStrings(model.MetricName, "http_requests_total", "job", "api",
			"instance", fmt.Sprintf("10.1.%d.%d:8080", i/250, i%250/5), "handler", handler, "code", codes[i%5])
		out = append(out, model.TimeSeries{Labels: ls, Samples: benchCounter(rng, start, 5)})
	}
	for i := 0; len(out) < n; i++ {
		counts := benchCounter(rng, start, 1)
		for j, le := range les {
			if len(out) >= n {
				break
			}
			ls := model.FromStrings(model.MetricName, "request_duration_seconds_bucket", "job", "api",
				"instance", fmt.Sprintf("10.1.%d.%d:8080", i/50, i%50), "le", le)
			s := make([]model.Sample, len(counts))
			for k, c := range counts {
				s[k] = model.Sample{T: c.T, V: c.V * float64(j+1)}
			}
			out = append(out, model.TimeSeries{Labels: ls, Samples: s})
		}
	}
	return out
}

func benchCounter(rng *rand.Rand, start int64, rate int) []model.Sample {
	s := make([]model.Sample, BenchSamples)
	v := float64(rng.IntN(1000))
	for i := range s {
		v += float64(rng.IntN(10 * rate))
		s[i] = model.Sample{T: start + int64(i)*BenchInterval, V: v}
	}
	return s
}
