package alert

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// fakeQuery answers each expression with the samples set for it.
type fakeQuery struct {
	mu      sync.Mutex
	results map[string][]Sample
	errs    map[string]error
	calls   []string
}

func newFakeQuery() *fakeQuery {
	return &fakeQuery{results: map[string][]Sample{}, errs: map[string]error{}}
}

func (q *fakeQuery) set(expr string, samples ...Sample) {
	q.mu.Lock()
	q.results[expr] = samples
	q.mu.Unlock()
}

func (q *fakeQuery) fail(expr string, err error) {
	q.mu.Lock()
	q.errs[expr] = err
	q.mu.Unlock()
}

func (q *fakeQuery) Query(_ context.Context, lang, expr string, t time.Time) ([]Sample, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, lang+":"+expr)
	if err := q.errs[expr]; err != nil {
		return nil, err
	}
	return q.results[expr], nil
}

func sample(v float64, ls ...string) Sample {
	return Sample{Labels: model.FromStrings(ls...), V: v}
}

// fakeAppender records what was appended.
type fakeAppender struct {
	mu     sync.Mutex
	series []model.TimeSeries
}

func (a *fakeAppender) Append(b []model.TimeSeries) (model.AppendResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, s := range b {
		a.series = append(a.series, model.TimeSeries{Labels: s.Labels.Copy(), Samples: append([]model.Sample(nil), s.Samples...)})
		n += len(s.Samples)
	}
	return model.AppendResult{Accepted: n}, nil
}

func (a *fakeAppender) take() []model.TimeSeries {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.series
	a.series = nil
	return s
}
