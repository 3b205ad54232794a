package query

import (
	"math"
	"slices"
	"sort"
)

// kahanInc adds inc to sum with Neumaier's compensation c, the summation
// Prometheus uses so that results match to the last bit. The explicit
// float64 conversions forbid fused multiply-add across the call, which
// would change rounding.
func kahanInc(inc, sum, c float64) (float64, float64) {
	inc, sum, c = float64(inc), float64(sum), float64(c)
	t := sum + inc
	switch {
	case math.IsInf(t, 0):
		c = 0
	case math.Abs(sum) >= math.Abs(inc):
		c += (sum - t) + inc
	default:
		c += (inc - t) + sum
	}
	return float64(t), float64(c)
}

// nanFirst sorts floats ascending with the same comparison Prometheus
// uses (a NaN is "less" than anything), so that sort.Sort permutes ties
// and NaNs identically.
type nanFirst []float64

func (s nanFirst) Len() int      { return len(s) }
func (s nanFirst) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s nanFirst) Less(i, j int) bool {
	if math.IsNaN(s[i]) {
		return true
	}
	return s[i] < s[j]
}

// quantile returns the φ-quantile of values by linear interpolation
// between the closest ranks; it sorts values in place.
func quantile(q float64, values []float64) float64 {
	if len(values) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(1)
	}
	sort.Sort(nanFirst(values))
	n := float64(len(values))
	rank := q * (n - 1)
	lower := math.Max(0, math.Floor(rank))
	upper := math.Min(n-1, lower+1)
	weight := rank - math.Floor(rank)
	if weight == 0 {
		return values[int(lower)]
	}
	return values[int(lower)]*(1-weight) + values[int(upper)]*weight
}

// bucket is one classic histogram bucket: cumulative count of
// observations <= upperBound.
type bucket struct {
	upperBound, count float64
}

func sortBuckets(b []bucket) {
	slices.SortFunc(b, func(x, y bucket) int {
		switch {
		case x.upperBound < y.upperBound:
			return -1
		case x.upperBound > y.upperBound:
			return 1
		}
		return 0
	})
}

// bucketQuantile estimates the q-quantile from classic buckets as
// Prometheus does: it needs a +Inf bucket, merges buckets with the same
// bound, forces counts to be monotonic (reported by the second result) and
// interpolates linearly inside the bucket holding the rank.
func bucketQuantile(q float64, buckets []bucket) (float64, bool) {
	switch {
	case math.IsNaN(q):
		return math.NaN(), false
	case q < 0:
		return math.Inf(-1), false
	case q > 1:
		return math.Inf(1), false
	case len(buckets) == 0:
		return math.NaN(), false
	}
	sortBuckets(buckets)
	if !math.IsInf(buckets[len(buckets)-1].upperBound, 1) {
		return math.NaN(), false
	}
	buckets = coalesceBuckets(buckets)
	forced := ensureMonotonic(buckets, 1e-12)
	if len(buckets) < 2 {
		return math.NaN(), forced
	}
	observations := buckets[len(buckets)-1].count
	if observations == 0 {
		return math.NaN(), forced
	}
	rank := q * observations
	b := sort.Search(len(buckets)-1, func(i int) bool { return buckets[i].count >= rank })
	switch {
	case b == len(buckets)-1:
		return buckets[len(buckets)-2].upperBound, forced
	case b == 0 && buckets[0].upperBound <= 0:
		return buckets[0].upperBound, forced
	}
	var start float64
	end := buckets[b].upperBound
	count := buckets[b].count
	if b > 0 {
		start = buckets[b-1].upperBound
		count -= buckets[b-1].count
		rank -= buckets[b-1].count
	}
	return start + (end-start)*(rank/count), forced
}

// bucketFraction estimates the fraction of observations between lower and
// upper from classic buckets, interpolating linearly within buckets.
func bucketFraction(lower, upper float64, buckets []bucket) float64 {
	if len(buckets) == 0 {
		return math.NaN()
	}
	sortBuckets(buckets)
	if !math.IsInf(buckets[len(buckets)-1].upperBound, 1) {
		return math.NaN()
	}
	buckets = coalesceBuckets(buckets)
	count := buckets[len(buckets)-1].count
	if count == 0 || math.IsNaN(lower) || math.IsNaN(upper) {
		return math.NaN()
	}
	if lower >= upper {
		return 0
	}
	var rank, lowerRank, upperRank float64
	var lowerSet, upperSet bool
	lowerBound := 0.0
	if buckets[0].upperBound <= 0 {
		lowerBound = math.Inf(-1)
	}
	for i, b := range buckets {
		if i > 0 {
			lowerBound = buckets[i-1].upperBound
		}
		upperBound := b.upperBound
		interpolate := func(v float64) float64 {
			if lowerBound == math.Inf(-1) {
				return b.count
			}
			return rank + (b.count-rank)*(v-lowerBound)/(upperBound-lowerBound)
		}
		if !lowerSet && lowerBound >= lower {
			lowerRank, lowerSet = rank, true
		}
		if !upperSet && lowerBound >= upper {
			upperRank, upperSet = rank, true
		}
		if lowerSet && upperSet {
			break
		}
		if !lowerSet && lowerBound < lower && upperBound > lower {
			lowerRank, lowerSet = interpolate(lower), true
		}
		if !upperSet && lowerBound < upper && upperBound > upper {
			upperRank, upperSet = interpolate(upper), true
		}
		if lowerSet && upperSet {
			break
		}
		rank = b.count
	}
	if !lowerSet || lowerRank > count {
		lowerRank = count
	}
	if !upperSet || upperRank > count {
		upperRank = count
	}
	return (upperRank - lowerRank) / count
}

func coalesceBuckets(buckets []bucket) []bucket {
	last := buckets[0]
	i := 0
	for _, b := range buckets[1:] {
		if b.upperBound == last.upperBound {
			last.count += b.count
		} else {
			buckets[i] = last
			last = b
			i++
		}
	}
	buckets[i] = last
	return buckets[:i+1]
}

// ensureMonotonic raises any bucket count below its predecessor's (which
// happens when buckets are scraped or rated at slightly different times)
// and treats differences within tolerance as equal.
func ensureMonotonic(buckets []bucket, tolerance float64) (forced bool) {
	prev := buckets[0].count
	for i := 1; i < len(buckets); i++ {
		curr := buckets[i].count
		if curr == prev {
			continue
		}
		if almostEqual(prev, curr, tolerance) {
			buckets[i].count = prev
			continue
		}
		if curr < prev {
			buckets[i].count = prev
			forced = true
			continue
		}
		prev = curr
	}
	return forced
}

var minNormal = math.Float64frombits(0x0010000000000000)

func almostEqual(a, b, epsilon float64) bool {
	if math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	if a == b {
		return true
	}
	absSum := math.Abs(a) + math.Abs(b)
	diff := math.Abs(a - b)
	if a == 0 || b == 0 || absSum < minNormal {
		return diff < epsilon*minNormal
	}
	return diff/math.Min(absSum, math.MaxFloat64) < epsilon
}
