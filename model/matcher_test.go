package model

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestMatcherMatches(t *testing.T) {
	cases := []struct {
		typ   MatchType
		value string
		s     string
		want  bool
	}{
		{MatchEqual, "foo", "foo", true},
		{MatchEqual, "foo", "foobar", false},
		{MatchEqual, "", "", true},
		{MatchEqual, "", "x", false},
		{MatchNotEqual, "foo", "foo", false},
		{MatchNotEqual, "foo", "", true},
		{MatchNotEqual, "", "", false},

		// Regexps are anchored at both ends.
		{MatchRegexp, "foo", "foo", true},
		{MatchRegexp, "foo", "foobar", false},
		{MatchRegexp, "foo", "barfoo", false},
		{MatchRegexp, "bar", "foobarbaz", false},
		{MatchRegexp, "foo|bar", "foobar", false},
		{MatchRegexp, "foo.*", "foobar", true},
		{MatchRegexp, ".*bar", "foobar", true},
		{MatchRegexp, "^foo$", "foo", true},
		{MatchNotRegexp, "foo", "foobar", true},
		{MatchNotRegexp, "foo", "foo", false},

		// `.` matches a newline, as Prometheus compiles ^(?s:...)$.
		{MatchRegexp, ".", "\n", true},
		{MatchRegexp, ".*", "a\nb", true},
		{MatchRegexp, ".+", "\n", true},
		{MatchRegexp, "a.b", "a\nb", true},
		{MatchRegexp, "foo.*", "foo\nbar", true},
		{MatchRegexp, "(?-s:.)", "\n", false},
		{MatchNotRegexp, ".*", "a\nb", false},

		// .* and .+ and the empty string.
		{MatchRegexp, ".*", "", true},
		{MatchRegexp, ".+", "", false},
		{MatchRegexp, ".+", "x", true},
		{MatchRegexp, "", "", true},
		{MatchRegexp, "", "x", false},
		{MatchNotRegexp, "", "", false},
		{MatchNotRegexp, "", "x", true},
		{MatchNotRegexp, ".+", "", true},

		// Case-insensitive.
		{MatchRegexp, "(?i)foo", "FoO", true},
		{MatchRegexp, "(?i)foo", "foobar", false},
		{MatchRegexp, "(?i)foo.*", "FOOBAR", true},
		{MatchRegexp, "(?i)k", "\u212a", true}, // Kelvin sign folds to k
		{MatchRegexp, "foo", "FOO", false},
		{MatchNotRegexp, "(?i)foo|bar", "BAR", false},

		// Alternations and sets.
		{MatchRegexp, "a|b|c", "b", true},
		{MatchRegexp, "a|b|c", "ab", false},
		{MatchRegexp, "a|b|c", "", false},
		{MatchRegexp, "a||c", "", true},
		{MatchRegexp, "(a|b)", "a", true},
		{MatchRegexp, "[ab]", "b", true},
		{MatchRegexp, "[ab]", "c", false},
		{MatchRegexp, "api_(get|put)", "api_put", true},
		{MatchRegexp, "api_(get|put)", "api_", false},
		{MatchRegexp, "2|2\\.5", "2.5", true},
		{MatchRegexp, "2|2.5", "2x5", true},
		{MatchNotRegexp, "a|b|c", "d", true},
	}
	for _, c := range cases {
		m := MustNewMatcher(c.typ, "l", c.value)
		if got := m.Matches(c.s); got != c.want {
			t.Errorf("%v.Matches(%q) = %v, want %v", m, c.s, got, c.want)
		}
		if got, want := m.MatchesEmpty(), m.Matches(""); got != want {
			t.Errorf("%v.MatchesEmpty() = %v, want %v", m, got, want)
		}
	}
}

func TestMatcherShortcuts(t *testing.T) {
	cases := []struct {
		typ    MatchType
		value  string
		set    []string
		prefix string
	}{
		{MatchEqual, "foo", []string{"foo"}, ""},
		{MatchNotEqual, "foo", nil, ""},
		{MatchRegexp, "foo", []string{"foo"}, "foo"},
		{MatchRegexp, "b|a|c", []string{"a", "b", "c"}, ""},
		{MatchRegexp, "foo|bar|foo", []string{"bar", "foo"}, ""},
		{MatchRegexp, "(a|b)", []string{"a", "b"}, ""},
		{MatchRegexp, "a||b", []string{"", "a", "b"}, ""},
		{MatchRegexp, "", []string{""}, ""},
		{MatchRegexp, "(?i)foo", nil, ""},
		{MatchRegexp, "foo.*", nil, "foo"},
		{MatchRegexp, "api_.+", nil, "api_"},
		{MatchRegexp, ".*", nil, ""},
		{MatchNotRegexp, "a|b", nil, ""},
		{MatchNotRegexp, "foo.*", nil, ""},
	}
	for _, c := range cases {
		m := MustNewMatcher(c.typ, "l", c.value)
		if got := m.SetMatches(); !slices.Equal(got, c.set) {
			t.Errorf("%v.SetMatches() = %q, want %q", m, got, c.set)
		}
		if got := m.Prefix(); got != c.prefix {
			t.Errorf("%v.Prefix() = %q, want %q", m, got, c.prefix)
		}
	}
}

