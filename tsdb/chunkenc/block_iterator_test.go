package chunkenc

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

// checkMatchesReference decodes b with BlockIterator and with
// refDecodeBlock and fails unless both reject it, or both accept it and
// return the same samples.
func checkMatchesReference(t testing.TB, it *BlockIterator, b []byte) {
	t.Helper()
	want, wantErr := refDecodeBlock(b)
	err := it.Reset(b)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("block %x: Reset error %v, reference decoder error %v", b, err, wantErr)
	}
	if err != nil {
		if !errors.Is(err, ErrCorruptBlock) {
			t.Fatalf("Reset error %v does not wrap ErrCorruptBlock", err)
		}
		if it.Next() || it.SeekTo(math.MinInt64) {
			t.Fatal("iterator over a corrupt block yields a sample")
		}
		if got, err := it.AppendRange(nil, math.MinInt64, math.MaxInt64); len(got) != 0 || !errors.Is(err, ErrCorruptBlock) {
			t.Fatalf("AppendRange after a failed Reset = %d samples, %v", len(got), err)
		}
		return
	}
	requireSameSamples(t, drain(t, it), want)
	if err := it.Reset(b); err != nil {
		t.Fatal(err)
	}
	got, err := it.AppendRange(nil, math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	requireSameSamples(t, got, want)
}

// jitteredSeries returns samples whose timestamps take the dod encodings,
// with values that take each value encoding.
func jitteredSeries(r *rand.Rand, n int) []model.Sample {
	s := make([]model.Sample, n)
	t := r.Int64N(1<<41) - 1<<40
	kind := r.IntN(5)
	jitter := r.IntN(2) == 0 // else mostly regular: dod-bits wins
	v := float64(r.IntN(1000))
	for i := range s {
		switch x := r.IntN(40); {
		case x == 0:
			t += 1 + r.Int64N(1<<22) // a gap: a wide dod bucket
		case jitter || x < 4:
			t += 10_000 + r.Int64N(9) - 4
		default:
			t += 10_000
		}
		switch kind {
		case 0: // a counter in hundredths
			v += float64(r.IntN(500)) / 100
			v = math.Round(v*100) / 100
		case 1: // an integer gauge
			v = float64(r.IntN(1 << 20))
		case 2: // full-precision floats
			v = r.Float64() * 1e6
		case 3: // a slow gauge
			if r.IntN(20) == 0 {
				v = float64(r.IntN(100)) / 10
			}
		default: // decimals with exceptions
			v = float64(r.IntN(10_000)) / 1000
			if r.IntN(30) == 0 {
				v = edgeValues[r.IntN(len(edgeValues))]
			}
		}
		s[i] = model.Sample{T: t, V: v}
	}
	return s
}

// decimalBlock builds a block with a decimal values section by hand, for
// the positive exponents the encoder does not write (decoders accept them).
func decimalBlock(t testing.TB, mint, step int64, exp int, enc byte, mant []int64, exc map[int]float64) []byte {
	t.Helper()
	e := &blockEncoder{mant: mant}
	s := make([]model.Sample, len(mant))
	for i := range s {
		s[i].T = mint + int64(i)*step
		if v, ok := exc[i]; ok {
			s[i].V = v
			e.exc = append(e.exc, i)
		}
	}
	// Exceptions in index order, as the encoder writes them.
	for i := 1; i < len(e.exc); i++ {
		for j := i; j > 0 && e.exc[j] < e.exc[j-1]; j-- {
			e.exc[j], e.exc[j-1] = e.exc[j-1], e.exc[j]
		}
	}
	b := []byte{BlockVersion, tsRegular | enc<<flagValueShift}
	b = binary.AppendUvarint(b, uint64(len(mant)))
	b = binary.AppendVarint(b, mint)
	if len(mant) > 1 {
		b = binary.AppendUvarint(b, uint64(step)*uint64(len(mant)-1))
	}
	return e.appendDecimal(b, exp, enc, s)
}

