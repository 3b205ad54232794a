package model

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// MatchType is the operator of a label matcher.
type MatchType int

// The four matcher operators of PromQL.
const (
	MatchEqual     MatchType = iota // =
	MatchNotEqual                   // !=
	MatchRegexp                     // =~
	MatchNotRegexp                  // !~
)

func (t MatchType) String() string {
	switch t {
	case MatchEqual:
		return "="
	case MatchNotEqual:
		return "!="
	case MatchRegexp:
		return "=~"
	case MatchNotRegexp:
		return "!~"
	}
	return fmt.Sprintf("MatchType(%d)", int(t))
}

// Matcher selects series by one label. As in Prometheus, a series without
// the label is treated as having it with the empty value, and regular
// expressions are anchored at both ends.
//
// Regexp matchers are analysed once at construction so that common shapes
// avoid the regexp engine: a literal (`foo`) becomes an equality, an
// alternation of literals (`a|b|c`) a set lookup, `.*` matches everything,
// `.+` everything non-empty, and a literal prefix (`foo.*`, `api_.+`) is
// checked before the regexp runs.
type Matcher struct {
	Type  MatchType
	Name  string
	Value string

	re *regexp.Regexp
	// Results of regexp analysis; set only for regexp types.
	set      []string // the exact strings the regexp matches, sorted; nil if not a finite literal set
	prefix   string   // every match starts with prefix
	matchAll bool     // `.*`
	nonEmpty bool     // `.+`: matches exactly the non-empty strings
}

// NewMatcher returns a matcher, compiling the regexp of =~ and !~.
func NewMatcher(t MatchType, name, value string) (*Matcher, error) {
	m := &Matcher{Type: t, Name: name, Value: value}
	if t != MatchRegexp && t != MatchNotRegexp {
		return m, nil
	}
	// Parse the value on its own first: wrapped in ^(?s:...)$, a value with
	// unbalanced parentheses such as `a)|(b` would compile into a different,
	// unanchored expression, and errors would show the wrapping.
	if _, err := syntax.Parse(value, syntax.Perl|syntax.DotNL); err != nil {
		return nil, fmt.Errorf("label matcher %s%s%q: %w", name, t, value, err)
	}
	re, err := regexp.Compile("^(?s:" + value + ")$")
	if err != nil {
		return nil, fmt.Errorf("label matcher %s%s%q: %w", name, t, value, err)
	}
	m.re = re
	m.analyse()
	return m, nil
}

// MustNewMatcher is NewMatcher for tests and constants; it panics on error.
func MustNewMatcher(t MatchType, name, value string) *Matcher {
	m, err := NewMatcher(t, name, value)
	if err != nil {
		panic(err)
	}
	return m
}

func (m *Matcher) analyse() {
	parsed, err := syntax.Parse(m.Value, syntax.Perl|syntax.DotNL)
	if err != nil {
		return // Compile succeeded, so this cannot happen; fall back to the regexp.
	}
	parsed = parsed.Simplify()
	m.set = literalSet(parsed)
	switch {
	case isAnyChars(parsed, 0):
		m.matchAll = true
	case isAnyChars(parsed, 1):
		m.nonEmpty = true
	}
	m.prefix, _ = m.re.LiteralPrefix()
}

// literalSet returns the strings an alternation of literals matches, or nil
// when re is anything else. Case-insensitive literals are not expanded.
func literalSet(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpEmptyMatch:
		return []string{""}
	case syntax.OpCapture:
		return literalSet(re.Sub[0])
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s := literalSet(sub)
			if s == nil {
				return nil
			}
			out = append(out, s...)
		}
		slices.Sort(out)
		return slices.Compact(out)
	case syntax.OpCharClass:
		// A small class of single characters such as [ab].
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo > 16 || len(out) > 64 {
				return nil
			}
			for r := lo; r <= hi; r++ {
				out = append(out, string(r))
			}
		}
		slices.Sort(out)
		return out
	}
	return nil
}

// isAnyChars reports whether re is `.*` (min 0) or `.+` (min 1) with `.`
// matching newlines too, which is how Prometheus compiles label regexps.
func isAnyChars(re *syntax.Regexp, min int) bool {
	if re.Op == syntax.OpCapture {
		return isAnyChars(re.Sub[0], min)
	}
	var op syntax.Op
	switch min {
	case 0:
		op = syntax.OpStar
	case 1:
		op = syntax.OpPlus
	}
	return re.Op == op && len(re.Sub) == 1 && re.Sub[0].Op == syntax.OpAnyChar
}

// Matches reports whether s satisfies the matcher.
func (m *Matcher) Matches(s string) bool {
	switch m.Type {
	case MatchEqual:
		return s == m.Value
	case MatchNotEqual:
		return s != m.Value
	case MatchRegexp:
		return m.matchRegexp(s)
	case MatchNotRegexp:
		return !m.matchRegexp(s)
	}
	panic("BUG: unknown match type")
}

func (m *Matcher) matchRegexp(s string) bool {
	switch {
	case m.matchAll:
		return true
	case m.nonEmpty:
		return s != ""
	case m.set != nil:
		_, ok := slices.BinarySearch(m.set, s)
		return ok
	case m.prefix != "" && !strings.HasPrefix(s, m.prefix):
		return false
	}
	return m.re.MatchString(s)
}

// SetMatches returns the finite set of values a =~ matcher (or an =
// matcher) accepts, sorted, or nil when the set is not finite or not known.
// The index uses it to look postings up directly instead of scanning every
// value of the label.
func (m *Matcher) SetMatches() []string {
	switch m.Type {
	case MatchEqual:
		return []string{m.Value}
	case MatchRegexp:
		return m.set
	}
	return nil
}

// Prefix returns a literal prefix that every value a =~ matcher accepts
// starts with, or "". The index uses it to skip to the first candidate value.
func (m *Matcher) Prefix() string {
	if m.Type == MatchRegexp {
		return m.prefix
	}
	return ""
}

// MatchesEmpty reports whether the matcher accepts the empty string, that is
// whether it selects series that lack the label.
func (m *Matcher) MatchesEmpty() bool { return m.Matches("") }

// String renders the matcher in PromQL notation.
func (m *Matcher) String() string {
	return m.Name + m.Type.String() + strconv.Quote(m.Value)
}
