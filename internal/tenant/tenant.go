// Package tenant keeps tenants apart in one store. Every series of a tenant
// carries the reserved label __tenant__; a Scope is one tenant's view of
// the store: its appender adds the label (replacing any a client sent) and
// enforces the tenant's quotas, and its querier adds a matcher on the label
// to every selection and removes the label from what it returns. The
// ingest, query, graph and UI components are built once per tenant on top
// of a Scope and never learn that tenants exist.
//
// The default tenant stores its series without the label, so a store
// written before tenancy was switched on belongs to the default tenant,
// and a single-tenant server (tenancy off) pays nothing: cmd/ then wires
// the store directly, with no Scope at all.
//
// Data flow of a write: ingest handler -> Scope.AppendRefs (rate limit) ->
// store.AppendWith, which adds the tenant label only to series it must look
// up by labels (a series the handler holds a reference for is appended as
// it is) and asks the tenant's series quota only when a series is about to
// be created. A read: query engine -> Scope.Select (matcher added) ->
// labels stripped.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

// Label is the reserved label that holds a series' tenant.
const Label = "__tenant__"

// Default is the id of the tenant requests belong to when neither their
// credentials nor a trusted header name one. Its series carry no Label.
const Default = "default"

// HeaderOrgID is the request header that names a tenant, as in Cortex and
// Mimir. It is honoured only where the operator trusts it (see cmd/).
const HeaderOrgID = "X-Scope-OrgID"

// ErrRateLimited is wrapped by rejections of samples over a tenant's
// ingest rate; ingest answers them 429 so that clients retry later.
var ErrRateLimited = model.ErrRateLimited

// ValidID reports whether id can name a tenant: 1 to 64 characters of
// letters, digits, '-', '_' and '.', not "." or "..". Tenant ids become
// label values and directory names, so they are kept plain.
func ValidID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("tenant id %q: must be 1 to 64 characters", id)
	}
	if id == "." || id == ".." {
		return fmt.Errorf("tenant id %q: not allowed", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("tenant id %q: character %q at %d is not one of [A-Za-z0-9._-]", id, c, i)
		}
	}
	return nil
}

// Store is what a Scope needs of the time-series store; *tsdb.DB
// satisfies it. AppendWith takes the scope's label rewrite and series
// admission (see model.AppendOptions).
type Store interface {
	AppendWith(batch []model.TimeSeries, o model.AppendOptions) (model.AppendResult, error)
	Select(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet
	LabelNames(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) ([]string, error)
	LabelValues(ctx context.Context, name string, mint, maxt int64, ms ...*model.Matcher) ([]string, error)
	CountSeries(ms ...*model.Matcher) int
}

// Limits are one tenant's quotas. Zero means unlimited.
type Limits struct {
	// MaxSeries caps the tenant's series in the store.
	MaxSeries int `yaml:"max_series" json:"max_series"`
	// IngestRate caps accepted samples per second, with bursts of
	// IngestBurst samples (default: one second's worth, at least one
	// request's worth of 10k samples).
	IngestRate  float64 `yaml:"ingest_rate" json:"ingest_rate"`
	IngestBurst int     `yaml:"ingest_burst" json:"ingest_burst"`
	// MaxBodyBytes caps one push request's body (before decompression);
	// zero keeps the server's ingest.max_body_bytes.
	MaxBodyBytes int64 `yaml:"max_body_bytes" json:"max_body_bytes"`
	// QueryMaxSamples caps the samples one query may load; zero keeps the
	// server's query.max_samples.
	QueryMaxSamples int `yaml:"query_max_samples" json:"query_max_samples"`
	// QueryConcurrency caps the tenant's queries running at once; more
	// are answered 429.
	QueryConcurrency int `yaml:"query_concurrency" json:"query_concurrency"`
}

// Validate reports negative limits.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxSeries < 0 {
		errs = append(errs, fmt.Errorf("max_series %d: must not be negative", l.MaxSeries))
	}
	if l.IngestRate < 0 {
		errs = append(errs, fmt.Errorf("ingest_rate %v: must not be negative", l.IngestRate))
	}
	if l.IngestBurst < 0 {
		errs = append(errs, fmt.Errorf("ingest_burst %d: must not be negative", l.IngestBurst))
	}
	if l.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max_body_bytes %d: must not be negative", l.MaxBodyBytes))
	}
	if l.QueryMaxSamples < 0 {
		errs = append(errs, fmt.Errorf("query_max_samples %d: must not be negative", l.QueryMaxSamples))
	}
	if l.QueryConcurrency < 0 {
		errs = append(errs, fmt.Errorf("query_concurrency %d: must not be negative", l.QueryConcurrency))
	}
	return errors.Join(errs...)
}

