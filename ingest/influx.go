package ingest

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/stratus-metrics/stratus/model"
)

// influxError is the JSON error body of InfluxDB 2 (code "invalid" for bad
// data, as Telegraf and the Influx clients expect).
type influxError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// serveInflux handles POST /write (InfluxDB 1.x) and POST /api/v2/write
// (InfluxDB 2.x): line protocol, optionally gzip, with ?precision=
// ns|us|ms|s (and the 1.x spellings n, u, m, h); db, bucket and org are
// ignored. Each field becomes a series named measurement_field (or just
// measurement when the field is "value"); tags become labels; booleans are
// stored as 0/1 and integers as floats. String fields cannot be stored and
// are rejected with the line number; the numeric fields of the same line
// are kept.
//
// Answers as InfluxDB: 204 when everything was stored; 400
// {"code":"invalid","message":...} naming the bad lines (good lines are
// stored); 413 {"code":"request too large"}; 429 {"code":"too many
// requests"} when the store's series limit is reached; 503
// {"code":"unavailable"} when it failed.
func (h *Handler) serveInflux(w http.ResponseWriter, hr *http.Request, r *request) int {
	toMs, err := influxPrecision(hr.URL.Query().Get("precision"))
	if err != nil {
		return writeJSON(w, http.StatusBadRequest, influxError{"invalid", err.Error()})
	}
	body, herr := r.readBody(hr, encIdentity|encGzip|encZstd, encIdentity)
	if herr != nil {
		code := "invalid"
		switch herr.status {
		case http.StatusRequestEntityTooLarge:
			code = "request too large"
		case http.StatusUnsupportedMediaType:
			code = "unsupported media type"
		}
		return writeJSON(w, herr.status, influxError{code, herr.msg})
	}
	r.decodeInflux(string(body), toMs)
	r.flush()
	switch r.outcome() {
	case outcomeOK:
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	case outcomeStorage:
		return writeJSON(w, http.StatusServiceUnavailable, influxError{"unavailable", r.storageMessage()})
	case outcomeSeriesLimit:
		return writeJSON(w, http.StatusTooManyRequests, influxError{"too many requests", r.seriesLimitMessage()})
	}
	return writeJSON(w, http.StatusBadRequest, influxError{"invalid", fmt.Sprintf("partial write: %d samples stored, %d rejected:\n%s", r.accepted, r.rejected, r.summary())})
}

// influxPrecision returns the function that turns a timestamp in the given
// precision into milliseconds, reporting overflow.
func influxPrecision(p string) (func(int64) (int64, bool), error) {
	div := func(d int64) func(int64) (int64, bool) {
		return func(t int64) (int64, bool) { return t / d, true }
	}
	mul := func(m int64) func(int64) (int64, bool) {
		return func(t int64) (int64, bool) {
			if t > math.MaxInt64/m || t < math.MinInt64/m {
				return 0, false
			}
			return t * m, true
		}
	}
	switch p {
	case "", "ns", "n":
		return div(1e6), nil
	case "us", "u", "µ":
		return div(1e3), nil
	case "ms":
		return div(1), nil
	case "s":
		return mul(1e3), nil
	case "m":
		return mul(60e3), nil
	case "h":
		return mul(3600e3), nil
	}
	return nil, fmt.Errorf("precision %s is not one of ns, us, ms, s (or n, u, m, h)", quoteTrunc(p))
}

// influxField is one parsed field of a line.
type influxField struct {
	key    string
	value  float64
	isText bool
}

// decodeInflux parses line protocol:
//
//	measurement[,tag=value...] field=value[,field=value...] [timestamp]
//
// with backslash escapes of ',', ' ' (and '=' in tags and field keys),
// double-quoted string fields, integer (i), unsigned (u), float and
// boolean field values, and '#' comment lines.
func (r *request) decodeInflux(body string, toMs func(int64) (int64, bool)) {
	var tags []model.Label
	var fields []influxField
	lineNo := 0
	for len(body) > 0 && !r.stopDecoding {
		lineNo++
		line := body
		if i := strings.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = ""
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		var meas, ts string
		var err error
		meas, tags, fields, ts, err = parseInfluxLine(line, tags[:0], fields[:0])
		if err != nil {
			r.rejectRow(lineNo, max(len(fields), 1), reasonParse, fmt.Errorf("%v: %s", err, quoteTrunc(line)))
			continue
		}
		t := r.nowMs
		if ts != "" {
			raw, err := strconv.ParseInt(ts, 10, 64)
			ok := err == nil
			if ok {
				t, ok = toMs(raw)
			}
			if !ok {
				r.rejectRow(lineNo, len(fields), reasonParse, fmt.Errorf("timestamp %s is not an integer in the request's precision", quoteTrunc(ts)))
				continue
			}
		}
		for _, f := range fields {
			if f.isText {
				r.rejectRow(lineNo, 1, reasonUnsupported, fmt.Errorf("field %s is a string; only numeric and boolean fields can be stored", quoteTrunc(f.key)))
				continue
			}
			r.startSeries()
			name := meas
			if f.key != "value" {
				name = r.concat(meas, "_", f.key)
			}
			r.addLabel(model.MetricName, name)
			for _, tag := range tags {
				r.addLabel(tag.Name, tag.Value)
			}
			r.addSample(t, f.value)
			r.finishSeries(lineNo)
		}
	}
}

