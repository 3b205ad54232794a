package model

import (
	"slices"
	"testing"
)

func TestSliceIteratorRemaining(t *testing.T) {
	samples := []Sample{{T: 1, V: 10}, {T: 2, V: 20}, {T: 3, V: 30}}
	it := NewSliceIterator(samples)
	if got := it.Remaining(); !slices.Equal(got, samples) {
		t.Fatalf("before Next: Remaining() = %v, want all %v", got, samples)
	}
	it.Next()
	if got := it.Remaining(); !slices.Equal(got, samples[1:]) {
		t.Errorf("after one Next: Remaining() = %v, want %v", got, samples[1:])
	}
	for it.Next() {
	}
	if got := it.Remaining(); len(got) != 0 {
		t.Errorf("at the end: Remaining() = %v, want none", got)
	}
	it.Next() // past the end stays empty
	if got := it.Remaining(); len(got) != 0 {
		t.Errorf("past the end: Remaining() = %v, want none", got)
	}
	it.Reset(samples[:1])
	if got := it.Remaining(); !slices.Equal(got, samples[:1]) {
		t.Errorf("after Reset: Remaining() = %v, want %v", got, samples[:1])
	}
}

func TestKeyStringSizesTheSliceOnce(t *testing.T) {
	key := string(AppendKey(nil, FromStrings(MetricName, "http_requests_total", "code", "200", "handler", "/api", "instance", "a:1", "job", "api")))
	ls, err := KeyString(nil, key)
	if err != nil {
		t.Fatal(err)
	}
	// Grown by appending, five labels would leave room for eight.
	if cap(ls) != len(ls) {
		t.Errorf("KeyString: cap %d for %d labels, want the exact size", cap(ls), len(ls))
	}
}
