package query

import (
	"math"
	"slices"
	"unsafe"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
)

// evalBinary evaluates arithmetic, comparison and set operators between
// scalars and vectors.
func (ev *evaluator) evalBinary(e *parser.BinaryExpr) Matrix {
	lt, rt := e.LHS.Type(), e.RHS.Type()
	switch {
	case lt == parser.ValueTypeScalar && rt == parser.ValueTypeScalar:
		return ev.rangeEval(nil, func(v []Vector, _ [][]int, eh *evalHelper) Vector {
			return append(eh.out, Sample{F: scalarBinop(e.Op, v[0][0].F, v[1][0].F)})
		}, e.LHS, e.RHS)
	case lt == parser.ValueTypeVector && rt == parser.ValueTypeVector:
		if e.VectorMatching != nil && (e.VectorMatching.FillValues.LHS != nil || e.VectorMatching.FillValues.RHS != nil) {
			ev.errorf("fill modifiers are not supported")
		}
		switch e.Op {
		case parser.LAND:
			return ev.rangeEval(e.VectorMatching, func(v []Vector, sh [][]int, eh *evalHelper) Vector {
				return vectorAnd(v[0], v[1], sh[0], sh[1], eh)
			}, e.LHS, e.RHS)
		case parser.LOR:
			return ev.rangeEval(e.VectorMatching, func(v []Vector, sh [][]int, eh *evalHelper) Vector {
				return vectorOr(v[0], v[1], sh[0], sh[1], eh)
			}, e.LHS, e.RHS)
		case parser.LUNLESS:
			return ev.rangeEval(e.VectorMatching, func(v []Vector, sh [][]int, eh *evalHelper) Vector {
				return vectorUnless(v[0], v[1], sh[0], sh[1], eh)
			}, e.LHS, e.RHS)
		}
		step := func(v []Vector, sh [][]int, eh *evalHelper) Vector {
			return ev.vectorBinop(e.Op, v[0], v[1], e.VectorMatching, e.ReturnBool, sh[0], sh[1], eh)
		}
		if ev.start == ev.end || e.VectorMatching.Card != parser.CardOneToOne || len(e.VectorMatching.Include) > 0 || ev.noFastPaths {
			return ev.rangeEval(e.VectorMatching, step, e.LHS, e.RHS)
		}
		mats := []Matrix{ev.eval(e.LHS).(Matrix), ev.eval(e.RHS).(Matrix)}
		if out, ok := ev.binopOneToOne(e, mats[0], mats[1]); ok {
			return out
		}
		return ev.rangeEvalMatrices(e.VectorMatching, step, mats)
	case lt == parser.ValueTypeVector && rt == parser.ValueTypeScalar:
		return ev.rangeEval(nil, func(v []Vector, _ [][]int, eh *evalHelper) Vector {
			return vectorScalarBinop(e.Op, v[0], v[1][0].F, false, e.ReturnBool, eh)
		}, e.LHS, e.RHS)
	case lt == parser.ValueTypeScalar && rt == parser.ValueTypeVector:
		return ev.rangeEval(nil, func(v []Vector, _ [][]int, eh *evalHelper) Vector {
			return vectorScalarBinop(e.Op, v[1], v[0][0].F, true, e.ReturnBool, eh)
		}, e.LHS, e.RHS)
	}
	ev.errorf("binary operator %s between %s and %s is not supported", e.Op, lt, rt)
	return nil
}

func (eh *evalHelper) resetSigSeen() []bool {
	if cap(eh.sigSeen) < eh.numSigs {
		eh.sigSeen = make([]bool, eh.numSigs)
	} else {
		eh.sigSeen = eh.sigSeen[:eh.numSigs]
		clear(eh.sigSeen)
	}
	return eh.sigSeen
}

func vectorAnd(lhs, rhs Vector, lsig, rsig []int, eh *evalHelper) Vector {
	if len(lhs) == 0 || len(rhs) == 0 {
		return eh.out
	}
	present := eh.resetSigSeen()
	for _, s := range rsig {
		present[s] = true
	}
	for i, s := range lhs {
		if present[lsig[i]] {
			eh.out = append(eh.out, s)
		}
	}
	return eh.out
}

