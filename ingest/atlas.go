package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/stratus-metrics/stratus/model"
)

// atlasMaxMessages is how many reasons an Atlas failure response lists,
// as Atlas itself does.
const atlasMaxMessages = 5

// atlasNameTag is the Atlas tag that carries the metric name.
const atlasNameTag = "name"

// atlasPayload is the body of POST /api/v1/publish. Metrics are kept raw
// so that one malformed metric is reported by index instead of failing the
// whole request.
type atlasPayload struct {
	Tags    map[string]string `json:"tags"`
	Metrics []json.RawMessage `json:"metrics"`
}

type atlasMetric struct {
	Tags      map[string]string `json:"tags"`
	Timestamp int64             `json:"timestamp"`
	Value     atlasValue        `json:"value"`
}

// atlasValue is a number, or one of the strings "NaN", "Infinity" and
// "-Infinity" that Atlas' JSON writers (Jackson) produce for non-finite
// values.
type atlasValue struct {
	v   float64
	set bool
}

func (a *atlasValue) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			a.v = math.NaN()
		case "Infinity", "+Infinity":
			a.v = math.Inf(1)
		case "-Infinity":
			a.v = math.Inf(-1)
		default:
			return fmt.Errorf("value %s is not a number", quoteTrunc(s))
		}
		a.set = true
		return nil
	}
	if string(b) == "null" {
		return errors.New("value is null")
	}
	if err := json.Unmarshal(b, &a.v); err != nil {
		return fmt.Errorf("value %s is not a number", quoteTrunc(string(b)))
	}
	a.set = true
	return nil
}

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
func (h *Handler) serveAtlas(w http.ResponseWriter, hr *http.Request, r *request) int {
	body, herr := r.readBody(hr, encIdentity|encGzip|encZstd, encIdentity)
	if herr != nil {
		return writeJSON(w, herr.status, atlasResponse{Type: "error", ErrorCount: 1, Message: []string{herr.msg}})
	}
	var p atlasPayload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return writeJSON(w, http.StatusBadRequest, atlasResponse{Type: "error", ErrorCount: 1, Message: []string{fmt.Sprintf("decode publish payload: %v", err)}})
	}
	if err := h.checkAtlasTags(p.Tags, true); err != nil {
		return writeJSON(w, http.StatusBadRequest, atlasResponse{Type: "error", ErrorCount: len(p.Metrics), Message: []string{fmt.Sprintf("common tags: %v", err)}})
	}
	merged := make(map[string]string, len(p.Tags)+8)
	for i, raw := range p.Metrics {
		var m atlasMetric
		if err := json.Unmarshal(raw, &m); err != nil {
			r.rejectRow(i, 1, reasonParse, err)
			continue
		}
		if !m.Value.set {
			r.rejectRow(i, 1, reasonParse, errors.New("metric has no value"))
			continue
		}
		clear(merged)
		for k, v := range p.Tags {
			merged[k] = v
		}
		for k, v := range m.Tags {
			merged[k] = v
		}
		r.startSeries()
		for k, v := range merged {
			if k == atlasNameTag {
				k = model.MetricName
			}
			r.addLabel(k, v)
		}
		if err := h.checkAtlasTags(merged, false); err != nil {
			r.rejectSeries(i, reasonInvalidLabels, err)
			continue
		}
		t := m.Timestamp
		if t == 0 {
			t = r.nowMs // Atlas clients always send one; be lenient.
		}
		r.addSample(t, m.Value.v)
		r.finishSeries(i)
	}
	r.flush()
	return r.respondAtlas(w)
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
// (or, with common set, to the common tags alone, which need no name). The
// messages follow Atlas' wording so that users can search for them.
func (h *Handler) checkAtlasTags(tags map[string]string, common bool) error {
	rules := &h.cfg.Atlas
	if !common {
		if _, ok := tags[atlasNameTag]; !ok {
			return errors.New("missing key 'name'")
		}
	}
	user := 0
	for k, v := range tags {
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
