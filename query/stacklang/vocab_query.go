package stacklang

// The query vocabulary: predicates on tags. In comparisons and :and/:or,
// two plain strings (or two queries) make a query; anything else falls
// through to the math word of the same name, as Atlas resolves them.

var vocabulary = map[string]word{}

func init() {
	for name, w := range queryWords {
		vocabulary[name] = w
	}
	for _, m := range []map[string]word{dataWords, stackWords, mathWords, styleWords, statefulWords, filterWords} {
		for name, w := range m {
			if _, dup := vocabulary[name]; dup {
				panic("BUG: word :" + name + " defined twice")
			}
			vocabulary[name] = w
		}
	}
}

// Words returns the names of every word the interpreter knows, without
// the leading colon.
func Words() []string {
	out := make([]string, 0, len(vocabulary))
	for k := range vocabulary {
		out = append(out, k)
	}
	return out
}

// keyValueWord builds a query from "key value --".
func keyValueWord(mk func(k, v string) (Query, error)) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "key value"); err != nil {
			return err
		}
		ke, ve := in.peek(1), in.peek(0)
		k, ok := asString(ke)
		if !ok {
			return errAt(tok, "expects a key string, got %s", describe(ke.v))
		}
		v, ok := asString(ve)
		if !ok {
			return errAt(tok, "expects a value string, got %s", describe(ve.v))
		}
		q, err := mk(k, v)
		if err != nil {
			return errAt(tok, "%v", err)
		}
		in.popN(2)
		return in.push(entry{q, tok})
	}
}

var queryWords = map[string]word{
	"eq":       keyValueWord(func(k, v string) (Query, error) { return eqQuery{k, v}, nil }),
	"re":       keyValueWord(func(k, v string) (Query, error) { return newReQuery(k, v, false) }),
	"reic":     keyValueWord(func(k, v string) (Query, error) { return newReQuery(k, v, true) }),
	"contains": keyValueWord(func(k, v string) (Query, error) { return strQuery{k, v, "contains"}, nil }),
	"starts":   keyValueWord(func(k, v string) (Query, error) { return strQuery{k, v, "starts"}, nil }),
	"ends":     keyValueWord(func(k, v string) (Query, error) { return strQuery{k, v, "ends"}, nil }),
	"lt":       cmpWord("lt"),
	"le":       cmpWord("le"),
	"gt":       cmpWord("gt"),
	"ge":       cmpWord("ge"),
	"in": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "key values:List"); err != nil {
			return err
		}
		ke, le := in.peek(1), in.peek(0)
		k, ok := asString(ke)
		if !ok {
			return errAt(tok, "expects a key string, got %s", describe(ke.v))
		}
		vs, ok := asStringList(le)
		if !ok {
			return errAt(tok, "expects a list of values, got %s", describe(le.v))
		}
		in.popN(2)
		if len(vs) == 0 {
			return in.push(entry{falseQuery{}, tok})
		}
		return in.push(entry{inQuery{k, vs}, tok})
	},
	"has": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "key"); err != nil {
			return err
		}
		k, ok := asString(in.peek(0))
		if !ok {
			return errAt(tok, "expects a key string, got %s", describe(in.peek(0).v))
		}
		in.popN(1)
		return in.push(entry{hasQuery{k}, tok})
	},
	"and": logicWord("and"),
	"or":  logicWord("or"),
	"not": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "Query"); err != nil {
			return err
		}
		q, ok := asQuery(in.peek(0))
		if !ok {
			return errAt(tok, "expects a query, got %s", describe(in.peek(0).v))
		}
		in.popN(1)
		if n, ok := q.(notQuery); ok {
			return in.push(entry{n.q, tok})
		}
		return in.push(entry{notQuery{q}, tok})
	},
	"true":  func(in *interp, tok Token) error { return in.push(entry{trueQuery{}, tok}) },
	"false": func(in *interp, tok Token) error { return in.push(entry{falseQuery{}, tok}) },
}

// cmpWord is :lt and friends: a tag comparison on two strings that are
// not both numbers, else the math comparison of two lines.
func cmpWord(op string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "key value, or TimeSeriesExpr TimeSeriesExpr"); err != nil {
			return err
		}
		k, kok := asString(in.peek(1))
		v, vok := asString(in.peek(0))
		_, kNum := asFloat(in.peek(1))
		if kok && vok && !kNum {
			in.popN(2)
			return in.push(entry{cmpQuery{k, v, op}, tok})
		}
		return binaryWord(op)(in, tok)
	}
}

// logicWord is :and/:or: of two queries a query, else math on lines.
func logicWord(op string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "Query Query, or TimeSeriesExpr TimeSeriesExpr"); err != nil {
			return err
		}
		a, aok := asQuery(in.peek(1))
		b, bok := asQuery(in.peek(0))
		if aok && bok {
			in.popN(2)
			var q Query
			switch {
			case op == "and" && isTrue(a):
				q = b
			case op == "and" && isTrue(b):
				q = a
			case op == "and":
				q = andQuery{a, b}
			default:
				q = orQuery{a, b}
			}
			return in.push(entry{q, tok})
		}
		if aok != bok && !isTSE(in.peek(0)) && !isTSE(in.peek(1)) {
			bad := in.peek(0)
			if bok {
				bad = in.peek(1)
			}
			return errAt(tok, "expects two queries, got %s", describe(bad.v))
		}
		return binaryWord(op)(in, tok)
	}
}

func isTrue(q Query) bool { _, ok := q.(trueQuery); return ok }
