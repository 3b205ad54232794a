package stacklang

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/stratus-metrics/stratus/model"
)

// nameKey is the Atlas tag that carries the metric name; Stratus stores it
// as __name__ (ingest maps it so), and this package translates both ways.
const nameKey = "name"

// storeKey maps an Atlas tag key to the label name in the store.
func storeKey(k string) string {
	if k == nameKey {
		return model.MetricName
	}
	return k
}

// atlasKey maps a label name in the store to the Atlas tag key.
func atlasKey(k string) string {
	if k == model.MetricName {
		return nameKey
	}
	return k
}

// Query is a predicate on a series' tags, built by the query vocabulary
// (:eq, :re, :and, ...). Keys are Atlas keys: "name" is the metric name.
type Query interface {
	// Matches reports whether a series with labels ls is selected.
	Matches(ls model.Labels) bool
	// String is the query in stack-language form, e.g. "name,x,:eq".
	String() string
	// pushdown returns matchers that every selected series satisfies, for
	// the store's index; Matches is checked on what they select.
	pushdown() []*model.Matcher
	// label is a short legend text: "name=x and status=5xx".
	label() string
}

type trueQuery struct{}
type falseQuery struct{}

// eqQuery and the others below compare the value of key k; a series
// without k matches none of them.
type eqQuery struct{ k, v string }
type inQuery struct {
	k  string
	vs []string
}
type hasQuery struct{ k string }
type reQuery struct {
	k, pattern string
	ic         bool
	re         *regexp.Regexp
}
type strQuery struct{ k, v, op string } // contains, starts, ends
type cmpQuery struct{ k, v, op string } // lt, le, gt, ge
type andQuery struct{ a, b Query }
type orQuery struct{ a, b Query }
type notQuery struct{ q Query }

func (trueQuery) Matches(model.Labels) bool  { return true }
func (falseQuery) Matches(model.Labels) bool { return false }

func get(ls model.Labels, k string) (string, bool) {
	sk := storeKey(k)
	for _, l := range ls {
		if l.Name == sk {
			return l.Value, true
		}
	}
	return "", false
}

func (q eqQuery) Matches(ls model.Labels) bool {
	v, ok := get(ls, q.k)
	return ok && v == q.v
}
func (q inQuery) Matches(ls model.Labels) bool {
	v, ok := get(ls, q.k)
	return ok && slices.Contains(q.vs, v)
}
func (q hasQuery) Matches(ls model.Labels) bool { _, ok := get(ls, q.k); return ok }
func (q reQuery) Matches(ls model.Labels) bool {
	v, ok := get(ls, q.k)
	return ok && q.re.MatchString(v)
}
func (q strQuery) Matches(ls model.Labels) bool {
	v, ok := get(ls, q.k)
	if !ok {
		return false
	}
	switch q.op {
	case "contains":
		return strings.Contains(v, q.v)
	case "starts":
		return strings.HasPrefix(v, q.v)
	}
	return strings.HasSuffix(v, q.v)
}
func (q cmpQuery) Matches(ls model.Labels) bool {
	v, ok := get(ls, q.k)
	if !ok {
		return false
	}
	c := strings.Compare(v, q.v)
	switch q.op {
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "gt":
		return c > 0
	}
	return c >= 0
}
func (q andQuery) Matches(ls model.Labels) bool { return q.a.Matches(ls) && q.b.Matches(ls) }
func (q orQuery) Matches(ls model.Labels) bool  { return q.a.Matches(ls) || q.b.Matches(ls) }
func (q notQuery) Matches(ls model.Labels) bool { return !q.q.Matches(ls) }

func (trueQuery) String() string  { return ":true" }
func (falseQuery) String() string { return ":false" }
func (q eqQuery) String() string  { return q.k + "," + q.v + ",:eq" }
func (q inQuery) String() string {
	return q.k + ",(," + strings.Join(q.vs, ",") + ",),:in"
}
func (q hasQuery) String() string { return q.k + ",:has" }
func (q reQuery) String() string {
	if q.ic {
		return q.k + "," + q.pattern + ",:reic"
	}
	return q.k + "," + q.pattern + ",:re"
}
func (q strQuery) String() string { return q.k + "," + q.v + ",:" + q.op }
func (q cmpQuery) String() string { return q.k + "," + q.v + ",:" + q.op }
func (q andQuery) String() string { return q.a.String() + "," + q.b.String() + ",:and" }
func (q orQuery) String() string  { return q.a.String() + "," + q.b.String() + ",:or" }
func (q notQuery) String() string { return q.q.String() + ",:not" }

func (trueQuery) label() string  { return "true" }
func (falseQuery) label() string { return "false" }
func (q eqQuery) label() string  { return q.k + "=" + q.v }
func (q inQuery) label() string  { return q.k + " in (" + strings.Join(q.vs, ",") + ")" }
func (q hasQuery) label() string { return "has(" + q.k + ")" }
func (q reQuery) label() string  { return q.k + "~/^" + q.pattern + "/" }
func (q strQuery) label() string { return q.k + " " + q.op + " " + q.v }
func (q cmpQuery) label() string {
	return q.k + map[string]string{"lt": "<", "le": "<=", "gt": ">", "ge": ">="}[q.op] + q.v
}
func (q andQuery) label() string { return q.a.label() + " and " + q.b.label() }
func (q orQuery) label() string  { return "(" + q.a.label() + ") or (" + q.b.label() + ")" }
func (q notQuery) label() string { return "not(" + q.q.label() + ")" }

