package stacklang

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// percentileKey is the tag of Spectator's percentile timers and
// distribution summaries: T or D followed by the bucket index in four hex
// digits (T0042).
const percentileKey = "percentile"

// bucketValues are the upper bounds of Spectator's PercentileBuckets: 1, 2,
// 3, then from each power of 4 upwards in steps of a third of it, up to
// the next power of 4 minus a step, for the whole int64 range; the last
// bucket is MaxInt64. There are 276.
var bucketValues = func() []int64 {
	b := []int64{1, 2, 3}
	for exp := 2; exp < 64; exp += 2 {
		cur := int64(1) << exp
		delta := cur / 3
		next := (cur << 2) - delta
		// For 4^31, cur<<2 wraps to 0 as Java's long does, so Spectator
		// adds no buckets there: the next is MaxInt64.
		for cur < next && cur > 0 {
			b = append(b, cur)
			cur += delta
		}
	}
	return append(b, math.MaxInt64)
}()

// BucketValue returns the upper bound of Spectator percentile bucket i
// (nanoseconds for timers), for tests and tools that publish buckets.
func BucketValue(i int) int64 { return bucketValues[i] }

// BucketIndex returns the Spectator percentile bucket that value v falls in.
func BucketIndex(v int64) int {
	i, _ := slices.BinarySearch(bucketValues, v)
	return min(i, len(bucketValues)-1)
}

// estimatePercentiles interpolates the percentiles pcts (sorted, 0..100)
// from per-bucket counts linearly within the bucket, as Spectator's
// PercentileBuckets.percentiles does. With no counts the results are NaN.
func estimatePercentiles(counts []float64, pcts, results []float64) {
	total := 0.0
	for _, c := range counts {
		total += c
	}
	pi := 0
	prev, prevP, prevB := 0.0, 0.0, 0.0
	for i, c := range counts {
		next := prev + c
		nextP := 100 * next / total
		nextB := float64(bucketValues[i])
		for pi < len(pcts) && nextP >= pcts[pi] {
			f := (pcts[pi] - prevP) / (nextP - prevP)
			results[pi] = f*(nextB-prevB) + prevB
			pi++
		}
		if pi >= len(pcts) {
			return
		}
		prev, prevP, prevB = next, nextP, nextB
	}
	for ; pi < len(pcts); pi++ {
		f := (pcts[pi] - prevP) / (100 - prevP)
		results[pi] = f*(float64(math.MaxInt64)-prevB) + prevB
	}
}

// percentilesExpr estimates percentiles of a Spectator percentile timer or
// distribution summary from its bucket counters: data sums them per
// bucket (grouped by percentile and keys), each step's rates are turned
// into counts per step, and each requested percentile becomes a line
// tagged percentile=" 90.0" (padded as Atlas does so legends line up).
// Timer buckets (T) are nanoseconds and the result is in seconds.
type percentilesExpr struct {
	data *DataExpr // grouped by keys + percentile
	keys []string  // the caller's grouping, without percentile
	pcts []float64 // sorted, distinct
}

func (e *percentilesExpr) String() string {
	ps := make([]string, len(e.pcts))
	for i, p := range e.pcts {
		ps[i] = formatFloat(p)
	}
	s := e.data.Query.String()
	if len(e.keys) > 0 {
		s += ",(," + strings.Join(e.keys, ",") + ",),:by"
	}
	s += ",(," + strings.Join(ps, ",") + ",),:percentiles"
	if e.data.Offset != 0 {
		s += "," + formatDuration(e.data.Offset) + ",:offset"
	}
	return s
}

func (e *percentilesExpr) walk(fn func(*DataExpr)) { fn(e.data) }
func (e *percentilesExpr) grouping() []string {
	return append(slices.Clone(e.keys), percentileKey)
}
func (e *percentilesExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	return f(e)
}
func (e *percentilesExpr) preroll(int64) int { return 0 }

