package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stratus-metrics/stratus/model"
)

// limitError is a validation error caused by a configured limit rather
// than by malformed data; it is counted under its own reason.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// validateLabels checks one series' labels in place and returns them
// dropped of empty values and sorted. It enforces, in order: the label
// count and length limits, UTF-8 (and the legacy character set when
// configured), then model.Labels.Validate (unique non-empty names, a metric
// name). The whole series is judged before any of it reaches a batch.
//
// ascii says that the caller has checked every label string to be ASCII,
// and so valid UTF-8.
func (h *Handler) validateLabels(ls model.Labels, ascii bool) (model.Labels, error) {
	if ls, ok := h.labelsValid(ls, ascii); ok {
		return ls, nil
	}
	// Something is wrong, or the labels are not sorted: judge them again
	// step by step, which sorts them and words the error.
	return h.checkLabels(ls)
}

// labelsValid is validateLabels' fast path: one pass that drops empty
// values in place and reports whether the remaining labels pass every rule
// of checkLabels as they are, already sorted. It says nothing about what
// is wrong; on false, checkLabels judges the labels it returns. Senders
// such as Prometheus sort their labels, so almost every series ends here;
// it replaced separate passes for the limits, the order and
// model.Labels.Validate.
func (h *Handler) labelsValid(ls model.Labels, ascii bool) (model.Labels, bool) {
	cfg := &h.cfg
	n := 0
	hasName := false
	prev := ""
	valid := true
	for _, l := range ls {
		if l.Value == "" {
			continue // Prometheus treats an empty value as an absent label.
		}
		ls[n] = l
		n++
		// Names must be non-empty and strictly increasing: sorted and
		// unique.
		if valid && (l.Name == "" || n > 1 && prev >= l.Name ||
			len(l.Name) > cfg.MaxLabelNameLength || len(l.Value) > cfg.MaxLabelValueLength ||
			!ascii && (!utf8.ValidString(l.Name) || !utf8.ValidString(l.Value))) {
			valid = false
		}
		prev = l.Name
		if l.Name == model.MetricName {
			hasName = true
			if cfg.LegacyNameValidation && !legacyMetricName(l.Value) {
				valid = false
			}
		} else if cfg.LegacyNameValidation && !legacyLabelName(l.Name) {
			valid = false
		}
	}
	return ls[:n], valid && hasName && n <= cfg.MaxLabelsPerSeries
}

// checkLabels is validateLabels' careful path; see there.
func (h *Handler) checkLabels(ls model.Labels) (model.Labels, error) {
	// Prometheus treats an empty value as an absent label.
	n := 0
	for _, l := range ls {
		if l.Value != "" {
			ls[n] = l
			n++
		}
	}
	ls = ls[:n]
	cfg := &h.cfg
	if len(ls) > cfg.MaxLabelsPerSeries {
		return ls, &limitError{fmt.Sprintf("series has %d labels, limit is %d (MaxLabelsPerSeries)", len(ls), cfg.MaxLabelsPerSeries)}
	}
	for _, l := range ls {
		if len(l.Name) > cfg.MaxLabelNameLength {
			return ls, &limitError{fmt.Sprintf("label name %s is %d bytes, limit is %d (MaxLabelNameLength)", quoteTrunc(l.Name), len(l.Name), cfg.MaxLabelNameLength)}
		}
		if len(l.Value) > cfg.MaxLabelValueLength {
			return ls, &limitError{fmt.Sprintf("label %s value %s is %d bytes, limit is %d (MaxLabelValueLength)", quoteTrunc(l.Name), quoteTrunc(l.Value), len(l.Value), cfg.MaxLabelValueLength)}
		}
		if cfg.LegacyNameValidation {
			if l.Name == model.MetricName {
				if !legacyMetricName(l.Value) {
					return ls, fmt.Errorf("metric name %s does not match [a-zA-Z_:][a-zA-Z0-9_:]* (LegacyNameValidation)", quoteTrunc(l.Value))
				}
			} else if !legacyLabelName(l.Name) {
				return ls, fmt.Errorf("label name %s does not match [a-zA-Z_][a-zA-Z0-9_]* (LegacyNameValidation)", quoteTrunc(l.Name))
			}
		}
	}
	// Senders such as Prometheus already sort; checking is cheaper than
	// sorting again.
	if !slices.IsSortedFunc(ls, func(a, b model.Label) int { return strings.Compare(a.Name, b.Name) }) {
		ls.Sort()
	}
	if err := ls.Validate(); err != nil {
		if errors.Is(err, model.ErrInvalidUTF8) {
			// Validate names the label; say which part is broken.
			for _, l := range ls {
				if !utf8.ValidString(l.Name) {
					return ls, fmt.Errorf("label name %s is not valid UTF-8", quoteTrunc(l.Name))
				}
				if !utf8.ValidString(l.Value) {
					return ls, fmt.Errorf("label %s value %s is not valid UTF-8", quoteTrunc(l.Name), quoteTrunc(l.Value))
				}
			}
		}
		return ls, err
	}
	return ls, nil
}

func legacyLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func legacyMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// maxShown bounds how much of a user's value an error message repeats, so
// that a 1 MiB label value yields a readable message.
const maxShown = 64

// quoteTrunc quotes s for a message, shortened to maxShown bytes.
func quoteTrunc(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("...(%d bytes)", len(s))
}

// describe renders a label set for a message, like model.Labels.String but
// with long values shortened and at most 12 labels shown.
func describe(ls model.Labels) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i == 12 {
			fmt.Fprintf(&b, ", ...(%d labels)", len(ls))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(l.Name) > maxShown || !utf8.ValidString(l.Name) {
			b.WriteString(quoteTrunc(l.Name))
		} else {
			b.WriteString(l.Name)
		}
		b.WriteByte('=')
		b.WriteString(quoteTrunc(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// fmtMillis renders a millisecond timestamp with its UTC time, so a user
// sees at once when seconds or nanoseconds were sent instead.
func fmtMillis(ms int64) string {
	if ms < -62135596800000 || ms > 253402300799999 { // outside years 1..9999
		return strconv.FormatInt(ms, 10)
	}
	return strconv.FormatInt(ms, 10) + " (" + time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) + ")"
}
