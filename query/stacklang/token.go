package stacklang

import "strings"

// Token is one comma-separated item of an expression.
type Token struct {
	// Text is the item with surrounding white space removed.
	Text string
	// Index is the position of the token among the expression's
	// non-empty tokens, from 0.
	Index int
	// Offset is the byte offset of Text in the expression.
	Offset int
}

// Tokenize splits an expression at commas, trimming white space (so an
// expression may span lines, as Atlas allows) and skipping empty items.
func Tokenize(s string) []Token {
	var toks []Token
	pos := 0
	for pos <= len(s) {
		end := strings.IndexByte(s[pos:], ',')
		if end < 0 {
			end = len(s)
		} else {
			end += pos
		}
		raw := s[pos:end]
		lead := len(raw) - len(strings.TrimLeft(raw, " \t\r\n"))
		text := strings.TrimSpace(raw)
		if text != "" {
			toks = append(toks, Token{Text: text, Index: len(toks), Offset: pos + lead})
		}
		pos = end + 1
	}
	return toks
}