// pctLabel formats a percentile as Atlas does: "  5.0", " 50.0", "99.9".
func pctLabel(p float64) string {
	s := strconv.FormatFloat(p, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	switch {
	case p < 10:
		return "  " + s
	case p < 100:
		return " " + s
	}
	return s
}

// parseBucket reads a percentile tag value: its kind (T or D) and index.
func parseBucket(v string) (byte, int, error) {
	if len(v) < 2 || (v[0] != 'T' && v[0] != 'D') {
		return 0, 0, fmt.Errorf("percentile tag %q: want T or D and a hex bucket index", v)
	}
	i, err := strconv.ParseUint(v[1:], 16, 16)
	if err != nil || int(i) >= len(bucketValues) {
		return 0, 0, fmt.Errorf("percentile tag %q: bad bucket index", v)
	}
	return v[0], int(i), nil
}

func (e *percentilesExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	in, err := e.data.eval(c)
	if err != nil {
		return nil, err
	}
	type grp struct {
		tags    map[string]string
		label   string
		kind    byte
		buckets map[int][]float64
	}
	groups := map[string]*grp{}
	var order []string
	for _, s := range in {
		pv, ok := s.Tags[percentileKey]
		if !ok {
			continue
		}
		kind, idx, err := parseBucket(pv)
		if err != nil {
			return nil, err
		}
		k, _ := groupKey(e.keys, s.Tags)
		g := groups[k]
		if g == nil {
			tags := make(map[string]string, len(s.Tags))
			for tk, tv := range s.Tags {
				if tk != percentileKey {
					tags[tk] = tv
				}
			}
			label := e.data.Query.label()
			if len(e.keys) > 0 {
				label = keyLabel(e.keys, s.Tags)
			}
			g = &grp{tags: tags, label: label, kind: kind, buckets: map[int][]float64{}}
			groups[k] = g
			order = append(order, k)
		}
		if _, dup := g.buckets[idx]; dup {
			return nil, fmt.Errorf("percentile bucket %s appears twice in one group", pv)
		}
		g.buckets[idx] = s.Values
	}
	slices.Sort(order)
	// Inputs are rates per second; counts per step weigh the buckets.
	mult := float64(c.step) / 1000
	counts := make([]float64, len(bucketValues))
	results := make([]float64, len(e.pcts))
	var out []TimeSeries
	for _, k := range order {
		g := groups[k]
		conv := 1.0
		if g.kind == 'T' {
			conv = 1e-9
		}
		lines := make([][]float64, len(e.pcts))
		for j := range lines {
			lines[j] = make([]float64, c.n)
		}
		for i := range c.n {
			clear(counts)
			for idx, vals := range g.buckets {
				if v := vals[i]; !math.IsNaN(v) {
					counts[idx] = v * mult
				}
			}
			estimatePercentiles(counts, e.pcts, results)
			for j, r := range results {
				lines[j][i] = r * conv
			}
		}
		for j, p := range e.pcts {
			tags := make(map[string]string, len(g.tags)+1)
			for tk, tv := range g.tags {
				tags[tk] = tv
			}
			pl := pctLabel(p)
			tags[percentileKey] = pl
			out = append(out, TimeSeries{Tags: tags, Label: "percentile(" + g.label + ", " + pl + ")", Values: lines[j]})
		}
	}
	return out, nil
}

// sampleCountExpr is :sample-count: the rate of samples of a percentile
// timer or distribution summary whose bucket lies within [min, max]
// (seconds for timers).
type sampleCountExpr struct {
	data     *DataExpr // grouped by percentile
	min, max float64
}

func (e *sampleCountExpr) String() string {
	return e.data.Query.String() + "," + formatFloat(e.min) + "," + formatFloat(e.max) + ",:sample-count"
}
func (e *sampleCountExpr) walk(fn func(*DataExpr)) { fn(e.data) }
func (e *sampleCountExpr) grouping() []string      { return nil }
func (e *sampleCountExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	return f(e)
}
func (e *sampleCountExpr) preroll(int64) int { return 0 }

func (e *sampleCountExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	in, err := e.data.eval(c)
	if err != nil {
		return nil, err
	}
	vals := c.nan()
	for _, s := range in {
		pv, ok := s.Tags[percentileKey]
		if !ok {
			continue
		}
		kind, idx, err := parseBucket(pv)
		if err != nil {
			return nil, err
		}
		conv := 1.0
		if kind == 'T' {
			conv = 1e-9
		}
		lo := 0.0
		if idx > 0 {
			lo = float64(bucketValues[idx-1]) * conv
		}
		hi := float64(bucketValues[idx]) * conv
		if lo < e.min || hi > e.max {
			continue
		}
		for i, v := range s.Values {
			vals[i] = addNaN(vals[i], v)
		}
	}
	label := "sample-count(" + e.data.Query.label() + ", " + formatFloat(e.min) + ", " + formatFloat(e.max) + ")"
	tags := map[string]string{}
	exactKeys(e.data.Query, tags)
	return []TimeSeries{{Tags: tags, Label: label, Values: vals}}, nil
}
