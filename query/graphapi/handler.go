package graphapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/render"
	"github.com/stratus-metrics/stratus/query/stacklang"
)

// Options configures the Handler.
type Options struct {
	// MinStep is the smallest step chosen automatically; Atlas's is its
	// primary step, 1m. An explicit step= may go below it.
	MinStep time.Duration
	// Now returns the current time, for relative times; tests inject it.
	Now func() time.Time
}

// Handler serves /api/v1/graph and /api/v1/tags.
type Handler struct {
	q    query.Querier
	eng  *stacklang.Engine
	opts Options
}

// New returns a handler that evaluates with ng and lists tags from q.
func New(q query.Querier, ng *query.Engine, opts Options) *Handler {
	if opts.MinStep <= 0 {
		opts.MinStep = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Handler{q: q, eng: stacklang.NewEngine(ng), opts: opts}
}

// Register adds the routes to r.
func (h *Handler) Register(r *mux.Router) {
	r.HandleFunc("/api/v1/graph", h.graph).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/tags", h.tags).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/tags/{key}", h.tags).Methods(http.MethodGet)
}

// httpError is an answer other than 200.
type httpError struct {
	status int
	typ    string
	err    error
}

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, "bad_data", fmt.Errorf(format, args...)}
}

func writeError(w http.ResponseWriter, e *httpError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": e.typ, "error": e.err.Error()})
}

// autoSteps are the steps chosen automatically, smallest first.
var autoSteps = []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 20 * time.Minute,
	30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// request is a parsed graph request.
type request struct {
	prog       *stacklang.Program
	start, end int64 // aligned to step, end exclusive
	step       int64
	n          int
	format     string
	graph      render.Graph
	paletteSet bool
	stack      bool // stack=1: lines without a style are stacked
}

// formats are the graph API's output formats and their content types.
// json is Atlas's std.json (a missing value is the string "NaN", so any
// JSON parser reads it; Atlas's own json writes a bare NaN); txt is the
// CSV table with tabs.
var formats = map[string]string{
	"png":      "image/png",
	"svg":      "image/svg+xml",
	"json":     "application/json",
	"std.json": "application/json",
	"csv":      "text/csv; charset=utf-8",
	"txt":      "text/plain; charset=utf-8",
}

