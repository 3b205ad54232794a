package chunkenc

import (
	"errors"
	"math"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

func encodeBlock(t testing.TB, samples []model.Sample) []byte {
	t.Helper()
	b, err := AppendBlock(nil, samples)
	if err != nil {
		t.Fatalf("AppendBlock: %v", err)
	}
	return b
}

func checkBlockRoundTrip(t testing.TB, it *BlockIterator, samples []model.Sample) []byte {
	t.Helper()
	b := encodeBlock(t, samples)
	mint, maxt, n, err := BlockInfo(b)
	if err != nil {
		t.Fatalf("BlockInfo: %v", err)
	}
	if mint != samples[0].T || maxt != samples[len(samples)-1].T || n != len(samples) {
		t.Fatalf("BlockInfo = (%d, %d, %d), want (%d, %d, %d)", mint, maxt, n, samples[0].T, samples[len(samples)-1].T, len(samples))
	}
	if err := it.Reset(b); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	requireSameSamples(t, drain(t, it), samples)
	return b
}

func TestBlockRoundTripEdgeCases(t *testing.T) {
	var it BlockIterator
	for name, samples := range edgeCases() {
		t.Run(name, func(t *testing.T) {
			b := checkBlockRoundTrip(t, &it, samples)
			t.Logf("%d samples in %d bytes (%s)", len(samples), len(b), encName(b))
		})
	}
}

func TestBlockRoundTripDatagen(t *testing.T) {
	it := &BlockIterator{}
	for _, samples := range datagenSeries(600) {
		checkBlockRoundTrip(t, it, samples)
		// Parts of a window, including the smallest.
		checkBlockRoundTrip(t, it, samples[:1])
		checkBlockRoundTrip(t, it, samples[:2])
		checkBlockRoundTrip(t, it, samples[100:133])
	}
}

func TestBlockEncodings(t *testing.T) {
	regular := func(f func(i int) float64) []model.Sample {
		s := make([]model.Sample, 200)
		for i := range s {
			s[i] = model.Sample{T: 1_000_000 + int64(i)*10_000, V: f(i)}
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		samples  []model.Sample
		want     string
		maxBytes int
	}{
		{"constant", regular(func(int) float64 { return 7 }), "ts=regular v=const", 20},
		{"linear counter", regular(func(i int) float64 { return float64(1000 + 3*i) }), "ts=regular v=dec", 40},
		{"cpu seconds", regular(func(i int) float64 { return float64(12345600+i*i%977) / 100 }), "ts=regular v=dec", 400},
		{"random floats", regular(func(i int) float64 { return math.Sqrt(float64(i) + 0.5) }), "ts=regular v=xor", 2000},
	} {
		b := checkBlockRoundTrip(t, &BlockIterator{}, tc.samples)
		if got := encName(b); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
			t.Errorf("%s: encoding %q, want %q", tc.name, got, tc.want)
		}
		if len(b) > tc.maxBytes {
			t.Errorf("%s: %d bytes, want <= %d", tc.name, len(b), tc.maxBytes)
		}
	}
}

func TestAppendBlockRejects(t *testing.T) {
	dst := []byte("prefix")
	for _, tc := range []struct {
		name    string
		samples []model.Sample
		want    error
	}{
		{"empty", nil, ErrEmptyBlock},
		{"equal timestamps", []model.Sample{{T: 1}, {T: 1}}, ErrOutOfOrderBlock},
		{"decreasing", []model.Sample{{T: 1}, {T: 3}, {T: 2}}, ErrOutOfOrderBlock},
		{"wrap", []model.Sample{{T: math.MaxInt64}, {T: math.MinInt64}}, ErrOutOfOrderBlock},
		{"too large", make([]model.Sample, MaxBlockSamples+1), ErrBlockTooLarge},
	} {
		got, err := AppendBlock(dst, tc.samples)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		if string(got) != "prefix" {
			t.Errorf("%s: dst changed to %q", tc.name, got)
		}
	}
}

func TestAppendBlockAppends(t *testing.T) {
	samples := datagenSeries(1)[0]
	b, err := AppendBlock([]byte("xy"), samples)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:2]) != "xy" {
		t.Fatalf("prefix overwritten: %q", b[:2])
	}
	it, err := NewBlockIterator(b[2:])
	if err != nil {
		t.Fatal(err)
	}
	requireSameSamples(t, drain(t, it), samples)
}

