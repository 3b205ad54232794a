package stacklang

import (
	"fmt"
	"strings"
)

// Error is a failure to parse or evaluate an expression, pointing at the
// word that failed: its text, its token index and its byte offset in the
// expression. The graph API answers it with 400 and this message.
type Error struct {
	// Word is the token that failed, such as ":by" or "(".
	Word string
	// Index is the token's index among the expression's tokens.
	Index int
	// Offset is the token's byte offset in the expression.
	Offset int
	// Msg says what was wrong, such as "expects a list, got query name,x,:eq".
	Msg string
}

// Error returns "WORD MSG (token I, offset O)".
func (e *Error) Error() string {
	return fmt.Sprintf("%s %s (token %d, offset %d)", e.Word, e.Msg, e.Index, e.Offset)
}

func errAt(tok Token, format string, args ...any) *Error {
	return &Error{Word: tok.Text, Index: tok.Index, Offset: tok.Offset, Msg: fmt.Sprintf(format, args...)}
}

// describe names a stack item's type and value for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", x)
	case []any:
		return "list " + listString(x)
	case Query:
		return "query " + x.String()
	case *StyleExpr:
		return "styled expression " + x.String()
	case TimeSeriesExpr:
		return "expression " + x.String()
	}
	return fmt.Sprintf("%T", v)
}

func listString(l []any) string {
	var b strings.Builder
	b.WriteString("(,")
	for _, v := range l {
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case []any:
			b.WriteString(listString(x))
		default:
			b.WriteString(describe(x))
		}
		b.WriteByte(',')
	}
	b.WriteString(")")
	return b.String()
}