func (h *Handler) parseGraph(r *http.Request) (*request, *httpError) {
	p := r.URL.Query()
	req := &request{format: "png"}
	if f := p.Get("format"); f != "" {
		if _, ok := formats[f]; !ok {
			return nil, badRequest("invalid parameter \"format\": %q is not png, svg, json, std.json, csv or txt", f)
		}
		req.format = f
	}
	loc := time.UTC
	if tz := p.Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, badRequest("invalid parameter \"tz\": %v", err)
		}
		loc = l
	}
	now := h.opts.Now()
	es, ss := p.Get("e"), p.Get("s")
	if es == "" {
		es = "now"
	}
	if ss == "" {
		ss = "e-3h"
	}
	var start, end time.Time
	var err error
	// Either may be relative to the other; resolve the absolute one first.
	if len(es) > 0 && es[0] == 's' {
		if start, err = ParseTime(ss, now, loc, nil); err != nil {
			return nil, badRequest("invalid parameter \"s\": %v", err)
		}
		if end, err = ParseTime(es, now, loc, map[string]time.Time{"s": start}); err != nil {
			return nil, badRequest("invalid parameter \"e\": %v", err)
		}
	} else {
		if end, err = ParseTime(es, now, loc, nil); err != nil {
			return nil, badRequest("invalid parameter \"e\": %v", err)
		}
		if start, err = ParseTime(ss, now, loc, map[string]time.Time{"e": end}); err != nil {
			return nil, badRequest("invalid parameter \"s\": %v", err)
		}
	}
	if !end.After(start) {
		return nil, badRequest("invalid parameters \"s\" and \"e\": end %s is not after start %s", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	g := &req.graph
	for _, f := range []struct {
		name string
		dst  *int
	}{{"w", &g.Width}, {"h", &g.Height}} {
		if v := p.Get(f.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < render.MinSize || n > map[string]int{"w": render.MaxWidth, "h": render.MaxHeight}[f.name] {
				return nil, badRequest("invalid parameter %q: %q is not a size in [%d, %d]", f.name, v, render.MinSize, map[string]int{"w": render.MaxWidth, "h": render.MaxHeight}[f.name])
			}
			*f.dst = n
		}
	}
	width := g.Width
	if width == 0 {
		width = render.DefaultWidth
	}
	span := end.Sub(start)
	var step time.Duration
	if v := p.Get("step"); v != "" {
		ms, err := stacklang.ParseDuration(v)
		if err != nil || ms <= 0 {
			return nil, badRequest("invalid parameter \"step\": %q is not a positive duration", v)
		}
		step = time.Duration(ms) * time.Millisecond
	} else {
		step = autoSteps[len(autoSteps)-1]
		for _, s := range autoSteps {
			if s >= h.opts.MinStep && span/s <= time.Duration(width) {
				step = s
				break
			}
		}
	}
	req.step = step.Milliseconds()
	req.start = floorDiv(start.UnixMilli(), req.step) * req.step
	// The last timestamp is the end rounded up to a step, so the newest
	// samples (in (e - step, e]) are drawn; end is exclusive.
	req.end = -floorDiv(-end.UnixMilli(), req.step)*req.step + req.step
	n := (req.end - req.start) / req.step
	if n > int64(stacklang.MaxSteps) || n >= render.MaxPoints {
		return nil, badRequest("invalid parameter \"step\": %d steps of %s exceed the limit of %d; use a larger step", n, step, render.MaxPoints-1)
	}
	req.n = int(n)
	switch t := p.Get("theme"); t {
	case "", "light", "dark":
		g.Theme = t
	default:
		return nil, badRequest("invalid parameter \"theme\": %q is not light or dark", t)
	}
	if pal := p.Get("palette"); pal != "" {
		if !slices.Contains(render.Palettes, pal) {
			return nil, badRequest("invalid parameter \"palette\": %q is not one of %v", pal, render.Palettes)
		}
		g.Palette, req.paletteSet = pal, true
	}
	g.Title = p.Get("title")
	axes, herr := parseAxes(p)
	if herr != nil {
		return nil, herr
	}
	g.Axes = axes
	for _, f := range []struct {
		name string
		dst  *bool
		on   bool // the value when the parameter is absent
	}{{"no_legend", &g.ShowLegend, true}, {"no_legend_stats", &g.ShowStats, true}, {"stack", &req.stack, false}} {
		v, err := flag(p, f.name)
		if err != nil {
			return nil, err
		}
		// no_legend and no_legend_stats turn off what stack turns on.
		if f.on {
			*f.dst = !v
		} else {
			*f.dst = v
		}
	}
	q := p.Get("q")
	if q == "" {
		return nil, badRequest("missing parameter \"q\": a stack-language expression such as name,http_requests_total,:eq,:sum")
	}
	prog, err := stacklang.Parse(q)
	if err != nil {
		return nil, badRequest("invalid parameter \"q\": %v", err)
	}
	req.prog = prog
	return req, nil
}

// flag reads a boolean parameter: absent, empty, 0 or false is off; 1 or
// true is on.
func flag(p url.Values, name string) (bool, *httpError) {
	switch v := p.Get(name); v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, badRequest("invalid parameter %q: %q is not 1, true, 0 or false", name, v)
	}
}

