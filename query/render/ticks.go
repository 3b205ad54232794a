package render

import (
	"math"
	"strconv"
	"time"
)

// tick is a position on an axis. Major ticks carry a label and a major grid
// line; minor ticks only a faint grid line.
type tick struct {
	v     float64 // value for a value axis, Unix ms for the time axis
	major bool
	label string
}

// niceSteps are the mantissas of value tick steps: round numbers a reader
// can add up in their head.
var niceSteps = [...]float64{1, 2, 2.5, 5, 10}

// niceStep returns the smallest step of the form m*10^k, m in niceSteps,
// that divides span into at most n intervals.
func niceStep(span float64, n int) float64 {
	raw := span / float64(max(n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range niceSteps {
		if s := m * mag; s >= raw*(1-1e-9) {
			return s
		}
	}
	return 10 * mag
}

// valueRange is the data extent of one axis before it becomes a scale.
type valueRange struct {
	lo, hi float64
	ok     bool // at least one finite value
}

func (r *valueRange) add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if !r.ok {
		r.lo, r.hi, r.ok = v, v, true
		return
	}
	r.lo = min(r.lo, v)
	r.hi = max(r.hi, v)
}

// linearScale picks the bounds and ticks of a linear axis. Bounds the user
// fixed are kept; free bounds are rounded out to the next major tick, so the
// top and bottom of the plot carry a label. n is the most major intervals
// that fit the axis length.
func linearScale(r valueRange, fixedLo, fixedHi *float64, n int) (lo, hi float64, ticks []tick) {
	lo, hi = 0, 1
	if r.ok {
		lo, hi = r.lo, r.hi
	}
	if fixedLo != nil {
		lo = *fixedLo
	}
	if fixedHi != nil {
		hi = *fixedHi
	}
	if hi <= lo {
		// A flat line: center it, as a graph of a constant should show.
		switch {
		case fixedLo != nil:
			hi = lo + max(math.Abs(lo), 1)
		case fixedHi != nil:
			lo = hi - max(math.Abs(hi), 1)
		default:
			d := math.Abs(lo) / 2
			if d == 0 {
				d = 1
			}
			lo, hi = lo-d, hi+d
		}
	}
	step := niceStep(hi-lo, n)
	if fixedLo == nil {
		lo = math.Floor(lo/step+1e-9) * step
	}
	if fixedHi == nil {
		hi = math.Ceil(hi/step-1e-9) * step
	}
	first := int64(math.Ceil(lo/step - 1e-9))
	last := int64(math.Floor(hi/step + 1e-9))
	vals := make([]float64, 0, last-first+1)
	for k := first; k <= last; k++ {
		// Multiply rather than accumulate, so 0.1+0.1+0.1 does not creep.
		vals = append(vals, float64(k)*step)
	}
	labels := tickLabels(vals, step)
	for i, v := range vals {
		ticks = append(ticks, tick{v: v, major: true, label: labels[i]})
		if i+1 < len(vals) {
			ticks = append(ticks, tick{v: v + step/2})
		}
	}
	return lo, hi, ticks
}

// logScale picks the bounds and ticks of a base-10 axis: decades are major
// ticks, and 2..9 times a decade are minor ticks while few decades show.
func logScale(r valueRange, fixedLo, fixedHi *float64) (lo, hi float64, ticks []tick) {
	lo, hi = 1, 10
	if r.ok {
		lo, hi = r.lo, r.hi
	}
	if fixedLo != nil {
		lo = *fixedLo
	}
	if fixedHi != nil {
		hi = *fixedHi
	}
	if hi <= lo {
		hi = lo * 10
	}
	if fixedLo == nil {
		lo = math.Pow(10, math.Floor(math.Log10(lo)+1e-9))
	}
	if fixedHi == nil {
		hi = math.Pow(10, math.Ceil(math.Log10(hi)-1e-9))
	}
	d0 := int(math.Floor(math.Log10(lo) + 1e-9))
	d1 := int(math.Ceil(math.Log10(hi) - 1e-9))
	// Label every k-th decade so that labels do not crowd a tall range.
	every := max(1, (d1-d0+9)/10)
	minors := d1-d0 <= 4
	for d := d0; d <= d1; d++ {
		base := math.Pow(10, float64(d))
		if base >= lo*(1-1e-9) && base <= hi*(1+1e-9) {
			t := tick{v: base, major: true}
			if (d-d0)%every == 0 {
				t.label = string(appendSI(nil, base, 1))
			}
			ticks = append(ticks, t)
		}
		if !minors {
			continue
		}
		for m := 2; m <= 9; m++ {
			if v := float64(m) * base; v > lo && v < hi {
				ticks = append(ticks, tick{v: v})
			}
		}
	}
	return lo, hi, ticks
}

const (
	second = int64(time.Second / time.Millisecond)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
	week   = 7 * day
)

// timeSteps are the major and minor tick spacings of the time axis, each
// major a boundary a reader would name ("every 15 minutes", "every 6 hours").
var timeSteps = [...]struct{ major, minor int64 }{
	{second, second / 5},
	{2 * second, second / 2},
	{5 * second, second},
	{10 * second, 2 * second},
	{15 * second, 5 * second},
	{30 * second, 10 * second},
	{minute, 10 * second},
	{2 * minute, 30 * second},
	{5 * minute, minute},
	{10 * minute, 2 * minute},
	{15 * minute, 5 * minute},
	{20 * minute, 5 * minute},
	{30 * minute, 10 * minute},
	{hour, 15 * minute},
	{2 * hour, 30 * minute},
	{3 * hour, hour},
	{4 * hour, hour},
	{6 * hour, 2 * hour},
	{8 * hour, 2 * hour},
	{12 * hour, 3 * hour},
	{day, 6 * hour},
	{2 * day, 12 * hour},
	{week, day},
	{2 * week, 2 * day},
	{4 * week, week},
}

// mondayOffset moves week ticks from the epoch's Thursday to Monday 00:00 UTC.
const mondayOffset = 4 * day

// timeTicks returns the ticks of the time axis for [start, end) with at most
// n major ticks, aligned to UTC boundaries of the major step.
func timeTicks(start, end int64, n int) []tick {
	span := end - start
	st := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if span/s.major <= int64(max(n, 1)) {
			st = s
			break
		}
	}
	// Steps beyond the table grow by whole multiples of its last entry.
	for span/st.major > int64(max(n, 1)) {
		st.major *= 2
		st.minor *= 2
	}
	var align int64
	if st.major%week == 0 {
		align = mondayOffset
	}
	var ticks []tick
	for t := ceilTo(start-align, st.minor) + align; t < end; t += st.minor {
		tk := tick{v: float64(t)}
		if (t-align)%st.major == 0 {
			tk.major = true
			tk.label = timeLabel(t, st.major)
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

// ceilTo rounds t up to a multiple of m, correctly for negative t.
func ceilTo(t, m int64) int64 {
	r := t % m
	if r == 0 {
		return t
	}
	if r < 0 {
		return t - r
	}
	return t - r + m
}

// timeLabel formats a major tick: seconds when the step needs them, the
// hour otherwise, and the date at midnight so that a multi-day graph says
// which day is which.
func timeLabel(t, step int64) string {
	tm := time.UnixMilli(t).UTC()
	switch {
	case step%day == 0 || t%day == 0:
		return tm.Format("Jan 02")
	case step%minute != 0:
		return tm.Format("15:04:05")
	default:
		return tm.Format("15:04")
	}
}

// formatDuration writes a frame or step the way Atlas's legend footer does:
// 3h, 1d, 90s, 1h30m.
func formatDuration(ms int64) string {
	if ms <= 0 {
		return "0s"
	}
	units := [...]struct {
		n    int64
		name string
	}{{week, "w"}, {day, "d"}, {hour, "h"}, {minute, "m"}, {second, "s"}, {1, "ms"}}
	var b []byte
	for _, u := range units {
		if q := ms / u.n; q > 0 {
			b = strconv.AppendInt(b, q, 10)
			b = append(b, u.name...)
			ms -= q * u.n
		}
	}
	return string(b)
}
