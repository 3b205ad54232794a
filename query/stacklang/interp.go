package stacklang

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits of one expression's interpretation; :call, :each and :map can
// loop, and expressions come from URLs.
const (
	// MaxWords is how many words one expression may execute, counting
	// those run by :call, :each and :map.
	MaxWords = 100_000
	// MaxCallDepth bounds nested :call, :each and :map.
	MaxCallDepth = 32
	// MaxStackDepth bounds the stack.
	MaxStackDepth = 10_000
)

// entry is one stack item and the token that pushed it, so that an error
// about the item can point at where it came from.
type entry struct {
	v   any // string, []any (a list), Query, TimeSeriesExpr or *StyleExpr
	tok Token
}

// interp is the stack machine: words pop their arguments and push their
// results.
type interp struct {
	stack []entry
	vars  map[string]entry
	words int
	depth int
}

// word executes one vocabulary word.
type word func(in *interp, tok Token) error

// Program is a parsed expression: the styled expressions left on the
// stack, bottom first, which is the order they are drawn in.
type Program struct {
	Exprs []*StyleExpr
}

// String returns the program in stack-language form.
func (p *Program) String() string {
	parts := make([]string, len(p.Exprs))
	for i, e := range p.Exprs {
		parts[i] = e.String()
	}
	return strings.Join(parts, ",")
}

// Parse interprets an expression: every word runs on the stack, and what
// is left must be expressions (a query left alone means its :sum, a
// number a constant line). Errors are *Error.
func Parse(expr string) (*Program, error) {
	in := &interp{vars: map[string]entry{}}
	toks := Tokenize(expr)
	if len(toks) == 0 {
		return nil, &Error{Word: "", Msg: "empty expression"}
	}
	if err := in.run(toks); err != nil {
		return nil, err
	}
	p := &Program{}
	for _, e := range in.stack {
		se, err := asStyle(e)
		if err != nil {
			return nil, errAt(e.tok, "leaves %s on the stack; every item left must be a time series expression", describe(e.v))
		}
		p.Exprs = append(p.Exprs, se)
	}
	return p, nil
}

// run executes tokens, collecting ( ... ) into lists.
func (in *interp) run(toks []Token) error {
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		switch {
		case tok.Text == "(":
			list, next, err := collectList(toks, i)
			if err != nil {
				return err
			}
			if err := in.push(entry{list, tok}); err != nil {
				return err
			}
			i = next
		case tok.Text == ")":
			return errAt(tok, "closes a list that was not opened")
		case strings.HasPrefix(tok.Text, ":") && len(tok.Text) > 1:
			w, ok := vocabulary[tok.Text[1:]]
			if !ok {
				return errAt(tok, "is not a known word")
			}
			in.words++
			if in.words > MaxWords {
				return errAt(tok, "exceeds the limit of %d executed words", MaxWords)
			}
			if err := w(in, tok); err != nil {
				return err
			}
		default:
			if err := in.push(entry{tok.Text, tok}); err != nil {
				return err
			}
		}
	}
	return nil
}

// collectList reads the list opened at toks[open] and returns it and the
// index of its closing parenthesis. Words inside are kept as strings.
func collectList(toks []Token, open int) ([]any, int, error) {
	list := []any{}
	for i := open + 1; i < len(toks); i++ {
		switch toks[i].Text {
		case "(":
			sub, next, err := collectList(toks, i)
			if err != nil {
				return nil, 0, err
			}
			list = append(list, sub)
			i = next
		case ")":
			return list, i, nil
		default:
			list = append(list, toks[i].Text)
		}
	}
	return nil, 0, errAt(toks[open], "opens a list that is never closed")
}

// callList executes a list as a program; its tokens point at the word
// that called it.
func (in *interp) callList(list []any, tok Token) error {
	in.depth++
	defer func() { in.depth-- }()
	if in.depth > MaxCallDepth {
		return errAt(tok, "nests calls deeper than %d", MaxCallDepth)
	}
	for _, v := range list {
		var err error
		switch x := v.(type) {
		case string:
			err = in.run([]Token{{Text: x, Index: tok.Index, Offset: tok.Offset}})
		default:
			// Nested lists, and items :map collected, are pushed as they are.
			err = in.push(entry{x, tok})
		}
		if err != nil {
			return calledError(tok, err)
		}
	}
	return nil
}

// calledError reports an error inside a called list at the calling word.
func calledError(tok Token, err error) error {
	var se *Error
	if e, ok := err.(*Error); ok {
		se = e
		return &Error{Word: tok.Text, Index: tok.Index, Offset: tok.Offset, Msg: "called " + se.Word + " which " + se.Msg}
	}
	return err
}

func (in *interp) push(e entry) error {
	if len(in.stack) >= MaxStackDepth {
		return errAt(e.tok, "grows the stack beyond %d items", MaxStackDepth)
	}
	in.stack = append(in.stack, e)
	return nil
}

// need checks that n items are on the stack.
func (in *interp) need(tok Token, n int, sig string) error {
	if len(in.stack) < n {
		return errAt(tok, "needs %d items on the stack (%s), found %d", n, sig, len(in.stack))
	}
	return nil
}

// peek returns the item i positions below the top (0 is the top).
func (in *interp) peek(i int) entry { return in.stack[len(in.stack)-1-i] }

// popN removes n items and returns them bottom first.
func (in *interp) popN(n int) []entry {
	out := append([]entry(nil), in.stack[len(in.stack)-n:]...)
	in.stack = in.stack[:len(in.stack)-n]
	return out
}

// Extractors: each converts a stack item to what a word needs, with the
// error a word reports.

func asString(e entry) (string, bool) { s, ok := e.v.(string); return s, ok }

func asStringList(e entry) ([]string, bool) {
	l, ok := e.v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, v := range l {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func asFloat(e entry) (float64, bool) {
	s, ok := e.v.(string)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func asInt(e entry) (int, bool) {
	s, ok := e.v.(string)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func asQuery(e entry) (Query, bool) { q, ok := e.v.(Query); return q, ok }

// asTSE converts an item to a time series expression as Atlas does: a
// query means its :sum, a number a constant line.
func asTSE(e entry) (TimeSeriesExpr, bool) {
	switch x := e.v.(type) {
	case TimeSeriesExpr:
		return x, true
	case Query:
		return newDataExpr(x, "sum"), true
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return constExpr{f}, true
		}
	}
	return nil, false
}

func asStyle(e entry) (*StyleExpr, error) {
	if s, ok := e.v.(*StyleExpr); ok {
		return s, nil
	}
	if t, ok := asTSE(e); ok {
		return &StyleExpr{Expr: t}, nil
	}
	return nil, fmt.Errorf("not an expression")
}

// isTSE reports whether an item is usable as a time series expression.
func isTSE(e entry) bool { _, ok := asTSE(e); return ok }