func TestBlockSeekTo(t *testing.T) {
	b := encodeBlock(t, []model.Sample{{T: 10, V: 1}, {T: 20, V: 2}, {T: 30, V: 3}, {T: 40, V: 4}})
	testSeekTo(t, func() model.SampleIterator {
		it, err := NewBlockIterator(b)
		if err != nil {
			t.Fatal(err)
		}
		return it
	})
}

// TestBlockCorrupt checks that every truncation and single-byte change of
// real blocks is either rejected with ErrCorruptBlock or decodes without
// panicking.
func TestBlockCorrupt(t *testing.T) {
	var blocks [][]byte
	for _, samples := range datagenSeries(120)[:120:120] {
		blocks = append(blocks, encodeBlock(t, samples[:90]))
	}
	for _, samples := range edgeCases() {
		blocks = append(blocks, encodeBlock(t, samples))
	}
	it := &BlockIterator{}
	seen := map[string]bool{}
	for _, b := range blocks {
		seen[encName(b)] = true
		for cut := 0; cut < len(b); cut++ {
			if err := it.Reset(b[:cut]); !errors.Is(err, ErrCorruptBlock) {
				t.Fatalf("%s truncated to %d of %d bytes: err = %v, want ErrCorruptBlock", encName(b), cut, len(b), err)
			}
			if it.Next() {
				t.Fatal("iterator over a corrupt block yields a sample")
			}
			if !errors.Is(it.Err(), ErrCorruptBlock) {
				t.Fatalf("Err() = %v after a failed Reset", it.Err())
			}
		}
		if err := it.Reset(append(b[:len(b):len(b)], 0)); !errors.Is(err, ErrCorruptBlock) {
			t.Fatalf("%s with a trailing byte: err = %v, want ErrCorruptBlock", encName(b), err)
		}
		c := make([]byte, len(b))
		for i := range b {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				copy(c, b)
				c[i] ^= x
				if err := it.Reset(c); err != nil && !errors.Is(err, ErrCorruptBlock) {
					t.Fatalf("err = %v, want ErrCorruptBlock", err)
				}
				for it.Next() {
				}
			}
		}
		if _, _, _, err := BlockInfo(b[:1]); !errors.Is(err, ErrCorruptBlock) {
			t.Fatalf("BlockInfo of one byte: err = %v", err)
		}
	}
	t.Logf("encodings covered: %v", seen)
}

func TestBlockBadVersion(t *testing.T) {
	b := encodeBlock(t, []model.Sample{{T: 1, V: 1}})
	b[0] = BlockVersion + 1
	if _, err := NewBlockIterator(b); !errors.Is(err, ErrCorruptBlock) {
		t.Fatalf("err = %v, want ErrCorruptBlock", err)
	}
}

// TestBlockDecodeNoAlloc checks the steady-state decode promise.
func TestBlockDecodeNoAlloc(t *testing.T) {
	series := datagenSeries(200)
	var blocks [][]byte
	for _, s := range series {
		blocks = append(blocks, encodeBlock(t, s))
	}
	it := &BlockIterator{}
	for _, b := range blocks { // grow the buffers
		if err := it.Reset(b); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(5, func() {
		for _, b := range blocks {
			if err := it.Reset(b); err != nil {
				t.Fatal(err)
			}
			for it.Next() {
				it.At()
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per pass over %d blocks, want 0", allocs, len(blocks))
	}
}
