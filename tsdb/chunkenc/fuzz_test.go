package chunkenc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

// samplesFromFuzz derives a sample sequence from fuzz bytes: each 10-byte
// record is a 2-byte timestamp step selector and 8 value bytes. Steps are
// small, huge or jittered so that every timestamp encoding gets exercised;
// values are raw bits or small decimals so that every value encoding does.
func samplesFromFuzz(data []byte, start int64) []model.Sample {
	var out []model.Sample
	t := start
	var prevV float64
	for i := 0; len(data) >= 10 && i < 2000; i++ {
		sel := binary.LittleEndian.Uint16(data)
		raw := binary.LittleEndian.Uint64(data[2:])
		data = data[10:]
		var step int64
		switch sel % 4 {
		case 0:
			step = 10_000
		case 1:
			step = 10_000 + int64(sel>>2)%9 - 4
		case 2:
			step = 1 + int64(sel>>2)
		default:
			step = int64(raw>>1) | 1 // may be huge
		}
		if i > 0 {
			if t > math.MaxInt64-step {
				break
			}
			t += step
		}
		var v float64
		switch raw % 4 {
		case 0:
			v = math.Float64frombits(raw)
		case 1:
			v = float64(int64(raw>>8)%100_000) / 100
		case 2:
			v = prevV + float64(raw>>40)
		default:
			v = prevV
		}
		prevV = v
		out = append(out, model.Sample{T: t, V: v})
	}
	return out
}

func fuzzSeeds(f *testing.F) {
	f.Add([]byte{}, int64(0))
	f.Add(make([]byte, 100), int64(1_700_000_000_000))
	f.Add([]byte("\x03\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x01\x00\x02\x00\x00\x00\x00\x00\xf0\x7f"), int64(math.MinInt64))
	rec := make([]byte, 0, 400)
	for i := 0; i < 40; i++ {
		rec = binary.LittleEndian.AppendUint16(rec, uint16(i*7))
		rec = binary.LittleEndian.AppendUint64(rec, uint64(i)*0x9e3779b97f4a7c15)
	}
	f.Add(rec, int64(-5))
}

func FuzzBlockRoundTrip(f *testing.F) {
	fuzzSeeds(f)
	it := &BlockIterator{}
	f.Fuzz(func(t *testing.T, data []byte, start int64) {
		samples := samplesFromFuzz(data, start)
		b, err := AppendBlock(nil, samples)
		if len(samples) == 0 {
			if !errors.Is(err, ErrEmptyBlock) {
				t.Fatalf("empty input: err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("AppendBlock: %v", err)
		}
		if err := it.Reset(b); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		requireSameSamples(t, drain(t, it), samples)
		if err := it.Reset(b); err != nil {
			t.Fatal(err)
		}
		checkOps(t, rand.New(rand.NewPCG(uint64(len(data)), uint64(start))), it, samples)
	})
}

func FuzzBlockDecode(f *testing.F) {
	for _, samples := range edgeCases() {
		b, _ := AppendBlock(nil, samples)
		f.Add(b)
	}
	for _, samples := range datagenSeries(30) {
		b, _ := AppendBlock(nil, samples[:60])
		f.Add(b)
	}
	f.Add([]byte{BlockVersion, flagSnappy, 1, 0})
	it := &BlockIterator{}
	f.Fuzz(func(t *testing.T, b []byte) {
		// The tuned decoder accepts what the plain one accepts, no more.
		checkMatchesReference(t, it, b)
		mint, maxt, n, infoErr := BlockInfo(b)
		err := it.Reset(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptBlock) {
				t.Fatalf("Reset error %v does not wrap ErrCorruptBlock", err)
			}
			return
		}
		if infoErr != nil {
			t.Fatalf("Reset accepts a block BlockInfo rejects: %v", infoErr)
		}
		got := drain(t, it)
		if len(got) != n || got[0].T != mint || got[len(got)-1].T != maxt {
			t.Fatalf("decoded %d samples in [%d, %d], header says %d in [%d, %d]",
				len(got), got[0].T, got[len(got)-1].T, n, mint, maxt)
		}
		if err := it.Reset(b); err != nil {
			t.Fatal(err)
		}
		checkOps(t, rand.New(rand.NewPCG(uint64(len(b)), uint64(mint))), it, got)
		// A block that decodes re-encodes to samples that decode equally.
		b2, err := AppendBlock(nil, got)
		if err != nil {
			t.Fatalf("re-encode decoded samples: %v", err)
		}
		if err := it.Reset(b2); err != nil {
			t.Fatal(err)
		}
		requireSameSamples(t, drain(t, it), got)
	})
}

func FuzzXORChunkRoundTrip(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, start int64) {
		samples := samplesFromFuzz(data, start)
		c := NewXORChunk()
		for i, s := range samples {
			c.Append(s.T, s.V)
			if i == len(samples)/2 {
				cl := c.Clone()
				requireSameSamples(t, drain(t, cl.Iterator(nil)), samples[:i+1])
			}
		}
		requireSameSamples(t, drain(t, c.Iterator(nil)), samples)
		if got, want := c.Bytes(), referenceStream(samples); !bytes.Equal(got, want) {
			t.Fatalf("stream differs from the reference encoder:\n got %x\nwant %x", got, want)
		}
		loaded, err := LoadXORChunk(c.Bytes(), c.NumSamples())
		if err != nil {
			t.Fatalf("LoadXORChunk: %v", err)
		}
		requireSameSamples(t, drain(t, loaded.Iterator(nil)), samples)
		if len(samples) > 0 {
			it := c.Iterator(nil)
			mid := samples[len(samples)/2].T
			if !it.SeekTo(mid) {
				t.Fatalf("SeekTo(%d) fails", mid)
			}
			if ts, _ := it.At(); ts != mid {
				t.Fatalf("SeekTo(%d) at %d", mid, ts)
			}
		}
	})
}
