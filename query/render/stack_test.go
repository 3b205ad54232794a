package render

import (
	"math"
	"slices"
	"testing"
)

var nan = math.NaN()

func TestStacker(t *testing.T) {
	s := newStacker(4)
	type layer struct{ lower, upper []float64 }
	var got []layer
	for _, v := range [][]float64{
		{1, 2, nan, 4},  // NaN counts as zero
		{10, nan, 3, 1}, // stacks on the first layer
		{-1, -2, 5, -3}, // negatives stack down from zero, positives keep going up
		{-4, 1, nan},    // shorter than the grid: the rest is zero
	} {
		lo, hi := s.add(v)
		got = append(got, layer{lo, hi})
	}
	want := []layer{
		{[]float64{0, 0, 0, 0}, []float64{1, 2, 0, 4}},
		{[]float64{1, 2, 0, 4}, []float64{11, 2, 3, 5}},
		{[]float64{0, 0, 3, 0}, []float64{-1, -2, 8, -3}},
		{[]float64{-1, 2, 8, 5}, []float64{-5, 3, 8, 5}},
	}
	for i := range want {
		if !slices.Equal(got[i].lower, want[i].lower) || !slices.Equal(got[i].upper, want[i].upper) {
			t.Errorf("layer %d = %v..%v, want %v..%v", i, got[i].lower, got[i].upper, want[i].lower, want[i].upper)
		}
	}
}

// TestStackTopIsSum checks the invariant a reader relies on: the top edge
// of a positive stack is the sum of its layers, whatever is missing.
func TestStackTopIsSum(t *testing.T) {
	layers := [][]float64{wave(50, 1, 10, 5), wave(50, 2, 20, 5), wave(50, 3, 5, 2)}
	layers[1][7] = nan
	s := newStacker(50)
	var top []float64
	for _, l := range layers {
		_, top = s.add(l)
	}
	for i := range top {
		sum := 0.0
		for _, l := range layers {
			if !math.IsNaN(l[i]) {
				sum += l[i]
			}
		}
		if math.Abs(top[i]-sum) > 1e-9 {
			t.Fatalf("top[%d] = %g, want %g", i, top[i], sum)
		}
	}
}

func TestComputeStats(t *testing.T) {
	st := ComputeStats([]float64{nan, 3, 1, math.Inf(1), 5, nan})
	if st.Min != 1 || st.Max != 5 || st.Avg != 3 || st.Last != 5 || st.Count != 3 {
		t.Errorf("stats = %+v, want min 1 max 5 avg 3 last 5 count 3", st)
	}
	if st := ComputeStats([]float64{nan}); !math.IsNaN(st.Avg) || st.Count != 0 {
		t.Errorf("stats of no data = %+v, want NaN", st)
	}
}
