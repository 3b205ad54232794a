package render

import (
	"slices"
	"testing"
	"time"
)

func majorLabels(ts []tick) []string {
	var out []string
	for _, t := range ts {
		if t.major {
			out = append(out, t.label)
		}
	}
	return out
}

func TestLinearScale(t *testing.T) {
	f := Bound
	for _, tc := range []struct {
		name           string
		r              valueRange
		min, max       *float64
		n              int
		wantLo, wantHi float64
		want           []string
	}{
		{"rounds out to ticks", valueRange{3, 97, true}, nil, nil, 5, 0, 100, []string{"0", "20", "40", "60", "80", "100"}},
		{"kilo", valueRange{1100, 3300, true}, nil, nil, 7, 1000, 3500, []string{"1.0k", "1.5k", "2.0k", "2.5k", "3.0k", "3.5k"}},
		{"milli", valueRange{0.004, 0.033, true}, nil, nil, 4, 0, 0.04, []string{"0", "10m", "20m", "30m", "40m"}},
		{"mega with 2.5 steps", valueRange{0, 9.1e6, true}, nil, nil, 4, 0, 10e6, []string{"0", "2.5M", "5.0M", "7.5M", "10.0M"}},
		{"negative", valueRange{-42, 17, true}, nil, nil, 6, -50, 20, []string{"-50", "-40", "-30", "-20", "-10", "0", "10", "20"}},
		{"fixed bounds kept", valueRange{3, 97, true}, f(10), f(90), 4, 10, 90, []string{"20", "40", "60", "80"}},
		{"constant centered", valueRange{42, 42, true}, nil, nil, 5, 20, 70, []string{"20", "30", "40", "50", "60", "70"}},
		{"zero constant", valueRange{0, 0, true}, nil, nil, 4, -1, 1, []string{"-1.0", "-0.5", "0", "0.5", "1.0"}},
		{"no data", valueRange{}, nil, nil, 5, 0, 1, []string{"0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, ticks := linearScale(tc.r, tc.min, tc.max, tc.n)
			if lo != tc.wantLo || hi != tc.wantHi {
				t.Errorf("bounds = [%g, %g], want [%g, %g]", lo, hi, tc.wantLo, tc.wantHi)
			}
			if got := majorLabels(ticks); !slices.Equal(got, tc.want) {
				t.Errorf("labels = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLogScale(t *testing.T) {
	lo, hi, ticks := logScale(valueRange{3, 4500, true}, nil, nil)
	if lo != 1 || hi != 10000 {
		t.Errorf("bounds = [%g, %g], want [1, 10000]", lo, hi)
	}
	if got, want := majorLabels(ticks), []string{"1", "10", "100", "1k", "10k"}; !slices.Equal(got, want) {
		t.Errorf("labels = %q, want %q", got, want)
	}
	minor := 0
	for _, tk := range ticks {
		if !tk.major {
			minor++
		}
	}
	if minor != 4*8 {
		t.Errorf("%d minor ticks, want 32 (2..9 per decade)", minor)
	}
}

func TestTimeTicks(t *testing.T) {
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	for _, tc := range []struct {
		name       string
		start, end string
		n          int
		want       []string
	}{
		{"3h in 7", "2024-01-01T00:00:00Z", "2024-01-01T03:00:00Z", 7, []string{"Jan 01", "00:30", "01:00", "01:30", "02:00", "02:30"}},
		{"unaligned start", "2024-01-01T10:07:00Z", "2024-01-01T11:07:00Z", 7, []string{"10:10", "10:20", "10:30", "10:40", "10:50", "11:00"}},
		{"1d crosses midnight", "2024-01-01T12:00:00Z", "2024-01-02T12:00:00Z", 7, []string{"12:00", "16:00", "20:00", "Jan 02", "04:00", "08:00"}},
		{"seconds", "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", 7, []string{"Jan 01", "00:00:10", "00:00:20", "00:00:30", "00:00:40", "00:00:50"}},
		{"weeks start on monday", "2024-01-01T00:00:00Z", "2024-02-12T00:00:00Z", 7, []string{"Jan 01", "Jan 08", "Jan 15", "Jan 22", "Jan 29", "Feb 05"}},
		{"days", "2024-01-01T00:00:00Z", "2024-01-06T00:00:00Z", 7, []string{"Jan 01", "Jan 02", "Jan 03", "Jan 04", "Jan 05"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ticks := timeTicks(at(tc.start), at(tc.end), tc.n)
			if got := majorLabels(ticks); !slices.Equal(got, tc.want) {
				t.Errorf("labels = %q, want %q", got, tc.want)
			}
			for i := 1; i < len(ticks); i++ {
				if ticks[i].v <= ticks[i-1].v {
					t.Fatalf("ticks not increasing at %d", i)
				}
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for ms, want := range map[int64]string{3 * hour: "3h", day: "1d", 90 * second: "1m30s", 2*week + day: "2w1d", 250: "250ms", 0: "0s"} {
		if got := formatDuration(ms); got != want {
			t.Errorf("formatDuration(%d) = %q, want %q", ms, got, want)
		}
	}
}