// parseAxes reads the Y axes' parameters, as Atlas names them: ylabel, l
// (lower bound), u (upper bound) and scale (linear or log) for the left
// axis, the same with a suffix .1 to .4 for the axes that :axis selects
// (.0 is the left axis too). The result holds up to the last axis that
// has a setting.
func parseAxes(p url.Values) ([]render.Axis, *httpError) {
	var axes []render.Axis
	for i := range render.MaxAxes {
		var a render.Axis
		set := false
		get := func(name string) (string, string) {
			key := name + "." + strconv.Itoa(i)
			if v := p.Get(key); v != "" || i > 0 {
				return key, v
			}
			return name, p.Get(name)
		}
		if _, v := get("ylabel"); v != "" {
			a.Label, set = v, true
		}
		for _, b := range []struct {
			name string
			dst  **float64
		}{{"l", &a.Min}, {"u", &a.Max}} {
			k, v := get(b.name)
			if v == "" {
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, badRequest("invalid parameter %q: %q is not a finite number", k, v)
			}
			*b.dst, set = render.Bound(f), true
		}
		if a.Min != nil && a.Max != nil && *a.Min >= *a.Max {
			kl, _ := get("l")
			ku, _ := get("u")
			return nil, badRequest("invalid parameters %q and %q: lower bound %g is not below upper bound %g", kl, ku, *a.Min, *a.Max)
		}
		switch k, v := get("scale"); v {
		case "", "linear":
		case "log":
			a.Logarithmic, set = true, true
		default:
			return nil, badRequest("invalid parameter %q: %q is not linear or log", k, v)
		}
		if a.Logarithmic && a.Min != nil && *a.Min <= 0 {
			kl, _ := get("l")
			return nil, badRequest("invalid parameter %q: a logarithmic axis needs a positive lower bound, got %g", kl, *a.Min)
		}
		if set {
			for len(axes) < i {
				axes = append(axes, render.Axis{})
			}
			axes = append(axes, a)
		}
	}
	return axes, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (h *Handler) graph(w http.ResponseWriter, r *http.Request) {
	req, herr := h.parseGraph(r)
	if herr != nil {
		writeError(w, herr)
		return
	}
	res, err := h.eng.Eval(r.Context(), req.prog, req.start, req.step, req.n)
	if err != nil {
		writeError(w, evalError(err))
		return
	}
	g := buildGraph(req, res)
	var buf bytes.Buffer
	switch req.format {
	case "png":
		err = render.PNG(&buf, g)
	case "svg":
		err = render.SVG(&buf, g)
	case "csv":
		err = render.CSV(&buf, g)
	case "txt":
		err = render.TSV(&buf, g)
	default:
		err = render.JSON(&buf, g)
	}
	if err != nil {
		writeError(w, &httpError{http.StatusBadRequest, "bad_data", err})
		return
	}
	w.Header().Set("Content-Type", formats[req.format])
	_, _ = w.Write(buf.Bytes())
}

func evalError(err error) *httpError {
	switch {
	case errors.Is(err, query.ErrTimeout):
		return &httpError{http.StatusServiceUnavailable, "timeout", err}
	case errors.Is(err, query.ErrCanceled) || errors.Is(err, context.Canceled):
		return &httpError{499, "canceled", err}
	}
	return &httpError{http.StatusUnprocessableEntity, "execution", err}
}

// buildGraph maps evaluated series onto the renderer's Graph.
func buildGraph(req *request, res *stacklang.Result) render.Graph {
	g := req.graph
	g.Start, g.End, g.Step = req.start, req.start+int64(req.n)*req.step, req.step
	perExpr := map[int]int{}
	for _, s := range res.Series {
		st := s.Style
		if !req.paletteSet && g.Palette == "" && st.Palette != "" {
			g.Palette = st.Palette
		}
		if st.LineStyle == "vspan" {
			g.VSpans = append(g.VSpans, spans(s, res, st.Color)...)
			continue
		}
		rs := render.Series{Label: s.Label, Tags: s.Tags, Start: res.Start, Step: res.Step, Values: s.Values}
		rs.Style = render.Style{Color: st.Color, Alpha: st.Alpha, LineWidth: st.LineWidth, Axis: st.Axis}
		if rs.Style.Color == "" && len(st.Colors) > 0 {
			rs.Style.Color = st.Colors[perExpr[s.Expr]%len(st.Colors)]
		}
		perExpr[s.Expr]++
		switch st.LineStyle {
		case "area":
			rs.Style.Kind = render.Area
		case "stack":
			rs.Style.Kind = render.Stack
		case "", "line":
			if req.stack && st.LineStyle == "" {
				rs.Style.Kind = render.Stack
			}
		}
		g.Series = append(g.Series, rs)
	}
	return g
}

// spans turns a :vspan line into shaded ranges where it is non-zero.
func spans(s stacklang.Series, res *stacklang.Result, color string) []render.VSpan {
	var out []render.VSpan
	open := -1
	for i := 0; i <= len(s.Values); i++ {
		on := i < len(s.Values) && !math.IsNaN(s.Values[i]) && s.Values[i] != 0
		switch {
		case on && open < 0:
			open = i
		case !on && open >= 0:
			out = append(out, render.VSpan{Start: res.Start + int64(open)*res.Step - res.Step, End: res.Start + int64(i-1)*res.Step, Color: color, Label: s.Label})
			open = -1
		}
	}
	return out
}