// Scope is one tenant's view of the store. It satisfies the ingest
// Appender and the query Querier interfaces and is safe for concurrent use.
type Scope struct {
	id     string
	st     Store
	limits Limits
	// value is the label value stored, "" for the default tenant (whose
	// series carry no label).
	value   string
	matcher *model.Matcher
	series  atomic.Int64 // the tenant's series, counted at NewScope then kept by admit
	// relabel and admitFn are appendLabels and admit as func values, made
	// once rather than per call.
	relabel func([]model.Label, model.Labels) []model.Label
	admitFn func(model.Labels) error
	bucket  tokenBucket
	now     func() time.Time

	queries chan struct{} // query slots; nil when unlimited
}

// NewScope returns tenant id's view of st with limits. It counts the
// tenant's existing series once, from the index.
func NewScope(st Store, id string, limits Limits) *Scope {
	s := &Scope{id: id, st: st, limits: limits, now: time.Now}
	if id != Default {
		s.value = id
	}
	s.matcher = model.MustNewMatcher(model.MatchEqual, Label, s.value)
	s.relabel, s.admitFn = s.appendLabels, s.admit
	s.series.Store(int64(st.CountSeries(s.matcher)))
	if limits.IngestRate > 0 {
		burst := float64(limits.IngestBurst)
		if burst <= 0 {
			burst = max(limits.IngestRate, 10000)
		}
		s.bucket = tokenBucket{rate: limits.IngestRate, burst: burst, tokens: burst}
	}
	if limits.QueryConcurrency > 0 {
		s.queries = make(chan struct{}, limits.QueryConcurrency)
	}
	return s
}

// ID returns the tenant's id.
func (s *Scope) ID() string { return s.id }

// Limits returns the tenant's limits.
func (s *Scope) Limits() Limits { return s.limits }

// Series returns the tenant's series count as the scope keeps it.
func (s *Scope) Series() int64 { return s.series.Load() }

// Recount sets the series count from the index again; retention removes
// series without telling the scope, so cmd/ calls it now and then.
func (s *Scope) Recount() { s.series.Store(int64(s.st.CountSeries(s.matcher))) }

// AcquireQuery takes one of the tenant's query slots, reporting false when
// all are taken. Release it with ReleaseQuery.
func (s *Scope) AcquireQuery() bool {
	if s.queries == nil {
		return true
	}
	select {
	case s.queries <- struct{}{}:
		return true
	default:
		return false
	}
}

// ReleaseQuery returns a slot taken by AcquireQuery.
func (s *Scope) ReleaseQuery() {
	if s.queries != nil {
		<-s.queries
	}
}

// Append stores batch as the tenant's; see AppendRefs.
func (s *Scope) Append(batch []model.TimeSeries) (model.AppendResult, error) {
	return s.AppendRefs(batch, nil)
}

// AppendRefs stores batch as the tenant's: each series gets the tenant label
// (any __tenant__ label the client sent is replaced), new series count
// against MaxSeries and samples against the ingest rate. The batch is not
// modified.
//
// refs, when not nil, are the store's references as in the ingest
// RefAppender contract: the caller (one tenant's ingest handler) learned
// them from earlier calls of this scope, so they name this tenant's
// series, already labelled, and the store appends to them without the
// rewrite. A series without one, or whose series retention removed, is
// rewritten and looked up.
func (s *Scope) AppendRefs(batch []model.TimeSeries, refs []uint64) (model.AppendResult, error) {
	if s.bucket.rate > 0 {
		n := 0
		for i := range batch {
			n += len(batch[i].Samples)
		}
		if ok, avail := s.bucket.take(s.now(), float64(n)); !ok {
			var res model.AppendResult
			err := fmt.Errorf("%w: tenant %q may push %g samples/s (burst %g); this request has %d samples, %.0f available now",
				ErrRateLimited, s.id, s.bucket.rate, s.bucket.burst, n, avail)
			for i := range batch {
				if len(batch[i].Samples) > 0 {
					res.Reject(i, -1, len(batch[i].Samples), err)
				}
			}
			return res, nil
		}
	}
	return s.st.AppendWith(batch, model.AppendOptions{Refs: refs, Admit: s.admitFn, Relabel: s.relabel})
}

