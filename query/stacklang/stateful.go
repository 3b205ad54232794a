package stacklang

import (
	"math"
	"strconv"
)

// statefulExpr is an operation whose value at a step depends on earlier
// steps: :rolling-*, :delay, :derivative, :integral, :trend, :des, :sdes.
type statefulExpr struct {
	op          string
	expr        TimeSeriesExpr
	n, minCount int     // window in steps; rolling-mean's minimum values
	window      int64   // :trend, milliseconds
	alpha, beta float64 // :des, :sdes
}

func (e *statefulExpr) String() string {
	s := e.expr.String() + ","
	switch e.op {
	case "rolling-mean":
		s += strconv.Itoa(e.n) + "," + strconv.Itoa(e.minCount) + ","
	case "trend":
		s += formatDuration(e.window) + ","
	case "des", "sdes":
		s += strconv.Itoa(e.n) + "," + formatFloat(e.alpha) + "," + formatFloat(e.beta) + ","
	case "derivative", "integral":
	default:
		s += strconv.Itoa(e.n) + ","
	}
	return s + ":" + e.op
}

func (e *statefulExpr) walk(fn func(*DataExpr)) { e.expr.walk(fn) }
func (e *statefulExpr) grouping() []string      { return e.expr.grouping() }
func (e *statefulExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	c := *e
	c.expr = e.expr.rewrite(f)
	return f(&c)
}

// preroll: windows and delays read history before the graph's start, so
// the first points of a graph are as complete as the later ones.
func (e *statefulExpr) preroll(step int64) int {
	p := e.expr.preroll(step)
	switch e.op {
	case "rolling-count", "rolling-min", "rolling-max", "rolling-mean", "rolling-sum":
		p += e.n - 1
	case "delay":
		p += e.n
	case "derivative":
		p++
	}
	return p
}

func (e *statefulExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	in, err := e.expr.eval(c)
	if err != nil {
		return nil, err
	}
	out := make([]TimeSeries, len(in))
	for i, s := range in {
		out[i] = TimeSeries{Tags: s.Tags, Label: e.op + "(" + s.Label + ")", Values: e.apply(c, s.Values)}
	}
	return out, nil
}

func (e *statefulExpr) apply(c *evalCtx, in []float64) []float64 {
	out := make([]float64, len(in))
	nan := math.NaN()
	switch e.op {
	case "rolling-count", "rolling-min", "rolling-max", "rolling-mean", "rolling-sum":
		for i := range in {
			lo := max(0, i-e.n+1)
			cnt, sum, mn, mx, vals := 0.0, 0.0, math.Inf(1), math.Inf(-1), 0
			for _, v := range in[lo : i+1] {
				if math.IsNaN(v) {
					continue
				}
				vals++
				if v != 0 {
					cnt++
				}
				sum += v
				mn, mx = math.Min(mn, v), math.Max(mx, v)
			}
			switch e.op {
			case "rolling-count":
				out[i] = cnt
			case "rolling-sum":
				out[i] = sum
			case "rolling-min":
				out[i] = mn
			case "rolling-max":
				out[i] = mx
			case "rolling-mean":
				out[i] = sum / float64(vals)
				if vals < e.minCount || vals == 0 {
					out[i] = nan
				}
			}
			if vals == 0 && e.op != "rolling-count" {
				out[i] = nan
			}
		}
	case "delay":
		for i := range out {
			if i >= e.n {
				out[i] = in[i-e.n]
			} else {
				out[i] = nan
			}
		}
	case "derivative":
		for i := range out {
			if i == 0 {
				out[i] = nan
			} else {
				out[i] = in[i] - in[i-1]
			}
		}
	case "integral":
		sum := 0.0
		for i := range out {
			if i < c.first {
				out[i] = nan
				continue
			}
			if !math.IsNaN(in[i]) {
				sum += in[i]
			}
			out[i] = sum
		}
	case "trend":
		// A moving average over the window, NaN as zero, NaN until the
		// window is full; a window below one step changes nothing.
		w := int(e.window / c.step)
		if w <= 1 {
			copy(out, in)
			break
		}
		for i := range out {
			if i < w-1 {
				out[i] = nan
				continue
			}
			sum := 0.0
			for _, v := range in[i-w+1 : i+1] {
				if !math.IsNaN(v) {
					sum += v
				}
			}
			out[i] = sum / float64(w)
		}
	case "des":
		d := des{training: e.n, alpha: e.alpha, beta: e.beta}
		d.reset()
		for i := range out {
			if i < c.first {
				out[i] = nan
				continue
			}
			out[i] = d.next(in[i])
		}
	case "sdes":
		e.slidingDes(c, in, out)
	}
	return out
}

// des is Holt's double exponential smoothing fed one value at a time, as
// Atlas's online DES: it predicts the next value from level and trend once
// it has seen `training` values, NaN before; NaN inputs are skipped.
type des struct {
	training    int
	alpha, beta float64
	seen        int
	sp, bp      float64
}

func (d *des) reset() { d.seen, d.sp, d.bp = 0, math.NaN(), math.NaN() }

func (d *des) next(v float64) float64 {
	ret := math.NaN()
	if d.seen >= d.training {
		ret = d.sp
	}
	if !math.IsNaN(v) {
		if d.seen == 0 {
			d.sp, d.bp = v, 0
		} else {
			sn := d.alpha*v + (1-d.alpha)*(d.sp+d.bp)
			d.bp = d.beta*(sn-d.sp) + (1-d.beta)*d.bp
			d.sp = sn
		}
		d.seen++
	}
	return ret
}

// slidingDes alternates two DES functions so that a prediction depends
// only on the last two training windows, which are aligned to multiples of
// the window on the time axis: the same time gets the same value whatever
// the graph's start. At the start of window k, function k%2 is reset and
// trains through windows k and k+1; during window k the function that
// started at window k-1 predicts. Window 0 has no prediction.
func (e *statefulExpr) slidingDes(c *evalCtx, in, out []float64) {
	var fs [2]des
	for i := range fs {
		fs[i] = des{training: e.n, alpha: e.alpha, beta: e.beta}
		fs[i].reset()
	}
	n := int64(e.n)
	k := -1
	for i := range out {
		out[i] = math.NaN()
		if i < c.first {
			continue
		}
		t := c.start + int64(i)*c.step
		if ((t/c.step)%n+n)%n == 0 {
			k++
			fs[k%2].reset()
		}
		if k < 0 {
			continue
		}
		fs[k%2].next(in[i])
		if k >= 1 {
			out[i] = fs[(k-1)%2].next(in[i])
		}
	}
}
