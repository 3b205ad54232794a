package ingest

import (
	"strings"
)

// otlpUnits maps UCUM units to the words Prometheus' OTLP translation
// appends to metric names.
var otlpUnits = map[string]string{
	"d": "days", "h": "hours", "min": "minutes", "s": "seconds",
	"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds",
	"By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tibibytes",
	"KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
	"m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
	"Cel": "celsius", "Hz": "hertz", "%": "percent",
}

// otlpPerUnits maps the denominator of a rate unit (By/s) to its word.
var otlpPerUnits = map[string]string{
	"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
}

// otlpMetricName translates an OTLP metric name the way Prometheus does by
// default (UnderscoreEscapingWithSuffixes): escape, then add the unit,
// "per" unit and _total (monotonic sums) or _ratio (gauges of unit 1)
// suffixes that the name does not already have.
func otlpMetricName(m *otlpMetric) string {
	name := otlpEscape(m.name, true)
	unit := m.unit
	// Drop {annotations}: {requests}/s is a rate per second.
	for {
		i := strings.IndexByte(unit, '{')
		j := strings.IndexByte(unit, '}')
		if i < 0 || j < i {
			break
		}
		unit = unit[:i] + unit[j+1:]
	}
	main, per, _ := strings.Cut(strings.TrimSpace(unit), "/")
	var parts []string
	if main != "" && main != "1" {
		word, ok := otlpUnits[main]
		if !ok {
			word = strings.Trim(otlpEscape(main, false), "_")
		}
		if word != "" {
			parts = append(parts, word)
		}
	}
	if per != "" {
		word, ok := otlpPerUnits[per]
		if !ok {
			word = strings.Trim(otlpEscape(per, false), "_")
		}
		if word != "" {
			parts = append(parts, "per", word)
		}
	}
	if len(parts) > 0 {
		suffix := strings.Join(parts, "_")
		if !strings.HasSuffix(name, suffix) {
			name += "_" + suffix
		}
	}
	switch {
	case m.kind == otlpSum && m.monotonic:
		if !strings.HasSuffix(name, "_total") {
			name += "_total"
		}
	case m.kind == otlpGauge && m.unit == "1":
		if !strings.HasSuffix(name, "_ratio") {
			name += "_ratio"
		}
	}
	return name
}

// otlpEscapeLabel escapes an attribute key into a label name: characters
// outside [a-zA-Z0-9_] become _, and a leading digit gets a key_ prefix.
func otlpEscapeLabel(key string) string {
	s := otlpEscape(key, false)
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "key_" + s
	}
	return s
}

// otlpEscape replaces characters not allowed in legacy Prometheus names
// (colons allowed in metric names only) with _, collapsing runs of _
// introduced that way, and prefixes a leading digit with _.
func otlpEscape(s string, metric bool) string {
	if otlpLegal(s, metric) {
		return s // the common case, without a copy
	}
	return otlpEscapeCopy(s, metric)
}

// otlpEscapeCopy is otlpEscape building the result.
func otlpEscapeCopy(s string, metric bool) string {
	var b strings.Builder
	b.Grow(len(s))
	lastUnderscore := false
	for _, c := range s {
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || metric && c == ':'
		if !ok {
			if !lastUnderscore {
				b.WriteByte('_')
			}
			lastUnderscore = true
			continue
		}
		b.WriteRune(c)
		lastUnderscore = c == '_'
	}
	out := b.String()
	if metric && out != "" && out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	return out
}

// otlpLegal reports whether otlpEscape would return s unchanged: a metric
// name the validator would accept as it is (legacyMetricName), or a label
// key of [a-zA-Z0-9_] only (a leading digit is the label code's to fix).
func otlpLegal(s string, metric bool) bool {
	if metric {
		return s == "" || legacyMetricName(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
