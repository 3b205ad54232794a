package stacklang

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	simpleDuration = regexp.MustCompile(`^(\d+)(ms|s|seconds?|m|min|minutes?|h|hours?|d|days?|w|weeks?|y|years?)$`)
	isoDuration    = regexp.MustCompile(`^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
)

var unitMs = map[string]int64{
	"ms": 1, "s": 1000, "second": 1000, "seconds": 1000,
	"m": 60_000, "min": 60_000, "minute": 60_000, "minutes": 60_000,
	"h": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
	"d": 86_400_000, "day": 86_400_000, "days": 86_400_000,
	"w": 7 * 86_400_000, "week": 7 * 86_400_000, "weeks": 7 * 86_400_000,
	"y": 365 * 86_400_000, "year": 365 * 86_400_000, "years": 365 * 86_400_000,
}

// MaxDuration is the longest duration ParseDuration accepts, in
// milliseconds: 100 years, far beyond any retention, and small enough
// that a time plus or minus it neither overflows a time.Duration nor
// leaves the years a time.Time can print.
const MaxDuration = 100 * 365 * 86_400_000

// ParseDuration parses an Atlas duration in milliseconds: a count and a
// unit (30s, 5m, 5min, 1h, 1d, 1w, 1y), ISO 8601 (PT1H, P1D, P1W), or a Go
// duration (1h30m).
func ParseDuration(s string) (int64, error) {
	if m := simpleDuration.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > MaxDuration/unitMs[m[2]] {
			return 0, fmt.Errorf("duration %q out of range (at most %s)", s, formatDuration(MaxDuration))
		}
		return n * unitMs[m[2]], nil
	}
	if m := isoDuration.FindStringSubmatch(strings.ToUpper(s)); m != nil && s != "P" && !strings.HasSuffix(strings.ToUpper(s), "T") {
		var ms float64
		for i, mult := range []float64{7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000} {
			if m[i+1] == "" {
				continue
			}
			v, err := strconv.ParseFloat(m[i+1], 64)
			if err != nil {
				return 0, fmt.Errorf("duration %q: %v", s, err)
			}
			ms += v * mult
		}
		if ms > MaxDuration {
			return 0, fmt.Errorf("duration %q out of range (at most %s)", s, formatDuration(MaxDuration))
		}
		return int64(ms), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d.Milliseconds() > MaxDuration || d.Milliseconds() < -MaxDuration {
			return 0, fmt.Errorf("duration %q out of range (at most %s)", s, formatDuration(MaxDuration))
		}
		return d.Milliseconds(), nil
	}
	return 0, fmt.Errorf("invalid duration %q: want a number and a unit (5m, 1h, 1d, 1w) or ISO 8601 (PT1H)", s)
}

// formatDuration writes ms in the largest unit that divides it: 1w, 3h, 90s.
func formatDuration(ms int64) string {
	neg := ""
	if ms < 0 {
		neg, ms = "-", -ms
	}
	for _, u := range []struct {
		n    string
		size int64
	}{{"w", 7 * 86_400_000}, {"d", 86_400_000}, {"h", 3_600_000}, {"m", 60_000}, {"s", 1000}} {
		if ms != 0 && ms%u.size == 0 {
			return neg + strconv.FormatInt(ms/u.size, 10) + u.n
		}
	}
	return neg + strconv.FormatInt(ms, 10) + "ms"
}
