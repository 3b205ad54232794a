package datagen

import (
	"math"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

func TestSeriesUniqueSortedValid(t *testing.T) {
	ls := Series(3 * SeriesPerHost)
	seen := map[string]bool{}
	for i, l := range ls {
		if err := l.Validate(); err != nil {
			t.Fatalf("series %d %s: %v", i, l, err)
		}
		k := l.Bytes()
		if seen[k] {
			t.Fatalf("series %d %s is a duplicate", i, l)
		}
		seen[k] = true
	}
	if got := Series(5); !model.Equal(got[4], ls[4]) {
		t.Fatalf("Series(5)[4] = %s, want %s", got[4], ls[4])
	}
}

func TestSamplesDeterministic(t *testing.T) {
	ls := Series(2 * SeriesPerHost)
	for i, l := range ls {
		a := Samples(l, i, 1_700_000_000_000, 10_000, 50)
		b := Samples(l, i, 1_700_000_000_000, 10_000, 50)
		if len(a) != 50 {
			t.Fatalf("series %d: got %d samples, want 50", i, len(a))
		}
		for j := range a {
			if a[j].T != b[j].T || math.Float64bits(a[j].V) != math.Float64bits(b[j].V) {
				t.Fatalf("series %d sample %d differs between runs: %v vs %v", i, j, a[j], b[j])
			}
			if j > 0 && a[j].T <= a[j-1].T {
				t.Fatalf("series %d sample %d: timestamp %d not after %d", i, j, a[j].T, a[j-1].T)
			}
		}
	}
}

func TestMix(t *testing.T) {
	ls := Series(SeriesPerHost)
	var constant, counters int
	for i, l := range ls {
		s := Samples(l, i, 0, 10_000, 720)
		same, up := true, true
		for j := 1; j < len(s); j++ {
			if s[j].V != s[0].V {
				same = false
			}
			if s[j].V < s[j-1].V {
				up = false
			}
		}
		if same {
			constant++
		} else if up {
			counters++
		}
	}
	t.Logf("%d series per host: %d constant, %d monotonic", len(ls), constant, counters)
	if f := float64(constant) / float64(len(ls)); f < 0.05 || f > 0.25 {
		t.Errorf("constant fraction %.2f, want about 0.1", f)
	}
}
