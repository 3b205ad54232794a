package render

import "math"

// stacker accumulates the Stack series of one axis. Positive values stack
// upward from zero and negative values downward, separately, as in Atlas:
// a negative layer then never hides a positive one, and the top edge is the
// sum of the positive parts.
type stacker struct {
	pos, neg []float64
}

func newStacker(n int) *stacker {
	return &stacker{pos: make([]float64, n), neg: make([]float64, n)}
}

// add stacks vals on the layers added before and returns the layer's lower
// and upper edge per grid point. NaN counts as zero: the layer is flat
// there, and the layers above keep their place instead of falling to zero.
func (s *stacker) add(vals []float64) (lower, upper []float64) {
	lower = make([]float64, len(s.pos))
	upper = make([]float64, len(s.pos))
	for i := range s.pos {
		v := 0.0
		if i < len(vals) && !math.IsNaN(vals[i]) && !math.IsInf(vals[i], 0) {
			v = vals[i]
		}
		if v >= 0 {
			lower[i] = s.pos[i]
			s.pos[i] += v
			upper[i] = s.pos[i]
		} else {
			lower[i] = s.neg[i]
			s.neg[i] += v
			upper[i] = s.neg[i]
		}
	}
	return lower, upper
}

// Stats are the summary values the legend shows for a series, computed from
// its finite values. Every field is NaN when the series has none.
type Stats struct {
	Min, Max, Avg, Last float64
	// Count is the number of finite values.
	Count int
}

// ComputeStats summarizes vals. Last is the last finite value rather than
// the last value, because the newest step of a live graph is often still
// empty and "Last: NaN" says nothing.
func ComputeStats(vals []float64) Stats {
	st := Stats{Min: math.NaN(), Max: math.NaN(), Avg: math.NaN(), Last: math.NaN()}
	sum := 0.0
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if st.Count == 0 {
			st.Min, st.Max = v, v
		} else {
			st.Min = min(st.Min, v)
			st.Max = max(st.Max, v)
		}
		sum += v
		st.Last = v
		st.Count++
	}
	if st.Count > 0 {
		st.Avg = sum / float64(st.Count)
	}
	return st
}
