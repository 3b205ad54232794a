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
