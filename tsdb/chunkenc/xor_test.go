package chunkenc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"unsafe"

	"github.com/stratus-metrics/stratus/model"
)

func xorChunkOf(samples []model.Sample) *XORChunk {
	c := NewXORChunk()
	for _, s := range samples {
		c.Append(s.T, s.V)
	}
	return c
}

func TestXORChunkRoundTrip(t *testing.T) {
	for name, samples := range edgeCases() {
		t.Run(name, func(t *testing.T) {
			c := xorChunkOf(samples)
			if c.NumSamples() != len(samples) {
				t.Fatalf("NumSamples = %d, want %d", c.NumSamples(), len(samples))
			}
			if c.MinTime() != samples[0].T || c.MaxTime() != samples[len(samples)-1].T {
				t.Fatalf("time range [%d, %d], want [%d, %d]", c.MinTime(), c.MaxTime(), samples[0].T, samples[len(samples)-1].T)
			}
			requireSameSamples(t, drain(t, c.Iterator(nil)), samples)
		})
	}
}

func TestXORChunkDatagen(t *testing.T) {
	var it model.SampleIterator
	for i, samples := range datagenSeries(300) {
		c := xorChunkOf(samples)
		it = c.Iterator(it)
		requireSameSamples(t, drain(t, it), samples)
		loaded, err := LoadXORChunk(c.Bytes(), c.NumSamples())
		if err != nil {
			t.Fatalf("series %d: load: %v", i, err)
		}
		requireSameSamples(t, drain(t, loaded.Iterator(nil)), samples)
	}
}

func TestXORChunkEmpty(t *testing.T) {
	c := NewXORChunk()
	if c.Iterator(nil).Next() {
		t.Fatal("empty chunk yields a sample")
	}
	if c.Iterator(nil).SeekTo(0) {
		t.Fatal("SeekTo on an empty chunk succeeds")
	}
	if c.NumSamples() != 0 || len(c.Bytes()) != 0 {
		t.Fatalf("empty chunk has %d samples, %d bytes", c.NumSamples(), len(c.Bytes()))
	}
}

// TestXORChunkLoadContinue checks that a loaded chunk keeps appending as the
// original would have.
func TestXORChunkLoadContinue(t *testing.T) {
	samples := datagenSeries(40)[37]
	for _, cut := range []int{0, 1, 2, 3, 100, 719} {
		c := xorChunkOf(samples[:cut])
		loaded, err := LoadXORChunk(c.Bytes(), cut)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		for _, s := range samples[cut:] {
			loaded.Append(s.T, s.V)
		}
		requireSameSamples(t, drain(t, loaded.Iterator(nil)), samples)
	}
}

func TestLoadXORChunkCorrupt(t *testing.T) {
	samples := datagenSeries(3)[1]
	c := xorChunkOf(samples[:50])
	b := c.Bytes()
	for _, tc := range []struct {
		name string
		b    []byte
		n    int
	}{
		{"too many samples", b, 60}, // 51 may decode from zero padding bits
		{"too few samples", b, 40},
		{"truncated", b[:len(b)/2], 50},
		{"negative count", b, -1},
		{"bytes but no samples", b, 0},
	} {
		if _, err := LoadXORChunk(tc.b, tc.n); !errors.Is(err, ErrCorruptChunk) {
			t.Errorf("%s: err = %v, want ErrCorruptChunk", tc.name, err)
		}
	}
}

func TestXORChunkSeekTo(t *testing.T) {
	samples := []model.Sample{{T: 10, V: 1}, {T: 20, V: 2}, {T: 30, V: 3}, {T: 40, V: 4}}
	testSeekTo(t, func() model.SampleIterator { return xorChunkOf(samples).Iterator(nil) })
}