var errInfluxNoFields = errors.New("line has no fields")

// parseInfluxLine splits one non-empty, non-comment line. It appends to
// tags and fields and returns them; ts is the raw timestamp or "".
func parseInfluxLine(line string, tags []model.Label, fields []influxField) (meas string, _ []model.Label, _ []influxField, ts string, err error) {
	meas, rest, sep := influxToken(line, ", ")
	if meas == "" {
		return "", tags, fields, "", errors.New("line has no measurement")
	}
	meas = influxUnescape(meas)
	if sep == 0 {
		return "", tags, fields, "", errInfluxNoFields
	}
	for sep == ',' {
		var k, v string
		k, rest, sep = influxToken(rest, "=, ")
		if sep != '=' || k == "" {
			return "", tags, fields, "", fmt.Errorf("tag %s has no value", quoteTrunc(k))
		}
		v, rest, sep = influxToken(rest, ", ")
		if v == "" {
			return "", tags, fields, "", fmt.Errorf("tag %s has an empty value", quoteTrunc(k))
		}
		tags = append(tags, model.Label{Name: influxUnescape(k), Value: influxUnescape(v)})
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return "", tags, fields, "", errInfluxNoFields
	}
	for {
		var k string
		k, rest, sep = influxToken(rest, "=, ")
		if sep != '=' || k == "" {
			return "", tags, fields, "", fmt.Errorf("field %s has no value", quoteTrunc(k))
		}
		f := influxField{key: influxUnescape(k)}
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(rest) {
				return "", tags, fields, "", fmt.Errorf("field %s: unterminated string", quoteTrunc(f.key))
			}
			f.isText = true
			rest = rest[end+1:]
			if rest != "" {
				sep, rest = rest[0], rest[1:]
			} else {
				sep = 0
			}
			if sep != 0 && sep != ',' && sep != ' ' {
				return "", tags, fields, "", fmt.Errorf("field %s: unexpected %q after string", quoteTrunc(f.key), sep)
			}
		} else {
			var v string
			v, rest, sep = influxToken(rest, ", ")
			f.value, err = influxValue(v)
			if err != nil {
				return "", tags, fields, "", fmt.Errorf("field %s: %v", quoteTrunc(f.key), err)
			}
		}
		fields = append(fields, f)
		if sep != ',' {
			break
		}
	}
	ts = strings.TrimSpace(rest)
	if strings.IndexByte(ts, ' ') >= 0 {
		return "", tags, fields, "", fmt.Errorf("unexpected text after the timestamp: %s", quoteTrunc(ts))
	}
	return meas, tags, fields, ts, nil
}

// influxToken returns s up to the first unescaped byte of stops, the rest
// after it, and that byte (0 at the end of s).
func influxToken(s, stops string) (tok, rest string, sep byte) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			continue
		}
		if strings.IndexByte(stops, c) >= 0 {
			return s[:i], s[i+1:], c
		}
	}
	return s, "", 0
}

// influxUnescape removes the backslash of \, \= \space and \\; any other
// backslash is literal, as in InfluxDB.
func influxUnescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(", =\\\"", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// influxValue parses a non-string field value.
func influxValue(v string) (float64, error) {
	switch v {
	case "t", "T", "true", "True", "TRUE":
		return 1, nil
	case "f", "F", "false", "False", "FALSE":
		return 0, nil
	case "":
		return 0, errors.New("empty value")
	}
	switch v[len(v)-1] {
	case 'i':
		n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid integer %s", quoteTrunc(v))
		}
		return float64(n), nil
	case 'u':
		n, err := strconv.ParseUint(v[:len(v)-1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid unsigned integer %s", quoteTrunc(v))
		}
		return float64(n), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %s", quoteTrunc(v))
	}
	return f, nil
}
