package query

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query/querytest"
)

// countingQuerier counts Select and Iterator calls, to check that a query
// decodes each series once however many steps it has. Series are read on
// several goroutines, so Iterator counts atomically.
type countingQuerier struct {
	*querytest.MemQuerier
	selects   int
	iterators atomic.Int64
}

type countingSeries struct {
	model.Series
	q *countingQuerier
}

func (s countingSeries) Iterator(r model.SampleIterator) model.SampleIterator {
	s.q.iterators.Add(1)
	return s.Series.Iterator(r)
}

func (c *countingQuerier) Select(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet {
	c.selects++
	set := c.MemQuerier.Select(ctx, mint, maxt, ms...)
	var out []model.Series
	for set.Next() {
		out = append(out, countingSeries{Series: set.At(), q: c})
	}
	if err := set.Err(); err != nil {
		return model.ErrSeriesSet(err)
	}
	return model.ListSeriesSet(out)
}

func counterData(series, samples int) *querytest.MemQuerier {
	q := newMemQuerier()
	for i := range series {
		ls := model.FromStrings(model.MetricName, "requests_total", "i", strings.Repeat("x", i+1))
		for j := range samples {
			q.Add(ls, model.Sample{T: int64(j) * 10_000, V: float64(j)})
		}
	}
	return q
}

func TestEngineDecodesEachSeriesOnce(t *testing.T) {
	cq := &countingQuerier{MemQuerier: counterData(5, 400)}
	ng := NewEngine(cq, DefaultEngineOptions())
	res, err := ng.Range(context.Background(), `sum(rate(requests_total[5m])) + sum(requests_total)`, time.UnixMilli(600_000), time.UnixMilli(3_600_000), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.Value.(Matrix)[0].Floats); got != 301 {
		t.Errorf("%d points, want 301", got)
	}
	if cq.selects != 2 || cq.iterators.Load() != 10 {
		t.Errorf("%d selects and %d iterators for 2 selectors over 5 series and 301 steps; want 2 and 10", cq.selects, cq.iterators.Load())
	}
	if res.Stats.Series != 10 || res.Stats.Samples == 0 {
		t.Errorf("stats %+v", res.Stats)
	}
}

func TestEngineLimits(t *testing.T) {
	q := counterData(5, 100)
	ctx := context.Background()
	at := time.UnixMilli(990_000)
	cases := []struct {
		name string
		opts func(*EngineOptions)
		ctx  func() (context.Context, context.CancelFunc)
		want error
		msg  string
	}{
		{"samples", func(o *EngineOptions) { o.MaxSamples = 100 }, nil, ErrTooManySamples, "max_samples"},
		{"series", func(o *EngineOptions) { o.MaxSeries = 3 }, nil, ErrTooManySeries, "more than 3 series"},
		{"timeout", nil, func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 0) }, ErrTimeout, "timed out"},
		{"canceled", nil, func() (context.Context, context.CancelFunc) {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return c, cancel
		}, ErrCanceled, "canceled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := DefaultEngineOptions()
			if c.opts != nil {
				c.opts(&opts)
			}
			qctx := ctx
			if c.ctx != nil {
				var cancel context.CancelFunc
				qctx, cancel = c.ctx()
				defer cancel()
			}
			_, err := NewEngine(q, opts).Instant(qctx, `sum_over_time(requests_total[20m])`, at)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v, want %v mentioning %q", err, c.want, c.msg)
			}
			if ae := engineError(err); c.want == ErrTimeout && ae.status() != 503 {
				t.Errorf("timeout maps to HTTP %d, want 503", ae.status())
			}
		})
	}
}

func TestEngineQueryLog(t *testing.T) {
	var buf bytes.Buffer
	opts := DefaultEngineOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	opts.SlowQueryThreshold = 0
	ng := NewEngine(counterData(2, 50), opts)
	if _, err := ng.Instant(context.Background(), `rate(requests_total[1m])`, time.UnixMilli(300_000)); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	for _, want := range []string{"slow query", "query=rate(requests_total[1m])", "series=2", "samples=12", "duration="} {
		if !strings.Contains(line, want) {
			t.Errorf("query log %q lacks %q", line, want)
		}
	}
	buf.Reset()
	opts.SlowQueryThreshold = time.Hour
	if _, err := NewEngine(counterData(2, 50), opts).Instant(context.Background(), `1`, time.UnixMilli(0)); err != nil || buf.Len() > 0 {
		t.Errorf("fast query logged %q (err %v)", buf.String(), err)
	}
}

func TestEngineNativeHistogramFunctions(t *testing.T) {
	ng := NewEngine(counterData(1, 10), DefaultEngineOptions())
	_, err := ng.Instant(context.Background(), `histogram_count(requests_total)`, time.UnixMilli(50_000))
	if !errors.Is(err, ErrNativeHistograms) {
		t.Errorf("histogram_count: %v, want ErrNativeHistograms", err)
	}
	var pe *ParseError
	if _, err := ng.Instant(context.Background(), `info(requests_total)`, time.UnixMilli(0)); !errors.As(err, &pe) {
		t.Errorf("info(): %v, want a parse error for an unsupported function", err)
	}
}
