package stacklang

import (
	"strconv"
	"strings"
)

// The stack vocabulary: shuffle items, variables, and lists as programs.

var stackWords = map[string]word{
	"dup": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "a -- a a"); err != nil {
			return err
		}
		return in.push(in.peek(0))
	},
	"swap": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "a b -- b a"); err != nil {
			return err
		}
		n := len(in.stack)
		in.stack[n-1], in.stack[n-2] = in.stack[n-2], in.stack[n-1]
		return nil
	},
	"drop": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "a --"); err != nil {
			return err
		}
		in.popN(1)
		return nil
	},
	"over": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "a b -- a b a"); err != nil {
			return err
		}
		return in.push(in.peek(1))
	},
	"2over": func(in *interp, tok Token) error {
		// A macro in Atlas: :over,:over.
		if err := in.need(tok, 2, "a b -- a b a b"); err != nil {
			return err
		}
		if err := in.push(in.peek(1)); err != nil {
			return err
		}
		return in.push(in.peek(1))
	},
	"nip": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "a b -- b"); err != nil {
			return err
		}
		b := in.popN(2)[1]
		return in.push(b)
	},
	"tuck": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "a b -- b a b"); err != nil {
			return err
		}
		ab := in.popN(2)
		in.stack = append(in.stack, ab[1], ab[0])
		return in.push(ab[1])
	},
	"rot": func(in *interp, tok Token) error {
		// Atlas rotates the whole stack: the bottom item goes to the top.
		if err := in.need(tok, 1, "a ... b -- ... b a"); err != nil {
			return err
		}
		bottom := in.stack[0]
		copy(in.stack, in.stack[1:])
		in.stack[len(in.stack)-1] = bottom
		return nil
	},
	"-rot": func(in *interp, tok Token) error {
		// The top item goes to the bottom.
		if err := in.need(tok, 1, "... b a -- a ... b"); err != nil {
			return err
		}
		top := in.stack[len(in.stack)-1]
		copy(in.stack[1:], in.stack[:len(in.stack)-1])
		in.stack[0] = top
		return nil
	},
	"clear": func(in *interp, tok Token) error {
		in.stack = in.stack[:0]
		return nil
	},
	"depth": func(in *interp, tok Token) error {
		return in.push(entry{strconv.Itoa(len(in.stack)), tok})
	},
	"pick": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "aN ... a0 N -- aN ... a0 aN"); err != nil {
			return err
		}
		n, ok := asInt(in.peek(0))
		if !ok || n < 0 || n+1 >= len(in.stack) {
			return errAt(tok, "expects an index of an item below it, got %s", describe(in.peek(0).v))
		}
		in.popN(1)
		return in.push(in.peek(n))
	},
	"roll": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "aN ... a0 N -- aN-1 ... a0 aN"); err != nil {
			return err
		}
		n, ok := asInt(in.peek(0))
		if !ok || n < 0 || n+1 >= len(in.stack) {
			return errAt(tok, "expects an index of an item below it, got %s", describe(in.peek(0).v))
		}
		in.popN(1)
		i := len(in.stack) - 1 - n
		e := in.stack[i]
		copy(in.stack[i:], in.stack[i+1:])
		in.stack[len(in.stack)-1] = e
		return nil
	},
	"ndrop": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "aN ... a0 N -- aN"); err != nil {
			return err
		}
		n, ok := asInt(in.peek(0))
		if !ok || n < 0 {
			return errAt(tok, "expects a count, got %s", describe(in.peek(0).v))
		}
		in.popN(1)
		in.stack = in.stack[:len(in.stack)-min(n, len(in.stack))]
		return nil
	},
	"nlist": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "aN ... a0 N -- List"); err != nil {
			return err
		}
		n, ok := asInt(in.peek(0))
		if !ok || n < 0 {
			return errAt(tok, "expects a count, got %s", describe(in.peek(0).v))
		}
		in.popN(1)
		n = min(n, len(in.stack))
		items := in.popN(n)
		l := make([]any, n)
		for i, e := range items {
			l[i] = e.v
		}
		return in.push(entry{l, tok})
	},
	"get": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "k -- vars[k]"); err != nil {
			return err
		}
		k, ok := asString(in.peek(0))
		if !ok {
			return errAt(tok, "expects a variable name, got %s", describe(in.peek(0).v))
		}
		v, ok := in.vars[k]
		if !ok {
			return errAt(tok, "found no variable %q; set it with k,v,:set", k)
		}
		in.popN(1)
		return in.push(v)
	},
	"set": func(in *interp, tok Token) error {
		return in.setVar(tok, 1, 0, "k v --")
	},
	"sset": func(in *interp, tok Token) error {
		// A macro in Atlas: :swap,:set.
		return in.setVar(tok, 0, 1, "v k --")
	},
	"call": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "? List -- ?"); err != nil {
			return err
		}
		l, ok := in.peek(0).v.([]any)
		if !ok {
			return errAt(tok, "expects a list to run, got %s", describe(in.peek(0).v))
		}
		in.popN(1)
		return in.callList(l, tok)
	},
	"each": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "items:List f:List -- f(items[0]) ... f(items[N])"); err != nil {
			return err
		}
		f, fok := in.peek(0).v.([]any)
		items, iok := in.peek(1).v.([]any)
		if !fok || !iok {
			return errAt(tok, "expects two lists (items and a function), got %s and %s", describe(in.peek(1).v), describe(in.peek(0).v))
		}
		in.popN(2)
		for _, v := range items {
			if err := in.push(entry{v, tok}); err != nil {
				return err
			}
			if err := in.callList(f, tok); err != nil {
				return err
			}
		}
		return nil
	},
	"map": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "items:List f:List -- List"); err != nil {
			return err
		}
		f, fok := in.peek(0).v.([]any)
		items, iok := in.peek(1).v.([]any)
		if !fok || !iok {
			return errAt(tok, "expects two lists (items and a function), got %s and %s", describe(in.peek(1).v), describe(in.peek(0).v))
		}
		in.popN(2)
		out := make([]any, 0, len(items))
		for _, v := range items {
			depth := len(in.stack)
			if err := in.push(entry{v, tok}); err != nil {
				return err
			}
			if err := in.callList(f, tok); err != nil {
				return err
			}
			if len(in.stack) != depth+1 {
				return errAt(tok, "expects its function to leave exactly one item per list item, it left %d", len(in.stack)-depth)
			}
			out = append(out, in.popN(1)[0].v)
		}
		return in.push(entry{out, tok})
	},
	"format": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "pattern:String args:List -- String"); err != nil {
			return err
		}
		pat, pok := asString(in.peek(1))
		args, aok := in.peek(0).v.([]any)
		if !pok || !aok {
			return errAt(tok, "expects a pattern string and a list of arguments, got %s and %s", describe(in.peek(1).v), describe(in.peek(0).v))
		}
		s, err := format(pat, args)
		if err != nil {
			return errAt(tok, "%v", err)
		}
		in.popN(2)
		return in.push(entry{s, tok})
	},
}

