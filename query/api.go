package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/mux"
	pmodel "github.com/prometheus/common/model"

	"github.com/stratus-metrics/stratus/model"
)

// BuildInfo is what /api/v1/status/buildinfo reports; cmd/ fills it from
// the binary's version variables.
type BuildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

// APIOptions configures the Prometheus-compatible HTTP API.
type APIOptions struct {
	// Engine configures the PromQL engine behind /query and /query_range.
	Engine EngineOptions
	// BuildInfo is reported by /api/v1/status/buildinfo.
	BuildInfo BuildInfo
	// MaxPointsPerSeries caps (end - start) / step of range queries;
	// Prometheus' 11,000 when zero.
	MaxPointsPerSeries int
}

// API serves the Prometheus HTTP query API (the contract Grafana's
// Prometheus data source speaks) over a Querier.
type API struct {
	q      Querier
	engine *Engine
	opts   APIOptions
}

// NewAPI returns the API reading from q.
func NewAPI(q Querier, opts APIOptions) *API {
	if opts.MaxPointsPerSeries <= 0 {
		opts.MaxPointsPerSeries = 11000
	}
	return &API{q: q, engine: NewEngine(q, opts.Engine), opts: opts}
}

// Engine returns the engine the API evaluates queries with.
func (a *API) Engine() *Engine { return a.engine }

// Register adds the API's routes to r; every endpoint accepts GET and
// POST (form-encoded), as Prometheus' does.
func (a *API) Register(r *mux.Router) {
	routes := []struct {
		path string
		h    func(*http.Request) apiResult
	}{
		{"/api/v1/query", a.query},
		{"/api/v1/query_range", a.queryRange},
		{"/api/v1/series", a.series},
		{"/api/v1/labels", a.labelNames},
		{"/api/v1/label/{name}/values", a.labelValues},
		{"/api/v1/metadata", func(*http.Request) apiResult { return apiResult{data: struct{}{}} }},
		{"/api/v1/query_exemplars", func(*http.Request) apiResult { return apiResult{data: []struct{}{}} }},
		{"/api/v1/status/buildinfo", func(*http.Request) apiResult { return apiResult{data: a.opts.BuildInfo} }},
		{"/api/v1/format_query", a.formatQuery},
	}
	for _, rt := range routes {
		h := rt.h
		r.HandleFunc(rt.path, func(w http.ResponseWriter, req *http.Request) {
			if err := req.ParseForm(); err != nil {
				writeError(w, &apiError{typ: errBadData, err: fmt.Errorf("error parsing form values: %w", err)})
				return
			}
			res := h(req)
			if res.err != nil {
				writeError(w, res.err)
				return
			}
			writeSuccess(w, res)
			if res.release != nil {
				res.release()
			}
		}).Methods(http.MethodGet, http.MethodPost)
	}
}

// Error types of the Prometheus API, with their HTTP status codes.
const (
	errBadData   = "bad_data"
	errExec      = "execution"
	errTimeout   = "timeout"
	errCanceled  = "canceled"
	errInternal  = "internal"
	errNotFound  = "not_found"
	statusClosed = 499 // client closed request, as Prometheus answers a canceled query
)

type apiError struct {
	typ string
	err error
}

