package graphapi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stratus-metrics/stratus/query/stacklang"
)

// relTime matches Atlas's relative times: a reference (now, s, e, or
// nothing for now) and an optional signed offset: now-1h, e-3h, s+30m, -2d.
var relTime = regexp.MustCompile(`^(now|s|e|)([-+])?(.*)$`)

// ParseTime parses an Atlas time parameter. Accepted: now; now-1h,
// e-3h (relative to the end), s+1h (relative to the start); epoch
// milliseconds or seconds (values below 1e11 are seconds); ISO 8601
// (2024-01-02T15:04:05Z, 2024-01-02T15:04, 2024-01-02) in zone loc when
// it carries none. refs holds the times "s" and "e" may refer to.
func ParseTime(s string, now time.Time, loc *time.Location, refs map[string]time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 1e11 && n > -1e11 {
			return time.Unix(n, 0), nil
		}
		return time.UnixMilli(n), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	m := relTime.FindStringSubmatch(s)
	// One sign only: "+-1h" is a typo, not an hour back.
	if m == nil || (m[2] == "" && m[3] != "") || (m[2] != "" && m[3] == "") || strings.ContainsAny(m[3][:min(1, len(m[3]))], "+-") {
		return time.Time{}, fmt.Errorf("time %q: want now, now-1h, e-3h, s+1h, epoch ms or s, or ISO 8601", s)
	}
	base := now
	switch m[1] {
	case "s", "e":
		t, ok := refs[m[1]]
		if !ok {
			return time.Time{}, fmt.Errorf("time %q: %q cannot refer to itself", s, m[1])
		}
		base = t
	}
	if m[2] == "" {
		return base, nil
	}
	ms, err := stacklang.ParseDuration(strings.TrimSpace(m[3]))
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %v", s, err)
	}
	if m[2] == "-" {
		ms = -ms
	}
	return base.Add(time.Duration(ms) * time.Millisecond), nil
}
