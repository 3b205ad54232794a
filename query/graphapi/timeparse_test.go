package graphapi_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/query/graphapi"
)

// FuzzParseTime checks that Atlas times parse without panicking, and that
// a relative time lands on the right side of its reference, the same
// distance away whichever reference (now, s or e) it names.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"now", "now-1h", "e-3h", "s+30m", "now-1w", "e-PT30M", "-2d", "now+1y", "e-1h30m",
		"1704067200000", "1704067200", "2024-01-01T01:02:03Z", "2024-01-01T01:02", "2024-01-01",
		"now-1099511627775y", "e-P9999999W", "s-", "x-1h",
	} {
		f.Add(s)
	}
	now := time.Date(2024, 1, 1, 3, 0, 0, 0, time.UTC)
	e := now.Add(-90 * time.Minute)
	s := e.Add(-6 * time.Hour)
	refs := map[string]time.Time{"e": e, "s": s}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := graphapi.ParseTime(in, now, time.UTC, refs)
		if err != nil {
			if !strings.Contains(err.Error(), "time") {
				t.Fatalf("ParseTime(%q) error %q does not say what was wrong", in, err)
			}
			return
		}
		if _, err := strconv.ParseInt(in, 10, 64); err == nil {
			return // epoch seconds or milliseconds, maybe negative
		}
		ref, rest := now, in
		switch {
		case strings.HasPrefix(in, "now"):
			rest = in[3:]
		case strings.HasPrefix(in, "e"):
			ref, rest = e, in[1:]
		case strings.HasPrefix(in, "s"):
			ref, rest = s, in[1:]
		}
		if rest == "" || (rest[0] != '-' && rest[0] != '+') {
			return // absolute, or the reference itself
		}
		if rest[0] == '-' && got.After(ref) || rest[0] == '+' && got.Before(ref) {
			t.Fatalf("ParseTime(%q) = %v: on the wrong side of its reference %v", in, got, ref)
		}
		// The same offset from now is the same distance.
		fromNow, err := graphapi.ParseTime("now"+rest, now, time.UTC, refs)
		if err != nil || fromNow.Sub(now) != got.Sub(ref) {
			t.Fatalf("ParseTime(%q) = %v (%v from its reference), but now%s = %v, %v", in, got, got.Sub(ref), rest, fromNow, err)
		}
	})
}
