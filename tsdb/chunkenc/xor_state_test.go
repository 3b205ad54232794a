package chunkenc

import (
	"math"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

// TestXORChunkStateRoundTrip checks that a chunk restored from its state
// holds the same samples and keeps appending exactly as the original does.
func TestXORChunkStateRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 17, 240} {
		orig := NewXORChunk()
		var want []model.Sample
		for i := range n {
			v := float64(i) * 1.25
			if i%7 == 3 {
				v = math.NaN()
			}
			orig.Append(int64(1000+i*10_000+i%3), v)
			want = append(want, model.Sample{T: int64(1000 + i*10_000 + i%3), V: v})
		}
		state := AppendXORChunkState([]byte{0xaa}, orig)
		got, rest, err := ReadXORChunkState(append(state[1:], 0xbb))
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(rest) != 1 || rest[0] != 0xbb {
			t.Fatalf("n=%d: rest %x", n, rest)
		}
		// Both continue identically.
		for i := range 5 {
			ts := int64(1000 + (n+i)*10_000)
			orig.Append(ts, float64(i)+0.5)
			got.Append(ts, float64(i)+0.5)
			want = append(want, model.Sample{T: ts, V: float64(i) + 0.5})
		}
		if string(orig.Bytes()) != string(got.Bytes()) || orig.NumSamples() != got.NumSamples() || orig.MaxTime() != got.MaxTime() {
			t.Fatalf("n=%d: restored chunk diverges from the original", n)
		}
		it := got.Iterator(nil)
		for i := 0; it.Next(); i++ {
			ts, v := it.At()
			if ts != want[i].T || math.Float64bits(v) != math.Float64bits(want[i].V) {
				t.Fatalf("n=%d sample %d: got (%d, %v), want %v", n, i, ts, v, want[i])
			}
		}
	}
}

func FuzzReadXORChunkState(f *testing.F) {
	c := NewXORChunk()
	for i := range 10 {
		c.Append(int64(i*1000), float64(i))
	}
	f.Add(AppendXORChunkState(nil, c))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, _, err := ReadXORChunkState(b)
		if err != nil {
			return
		}
		it := c.Iterator(nil)
		for it.Next() {
		}
		c.Append(c.MaxTime()+1, 1)
	})
}

// TestViewXORChunkStateReadAhead checks that a view which may read ahead
// into the bytes after its stream decodes exactly the samples it holds,
// whatever those bytes are, and that a stream claiming more samples than
// it holds still fails rather than decoding the bytes past it.
func TestViewXORChunkStateReadAhead(t *testing.T) {
	for name, want := range edgeCases() {
		if len(want) == 0 {
			continue
		}
		c := NewXORChunk()
		for _, s := range want {
			c.Append(s.T, s.V)
		}
		for _, fill := range []byte{0x00, 0xff, 0x5a} {
			b := AppendXORChunkState(nil, c)
			for range XORReadAhead {
				b = append(b, fill)
			}
			v, rest, err := ViewXORChunkState(b, XORReadAhead)
			if err != nil || len(rest) != XORReadAhead {
				t.Fatalf("%s: view: %v, %d bytes left", name, err, len(rest))
			}
			requireSameSamples(t, drain(t, v.Iterator(nil)), want)

			// The same stream with a sample count one too high decodes
			// as it does without read-ahead (a phantom sample from the
			// last byte's padding bits, or an error): the bytes past the
			// stream are never read as a sample.
			over := AppendXORChunkState(nil, &XORChunk{b: c.b, n: c.n + 1, maxt: c.maxt, tDelta: c.tDelta, prev: c.prev, xorWindow: c.xorWindow, free: c.free})
			strict, _, err := ViewXORChunkState(over, 0)
			if err != nil {
				t.Fatalf("%s: view: %v", name, err)
			}
			for range XORReadAhead {
				over = append(over, fill)
			}
			ahead, _, err := ViewXORChunkState(over, XORReadAhead)
			if err != nil {
				t.Fatalf("%s: view: %v", name, err)
			}
			var got [2][]model.Sample
			var errs [2]error
			for i, v := range []XORChunk{strict, ahead} {
				it := v.Iterator(nil)
				for it.Next() {
					ts, val := it.At()
					got[i] = append(got[i], model.Sample{T: ts, V: val})
				}
				errs[i] = it.Err()
			}
			if (errs[0] == nil) != (errs[1] == nil) || len(got[0]) != len(got[1]) {
				t.Fatalf("%s, padding %#x: read-ahead decoded %d samples (error %v), without it %d (error %v)", name, fill, len(got[1]), errs[1], len(got[0]), errs[0])
			}
			if len(got[0]) > 0 {
				requireSameSamples(t, got[1], got[0])
			}
		}
	}
	if _, _, err := ViewXORChunkState(AppendXORChunkState(nil, NewXORChunk()), 1); err == nil {
		t.Fatal("read-ahead past the end of b accepted")
	}
}