// appendLabels appends ls to dst with the tenant label in its sorted place
// (none for the default tenant) and without any label named Label.
func (s *Scope) appendLabels(dst []model.Label, ls model.Labels) []model.Label {
	placed := s.value == ""
	for _, l := range ls {
		if l.Name == Label {
			continue
		}
		if !placed && l.Name > Label {
			dst = append(dst, model.Label{Name: Label, Value: s.value})
			placed = true
		}
		dst = append(dst, l)
	}
	if !placed {
		dst = append(dst, model.Label{Name: Label, Value: s.value})
	}
	return dst
}

// admit counts a new series against MaxSeries.
func (s *Scope) admit(ls model.Labels) error {
	n := s.series.Add(1)
	if max := s.limits.MaxSeries; max > 0 && n > int64(max) {
		s.series.Add(-1)
		return fmt.Errorf("%w: tenant %q holds %d series (max_series %d); new series %s rejected",
			model.ErrSeriesLimit, s.id, n-1, max, withoutTenant(ls))
	}
	return nil
}

// Select returns the tenant's series matching ms, without the tenant label.
func (s *Scope) Select(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet {
	set := s.st.Select(ctx, mint, maxt, s.scoped(ms)...)
	if s.value == "" {
		return set // the default tenant's series carry no label
	}
	return &strippedSet{SeriesSet: set}
}

// LabelNames returns the label names of the tenant's series, never Label.
func (s *Scope) LabelNames(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) ([]string, error) {
	names, err := s.st.LabelNames(ctx, mint, maxt, s.scoped(ms)...)
	return slices.DeleteFunc(names, func(n string) bool { return n == Label }), err
}

// LabelValues returns the values of name among the tenant's series; none
// for Label itself, so a tenant cannot list the others.
func (s *Scope) LabelValues(ctx context.Context, name string, mint, maxt int64, ms ...*model.Matcher) ([]string, error) {
	if name == Label {
		return nil, nil
	}
	return s.st.LabelValues(ctx, name, mint, maxt, s.scoped(ms)...)
}

// CountSeries counts the tenant's series matching ms.
func (s *Scope) CountSeries(ms ...*model.Matcher) int { return s.st.CountSeries(s.scoped(ms)...) }

// scoped returns ms with the tenant matcher first: it is the most
// selective for small tenants and the index intersects from there.
func (s *Scope) scoped(ms []*model.Matcher) []*model.Matcher {
	out := make([]*model.Matcher, 0, len(ms)+1)
	return append(append(out, s.matcher), ms...)
}

// strippedSet removes the tenant label from the series it yields. Every
// series of one set carries the same tenant value, so dropping it keeps the
// set sorted.
type strippedSet struct{ model.SeriesSet }

func (s *strippedSet) At() model.Series {
	in := s.SeriesSet.At()
	return &strippedSeries{Series: in, ls: withoutTenant(in.Labels())}
}

// strippedSeries is a series with its labels computed once: callers may
// ask for them per step.
type strippedSeries struct {
	model.Series
	ls model.Labels
}

func (s *strippedSeries) Labels() model.Labels { return s.ls }

// withoutTenant returns ls without Label, copying only when it is there.
func withoutTenant(ls model.Labels) model.Labels {
	i := slices.IndexFunc(ls, func(l model.Label) bool { return l.Name == Label })
	if i < 0 {
		return ls
	}
	out := make(model.Labels, 0, len(ls)-1)
	return append(append(out, ls[:i]...), ls[i+1:]...)
}

// tokenBucket is a samples-per-second limiter. A request takes all its
// samples or none, so a batch is never half stored for rate reasons.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second; 0 disables
	burst  float64
	tokens float64
	last   time.Time
}

// take removes n tokens if that many are available at now, reporting
// whether it did and how many were available.
func (b *tokenBucket) take(now time.Time, n float64) (bool, float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	// A request larger than the burst could never pass; let it through
	// when the bucket is full and take the bucket into debt instead.
	if b.tokens >= n || (n > b.burst && b.tokens >= b.burst) {
		b.tokens -= n
		return true, b.tokens + n
	}
	return false, b.tokens
}
