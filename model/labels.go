package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MetricName is the label that carries a series' metric name.
const MetricName = "__name__"

// Label is one name/value pair of a series.
type Label struct {
	Name, Value string
}

// Labels is a label set sorted by name with unique names. A series is
// identified by its Labels; two series are the same exactly when their
// Labels are equal. Labels values are treated as immutable once built:
// functions that change a set return a new slice.
type Labels []Label

// FromStrings builds Labels from name, value pairs, sorting them. It panics
// on an odd number of arguments, which is a programming error.
func FromStrings(ss ...string) Labels {
	if len(ss)%2 != 0 {
		panic("BUG: model.FromStrings called with an odd number of strings")
	}
	ls := make(Labels, 0, len(ss)/2)
	for i := 0; i < len(ss); i += 2 {
		ls = append(ls, Label{Name: ss[i], Value: ss[i+1]})
	}
	ls.Sort()
	return ls
}

// FromMap builds sorted Labels from a map.
func FromMap(m map[string]string) Labels {
	ls := make(Labels, 0, len(m))
	for n, v := range m {
		ls = append(ls, Label{Name: n, Value: v})
	}
	ls.Sort()
	return ls
}

// Sort sorts ls by label name in place. Callers that build a label set from
// unsorted input call Sort (and then Validate) once.
//
// Label sets are short and usually sorted or nearly so, which an insertion
// sort with inline comparisons handles in one pass; it was half the time
// of the text import's label handling as slices.SortFunc. It is stable, as
// slices.SortFunc is at this size, so equal names keep their order.
func (ls Labels) Sort() {
	if len(ls) > 12 {
		slices.SortStableFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		return
	}
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].Name < ls[j-1].Name; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// Errors returned by Validate, wrapped with the offending label.
var (
	ErrEmptyLabelName     = errors.New("empty label name")
	ErrDuplicateLabelName = errors.New("duplicate label name")
	ErrInvalidUTF8        = errors.New("label is not valid UTF-8")
	ErrUnsortedLabels     = errors.New("labels are not sorted by name")
	ErrNoMetricName       = errors.New("series has no metric name (__name__)")
)

// Validate checks that ls is a well-formed series identity: sorted, unique
// non-empty names, valid UTF-8, and a metric name. Labels with an empty value
// are allowed here; callers drop them before validating, as Prometheus
// treats an empty value as an absent label.
func (ls Labels) Validate() error {
	hasName := false
	for i, l := range ls {
		if l.Name == "" {
			return ErrEmptyLabelName
		}
		if i > 0 {
			switch c := strings.Compare(ls[i-1].Name, l.Name); {
			case c == 0:
				return fmt.Errorf("%w: %q", ErrDuplicateLabelName, l.Name)
			case c > 0:
				return fmt.Errorf("%w: %q before %q", ErrUnsortedLabels, ls[i-1].Name, l.Name)
			}
		}
		if !utf8.ValidString(l.Name) || !utf8.ValidString(l.Value) {
			return fmt.Errorf("%w: %q", ErrInvalidUTF8, l.Name)
		}
		if l.Name == MetricName && l.Value != "" {
			hasName = true
		}
	}
	if !hasName {
		return ErrNoMetricName
	}
	return nil
}

// Get returns the value of the label with the given name, or "".
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Has reports whether ls has a label with the given name.
func (ls Labels) Has(name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

// Copy returns a deep copy of ls whose strings share no memory with buffers
// the caller may reuse.
func (ls Labels) Copy() Labels {
	out := make(Labels, len(ls))
	for i, l := range ls {
		out[i] = Label{Name: strings.Clone(l.Name), Value: strings.Clone(l.Value)}
	}
	return out
}

// Compare orders label sets first by their labels pairwise, then by length.
func Compare(a, b Labels) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i].Name, b[i].Name); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// Equal reports whether a and b hold the same labels.
func Equal(a, b Labels) bool {
	return slices.Equal(a, b)
}

// String renders ls as {a="1", b="2"}, the notation of PromQL.
func (ls Labels) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// Map returns the labels as a map.
func (ls Labels) Map() map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

var hashSeed = maphash.MakeSeed()

// Hash returns a hash of the label set, stable for the life of the process
// (not across processes: never persist it).
func (ls Labels) Hash() uint64 {
	var h maphash.Hash
	h.SetSeed(hashSeed)
	for _, l := range ls {
		h.WriteString(l.Name)
		h.WriteByte(0xff)
		h.WriteString(l.Value)
		h.WriteByte(0xff)
	}
	return h.Sum64()
}