// testBlocks returns blocks of every encoding, for the decoder tests.
func testBlocks(t testing.TB) [][]byte {
	var blocks [][]byte
	for _, s := range datagenSeries(60) {
		blocks = append(blocks, encodeBlock(t, s), encodeBlock(t, s[:7]), encodeBlock(t, s[:1]))
	}
	for _, s := range edgeCases() {
		blocks = append(blocks, encodeBlock(t, s))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 60; k++ {
		blocks = append(blocks, encodeBlock(t, jitteredSeries(r, 1+r.IntN(800))))
	}
	for _, exp := range []int{1, 3, 22} {
		for _, enc := range []byte{valDecDelta, valDecDoD} {
			mant := []int64{5, 7, 7, 1000, -3, 1 << 40, 0, 12}
			exc := map[int]float64{2: math.NaN(), 7: math.Inf(-1)}
			blocks = append(blocks, decimalBlock(t, -50, 7, exp, enc, mant, exc))
		}
	}
	return blocks
}

func TestBlockDecodeMatchesReference(t *testing.T) {
	it := &BlockIterator{}
	seen := map[string]bool{}
	for _, b := range testBlocks(t) {
		seen[encName(b)] = true
		checkMatchesReference(t, it, b)
		for cut := 0; cut < len(b); cut += 1 + cut/16 {
			checkMatchesReference(t, it, b[:cut])
		}
		c := make([]byte, len(b))
		for i := 0; i < len(b); i += 1 + i/24 {
			for _, x := range []byte{0x01, 0x10, 0x80} {
				copy(c, b)
				c[i] ^= x
				checkMatchesReference(t, it, c)
			}
		}
	}
	t.Logf("encodings covered: %v", seen)
}

// rangeModel is the documented meaning of AppendRange, on a slice iterator.
func rangeModel(it model.SampleIterator, dst []model.Sample, mint, maxt int64) []model.Sample {
	for ok := it.SeekTo(mint); ok; ok = it.Next() {
		t, v := it.At()
		if t > maxt {
			break
		}
		dst = append(dst, model.Sample{T: t, V: v})
	}
	return dst
}

// checkOps runs the same random mix of Next, SeekTo and AppendRange on it
// (already Reset to samples' block) and on a slice iterator over samples,
// and fails at the first difference.
func checkOps(t *testing.T, r *rand.Rand, it *BlockIterator, samples []model.Sample) {
	t.Helper()
	ref := model.NewSliceIterator(samples)
	first, last := samples[0].T, samples[len(samples)-1].T
	randTime := func() int64 {
		switch r.IntN(8) {
		case 0:
			return math.MinInt64
		case 1:
			return math.MaxInt64
		case 2:
			return first - 1 + r.Int64N(3)
		case 3:
			return last - 1 + r.Int64N(3)
		case 4:
			return samples[r.IntN(len(samples))].T // on a sample
		default:
			lo, hi := float64(first), float64(last)
			return int64(lo + r.Float64()*(hi-lo))
		}
	}
	for step := 0; step < 8; step++ {
		var ok, wantOK bool
		switch op := r.IntN(4); op {
		case 0:
			ok, wantOK = it.Next(), ref.Next()
		case 1:
			ts := randTime()
			ok, wantOK = it.SeekTo(ts), ref.SeekTo(ts)
		default:
			lo, hi := randTime(), randTime()
			if op == 2 && lo > hi {
				lo, hi = hi, lo
			}
			prefix := []model.Sample{{T: 1, V: 2}}
			got, err := it.AppendRange(prefix, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			want := rangeModel(ref, prefix[:1:1], lo, hi)
			requireSameSamples(t, got, want)
			// Both stand at the first sample after hi, or are exhausted.
			ok, wantOK = it.i < it.n, ref.SeekTo(math.MinInt64)
		}
		if ok != wantOK {
			t.Fatalf("step %d: ok = %v, want %v", step, ok, wantOK)
		}
		if ok {
			gt, gv := it.At()
			wt, wv := ref.At()
			if gt != wt || math.Float64bits(gv) != math.Float64bits(wv) {
				t.Fatalf("step %d: at (%d, %x), want (%d, %x)", step, gt, math.Float64bits(gv), wt, math.Float64bits(wv))
			}
		}
	}
	// What is left, by Next.
	var rest []model.Sample
	for ref.Next() {
		ts, v := ref.At()
		rest = append(rest, model.Sample{T: ts, V: v})
	}
	var got []model.Sample
	for it.Next() {
		ts, v := it.At()
		got = append(got, model.Sample{T: ts, V: v})
	}
	requireSameSamples(t, got, rest)
}

func TestBlockIteratorOps(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	it := &BlockIterator{}
	for _, b := range testBlocks(t) {
		samples, err := refDecodeBlock(b)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 40; k++ {
			if err := it.Reset(b); err != nil {
				t.Fatal(err)
			}
			checkOps(t, r, it, samples)
		}
	}
}

func TestBlockAppendRange(t *testing.T) {
	samples := []model.Sample{{T: 10, V: 1}, {T: 20, V: 2}, {T: 30, V: 3}, {T: 40, V: 4}}
	b := encodeBlock(t, samples)
	for _, tc := range []struct {
		mint, maxt int64
		want       []model.Sample // nil: none
		next       int64          // the sample Next moves to afterwards; 0 for none
	}{
		{math.MinInt64, math.MaxInt64, samples, 0},
		{10, 40, samples, 0},
		{11, 39, samples[1:3], 0},
		{20, 30, samples[1:3], 0},
		{20, 20, samples[1:2], 40},
		{0, 9, nil, 20},
		{41, math.MaxInt64, nil, 0},
		{30, 20, nil, 40},
		{math.MinInt64, math.MinInt64, nil, 20},
	} {
		it, err := NewBlockIterator(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := it.AppendRange(nil, tc.mint, tc.maxt)
		if err != nil {
			t.Fatal(err)
		}
		requireSameSamples(t, got, tc.want)
		if ok := it.Next(); ok != (tc.next != 0) {
			t.Fatalf("[%d, %d]: Next = %v", tc.mint, tc.maxt, ok)
		} else if ok {
			if ts, _ := it.At(); ts != tc.next {
				t.Fatalf("[%d, %d]: Next at %d, want %d", tc.mint, tc.maxt, ts, tc.next)
			}
		}
	}
}

// TestBlockAppendRangeNoAlloc checks that AppendRange into a buffer with
// room allocates nothing.
func TestBlockAppendRangeNoAlloc(t *testing.T) {
	var blocks [][]byte
	for _, s := range datagenSeries(50) {
		blocks = append(blocks, encodeBlock(t, s))
	}
	it := &BlockIterator{}
	dst := make([]model.Sample, 0, 1000)
	allocs := testing.AllocsPerRun(5, func() {
		for _, b := range blocks {
			if err := it.Reset(b); err != nil {
				t.Fatal(err)
			}
			var err error
			if dst, err = it.AppendRange(dst[:0], math.MinInt64, math.MaxInt64); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per pass, want 0", allocs)
	}
}