func vectorOr(lhs, rhs Vector, lsig, rsig []int, eh *evalHelper) Vector {
	switch {
	case len(lhs) == 0:
		return append(eh.out, rhs...)
	case len(rhs) == 0:
		return append(eh.out, lhs...)
	}
	present := eh.resetSigSeen()
	for i, s := range lhs {
		present[lsig[i]] = true
		eh.out = append(eh.out, s)
	}
	for j, s := range rhs {
		if !present[rsig[j]] {
			eh.out = append(eh.out, s)
		}
	}
	return eh.out
}

func vectorUnless(lhs, rhs Vector, lsig, rsig []int, eh *evalHelper) Vector {
	if len(lhs) == 0 || len(rhs) == 0 {
		return append(eh.out, lhs...)
	}
	present := eh.resetSigSeen()
	for _, s := range rsig {
		present[s] = true
	}
	for i, s := range lhs {
		if !present[lsig[i]] {
			eh.out = append(eh.out, s)
		}
	}
	return eh.out
}

// vectorBinop matches the samples of two vectors by signature and applies
// op to each pair. The "one" side must have unique signatures, and in
// one-to-one matching every signature may match only once.
func (ev *evaluator) vectorBinop(op parser.ItemType, lhs, rhs Vector, m *parser.VectorMatching, returnBool bool, lsig, rsig []int, eh *evalHelper) Vector {
	if len(lhs) == 0 || len(rhs) == 0 {
		return eh.out
	}
	if m.Card == parser.CardOneToMany {
		lhs, rhs = rhs, lhs
		lsig, rsig = rsig, lsig
	}
	if cap(eh.rightSig) < eh.numSigs {
		eh.rightSig = make([]Sample, eh.numSigs)
	}
	rightSig := eh.rightSig[:eh.numSigs]
	rightPresent := eh.resetSigSeen()
	for i, rs := range rhs {
		o := rsig[i]
		if rightPresent[o] {
			side := "right"
			if m.Card == parser.CardOneToMany {
				side = "left"
			}
			d1, d2 := rs.Metric.String(), rightSig[o].Metric.String()
			if d1 > d2 {
				d1, d2 = d2, d1
			}
			ev.errorf("found duplicate series for the match group %s on the %s hand-side of the operation: [%s, %s];many-to-many matching not allowed: matching labels must be unique on one side",
				matchLabels(rs.Metric, m.On, m.MatchingLabels), side, d1, d2)
		}
		rightSig[o] = rs
		rightPresent[o] = true
	}
	var matchedOnce []bool
	var matched map[int]map[uint64]struct{}
	if m.Card == parser.CardOneToOne {
		matchedOnce = make([]bool, eh.numSigs)
	} else {
		matched = map[int]map[uint64]struct{}{}
	}
	for i, ls := range lhs {
		o := lsig[i]
		if !rightPresent[o] {
			continue
		}
		rs := rightSig[o]
		fl, fr := ls.F, rs.F
		if m.Card == parser.CardOneToMany {
			fl, fr = fr, fl
		}
		v, keep := vectorElemBinop(op, fl, fr)
		if returnBool {
			v = 0
			if keep {
				v = 1
			}
		}
		metric := eh.cachedResultMetric(ls.Metric, rs.Metric, op, m, returnBool)
		if m.Card == parser.CardOneToOne {
			if matchedOnce[o] {
				ev.errorf("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
			}
			matchedOnce[o] = true
		} else {
			h := metric.Hash()
			set := matched[o]
			if set == nil {
				set = map[uint64]struct{}{}
				matched[o] = set
			}
			if _, dup := set[h]; dup {
				ev.errorf("multiple matches for labels: grouping labels must ensure unique matches")
			}
			set[h] = struct{}{}
		}
		if !keep && !returnBool {
			continue
		}
		eh.out = append(eh.out, Sample{Metric: metric, T: ls.T, F: v})
	}
	return eh.out
}

// binopOneToOne evaluates an arithmetic or comparison operator with
// one-to-one matching over a range series by series instead of step by
// step, when no step could fail: every signature has at most one series
// on each side, and the result labels of the matched pairs are distinct.
// Otherwise it reports false, and the general path, which reports the
// errors at the steps where they occur, evaluates the operation.
//
// A pair's result points are written over its left series' points, which
// nothing reads again: the operation allocates no points. The result
// series come in the general path's order: by their first step, then by
// the left-hand side's order.
func (ev *evaluator) binopOneToOne(e *parser.BinaryExpr, lhs, rhs Matrix) (Matrix, bool) {
	sigs, numSigs := signatureOrdinals(e.VectorMatching, []Matrix{lhs, rhs})
	right := make([]int32, numSigs) // the right-hand series of a signature, plus one
	for j, o := range sigs[1] {
		if right[o] != 0 {
			return nil, false
		}
		right[o] = int32(j + 1)
	}
	left := make([]bool, numSigs)
	for _, o := range sigs[0] {
		if left[o] && right[o] != 0 {
			return nil, false
		}
		left[o] = true
	}
	eh := &evalHelper{}
	type pair struct{ l, r int }
	var pairs []pair
	metrics := make(map[uint64]struct{})
	var out Matrix
	for i, o := range sigs[0] {
		if right[o] == 0 {
			continue
		}
		r := int(right[o] - 1)
		metric := resultMetric(lhs[i].Metric, rhs[r].Metric, e.Op, e.VectorMatching, e.ReturnBool, eh)
		h := metric.Hash()
		if _, dup := metrics[h]; dup {
			return nil, false
		}
		metrics[h] = struct{}{}
		pairs = append(pairs, pair{i, r})
		out = append(out, Series{Metric: metric})
	}
	k := 0
	used := make([]bool, len(lhs)) // left-hand series whose points are the result's
	for pi, p := range pairs {
		ev.tick()
		lf, rf := lhs[p.l].Floats, rhs[p.r].Floats
		w, j := 0, 0
		for _, lp := range lf {
			for j < len(rf) && rf[j].T < lp.T {
				j++
			}
			if j == len(rf) {
				break
			}
			if rf[j].T != lp.T {
				continue
			}
			v, keep := vectorElemBinop(e.Op, lp.F, rf[j].F)
			if e.ReturnBool {
				v, keep = btos(keep), true
			}
			if keep {
				lf[w] = FPoint{T: lp.T, F: v}
				w++
			}
		}
		if w > 0 {
			out[k] = Series{Metric: out[pi].Metric, Floats: lf[:w]} // the capacity stays for recycling
			used[p.l] = true
			k++
		}
	}
	out = out[:k]
	// The other points are garbage now: recycle their arrays.
	recycleMatrix(rhs)
	dead := lhs[:0]
	for i, s := range lhs {
		if !used[i] {
			dead = append(dead, s)
		}
	}
	recycleMatrix(dead)
	if out == nil {
		out = Matrix{}
	}
	slices.SortStableFunc(out, func(a, b Series) int { return cmpInt(a.Floats[0].T, b.Floats[0].T) })
	return out, true
}

// matchLabels returns the labels a match group is identified by, for
// error messages.
func matchLabels(ls model.Labels, on bool, names []string) model.Labels {
	if !on {
		names = append(slices.Clone(names), model.MetricName, "__type__", "__unit__")
	}
	var out model.Labels
	for _, l := range ls {
		if slices.Contains(names, l.Name) == on {
			out = append(out, l)
		}
	}
	return out
}

// resultMetric computes the labels of a binary operation's result from the
// left ("many") side: without the metric name for arithmetic and bool
// comparisons, restricted to the matching labels for one-to-one matching,
// plus the group_left/group_right labels copied from the other side.
func resultMetric(lhs, rhs model.Labels, op parser.ItemType, m *parser.VectorMatching, returnBool bool, eh *evalHelper) model.Labels {
	eh.lb.Reset(lhs)
	if returnBool || changesMetricSchema(op) {
		eh.lb.Del(model.MetricName, "__type__", "__unit__")
	}
	if m.Card == parser.CardOneToOne {
		if m.On {
			for _, l := range lhs {
				if !slices.Contains(m.MatchingLabels, l.Name) {
					eh.lb.Del(l.Name)
				}
			}
		} else {
			eh.lb.Del(m.MatchingLabels...)
		}
	}
	for _, n := range m.Include {
		if v := rhs.Get(n); v != "" {
			eh.lb.Set(n, v)
		} else {
			eh.lb.Del(n)
		}
	}
	return eh.lb.Labels()
}

// metricPairKey identifies a pair of input label sets by their backing
// arrays: across the steps of one binary operation, a series' samples all
// carry the same label slice.
type metricPairKey struct {
	l, r       *model.Label
	lLen, rLen int
}

// cachedResultMetric returns resultMetric for the pair, computing it once
// per pair and binary operation rather than at every step, where building
// the labels dominated a join's allocations.
func (eh *evalHelper) cachedResultMetric(lhs, rhs model.Labels, op parser.ItemType, m *parser.VectorMatching, returnBool bool) model.Labels {
	k := metricPairKey{unsafe.SliceData(lhs), unsafe.SliceData(rhs), len(lhs), len(rhs)}
	if k.l == nil || k.r == nil {
		return resultMetric(lhs, rhs, op, m, returnBool, eh)
	}
	if ls, ok := eh.metrics[k]; ok {
		return ls
	}
	if eh.metrics == nil {
		eh.metrics = map[metricPairKey]model.Labels{}
	}
	ls := resultMetric(lhs, rhs, op, m, returnBool, eh)
	eh.metrics[k] = ls
	return ls
}

func changesMetricSchema(op parser.ItemType) bool {
	switch op {
	case parser.ADD, parser.SUB, parser.DIV, parser.MUL, parser.POW, parser.MOD, parser.ATAN2:
		return true
	}
	return false
}

// vectorScalarBinop applies op between every sample and a scalar; swap
// means the scalar is on the left.
func vectorScalarBinop(op parser.ItemType, lhs Vector, scalar float64, swap, returnBool bool, eh *evalHelper) Vector {
	for _, s := range lhs {
		lf, rf := s.F, scalar
		if swap {
			lf, rf = rf, lf
		}
		v, keep := vectorElemBinop(op, lf, rf)
		if op.IsComparisonOperator() && swap {
			v = rf
		}
		if returnBool {
			v = 0
			if keep {
				v = 1
			}
			keep = true
		}
		if !keep {
			continue
		}
		s.F = v
		if changesMetricSchema(op) || returnBool {
			s.Metric = dropMetricName(s.Metric)
		}
		eh.out = append(eh.out, s)
	}
	return eh.out
}

func scalarBinop(op parser.ItemType, l, r float64) float64 {
	switch op {
	case parser.ADD:
		return l + r
	case parser.SUB:
		return l - r
	case parser.MUL:
		return l * r
	case parser.DIV:
		return l / r
	case parser.POW:
		return math.Pow(l, r)
	case parser.MOD:
		return math.Mod(l, r)
	case parser.EQLC:
		return btos(l == r)
	case parser.NEQ:
		return btos(l != r)
	case parser.GTR:
		return btos(l > r)
	case parser.LSS:
		return btos(l < r)
	case parser.GTE:
		return btos(l >= r)
	case parser.LTE:
		return btos(l <= r)
	case parser.ATAN2:
		return math.Atan2(l, r)
	}
	panic(evalError{errUnsupportedOp(op)})
}

// vectorElemBinop returns the result of op and whether a comparison holds
// (always true for arithmetic).
func vectorElemBinop(op parser.ItemType, l, r float64) (float64, bool) {
	switch op {
	case parser.ADD:
		return l + r, true
	case parser.SUB:
		return l - r, true
	case parser.MUL:
		return l * r, true
	case parser.DIV:
		return l / r, true
	case parser.POW:
		return math.Pow(l, r), true
	case parser.MOD:
		return math.Mod(l, r), true
	case parser.EQLC:
		return l, l == r
	case parser.NEQ:
		return l, l != r
	case parser.GTR:
		return l, l > r
	case parser.LSS:
		return l, l < r
	case parser.GTE:
		return l, l >= r
	case parser.LTE:
		return l, l <= r
	case parser.ATAN2:
		return math.Atan2(l, r), true
	}
	panic(evalError{errUnsupportedOp(op)})
}

func btos(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func errUnsupportedOp(op parser.ItemType) error {
	return &unsupportedOpError{op: op}
}

type unsupportedOpError struct{ op parser.ItemType }

func (e *unsupportedOpError) Error() string { return "operator " + e.op.String() + " is not supported" }
