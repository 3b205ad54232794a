package model

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		ls   Labels
		want error // nil for valid
	}{
		{FromStrings(MetricName, "up"), nil},
		{FromStrings(MetricName, "up", "job", "api", "a", ""), nil},
		{FromStrings(MetricName, "up", "日本", "語"), nil},
		{Labels{}, ErrNoMetricName},
		{FromStrings("job", "api"), ErrNoMetricName},
		{FromStrings(MetricName, ""), ErrNoMetricName},
		{Labels{{MetricName, "up"}, {"", "x"}}, ErrEmptyLabelName},
		{Labels{{"", "x"}, {MetricName, "up"}}, ErrEmptyLabelName},
		{Labels{{MetricName, "up"}, {"a", "1"}, {"a", "2"}}, ErrDuplicateLabelName},
		{Labels{{MetricName, "up"}, {"b", "1"}, {"a", "2"}}, ErrUnsortedLabels},
		{Labels{{"z", "1"}, {MetricName, "up"}}, ErrUnsortedLabels},
		{Labels{{MetricName, "up"}, {"a", "\xff"}}, ErrInvalidUTF8},
		{Labels{{MetricName, "up"}, {"a\xff", "x"}}, ErrInvalidUTF8},
	}
	for _, c := range cases {
		err := c.ls.Validate()
		switch {
		case c.want == nil && err != nil:
			t.Errorf("%v.Validate() = %v, want nil", c.ls, err)
		case c.want != nil && !errors.Is(err, c.want):
			t.Errorf("%v.Validate() = %v, want %v", c.ls, err, c.want)
		}
	}
	// Errors name the offending label.
	err := Labels{{MetricName, "up"}, {"dup", "1"}, {"dup", "2"}}.Validate()
	if err == nil || !strings.Contains(err.Error(), `"dup"`) {
		t.Errorf("duplicate error %v does not name the label", err)
	}
}

func TestKeyRoundTrip(t *testing.T) {
	cases := []Labels{
		{},
		FromStrings(MetricName, "up"),
		FromStrings(MetricName, "up", "empty", ""),
		FromStrings("", ""),
		FromStrings(MetricName, "temp", "city", "Zürich", "日本", "東京", "emoji", "🙂"),
		FromStrings(MetricName, "x", "long", strings.Repeat("v", 300), strings.Repeat("n", 200), "y"),
		FromStrings(MetricName, "x", "huge", strings.Repeat("abc", 100000)),
		FromStrings("a", "\x00\xff\n", "b", "=\"{}"),
	}
	for _, ls := range cases {
		key := AppendKey(nil, ls)
		got, err := KeyString(nil, string(key))
		if err != nil || len(got) != len(ls) || (len(ls) > 0 && !Equal(got, ls)) {
			t.Errorf("KeyString(AppendKey(%.60v)) = %.60v, %v", ls, got, err)
		}
		got, err = LabelsFromKey(Labels{{"pre", "fix"}}, key)
		if err != nil || !Equal(got[1:], ls) || got[0].Name != "pre" {
			t.Errorf("LabelsFromKey appended %.60v, %v", got, err)
		}
		if ls.Bytes() != string(key) {
			t.Errorf("Bytes() differs from AppendKey for %.60v", ls)
		}
		for _, l := range ls {
			if v, ok := KeyGet(string(key), l.Name); !ok || v != l.Value {
				t.Errorf("KeyGet(%q) = %.20q, %v; want %.20q", l.Name, v, ok, l.Value)
			}
		}
		if _, ok := KeyGet(string(key), "absent"); ok {
			t.Errorf("KeyGet(absent) found a value in %.60v", ls)
		}
		// Appending reuses dst: the key follows what dst held.
		if got := AppendKey([]byte("xy"), ls); string(got[2:]) != string(key) || string(got[:2]) != "xy" {
			t.Errorf("AppendKey did not append to dst")
		}
	}
}

func TestKeyIsUnambiguous(t *testing.T) {
	// Label sets whose concatenated strings coincide must have distinct keys.
	a := FromStrings("ab", "c")
	b := FromStrings("a", "bc")
	if AppendKey(nil, a) == nil || string(AppendKey(nil, a)) == string(AppendKey(nil, b)) {
		t.Errorf("keys of %v and %v are equal", a, b)
	}
}

func TestKeyStringRejectsBadKeys(t *testing.T) {
	ls := FromStrings(MetricName, "up", "job", "api")
	good := AppendKey(nil, ls)
	boundary := len(AppendKey(nil, ls[:1])) // a shorter key, still valid
	for i := 1; i < len(good); i++ {
		if i == boundary {
			continue
		}
		if _, err := KeyString(nil, string(good[:i])); !errors.Is(err, ErrBadKey) {
			t.Errorf("KeyString of a key truncated to %d bytes = %v, want ErrBadKey", i, err)
		}
	}
	for _, bad := range []string{"\x05ab", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "\x80"} {
		if _, err := KeyString(nil, bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("KeyString(%q) = %v, want ErrBadKey", bad, err)
		}
		if _, ok := KeyGet(bad, "a"); ok {
			t.Errorf("KeyGet(%q) found a value", bad)
		}
	}
}

