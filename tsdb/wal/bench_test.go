package wal

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

// benchRecord is ~4 KiB that snappy shrinks to roughly half, like a batch of
// encoded samples: random bytes from a small alphabet.
func benchRecord(seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 4096)
	for i := range b {
		b[i] = "0123456789abcdef"[rng.IntN(16)]
	}
	return b
}

// BenchmarkLog measures Log throughput per sync policy on a real temp dir
// with 1 and 8 concurrent writers, and reports fsyncs per Log call.
//
//	go test -run '^$' -bench BenchmarkLog -benchtime 2s ./tsdb/wal/
func BenchmarkLog(b *testing.B) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("policy=%s/writers=%d", p, writers), func(b *testing.B) {
				benchmarkLog(b, p, writers)
			})
		}
	}
}

func benchmarkLog(b *testing.B, p SyncPolicy, writers int) {
	w, err := Open(vfs.Default, b.TempDir(), Options{SyncPolicy: p})
	if err != nil {
		b.Fatal(err)
	}
	recs := make([][]byte, writers)
	for i := range recs {
		recs[i] = benchRecord(uint64(i))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(recs[0])))
	before := testutil.ToFloat64(w.m.fsyncs)
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / writers
	for g := 0; g < writers; g++ {
		n := per
		if g == 0 {
			n += b.N % writers
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				if err := w.Log(recs[g]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric((testutil.ToFloat64(w.m.fsyncs)-before)/float64(b.N), "fsyncs/op")
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReader measures replay speed of 4 KiB records.
func BenchmarkReader(b *testing.B) {
	dir := b.TempDir()
	w, err := Open(vfs.Default, dir, Options{SyncPolicy: SyncNone})
	if err != nil {
		b.Fatal(err)
	}
	rec := benchRecord(1)
	const n = 2000
	for i := 0; i < n; i++ {
		if err := w.Log(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(n * len(rec)))
	b.ResetTimer()
	for b.Loop() {
		r, err := NewReader(vfs.Default, dir, 0)
		if err != nil {
			b.Fatal(err)
		}
		c := 0
		for r.Next() {
			c++
		}
		if r.Err() != nil || c != n {
			b.Fatalf("read %d records, err %v", c, r.Err())
		}
	}
}
