package ingest

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/stratus-metrics/stratus/model"
)

// atlasMaxMessages is how many reasons an Atlas failure response lists,
// as Atlas itself does.
const atlasMaxMessages = 5

// atlasNameTag is the Atlas tag that carries the metric name.
const atlasNameTag = "name"

// atlasResponse is Atlas' failure message: type is "partial" (202, some
// metrics stored) or "error" (400, none stored).
type atlasResponse struct {
	Type       string   `json:"type"`
	ErrorCount int      `json:"errorCount"`
	Message    []string `json:"message"`
}

// serveAtlas handles POST /api/v1/publish, optionally gzip (or zstd)
// encoded, and answers as Atlas does: 200 when every metric was stored,
// 202 {"type":"partial",...} when some were rejected, 400
// {"type":"error",...} when none was stored; besides 413/415 for the body,
// 429 when the store's series limit is reached and 503 when it failed.
//
// The payload is {"tags": {common tags}, "metrics": [{"tags": {...},
// "timestamp": ms, "value": v}, ...]}. It is parsed with fastjson into a
// pooled parser's tree, whose strings the labels alias until the request
// is done: no map or string is allocated per metric (encoding/json into
// maps took about 11 µs a metric). JSON that does not parse fails the
// whole request (400); a metric of the wrong shape is rejected alone, by
// index, and the others are stored. Field names are matched exactly, as
// Atlas does; of a field given twice, the last counts.
func (h *Handler) serveAtlas(w http.ResponseWriter, hr *http.Request, r *request) int {
	body, herr := r.readBody(hr, encIdentity|encGzip|encZstd, encIdentity)
	if herr != nil {
		return writeJSON(w, herr.status, atlasResponse{Type: "error", ErrorCount: 1, Message: []string{herr.msg}})
	}
	p := &r.json
	if len(body) > maxPooledBytes {
		p = new(fastjson.Parser) // do not pin a huge copy in the pool
	}
	fail := func(errorCount int, format string, args ...any) int {
		return writeJSON(w, http.StatusBadRequest, atlasResponse{Type: "error", ErrorCount: errorCount, Message: []string{fmt.Sprintf(format, args...)}})
	}
	root, err := p.ParseBytes(body)
	if err != nil {
		return fail(1, "decode publish payload: %v", err)
	}
	top, err := root.Object()
	if err != nil {
		return fail(1, "decode publish payload: the payload is not a JSON object")
	}
	var tagsV, metricsV *fastjson.Value
	top.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "tags":
			tagsV = v
		case "metrics":
			metricsV = v
		}
	})
	var metrics []*fastjson.Value
	if metricsV != nil && metricsV.Type() != fastjson.TypeNull {
		if metrics, err = metricsV.Array(); err != nil {
			return fail(1, "decode publish payload: metrics is %s, not an array", metricsV.Type())
		}
	}
	common, err := appendAtlasTags(r.atlasCommon[:0], tagsV)
	r.atlasCommon = common
	if err != nil {
		return fail(1, "decode publish payload: common tags: %v", err)
	}
	if err := h.checkAtlasTags(common, true); err != nil {
		return fail(len(metrics), "common tags: %v", err)
	}
	for i, m := range metrics {
		t, v, err := h.decodeAtlasMetric(r, m, common)
		if err != nil {
			r.rejectRow(i, 1, reasonParse, err)
			continue
		}
		ls := r.labels[r.labelStart:]
		if err := h.checkAtlasTags(ls, false); err != nil {
			atlasToLabels(ls)
			r.rejectSeries(i, reasonInvalidLabels, err)
			continue
		}
		atlasToLabels(ls)
		if t == 0 {
			t = r.nowMs // Atlas clients always send one; be lenient.
		}
		r.addSample(t, v)
		r.finishSeries(i)
	}
	r.flush()
	return r.respondAtlas(w)
}

// decodeAtlasMetric reads one metric: it starts a series in r holding the
// metric's tags merged over the common ones (still with Atlas' "name"
// key), and returns the timestamp (0 when absent) and value. On error no
// series is left started.
func (h *Handler) decodeAtlasMetric(r *request, m *fastjson.Value, common []model.Label) (int64, float64, error) {
	obj, err := m.Object()
	if err != nil {
		return 0, 0, fmt.Errorf("metric is %s, not an object", m.Type())
	}
	var tagsV, tsV, valueV *fastjson.Value
	obj.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "tags":
			tagsV = v
		case "timestamp":
			tsV = v
		case "value":
			valueV = v
		}
	})
	var t int64
	if tsV != nil && tsV.Type() != fastjson.TypeNull {
		if t, err = tsV.Int64(); err != nil {
			return 0, 0, fmt.Errorf("timestamp %s is not an integer of milliseconds", quoteTrunc(tsV.String()))
		}
	}
	v, err := atlasValue(valueV)
	if err != nil {
		return 0, 0, err
	}
	r.startSeries()
	r.labels, err = appendAtlasTags(r.labels, tagsV)
	if err != nil {
		r.abortSeries()
		return 0, 0, fmt.Errorf("tags: %w", err)
	}
	own := r.labels[r.labelStart:]
	for _, c := range common {
		if !slices.ContainsFunc(own, func(l model.Label) bool { return l.Name == c.Name }) {
			r.labels = append(r.labels, c)
		}
	}
	return t, v, nil
}

