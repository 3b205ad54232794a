package query

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/stratus-metrics/stratus/model"
)

// ExportHandler serves raw samples: GET or POST /api/v1/export with one or
// more match[] selectors and optional start and end (RFC 3339 or Unix
// seconds). The response is one JSON object per line and series, in the
// shape VictoriaMetrics' export uses:
//
//	{"metric":{"__name__":"up","job":"api"},"values":[1,0],"timestamps":[1700000000000,1700000010000]}
//
// Values keep full float64 precision; NaN and ±Inf are written as the
// strings "NaN", "+Inf", "-Inf", and the staleness marker as "stale".
type ExportHandler struct {
	q Querier
}

// NewExportHandler returns a handler reading from q.
func NewExportHandler(q Querier) *ExportHandler { return &ExportHandler{q: q} }

// Register adds the export route to r.
func (h *ExportHandler) Register(r *mux.Router) {
	r.Handle("/api/v1/export", h).Methods(http.MethodGet, http.MethodPost)
}

func (h *ExportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "parse form: "+err.Error(), http.StatusBadRequest)
		return
	}
	selectors := r.Form["match[]"]
	if len(selectors) == 0 {
		http.Error(w, "missing match[] parameter: give at least one series selector, e.g. match[]=up", http.StatusBadRequest)
		return
	}
	mint, err := parseTimeParam(r.Form.Get("start"), math.MinInt64)
	if err != nil {
		http.Error(w, "start: "+err.Error(), http.StatusBadRequest)
		return
	}
	maxt, err := parseTimeParam(r.Form.Get("end"), math.MaxInt64)
	if err != nil {
		http.Error(w, "end: "+err.Error(), http.StatusBadRequest)
		return
	}
	matchers := make([][]*model.Matcher, len(selectors))
	for i, s := range selectors {
		if matchers[i], err = ParseSelector(s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}

	w.Header().Set("Content-Type", "application/stream+json")
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	seen := map[string]bool{} // a series matched by two selectors is written once
	var (
		it   model.SampleIterator
		line []byte
	)
	for _, ms := range matchers {
		set := h.q.Select(r.Context(), mint, maxt, ms...)
		for set.Next() {
			s := set.At()
			key := string(model.AppendKey(nil, s.Labels()))
			if seen[key] {
				continue
			}
			seen[key] = true
			it = s.Iterator(it)
			line, err = appendExportLine(line[:0], s.Labels(), it)
			if err != nil {
				fmt.Fprintf(bw, "\n{\"error\":%q}\n", err.Error())
				return
			}
			bw.Write(line)
		}
		if err := set.Err(); err != nil {
			fmt.Fprintf(bw, "\n{\"error\":%q}\n", err.Error())
			return
		}
	}
}

func appendExportLine(dst []byte, ls model.Labels, it model.SampleIterator) ([]byte, error) {
	metric, _ := json.Marshal(ls.Map())
	dst = append(dst, `{"metric":`...)
	dst = append(dst, metric...)
	var ts []int64
	dst = append(dst, `,"values":[`...)
	for it.Next() {
		t, v := it.At()
		if len(ts) > 0 {
			dst = append(dst, ',')
		}
		dst = appendExportValue(dst, v)
		ts = append(ts, t)
	}
	if err := it.Err(); err != nil {
		return dst, err
	}
	dst = append(dst, `],"timestamps":[`...)
	for i, t := range ts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, t, 10)
	}
	return append(dst, "]}\n"...), nil
}

func appendExportValue(dst []byte, v float64) []byte {
	switch {
	case model.IsStaleNaN(v):
		return append(dst, `"stale"`...)
	case math.IsNaN(v):
		return append(dst, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(dst, `"+Inf"`...)
	case math.IsInf(v, -1):
		return append(dst, `"-Inf"`...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// parseTimeParam parses a Prometheus API time: RFC 3339 or Unix seconds
// with an optional fraction. An empty string yields def.
func parseTimeParam(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9.2e15 {
			return 0, fmt.Errorf("time %q out of range", s)
		}
		return int64(math.Round(f * 1000)), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q as RFC 3339 or Unix seconds", s)
	}
	return t.UnixMilli(), nil
}
