package index

import (
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/stratus-metrics/stratus/model"
)

// Select returns the ids of the series that satisfy all matchers, with the
// semantics of Prometheus's PostingsForMatchers: a series without a label
// is treated as having it with the empty value. A matcher that rejects the
// empty string (l="a", l=~".+", l!="") selects series having a matching
// value, and those lists are intersected; a matcher that accepts it
// (l="", l!="a", l=~"a|") selects every series except those having a
// non-matching value, and those lists are subtracted, from all postings
// when no matcher intersects. With no matchers, Select returns every series.
//
// The result is sorted and must not be modified: it may share memory with
// the index (see the package documentation).
func (ix *MemIndex) Select(ms ...*model.Matcher) Postings {
	ix.rlock()
	defer ix.mu.RUnlock()

	var its, nots []Postings
	for _, m := range ms {
		p, subtract := ix.postingsForMatcherLocked(m)
		switch {
		case subtract:
			if len(p) > 0 {
				nots = append(nots, p)
			}
		case len(p) == 0:
			return nil
		default:
			its = append(its, p)
		}
	}

	var out Postings
	owned := false // out is a fresh slice, not one of the index's lists
	if len(its) == 0 {
		out = ix.all
	} else {
		// Intersect the shortest lists first, so each step is bounded by the
		// smallest result so far and the long lists are galloped through.
		slices.SortFunc(its, func(a, b Postings) int { return len(a) - len(b) })
		out = its[0]
		for _, p := range its[1:] {
			out = Intersect(out, p)
			owned = true
			if len(out) == 0 {
				return nil
			}
		}
	}
	for _, p := range nots {
		if !intersects(out, p) {
			continue
		}
		if owned {
			// Reuse out as the destination: AppendWithout writes position
			// i only after reading it, never ahead of the read cursor.
			out = appendWithoutInPlace(out, p)
		} else {
			out = Without(out, p)
			owned = true
		}
		if len(out) == 0 {
			return nil
		}
	}
	if len(out) == 0 {
		return nil
	}
	return slices.Clip(out)
}

// appendWithoutInPlace removes the ids of b from a, reusing a's memory; a
// must be a slice the caller owns.
func appendWithoutInPlace(a, b Postings) Postings {
	n, j := 0, 0
	for _, x := range a {
		j = gallop(b, j, x)
		if j < len(b) && b[j] == x {
			continue
		}
		a[n] = x
		n++
	}
	return a[:n]
}

// postingsForMatcherLocked resolves one matcher. With subtract false, the
// result is the series the matcher selects; with subtract true, it is the
// series the matcher excludes (those having a value it rejects), for a
// matcher that accepts the empty string and so selects series lacking the
// label. The result may be one of the index's lists.
func (ix *MemIndex) postingsForMatcherLocked(m *model.Matcher) (p Postings, subtract bool) {
	matchesEmpty := m.MatchesEmpty()
	ln := ix.names[m.Name]
	if ln == nil {
		// No series has the label, so every series has the empty value.
		if matchesEmpty {
			return nil, true
		}
		return nil, false
	}

	// Work with the positive form of the matcher (= or =~), which has the
	// lookup shortcuts: a negated matcher selects exactly the series with
	// a value its positive form rejects. Stored values are never empty, so
	// only the matcher's answer on "" decides whether series without the
	// label are in.
	pos := m
	negated := m.Type == model.MatchNotEqual || m.Type == model.MatchNotRegexp
	if negated {
		inv := *m
		if m.Type == model.MatchNotEqual {
			inv.Type = model.MatchEqual
		} else {
			inv.Type = model.MatchRegexp
		}
		pos = &inv
	}
	matched, all := ln.matchingLocked(pos)

	// The series with a value accepted by m, and those with a value m
	// rejects, are each either matched or its complement within ln.series.
	switch {
	case !negated && !matchesEmpty: // l="a", l=~"a.+"
		return matched, false
	case !negated && matchesEmpty: // l="", l=~"a|", l=~".*"
		if all {
			return nil, true
		}
		return without(ln.series, matched), true
	case negated && !matchesEmpty: // l!="", l!~"", l!~".*"
		if all {
			return nil, false
		}
		return without(ln.series, matched), false
	default: // l!="a", l!~"a.*"
		return matched, true
	}
}

// without is Without that returns a itself when b removes nothing.
func without(a, b Postings) Postings {
	if len(b) == 0 {
		return a
	}
	return Without(a, b)
}

// matchingLocked returns the series whose value of ln satisfies m, which is
// an = or =~ matcher, and whether that is every series having the label.
// It avoids running m over every value where it can: equality and finite
// alternations look their values up, `.*` and `.+` match everything
// stored, and a literal prefix narrows the scan to a range of the sorted
// values.
func (ln *labelName) matchingLocked(m *model.Matcher) (Postings, bool) {
	if set := m.SetMatches(); set != nil {
		var lists []Postings
		for _, v := range set {
			if p, ok := ln.values[v]; ok {
				lists = append(lists, p)
			}
		}
		switch len(lists) {
		case 0:
			return nil, false
		case 1:
			return lists[0], len(lists[0]) == len(ln.series)
		}
		u := Union(lists...)
		return u, len(u) == len(ln.series)
	}
	if m.Type == model.MatchEqual {
		return nil, false // SetMatches covers every = matcher; unreachable
	}
	if matchesAnyNonEmpty(m.Value) {
		return ln.series, true
	}

	var lists []Postings
	scan := func(vs []string) {
		for _, v := range vs {
			if m.Matches(v) {
				lists = append(lists, ln.values[v])
			}
		}
	}
	if prefix := m.Prefix(); prefix != "" {
		scanPrefix := func(vs []string) {
			i, _ := slices.BinarySearch(vs, prefix)
			j := i
			for j < len(vs) && strings.HasPrefix(vs[j], prefix) {
				j++
			}
			scan(vs[i:j])
		}
		scanPrefix(ln.sorted)
		scanPrefix(ln.recent)
	} else {
		scan(ln.sorted)
		scan(ln.recent)
	}
	if len(lists) == 1 {
		return lists[0], len(lists[0]) == len(ln.series)
	}
	if len(lists) == len(ln.values) {
		return ln.series, true
	}
	return Union(lists...), false
}

// matchesAnyNonEmpty reports whether regexp re (as a label matcher compiles
// it, with `.` matching newlines) is `.*` or `.+`, which accept every
// non-empty value. Parsing costs about a microsecond, far less than running
// the regexp over the values of a large label.
func matchesAnyNonEmpty(re string) bool {
	parsed, err := syntax.Parse(re, syntax.Perl|syntax.DotNL)
	if err != nil {
		return false
	}
	parsed = parsed.Simplify()
	for parsed.Op == syntax.OpCapture {
		parsed = parsed.Sub[0]
	}
	return (parsed.Op == syntax.OpStar || parsed.Op == syntax.OpPlus) &&
		len(parsed.Sub) == 1 && parsed.Sub[0].Op == syntax.OpAnyChar
}