// TestMatcherAgainstRegexp checks that the shortcuts (sets, prefixes, .*
// and .+) give the same answers as the plain regexp Prometheus compiles,
// for many patterns and many inputs.
func TestMatcherAgainstRegexp(t *testing.T) {
	patterns := []string{
		"", ".*", ".+", ".", ".?", "(.*)", "(.+)", ".*?", "(?s:.*)", "(?-s:.*)", "(?-s:.+)",
		"foo", "foo|bar", "foo|foobar", "fo|foo|f", "a||b", "(a|b)", "(a|)", "(|a)", "x|", "[ab]", "[a-c]", "[^a]",
		"[a-z]+", "foo.*", "foo.+", "foo.*bar", "foo.?", "foo(bar|baz)", "(foo|bar).*", "f.*o",
		".*foo", ".*foo.*", "(?i)foo", "(?i)foo.*", "(?i)FOO|bar", "(?i)k", "api_.+", "api_(get|put)",
		"\\.", "2|2\\.5", "1\\d", "\\d+", "\\w+", "\\s*", "a{2}", "a{0,2}", "a*", "a+", "ab*", "é|ü", "日本.*",
		"^foo$", "^foo", "foo$", "^$", "^.*$", "^(a|b)$", "\n", "a\nb|c", "(?m)^a$", "(?U)a+",
	}
	inputs := []string{
		"", "a", "b", "c", "ab", "aa", "aaa", "x", "f", "fo", "foo", "FOO", "FoO", "fOo", "foobar", "foobaz", "foo\nbar",
		"barfoo", "bar", "BAR", "foo.", "fooo", "fox", "api_", "api_get", "api_put", "api_x", "2", "2.5", "2x5",
		"10", "1x", "123", "a b", " ", "\n", "\na", "a\n", "a\nb", "\u212a", "k", "K", "é", "ü", "日本", "日本語",
		"\xff", "foo\xff", strings.Repeat("a", 100), strings.Repeat("foo", 30),
	}
	for _, p := range patterns {
		ref := regexp.MustCompile("^(?s:" + p + ")$")
		re := MustNewMatcher(MatchRegexp, "l", p)
		nre := MustNewMatcher(MatchNotRegexp, "l", p)
		for _, s := range inputs {
			want := ref.MatchString(s)
			if got := re.Matches(s); got != want {
				t.Errorf("%v.Matches(%q) = %v, regexp says %v", re, s, got, want)
			}
			if got := nre.Matches(s); got != !want {
				t.Errorf("%v.Matches(%q) = %v, regexp says %v", nre, s, got, !want)
			}
			// The shortcuts the index relies on must agree too: a set
			// lists exactly the matches, and every match has the prefix.
			if set := re.SetMatches(); set != nil {
				if _, inSet := slices.BinarySearch(set, s); inSet != want {
					t.Errorf("%v.SetMatches() = %q: membership of %q is %v, regexp says %v", re, set, s, inSet, want)
				}
			}
			if want && !strings.HasPrefix(s, re.Prefix()) {
				t.Errorf("%v matches %q, which lacks its Prefix() %q", re, s, re.Prefix())
			}
		}
	}
}

func TestNewMatcherInvalidRegexp(t *testing.T) {
	for _, v := range []string{"(", "a)|(b", "[a", "*", "a{2,1}", "(?P<x"} {
		for _, typ := range []MatchType{MatchRegexp, MatchNotRegexp} {
			m, err := NewMatcher(typ, "job", v)
			if err == nil {
				t.Errorf("NewMatcher(%v, job, %q) = %v, want an error", typ, v, m)
				continue
			}
			// The message names the matcher as the user wrote it, not
			// the anchored expression we compile.
			if want := "label matcher job" + typ.String(); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name the matcher (%q)", err, want)
			}
			if strings.Contains(err.Error(), "(?s:") {
				t.Errorf("error %q shows the internal wrapping", err)
			}
		}
	}
	// = and != take the value literally and never fail.
	if _, err := NewMatcher(MatchEqual, "job", "("); err != nil {
		t.Errorf("NewMatcher(=, job, \"(\") = %v, want no error", err)
	}
}

func TestMustNewMatcherPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustNewMatcher with a bad regexp did not panic")
		}
	}()
	MustNewMatcher(MatchRegexp, "l", "(")
}

func TestMatcherString(t *testing.T) {
	cases := []struct {
		m    *Matcher
		want string
	}{
		{MustNewMatcher(MatchEqual, "job", "api"), `job="api"`},
		{MustNewMatcher(MatchNotEqual, "job", ""), `job!=""`},
		{MustNewMatcher(MatchRegexp, "path", `/a\.b|"c"`), `path=~"/a\\.b|\"c\""`},
		{MustNewMatcher(MatchNotRegexp, "x", "\n"), `x!~"\n"`},
	}
	for _, c := range cases {
		if got := c.m.String(); got != c.want {
			t.Errorf("String() = %s, want %s", got, c.want)
		}
	}
	if got := MatchType(9).String(); got != "MatchType(9)" {
		t.Errorf("MatchType(9).String() = %s", got)
	}
}