func (e *apiError) status() int {
	switch e.typ {
	case errBadData:
		return http.StatusBadRequest
	case errExec:
		return http.StatusUnprocessableEntity
	case errTimeout:
		return http.StatusServiceUnavailable
	case errCanceled:
		return statusClosed
	case errNotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

type apiResult struct {
	data     any
	err      *apiError
	warnings []string
	release  func() // called once the answer is written, when not nil
}

func invalidParam(err error, name string) apiResult {
	return apiResult{err: &apiError{typ: errBadData, err: fmt.Errorf("invalid parameter %q: %w", name, err)}}
}

// engineError maps an evaluation error to the API's error type.
func engineError(err error) *apiError {
	var pe *ParseError
	switch {
	case errors.As(err, &pe):
		return &apiError{typ: errBadData, err: fmt.Errorf("invalid parameter %q: %w", "query", pe.Err)}
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{typ: errTimeout, err: err}
	case errors.Is(err, ErrCanceled), errors.Is(err, context.Canceled):
		return &apiError{typ: errCanceled, err: err}
	}
	return &apiError{typ: errExec, err: err}
}

func (a *API) query(r *http.Request) apiResult {
	ts := a.engine.opts.Now()
	if s := r.FormValue("time"); s != "" {
		t, err := parsePromTime(s)
		if err != nil {
			return invalidParam(err, "time")
		}
		ts = t
	}
	limit, lres := parseLimit(r)
	if lres != nil {
		return *lres
	}
	ctx, cancel, res := a.queryContext(r)
	if res.err != nil {
		return res
	}
	defer cancel()
	qr, err := a.engine.Instant(ctx, r.FormValue("query"), ts)
	if err != nil {
		return apiResult{err: engineError(err)}
	}
	return limitedQueryResult(qr, limit)
}

func (a *API) queryRange(r *http.Request) apiResult {
	start, err := parsePromTime(r.FormValue("start"))
	if err != nil {
		return invalidParam(err, "start")
	}
	end, err := parsePromTime(r.FormValue("end"))
	if err != nil {
		return invalidParam(err, "end")
	}
	if end.Before(start) {
		return invalidParam(errors.New("end timestamp must not be before start time"), "end")
	}
	step, err := parsePromDuration(r.FormValue("step"))
	if err != nil {
		return invalidParam(err, "step")
	}
	if step <= 0 {
		return invalidParam(errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"), "step")
	}
	if end.Sub(start)/step > time.Duration(a.opts.MaxPointsPerSeries) {
		return apiResult{err: &apiError{typ: errBadData, err: fmt.Errorf("exceeded maximum resolution of %s points per timeseries. Try decreasing the query resolution (?step=XX)", thousands(a.opts.MaxPointsPerSeries))}}
	}
	limit, lres := parseLimit(r)
	if lres != nil {
		return *lres
	}
	ctx, cancel, res := a.queryContext(r)
	if res.err != nil {
		return res
	}
	defer cancel()
	qr, err := a.engine.Range(ctx, r.FormValue("query"), start, end, step)
	if err != nil {
		return apiResult{err: engineError(err)}
	}
	return limitedQueryResult(qr, limit)
}

// limitedQueryResult is a query's answer cut to limit series.
func limitedQueryResult(qr *Result, limit int) apiResult {
	v, cut := limitValue(qr.Value, limit)
	warnings := qr.Warnings
	if cut {
		warnings = append(slices.Clip(warnings), truncatedWarning)
	}
	return apiResult{data: queryData{v}, warnings: warnings, release: qr.Close}
}

func (a *API) queryContext(r *http.Request) (context.Context, context.CancelFunc, apiResult) {
	ctx := r.Context()
	if s := r.FormValue("timeout"); s != "" {
		d, err := parsePromDuration(s)
		if err != nil {
			return nil, nil, invalidParam(err, "timeout")
		}
		c, cancel := context.WithTimeout(ctx, d)
		return c, cancel, apiResult{}
	}
	return ctx, func() {}, apiResult{}
}

// The time bounds Prometheus uses when start or end is not given.
var (
	minTime = time.UnixMilli(math.MinInt64 / 2).UTC()
	maxTime = time.UnixMilli(math.MaxInt64 / 2).UTC()
)

func (a *API) timeRange(r *http.Request) (int64, int64, *apiResult) {
	start, end := minTime, maxTime
	var err error
	if s := r.FormValue("start"); s != "" {
		if start, err = parsePromTime(s); err != nil {
			res := invalidParam(err, "start")
			return 0, 0, &res
		}
	}
	if s := r.FormValue("end"); s != "" {
		if end, err = parsePromTime(s); err != nil {
			res := invalidParam(err, "end")
			return 0, 0, &res
		}
	}
	return start.UnixMilli(), end.UnixMilli(), nil
}

func parseMatchers(r *http.Request) ([][]*model.Matcher, *apiResult) {
	var out [][]*model.Matcher
	for _, s := range r.Form["match[]"] {
		ms, err := ParseSelector(s)
		if err != nil {
			res := apiResult{err: &apiError{typ: errBadData, err: err}}
			return nil, &res
		}
		out = append(out, ms)
	}
	return out, nil
}

// truncatedWarning is what Prometheus 3 warns when `limit` cut an answer.
const truncatedWarning = "results truncated due to limit"

// parseLimit reads the optional `limit` parameter of the query, series and
// label endpoints, as Prometheus 3 does: a non-negative integer, 0 or
// absent meaning no limit.
func parseLimit(r *http.Request) (int, *apiResult) {
	s := r.FormValue("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err == nil && n < 0 {
		err = errors.New("limit must be non-negative")
	}
	if err != nil {
		res := invalidParam(err, "limit")
		return 0, &res
	}
	return n, nil
}

// limitStrings truncates a sorted answer to limit entries, with
// Prometheus' warning when it cut something.
func limitStrings(ss []string, limit int) apiResult {
	if limit > 0 && len(ss) > limit {
		return apiResult{data: ss[:limit], warnings: []string{truncatedWarning}}
	}
	return apiResult{data: ss}
}

// limitValue truncates a vector or matrix to limit series (after the
// engine's ordering, so a limited sort() keeps its first entries).
func limitValue(v Value, limit int) (Value, bool) {
	if limit <= 0 {
		return v, false
	}
	switch x := v.(type) {
	case Vector:
		if len(x) > limit {
			return x[:limit], true
		}
	case Matrix:
		if len(x) > limit {
			return x[:limit], true
		}
	}
	return v, false
}

func (a *API) series(r *http.Request) apiResult {
	if len(r.Form["match[]"]) == 0 {
		return apiResult{err: &apiError{typ: errBadData, err: errors.New("no match[] parameter provided")}}
	}
	mint, maxt, sets, limit, res := a.listParams(r)
	if res != nil {
		return *res
	}
	seen := map[string]bool{}
	var all []model.Labels
	for _, ms := range sets {
		set := a.q.Select(r.Context(), mint, maxt, ms...)
		for set.Next() {
			ls := set.At().Labels()
			k := string(model.AppendKey(nil, ls))
			if !seen[k] {
				seen[k] = true
				all = append(all, ls)
			}
		}
		if err := set.Err(); err != nil {
			return apiResult{err: engineError(err)}
		}
	}
	slices.SortFunc(all, model.Compare)
	var warnings []string
	if limit > 0 && len(all) > limit {
		all, warnings = all[:limit], []string{truncatedWarning}
	}
	out := make([]labelsJSON, len(all))
	for i, ls := range all {
		out[i] = labelsJSON(ls)
	}
	return apiResult{data: out, warnings: warnings}
}

func (a *API) labelNames(r *http.Request) apiResult {
	return a.listStrings(r, a.q.LabelNames)
}

func (a *API) labelValues(r *http.Request) apiResult {
	name := mux.Vars(r)["name"]
	if !validLabelName(name) {
		return apiResult{err: &apiError{typ: errBadData, err: fmt.Errorf("invalid label name: %q", name)}}
	}
	return a.listStrings(r, func(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) ([]string, error) {
		return a.q.LabelValues(ctx, name, mint, maxt, ms...)
	})
}

// listParams parses what the series, label names and label values
// endpoints share: the time range, the match[] sets and the limit. A non-nil
// result is the error answer.
func (a *API) listParams(r *http.Request) (mint, maxt int64, sets [][]*model.Matcher, limit int, res *apiResult) {
	if mint, maxt, res = a.timeRange(r); res != nil {
		return
	}
	if sets, res = parseMatchers(r); res != nil {
		return
	}
	limit, res = parseLimit(r)
	return
}

// listStrings answers the label names and label values endpoints: the
// union over every match[] set (all series when there is none) of what
// list returns in the request's time range, sorted, unique and limited.
func (a *API) listStrings(r *http.Request, list func(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) ([]string, error)) apiResult {
	mint, maxt, sets, limit, res := a.listParams(r)
	if res != nil {
		return *res
	}
	if len(sets) == 0 {
		sets = [][]*model.Matcher{nil}
	}
	var out []string
	for _, ms := range sets {
		ss, err := list(r.Context(), mint, maxt, ms...)
		if err != nil {
			return apiResult{err: engineError(err)}
		}
		out = append(out, ss...)
	}
	return limitStrings(sortedUnique(out), limit)
}

func (a *API) formatQuery(r *http.Request) apiResult {
	expr, err := ParseExpr(r.FormValue("query"))
	if err != nil {
		return invalidParam(errors.Unwrap(err), "query")
	}
	return apiResult{data: expr.Pretty(0)}
}

func sortedUnique(ss []string) []string {
	slices.Sort(ss)
	ss = slices.Compact(ss)
	if ss == nil {
		ss = []string{}
	}
	return ss
}

// parsePromTime parses an API time the way Prometheus does: Unix seconds
// with up to millisecond precision, or RFC 3339.
func parsePromTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		frac = math.Round(frac*1000) / 1000
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case minTime.Format(time.RFC3339Nano):
		return minTime, nil
	case maxTime.Format(time.RFC3339Nano):
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parsePromDuration parses a step or timeout: float seconds or a Prometheus
// duration such as 1m30s.
func parsePromDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		ts := f * float64(time.Second)
		if ts > float64(math.MaxInt64) || ts < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := pmodel.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// queryData is the data member of a query answer.
type queryData struct{ v Value }

func (d queryData) MarshalJSON() ([]byte, error) { return d.appendJSON(nil, nil), nil }

// appendJSON encodes the data member, passing b to flush as it grows
// (see appendValueFlushing).
func (d queryData) appendJSON(b []byte, flush func([]byte) []byte) []byte {
	b = append(b, `{"resultType":"`...)
	b = append(b, d.v.Type()...)
	b = append(b, `","result":`...)
	b = appendValueFlushing(b, d.v, flush)
	return append(b, '}')
}

// responseBuffers holds the buffers query answers are encoded in; a
// profile of a 1,000-series range answer over HTTP found 33 MB allocated
// to encode 3.7 MB (encoding/json's copy, validation and compaction of
// what MarshalJSON returned, and the growth of both).
var responseBuffers = sync.Pool{New: func() any { b := make([]byte, 0, flushSize+flushSize/2); return &b }}

// labelsJSON marshals labels as a JSON object in label order.
type labelsJSON model.Labels

func (l labelsJSON) MarshalJSON() ([]byte, error) { return appendLabels(nil, model.Labels(l)), nil }

func writeSuccess(w http.ResponseWriter, res apiResult) {
	if d, ok := res.data.(queryData); ok {
		writeQueryData(w, d, res.warnings)
		return
	}
	data, err := json.Marshal(res.data)
	if err != nil {
		writeError(w, &apiError{typ: errInternal, err: fmt.Errorf("encode response: %w", err)})
		return
	}
	b := make([]byte, 0, len(data)+64)
	b = append(b, `{"status":"success","data":`...)
	b = append(b, data...)
	if len(res.warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i, w := range res.warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, w)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// writeQueryData writes a successful query answer as writeSuccess would,
// byte for byte, encoding it straight into a pooled buffer that goes to
// the connection every flushSize bytes, instead of through encoding/json.
func writeQueryData(w http.ResponseWriter, d queryData, warnings []string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bp := responseBuffers.Get().(*[]byte)
	defer responseBuffers.Put(bp)
	failed := false
	flush := func(b []byte) []byte {
		if !failed {
			_, err := w.Write(b)
			failed = err != nil // the client went away: encode no more
		}
		return b[:0]
	}
	b := append((*bp)[:0], `{"status":"success","data":`...)
	b = d.appendJSON(b, flush)
	if len(warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i, w := range warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, w)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	flush(b)
	*bp = b[:0]
}

func writeError(w http.ResponseWriter, e *apiError) {
	b := []byte(`{"status":"error","errorType":"`)
	b = append(b, e.typ...)
	b = append(b, `","error":`...)
	b = appendJSONString(b, e.err.Error())
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status())
	w.Write(b)
}
