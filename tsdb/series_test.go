package tsdb

import (
	"testing"
	"unsafe"
)

// TestStripeHashCollisions files series under one hash, as a 64-bit hash
// collision would, and checks lookups and deletions.
func TestStripeHashCollisions(t *testing.T) {
	var st seriesStripe
	const h = 42
	ss := []*memSeries{newMemSeries(1, "a"), newMemSeries(2, "b"), newMemSeries(3, "c")}
	for _, s := range ss {
		st.addLocked(h, s)
	}
	check := func(present ...*memSeries) {
		t.Helper()
		for _, s := range ss {
			want := (*memSeries)(nil)
			for _, p := range present {
				if p == s {
					want = s
				}
			}
			if got := st.getLocked(h, []byte(s.key)); got != want {
				t.Errorf("getLocked(%q) = %v, want %v", s.key, got, want)
			}
		}
		if st.getLocked(h, []byte("d")) != nil || st.getLocked(h+1, []byte("a")) != nil {
			t.Error("getLocked found a series that was never added")
		}
	}
	check(ss...)
	st.deleteLocked(h, ss[1])
	check(ss[0], ss[2])
	st.deleteLocked(h, ss[0])
	check(ss[2])
	st.addLocked(h, ss[0])
	check(ss[0], ss[2])
	st.deleteLocked(h, ss[2])
	st.deleteLocked(h, ss[0])
	check()
	if len(st.m) != 0 || len(st.collided) != 0 {
		t.Errorf("empty stripe holds %v and %v", st.m, st.collided)
	}
}

// TestMemSeriesSize keeps the per-series struct within its size class:
// 100k series at 176 bytes are 1.6 MB less heap than at 192.
func TestMemSeriesSize(t *testing.T) {
	if n := unsafe.Sizeof(memSeries{}); n > 176 {
		t.Errorf("memSeries is %d bytes, want at most 176 (the 176-byte size class)", n)
	}
}