func TestCompareEqualHash(t *testing.T) {
	// Sorted ascending by Compare.
	ordered := []Labels{
		{},
		FromStrings("a", "1"),
		FromStrings("a", "1", "b", "1"),
		FromStrings("a", "1", "b", "2"),
		FromStrings("a", "2"),
		FromStrings("b", "0"),
	}
	for i, a := range ordered {
		for j, b := range ordered {
			got := Compare(a, b)
			switch {
			case i < j && got >= 0, i > j && got <= 0, i == j && got != 0:
				t.Errorf("Compare(%v, %v) = %d", a, b, got)
			}
			if eq := Equal(a, b); eq != (i == j) {
				t.Errorf("Equal(%v, %v) = %v", a, b, eq)
			}
			if i != j && a.Hash() == b.Hash() {
				t.Errorf("Hash(%v) == Hash(%v)", a, b)
			}
		}
	}
	a := FromStrings("job", "api", MetricName, "up")
	b := FromMap(map[string]string{MetricName: "up", "job": "api"})
	if !Equal(a, b) || a.Hash() != b.Hash() || Compare(a, b) != 0 {
		t.Errorf("equal sets %v and %v differ", a, b)
	}
	// The separator keeps name/value boundaries in the hash.
	if FromStrings("ab", "c").Hash() == FromStrings("a", "bc").Hash() {
		t.Error("Hash ignores the boundary between name and value")
	}
	c := a.Copy()
	if !Equal(a, c) || &a[0] == &c[0] {
		t.Errorf("Copy() = %v, want an equal, separate slice", c)
	}
}

func TestLabelsAccessors(t *testing.T) {
	ls := FromStrings(MetricName, "up", "job", "api", "empty", "")
	if got := ls.Get("job"); got != "api" {
		t.Errorf("Get(job) = %q", got)
	}
	if got := ls.Get("missing"); got != "" {
		t.Errorf("Get(missing) = %q", got)
	}
	if !ls.Has("empty") || ls.Has("missing") {
		t.Errorf("Has: empty %v, missing %v", ls.Has("empty"), ls.Has("missing"))
	}
	if got, want := ls.String(), `{__name__="up", empty="", job="api"}`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if m := ls.Map(); len(m) != 3 || m["job"] != "api" {
		t.Errorf("Map() = %v", m)
	}
	defer func() {
		if recover() == nil {
			t.Error("FromStrings with an odd count did not panic")
		}
	}()
	//lint:ignore SA5012 the odd count is what this test checks.
	FromStrings("a")
}

func TestBuilder(t *testing.T) {
	base := FromStrings(MetricName, "up", "job", "api", "instance", "a:1")
	cases := []struct {
		name string
		edit func(b *Builder)
		want Labels
	}{
		{"no edit", func(b *Builder) {}, base},
		{"add", func(b *Builder) { b.Set("zone", "eu") }, FromStrings(MetricName, "up", "job", "api", "instance", "a:1", "zone", "eu")},
		{"add sorts", func(b *Builder) { b.Set("a", "1") }, FromStrings("a", "1", MetricName, "up", "job", "api", "instance", "a:1")},
		{"replace", func(b *Builder) { b.Set("job", "db") }, FromStrings(MetricName, "up", "job", "db", "instance", "a:1")},
		{"replace twice", func(b *Builder) { b.Set("job", "db").Set("job", "web") }, FromStrings(MetricName, "up", "job", "web", "instance", "a:1")},
		{"delete", func(b *Builder) { b.Del("instance") }, FromStrings(MetricName, "up", "job", "api")},
		{"delete many", func(b *Builder) { b.Del("instance", "job", "absent") }, FromStrings(MetricName, "up")},
		{"set empty deletes", func(b *Builder) { b.Set("job", "") }, FromStrings(MetricName, "up", "instance", "a:1")},
		{"delete then set", func(b *Builder) { b.Del("job").Set("job", "db") }, FromStrings(MetricName, "up", "job", "db", "instance", "a:1")},
		{"set then delete", func(b *Builder) { b.Set("zone", "eu").Del("zone") }, base},
		{"set then delete base", func(b *Builder) { b.Set("job", "db").Del("job") }, FromStrings(MetricName, "up", "instance", "a:1")},
	}
	var b Builder // reused across cases: Reset must forget earlier edits
	for _, c := range cases {
		b.Reset(base)
		c.edit(&b)
		got := b.Labels()
		if !Equal(got, c.want) {
			t.Errorf("%s: Labels() = %v, want %v", c.name, got, c.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("%s: result invalid: %v", c.name, err)
		}
	}
	if !Equal(base, FromStrings(MetricName, "up", "job", "api", "instance", "a:1")) {
		t.Errorf("Builder modified its base: %v", base)
	}
	// The result is a new slice that later edits do not touch.
	b.Reset(base)
	first := b.Set("x", "1").Labels()
	b.Set("x", "2")
	if got := first.Get("x"); got != "1" {
		t.Errorf("earlier Labels() result changed to x=%q", got)
	}
	var zero Builder
	if got := zero.Set("a", "1").Labels(); !slices.Equal(got, FromStrings("a", "1")) {
		t.Errorf("zero Builder: %v", got)
	}
}
