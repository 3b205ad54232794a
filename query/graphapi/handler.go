package graphapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
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
}

func (h *Handler) parseGraph(r *http.Request) (*request, *httpError) {
	p := r.URL.Query()
	req := &request{format: "png"}
	if f := p.Get("format"); f != "" {
		switch f {
		case "png", "svg", "json", "csv":
			req.format = f
		default:
			return nil, badRequest("invalid parameter \"format\": %q is not png, svg, json or csv", f)
		}
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
	if yl := p.Get("ylabel"); yl != "" {
		g.Axes = []render.Axis{{Label: yl}}
	}
	nl := p.Get("no_legend")
	g.ShowLegend = nl == "" || nl == "0" || nl == "false"
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
	var ctype string
	switch req.format {
	case "png":
		err, ctype = render.PNG(&buf, g), "image/png"
	case "svg":
		err, ctype = render.SVG(&buf, g), "image/svg+xml"
	case "csv":
		err, ctype = render.CSV(&buf, g), "text/csv; charset=utf-8"
	default:
		err, ctype = render.JSON(&buf, g), "application/json"
	}
	if err != nil {
		writeError(w, &httpError{http.StatusBadRequest, "bad_data", err})
		return
	}
	w.Header().Set("Content-Type", ctype)
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