// atlasValue reads a metric's value: a number, or one of the strings
// "NaN", "Infinity" and "-Infinity" that Atlas' JSON writers (Jackson)
// produce for non-finite values.
func atlasValue(v *fastjson.Value) (float64, error) {
	if v == nil {
		return 0, errors.New("metric has no value")
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil {
			return 0, fmt.Errorf("value %s is not a number", quoteTrunc(v.String()))
		}
		if math.IsInf(f, 0) { // a literal beyond float64's range, e.g. 1e400
			return 0, fmt.Errorf("value %s is out of the range of a 64-bit float", quoteTrunc(v.String()))
		}
		return f, nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		switch string(b) {
		case "NaN":
			return math.NaN(), nil
		case "Infinity", "+Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("value %s is not a number", quoteTrunc(string(b)))
	case fastjson.TypeNull:
		return 0, errors.New("value is null")
	default:
		return 0, fmt.Errorf("value is %s, not a number", v.Type())
	}
}

// appendAtlasTags appends the tags of a JSON object (nil or null: none) to
// dst as labels named by the tag keys. Of a key given twice the last
// counts, value and type alike. The strings alias the parser's memory.
func appendAtlasTags(dst []model.Label, v *fastjson.Value) ([]model.Label, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return dst, nil
	}
	obj, err := v.Object()
	if err != nil {
		return dst, fmt.Errorf("tags are %s, not an object", v.Type())
	}
	start := len(dst)
	type badTag struct {
		name string
		typ  fastjson.Type
	}
	var bad []badTag // keys whose last value is not a string
	obj.Visit(func(k []byte, tv *fastjson.Value) {
		name := bodyString(k)
		bad = slices.DeleteFunc(bad, func(b badTag) bool { return b.name == name })
		value := ""
		if b, err := tv.StringBytes(); err == nil {
			value = bodyString(b)
		} else {
			bad = append(bad, badTag{name, tv.Type()})
		}
		if i := slices.IndexFunc(dst[start:], func(l model.Label) bool { return l.Name == name }); i >= 0 {
			dst[start+i].Value = value
			return
		}
		dst = append(dst, model.Label{Name: name, Value: value})
	})
	if len(bad) > 0 {
		return dst, fmt.Errorf("tag %s is %s, not a string", quoteTrunc(bad[0].name), bad[0].typ)
	}
	return dst, nil
}

// atlasToLabels renames Atlas' "name" tag to the metric name label.
func atlasToLabels(ls []model.Label) {
	for i := range ls {
		if ls[i].Name == atlasNameTag {
			ls[i].Name = model.MetricName
		}
	}
}

func (r *request) respondAtlas(w http.ResponseWriter) int {
	msgs := r.errs
	if len(msgs) > atlasMaxMessages {
		msgs = msgs[:atlasMaxMessages]
	}
	switch r.outcome() {
	case outcomeOK:
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	case outcomePartial:
		return writeJSON(w, http.StatusAccepted, atlasResponse{Type: "partial", ErrorCount: r.nErrs, Message: msgs})
	case outcomeRejected:
		return writeJSON(w, http.StatusBadRequest, atlasResponse{Type: "error", ErrorCount: r.nErrs, Message: msgs})
	case outcomeSeriesLimit:
		return writeJSON(w, http.StatusTooManyRequests, atlasResponse{Type: "error", ErrorCount: r.nErrs, Message: []string{r.seriesLimitMessage()}})
	default:
		return writeJSON(w, http.StatusServiceUnavailable, atlasResponse{Type: "error", ErrorCount: r.nErrs, Message: []string{r.storageMessage()}})
	}
}

// checkAtlasTags applies Atlas' validation rules to a metric's merged tags
// (or, with common set, to the common tags alone, which need no name), as
// labels still named by their Atlas keys. The messages follow Atlas'
// wording so that users can search for them.
func (h *Handler) checkAtlasTags(tags []model.Label, common bool) error {
	rules := &h.cfg.Atlas
	if !common && !slices.ContainsFunc(tags, func(l model.Label) bool { return l.Name == atlasNameTag }) {
		return errors.New("missing key 'name'")
	}
	user := 0
	for _, tag := range tags {
		k, v := tag.Name, tag.Value
		if n := len(k); n < rules.MinKeyLength {
			return fmt.Errorf("key too short: %s (%d < %d)", quoteTrunc(k), n, rules.MinKeyLength)
		} else if n > rules.MaxKeyLength {
			return fmt.Errorf("key too long: %s (%d > %d)", quoteTrunc(k), n, rules.MaxKeyLength)
		}
		lo, hi := rules.MinValueLength, rules.MaxValueLength
		if k == atlasNameTag {
			lo, hi = rules.MinNameLength, rules.MaxNameLength
		}
		if n := len(v); n < lo {
			return fmt.Errorf("value too short: %s = %s (%d < %d)", k, quoteTrunc(v), n, lo)
		} else if n > hi {
			return fmt.Errorf("value too long: %s = %s (%d > %d)", k, quoteTrunc(v), n, hi)
		}
		if i := h.badAtlasChar(k); i >= 0 {
			return fmt.Errorf("invalid characters in key: %s (only [%s] are allowed)", quoteTrunc(k), rules.AllowedChars)
		}
		if i := h.badAtlasChar(v); i >= 0 {
			return fmt.Errorf("invalid characters in value: %s = %s (only [%s] are allowed)", k, quoteTrunc(v), rules.AllowedChars)
		}
		if !strings.HasPrefix(k, "atlas.") && !strings.HasPrefix(k, "nf.") {
			user++
		}
	}
	if user > rules.MaxUserTags {
		return fmt.Errorf("too many user tags: %d > %d", user, rules.MaxUserTags)
	}
	return nil
}

// badAtlasChar returns the index of the first byte of s not allowed by
// AtlasRules.AllowedChars, or -1.
func (h *Handler) badAtlasChar(s string) int {
	for i := 0; i < len(s); i++ {
		if !h.atlasChars[s[i]] {
			return i
		}
	}
	return -1
}