// testSeekTo checks SeekTo on an iterator over samples at 10, 20, 30, 40.
func testSeekTo(t *testing.T, newIt func() model.SampleIterator) {
	t.Helper()
	steps := []struct {
		op   string // "seek" or "next"
		arg  int64
		ok   bool
		want int64
	}{
		{"seek", 15, true, 20},
		{"seek", 5, true, 20}, // never backwards
		{"seek", 20, true, 20},
		{"next", 0, true, 30},
		{"seek", 31, true, 40},
		{"seek", 41, false, 0},
		{"seek", 0, false, 0}, // exhausted stays exhausted
		{"next", 0, false, 0},
	}
	it := newIt()
	for i, s := range steps {
		var ok bool
		if s.op == "seek" {
			ok = it.SeekTo(s.arg)
		} else {
			ok = it.Next()
		}
		if ok != s.ok {
			t.Fatalf("step %d %s(%d) = %v, want %v", i, s.op, s.arg, ok, s.ok)
		}
		if ok {
			if ts, _ := it.At(); ts != s.want {
				t.Fatalf("step %d %s(%d) at %d, want %d", i, s.op, s.arg, ts, s.want)
			}
		}
	}
	it = newIt()
	if !it.SeekTo(-100) {
		t.Fatal("SeekTo before the first sample fails")
	}
	if ts, _ := it.At(); ts != 10 {
		t.Fatalf("SeekTo before the first sample at %d, want 10", ts)
	}
}

// TestXORChunkCloneConcurrent iterates clones while the owner appends; run
// with -race.
func TestXORChunkCloneConcurrent(t *testing.T) {
	samples := datagenSeries(5)[3]
	c := NewXORChunk()
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, s := range samples {
			mu.Lock()
			c.Append(s.T, s.V)
			mu.Unlock()
		}
	}()
	for k := 0; k < 50; k++ {
		mu.Lock()
		cl := c.Clone()
		mu.Unlock()
		got := drain(t, cl.Iterator(nil))
		requireSameSamples(t, got, samples[:len(got)])
	}
	wg.Wait()
}

func TestXORChunkSizeSmall(t *testing.T) {
	// One cache line: the head touches one chunk per series per scrape.
	if s := unsafe.Sizeof(XORChunk{}); s > 64 {
		t.Errorf("XORChunk fixed state is %d bytes, want <= 64", s)
	}
	c := NewXORChunk()
	if s := c.Size(); s > 160 {
		t.Errorf("empty chunk Size = %d, want <= 160", s)
	}
	for _, s := range datagenSeries(2)[0] {
		c.Append(s.T, s.V)
	}
	if slack := cap(c.Bytes()) - len(c.Bytes()); slack > len(c.Bytes())/4+32 {
		t.Errorf("slack %d bytes over %d used", slack, len(c.Bytes()))
	}
	c.Reset()
	if c.NumSamples() != 0 || c.Iterator(nil).Next() {
		t.Fatal("Reset chunk is not empty")
	}
}

// referenceStream encodes samples as the head chunk does, but with the
// generic bitWriter, writeDoD and xorState that the block codec uses. Append
// spells the same encoders out for speed; this is what keeps it honest.
func referenceStream(samples []model.Sample) []byte {
	var w bitWriter
	var xs xorState
	var prevT int64
	var delta uint64
	for i, s := range samples {
		vb := math.Float64bits(s.V)
		switch i {
		case 0:
			w.writeUvarint(zigzag(s.T))
			w.writeBits(vb, 64)
			xs.reset(vb)
		case 1:
			delta = uint64(s.T) - uint64(prevT)
			w.writeUvarint(delta)
			xs.write(&w, vb)
		default:
			d := uint64(s.T) - uint64(prevT)
			writeDoD(&w, int64(d-delta))
			delta = d
			xs.write(&w, vb)
		}
		prevT = s.T
	}
	return w.b
}

func TestXORChunkMatchesReference(t *testing.T) {
	cases := edgeCases()
	for i, s := range datagenSeries(100) {
		cases[fmt.Sprintf("datagen %d", i)] = s
	}
	for name, samples := range cases {
		got, want := xorChunkOf(samples).Bytes(), referenceStream(samples)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: stream differs from the reference encoder:\n got %x\nwant %x", name, got, want)
		}
	}
}
