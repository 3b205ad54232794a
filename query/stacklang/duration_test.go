package stacklang_test

import (
	"testing"

	"github.com/stratus-metrics/stratus/query/stacklang"
)

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"30s", 30_000},
		{"5m", 300_000},
		{"5min", 300_000},
		{"1h", 3_600_000},
		{"2days", 2 * 86_400_000},
		{"1w", 7 * 86_400_000},
		{"PT1H", 3_600_000},
		{"P1DT0.5S", 86_400_500},
		{"1h30m", 5_400_000},
		{"100y", stacklang.MaxDuration},
	} {
		got, err := stacklang.ParseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDuration(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	// Counts that would overflow (1099511627775y was once accepted and
	// wrapped around to a negative duration) are errors.
	for _, bad := range []string{"", "5", "1q", "101y", "1099511627775y", "9223372036854775807ms", "P99999999W", "2562047h"} {
		if got, err := stacklang.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %d; want an error", bad, got)
		}
	}
}