// AppendKey appends the canonical binary key of ls to dst and returns the
// extended slice: for each label, uvarint(len(name)) name uvarint(len(value))
// value. The key is unambiguous, so equal keys mean equal label sets. It is
// the series key on the append path and the compact form in which the store
// keeps a series' labels.
func AppendKey(dst []byte, ls Labels) []byte {
	for _, l := range ls {
		dst = binary.AppendUvarint(dst, uint64(len(l.Name)))
		dst = append(dst, l.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(l.Value)))
		dst = append(dst, l.Value...)
	}
	return dst
}

// ErrBadKey reports a series key that does not decode.
var ErrBadKey = errors.New("malformed series key")

// LabelsFromKey decodes a key written by AppendKey, appending to dst. The
// returned strings are copies and do not alias key.
func LabelsFromKey(dst Labels, key []byte) (Labels, error) {
	return KeyString(dst, string(key)) // one copy; the labels alias it.
}

// KeyString is like LabelsFromKey for a key already held as a string; the
// returned labels alias key and allocate only the slice, once: the store
// decodes a series' labels every time a query selects it, and growing the
// slice by doubling allocated three times what it keeps.
func KeyString(dst Labels, key string) (Labels, error) {
	dst = slices.Grow(dst, keyLabelCount(key))
	for len(key) > 0 {
		name, rest, ok := cutKeyString(key)
		if !ok {
			return dst, ErrBadKey
		}
		value, rest, ok := cutKeyString(rest)
		if !ok {
			return dst, ErrBadKey
		}
		dst = append(dst, Label{Name: name, Value: value})
		key = rest
	}
	return dst, nil
}

// keyLabelCount returns how many whole labels key starts with.
func keyLabelCount(key string) int {
	n := 0
	for len(key) > 0 {
		_, rest, ok := cutKeyString(key)
		if !ok {
			break
		}
		if _, key, ok = cutKeyString(rest); !ok {
			break
		}
		n++
	}
	return n
}

// KeyGet returns the value of label name in key without decoding the rest.
func KeyGet(key, name string) (string, bool) {
	for len(key) > 0 {
		n, rest, ok := cutKeyString(key)
		if !ok {
			return "", false
		}
		v, rest, ok := cutKeyString(rest)
		if !ok {
			return "", false
		}
		if n == name {
			return v, true
		}
		key = rest
	}
	return "", false
}

func cutKeyString(s string) (string, string, bool) {
	n, w := uvarintString(s)
	if w <= 0 || uint64(len(s)-w) < n {
		return "", "", false
	}
	return s[w : w+int(n)], s[w+int(n):], true
}

// uvarintString is binary.Uvarint over a string, to avoid a conversion.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -1
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// Builder edits a label set; it is used where labels are added, replaced or
// removed (relabeling, extra labels, aggregation). The zero value is ready.
type Builder struct {
	base Labels
	add  Labels
	del  []string
}

// Reset starts a new edit of base.
func (b *Builder) Reset(base Labels) {
	b.base = base
	b.add = b.add[:0]
	b.del = b.del[:0]
}

// Set sets name to value; an empty value deletes the label.
func (b *Builder) Set(name, value string) *Builder {
	if value == "" {
		return b.Del(name)
	}
	for i, l := range b.add {
		if l.Name == name {
			b.add[i].Value = value
			return b
		}
	}
	b.del = slices.DeleteFunc(b.del, func(n string) bool { return n == name })
	b.add = append(b.add, Label{Name: name, Value: value})
	return b
}

// Del removes the named labels.
func (b *Builder) Del(names ...string) *Builder {
	for _, n := range names {
		b.add = slices.DeleteFunc(b.add, func(l Label) bool { return l.Name == n })
		b.del = append(b.del, n)
	}
	return b
}

// Labels returns the edited, sorted label set in a new slice.
func (b *Builder) Labels() Labels {
	out := make(Labels, 0, len(b.base)+len(b.add))
	for _, l := range b.base {
		if slices.Contains(b.del, l.Name) || slices.ContainsFunc(b.add, func(a Label) bool { return a.Name == l.Name }) {
			continue
		}
		out = append(out, l)
	}
	out = append(out, b.add...)
	out.Sort()
	return out
}

// Bytes is a helper for tests and debugging: the key of ls as a string.
func (ls Labels) Bytes() string {
	return string(AppendKey(nil, ls))
}