// format implements the part of Java's String.format that expressions
// use: %s, %d and %f take the next argument as written, %N$s the Nth, %%
// is a percent sign.
func format(pat string, args []any) (string, error) {
	var b strings.Builder
	next := 0
	argString := func(i int) (string, error) {
		if i < 0 || i >= len(args) {
			return "", errorf("format %q: missing argument %d", pat, i+1)
		}
		switch x := args[i].(type) {
		case string:
			return x, nil
		case []any:
			return listString(x), nil
		}
		return describe(args[i]), nil
	}
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(pat) && (pat[j] >= '0' && pat[j] <= '9' || pat[j] == '$' || pat[j] == '.' || pat[j] == '-') {
			j++
		}
		if j >= len(pat) {
			return "", errorf("format %q: incomplete conversion at %d", pat, i)
		}
		spec := pat[i+1 : j]
		switch pat[j] {
		case '%':
			b.WriteByte('%')
		case 's', 'd', 'f', 'S':
			idx := next
			if k := strings.IndexByte(spec, '$'); k > 0 {
				n, err := strconv.Atoi(spec[:k])
				if err != nil {
					return "", errorf("format %q: bad argument index %q", pat, spec[:k])
				}
				idx = n - 1
			} else {
				next++
			}
			s, err := argString(idx)
			if err != nil {
				return "", err
			}
			if pat[j] == 'S' {
				s = strings.ToUpper(s)
			}
			b.WriteString(s)
		default:
			return "", errorf("format %q: unsupported conversion %%%c", pat, pat[j])
		}
		i = j
	}
	return b.String(), nil
}

// setVar implements :set and :sset: the variable named by the stack item at
// depth key gets the item at depth val, and both are popped.
func (in *interp) setVar(tok Token, key, val int, effect string) error {
	if err := in.need(tok, 2, effect); err != nil {
		return err
	}
	k, ok := asString(in.peek(key))
	if !ok {
		return errAt(tok, "expects a variable name, got %s", describe(in.peek(key).v))
	}
	in.vars[k] = in.peek(val)
	in.popN(2)
	return nil
}