func mustMatcher(t model.MatchType, k, v string) *model.Matcher {
	m, err := model.NewMatcher(t, storeKey(k), v)
	if err != nil {
		// Every pattern below is built from quoted literals or a regexp
		// that compiled when the query was made.
		panic("BUG: matcher " + k + " " + v + ": " + err.Error())
	}
	return m
}

func (trueQuery) pushdown() []*model.Matcher { return nil }
func (falseQuery) pushdown() []*model.Matcher {
	return []*model.Matcher{mustMatcher(model.MatchRegexp, model.MetricName, "")}
}
func (q eqQuery) pushdown() []*model.Matcher {
	return []*model.Matcher{mustMatcher(model.MatchEqual, q.k, q.v)}
}
func (q inQuery) pushdown() []*model.Matcher {
	quoted := make([]string, len(q.vs))
	for i, v := range q.vs {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return []*model.Matcher{mustMatcher(model.MatchRegexp, q.k, strings.Join(quoted, "|"))}
}
func (q hasQuery) pushdown() []*model.Matcher {
	return []*model.Matcher{mustMatcher(model.MatchRegexp, q.k, ".+")}
}
func (q reQuery) pushdown() []*model.Matcher {
	flags := ""
	if q.ic {
		flags = "i"
	}
	// Atlas anchors :re at the start only; our matchers anchor both ends.
	p := "(?" + flags + "s:" + q.pattern + ")(?s:.*)"
	if _, err := regexp.Compile("^(?:" + p + ")$"); err != nil {
		return hasQuery{q.k}.pushdown()
	}
	return []*model.Matcher{mustMatcher(model.MatchRegexp, q.k, p)}
}
func (q strQuery) pushdown() []*model.Matcher {
	v := regexp.QuoteMeta(q.v)
	p := map[string]string{"contains": ".*" + v + ".*", "starts": v + ".*", "ends": ".*" + v}[q.op]
	return []*model.Matcher{mustMatcher(model.MatchRegexp, q.k, "(?s)"+p)}
}
func (q cmpQuery) pushdown() []*model.Matcher { return hasQuery{q.k}.pushdown() }
func (q andQuery) pushdown() []*model.Matcher {
	return append(slices.Clip(q.a.pushdown()), q.b.pushdown()...)
}

// pushdown of an OR keeps only what both sides select by the same key
// with an equality or a set: name,a,:eq,name,b,:eq,:or selects
// __name__=~"a|b". Anything else is checked after selection.
func (q orQuery) pushdown() []*model.Matcher {
	ka, va, oka := valueSet(q.a)
	kb, vb, okb := valueSet(q.b)
	if !oka || !okb || ka != kb {
		return nil
	}
	return inQuery{k: ka, vs: append(slices.Clip(va), vb...)}.pushdown()
}
func (q notQuery) pushdown() []*model.Matcher { return nil }

// valueSet reports whether q selects a finite set of values of one key.
func valueSet(q Query) (string, []string, bool) {
	switch x := q.(type) {
	case eqQuery:
		return x.k, []string{x.v}, true
	case inQuery:
		return x.k, x.vs, true
	case orQuery:
		ka, va, oka := valueSet(x.a)
		kb, vb, okb := valueSet(x.b)
		if oka && okb && ka == kb {
			return ka, append(slices.Clip(va), vb...), true
		}
	}
	return "", nil, false
}

// selectMatchers returns the matchers to select q's candidate series with:
// its pushdown, or every series with a name when it has none.
func selectMatchers(q Query) []*model.Matcher {
	ms := q.pushdown()
	if len(ms) == 0 {
		ms = []*model.Matcher{mustMatcher(model.MatchRegexp, model.MetricName, ".+")}
	}
	return ms
}

// exactKeys returns the keys q fixes to one value with :eq under :and,
// which Atlas keeps as tags of an aggregate.
func exactKeys(q Query, dst map[string]string) {
	switch x := q.(type) {
	case eqQuery:
		dst[x.k] = x.v
	case andQuery:
		exactKeys(x.a, dst)
		exactKeys(x.b, dst)
	}
}

func newReQuery(k, pattern string, ic bool) (Query, error) {
	p := "^(?:" + pattern + ")"
	if ic {
		p = "(?i)" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %v", pattern, err)
	}
	return reQuery{k: k, pattern: pattern, ic: ic, re: re}, nil
}

// ParseQuery parses an expression that must leave exactly one query on
// the stack, such as the q parameter of the tags API.
func ParseQuery(expr string) (Query, error) {
	in := &interp{vars: map[string]entry{}}
	toks := Tokenize(expr)
	if err := in.run(toks); err != nil {
		return nil, err
	}
	if len(in.stack) != 1 {
		tok := Token{}
		if len(toks) > 0 {
			tok = toks[len(toks)-1]
		}
		return nil, errAt(tok, "leaves %d items on the stack; a query must leave exactly one", len(in.stack))
	}
	q, ok := asQuery(in.stack[0])
	if !ok {
		return nil, errAt(in.stack[0].tok, "leaves %s; expected a query", describe(in.stack[0].v))
	}
	return q, nil
}

// Matchers returns matchers that select a superset of the series q
// matches (exactly them when q is a conjunction of :eq, :in, :re, :has,
// :contains, :starts and :ends), for APIs that can only pass matchers to
// the store.
func Matchers(q Query) []*model.Matcher { return selectMatchers(q) }
