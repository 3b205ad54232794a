package index

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// naive set operations, the reference for the fast ones.
func naiveIntersect(a, b Postings) Postings {
	in := map[uint32]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out Postings
	for _, x := range a {
		if in[x] {
			out = append(out, x)
		}
	}
	return out
}

func naiveWithout(a, b Postings) Postings {
	in := map[uint32]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out Postings
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func naiveUnion(ps ...Postings) Postings {
	in := map[uint32]bool{}
	for _, p := range ps {
		for _, x := range p {
			in[x] = true
		}
	}
	var out Postings
	for x := range in {
		out = append(out, x)
	}
	slices.Sort(out)
	return out
}

// randomPostings returns a sorted list of about n ids below limit.
func randomPostings(r *rand.Rand, n, limit int) Postings {
	var p Postings
	for range n {
		p = append(p, uint32(r.IntN(limit)))
	}
	slices.Sort(p)
	return slices.Compact(p)
}

func checkPostingsOps(t *testing.T, ps ...Postings) {
	t.Helper()
	a, b := ps[0], ps[1]
	if got, want := Intersect(a, b), naiveIntersect(a, b); !slices.Equal(got, want) {
		t.Fatalf("Intersect(%v, %v) = %v, want %v", a, b, got, want)
	}
	if got, want := intersects(a, b), len(naiveIntersect(a, b)) > 0; got != want {
		t.Fatalf("intersects(%v, %v) = %v, want %v", a, b, got, want)
	}
	if got, want := Without(a, b), naiveWithout(a, b); !slices.Equal(got, want) {
		t.Fatalf("Without(%v, %v) = %v, want %v", a, b, got, want)
	}
	if got, want := Union(ps...), naiveUnion(ps...); !slices.Equal(got, want) {
		t.Fatalf("Union(%v) = %v, want %v", ps, got, want)
	}
	owned := slices.Clone(a)
	if got, want := appendWithoutInPlace(owned, b), naiveWithout(a, b); !slices.Equal(got, want) {
		t.Fatalf("appendWithoutInPlace(%v, %v) = %v, want %v", a, b, got, want)
	}
}

func TestPostingsOpsAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Sizes cover empty lists, equal lengths (linear merge) and lengths far
	// apart (galloping in either direction).
	sizes := []int{0, 1, 2, 5, 40, 300, 5000}
	for range 20 {
		for _, na := range sizes {
			for _, nb := range sizes {
				limit := 1 + r.IntN(2*max(na, nb)+10)
				a := randomPostings(r, na, limit)
				b := randomPostings(r, nb, limit)
				c := randomPostings(r, r.IntN(50), limit)
				checkPostingsOps(t, a, b, c, nil, b)
			}
		}
	}
}

func TestAppendVariantsReuseDst(t *testing.T) {
	a, b := Postings{1, 3, 5, 7}, Postings{3, 4, 5}
	dst := make(Postings, 0, 16)
	if got := AppendIntersect(dst[:0], a, b); !slices.Equal(got, Postings{3, 5}) || &got[0] != &dst[:1][0] {
		t.Errorf("AppendIntersect = %v, want [3 5] in dst", got)
	}
	if got := AppendWithout(dst[:0], a, b); !slices.Equal(got, Postings{1, 7}) {
		t.Errorf("AppendWithout = %v, want [1 7]", got)
	}
	if got := AppendUnion(Postings{0}, a, b); !slices.Equal(got, Postings{0, 1, 3, 4, 5, 7}) {
		t.Errorf("AppendUnion = %v, want [0 1 3 4 5 7]", got)
	}
}

func TestUnionKeepsArgumentOrder(t *testing.T) {
	ps := []Postings{nil, {2}, nil, {1}, {3}}
	Union(ps...)
	if ps[0] != nil || ps[1][0] != 2 || ps[3][0] != 1 {
		t.Errorf("Union changed its argument slice: %v", ps)
	}
}

// postingsFromBytes turns fuzz input into a sorted list: each byte is a gap
// to the previous id, so small inputs still produce long, dense lists.
func postingsFromBytes(data []byte) Postings {
	var p Postings
	x := uint32(0)
	for i, c := range data {
		if i > 0 && c == 0 {
			continue
		}
		x += uint32(c)
		p = append(p, x)
	}
	return slices.Compact(p)
}

func FuzzPostingsOps(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{2, 2}, []byte{})
	f.Add([]byte{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []byte{5}, []byte{3, 200})
	f.Add([]byte{}, []byte{7, 7, 7}, []byte{1})
	f.Fuzz(func(t *testing.T, x, y, z []byte) {
		checkPostingsOps(t, postingsFromBytes(x), postingsFromBytes(y), postingsFromBytes(z))
	})
}
