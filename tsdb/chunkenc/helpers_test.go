package chunkenc

import (
	"math"
	"testing"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

// edgeValues are values that must survive both codecs bit for bit.
var edgeValues = []float64{
	math.NaN(),
	math.Float64frombits(model.StaleNaNBits),
	math.Float64frombits(0x7ff8dead_beef0001), // NaN with a payload
	math.Inf(1), math.Inf(-1),
	math.Copysign(0, -1), 0,
	math.MaxFloat64, -math.MaxFloat64,
	math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
	1, -1, 0.1, 0.30000000000000004, 1e22, 1e23, 1e-22, 123456.78,
	float64(1 << 53), float64(1<<53) + 2, -float64(1 << 53),
}

// edgeCases returns named sample sequences covering the codecs' corners.
func edgeCases() map[string][]model.Sample {
	cases := map[string][]model.Sample{
		"single":          {{T: 5, V: 1}},
		"single-negative": {{T: -1_000_000, V: -3.5}},
		"two":             {{T: 1, V: 1}, {T: 2, V: 2}},
		"int64 extremes":  {{T: math.MinInt64, V: 1}, {T: math.MaxInt64, V: 2}},
		"near extremes": {
			{T: math.MinInt64, V: 0}, {T: math.MinInt64 + 1, V: 0}, {T: -1, V: 0},
			{T: 0, V: 0}, {T: math.MaxInt64 - 1, V: 0}, {T: math.MaxInt64, V: 0},
		},
		"negative timestamps": {{T: -30_000, V: 1.5}, {T: -20_000, V: 2.5}, {T: -10_000, V: 3.5}, {T: 0, V: 4.5}},
		"huge deltas":         {{T: 0, V: 1}, {T: 1 << 40, V: 1}, {T: 1<<40 + 1, V: 1}, {T: 1 << 62, V: 1}, {T: 1<<62 + 7, V: 1}},
		"stale at end": {
			{T: 10_000, V: 1}, {T: 20_000, V: 2}, {T: 30_000, V: 3},
			{T: 40_000, V: math.Float64frombits(model.StaleNaNBits)},
		},
	}
	var edges []model.Sample
	for i, v := range edgeValues {
		edges = append(edges, model.Sample{T: int64(i) * 15_000, V: v})
	}
	cases["edge values"] = edges
	var same []model.Sample
	for i := 0; i < 500; i++ {
		same = append(same, model.Sample{T: int64(i) * 10_000, V: 42.42})
	}
	cases["identical values"] = same
	var sameNaN []model.Sample
	for i := 0; i < 100; i++ {
		sameNaN = append(sameNaN, model.Sample{T: int64(i*i) + 3, V: math.Float64frombits(model.StaleNaNBits)})
	}
	cases["identical stale NaN"] = sameNaN
	var mostlyDecimal []model.Sample
	for i := 0; i < 300; i++ {
		v := float64(i) / 100
		if i%37 == 5 {
			v = edgeValues[i%len(edgeValues)]
		}
		mostlyDecimal = append(mostlyDecimal, model.Sample{T: int64(i) * 10_000, V: v})
	}
	cases["decimal with exceptions"] = mostlyDecimal
	return cases
}

// datagenSeries returns n series of node_exporter-like data, 720 samples each.
func datagenSeries(n int) [][]model.Sample {
	out := make([][]model.Sample, n)
	for i, ls := range datagen.Series(n) {
		out[i] = datagen.Samples(ls, i, 1_700_000_000_000, 10_000, 720)
	}
	return out
}

// drain reads an iterator to its end.
func drain(t testing.TB, it model.SampleIterator) []model.Sample {
	t.Helper()
	var got []model.Sample
	for it.Next() {
		ts, v := it.At()
		got = append(got, model.Sample{T: ts, V: v})
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return got
}

// requireSameSamples compares timestamps and value bits.
func requireSameSamples(t testing.TB, got, want []model.Sample) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].T != want[i].T || math.Float64bits(got[i].V) != math.Float64bits(want[i].V) {
			t.Fatalf("sample %d: got (%d, %x), want (%d, %x)", i,
				got[i].T, math.Float64bits(got[i].V), want[i].T, math.Float64bits(want[i].V))
		}
	}
}
