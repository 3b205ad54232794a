package stacklang

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/stratus-metrics/stratus/query/render"
)

// The style vocabulary: how an expression is drawn. Each word turns its
// input into a *StyleExpr (or updates one).

var styleWords = map[string]word{
	"legend": styleWord("legend:String", func(s *StyleExpr, arg string) error {
		s.labelOps = append(s.labelOps, labelOp{kind: "legend", text: arg})
		return nil
	}),
	"color": styleWord("color:String", func(s *StyleExpr, arg string) error {
		if _, err := render.ParseColor(arg); err != nil {
			return errorf("expects a color such as ff0000 or 1a2b3c80, got %q", arg)
		}
		s.Color = arg
		return nil
	}),
	"alpha": styleWord("alpha:String", func(s *StyleExpr, arg string) error {
		a, ok := parseAlpha(arg)
		if !ok {
			return errorf("expects two hex digits (00 transparent, ff opaque), got %q", arg)
		}
		s.Alpha = a
		return nil
	}),
	"ls": styleWord("style:String", func(s *StyleExpr, arg string) error {
		switch arg {
		case "line", "area", "stack", "vspan", "heatmap":
			s.LineStyle = arg
			return nil
		}
		return errorf("expects line, area, stack, vspan or heatmap, got %q", arg)
	}),
	"lw": styleWord("width:Int", func(s *StyleExpr, arg string) error {
		w, err := strconv.ParseFloat(arg, 64)
		if err != nil || w < 0 || w > 20 {
			return errorf("expects a line width in [0, 20], got %q", arg)
		}
		s.LineWidth = w
		return nil
	}),
	"axis": styleWord("axis:Int", func(s *StyleExpr, arg string) error {
		a, err := strconv.Atoi(arg)
		if err != nil || a < 0 || a >= render.MaxAxes {
			return errorf("expects an axis in [0, %d), got %q", render.MaxAxes, arg)
		}
		s.Axis = a
		return nil
	}),
	"palette": paletteWord,
	"line":    lineStyleWord("line"),
	"area":    lineStyleWord("area"),
	"stack":   lineStyleWord("stack"),
	"vspan":   lineStyleWord("vspan"),
	// Heat maps are not drawn; the lines are, so the expression still works.
	"heatmap": lineStyleWord("heatmap"),
	"s": func(in *interp, tok Token) error {
		if err := in.need(tok, 3, "expression search:String replace:String"); err != nil {
			return err
		}
		search, sok := asString(in.peek(1))
		repl, rok := asString(in.peek(0))
		if !sok || !rok {
			return errAt(tok, "expects search and replace strings, got %s and %s", describe(in.peek(1).v), describe(in.peek(0).v))
		}
		re, err := regexp.Compile(search)
		if err != nil {
			return errAt(tok, "invalid regular expression %q: %v", search, err)
		}
		return styled(in, tok, 3, in.peek(2), search+","+repl+",:s", func(s *StyleExpr) error {
			s.labelOps = append(s.labelOps, labelOp{kind: "s", re: re, replaced: repl})
			return nil
		})
	},
	"decode": styleWord("encoding:String", func(s *StyleExpr, arg string) error {
		if arg != "hex" && arg != "none" {
			return errorf("supports the encodings hex and none, got %q", arg)
		}
		if arg == "hex" {
			s.labelOps = append(s.labelOps, labelOp{kind: "decode"})
		}
		return nil
	}),
}

// styled replaces the n top items with xe as a styled expression changed
// by f, recording setting for its string form.
func styled(in *interp, tok Token, n int, xe entry, setting string, f func(*StyleExpr) error) error {
	var s *StyleExpr
	if x, ok := xe.v.(*StyleExpr); ok {
		s = x.clone()
	} else if t, ok := asTSE(xe); ok {
		s = &StyleExpr{Expr: t}
	} else {
		return errAt(tok, "expects an expression to style, got %s", describe(xe.v))
	}
	if err := f(s); err != nil {
		return errAt(tok, "%v", err)
	}
	s.settings = append(s.settings, setting)
	in.popN(n)
	return in.push(entry{s, tok})
}

// styleWord is "expression arg:String -- StyleExpr".
func styleWord(sig string, f func(*StyleExpr, string) error) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "expression "+sig); err != nil {
			return err
		}
		arg, ok := asString(in.peek(0))
		if !ok {
			return errAt(tok, "expects %s, got %s", sig, describe(in.peek(0).v))
		}
		return styled(in, tok, 2, in.peek(1), arg+","+tok.Text, func(s *StyleExpr) error { return f(s, arg) })
	}
}

func lineStyleWord(ls string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "expression"); err != nil {
			return err
		}
		return styled(in, tok, 1, in.peek(0), tok.Text, func(s *StyleExpr) error {
			s.LineStyle = ls
			return nil
		})
	}
}

// paletteWord is :palette with a palette name or a list of colors.
func paletteWord(in *interp, tok Token) error {
	if err := in.need(tok, 2, "expression palette:String|List"); err != nil {
		return err
	}
	pe := in.peek(0)
	if colors, ok := asStringList(pe); ok && len(colors) > 0 {
		for _, c := range colors {
			if _, err := render.ParseColor(c); err != nil {
				return errAt(tok, "expects colors such as ff0000 in its list, got %q", c)
			}
		}
		return styled(in, tok, 2, in.peek(1), "(,"+strings.Join(colors, ",")+",),:palette", func(s *StyleExpr) error {
			s.Colors = colors
			return nil
		})
	}
	name, ok := asString(pe)
	if !ok || !slices.Contains(render.Palettes, name) {
		return errAt(tok, "expects a palette (%s) or a list of colors, got %s", strings.Join(render.Palettes, ", "), describe(pe.v))
	}
	return styled(in, tok, 2, in.peek(1), name+",:palette", func(s *StyleExpr) error {
		s.Palette = name
		return nil
	})
}
