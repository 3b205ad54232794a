package chunkenc

import (
	"testing"

	promchunkenc "github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

// Measurement setup shared by the size comparison test and benchmark: the
// numbers in FORMAT.md come from it.
const (
	cmpSeries    = 2000
	cmpSamples   = 720 // a two-hour block at 10 s
	cmpInterval  = 10_000
	cmpStart     = 1_700_000_000_000
	promPerChunk = 120 // Prometheus cuts a chunk every 120 samples
)

// sizeStats sums encoded sizes over the comparison data set.
type sizeStats struct {
	samples      int
	stratusBytes int
	promBytes    int
	byEnc        map[string][2]int // encoding -> blocks, bytes
}

func measureSizes(tb testing.TB, nSeries int) sizeStats {
	st := sizeStats{byEnc: map[string][2]int{}}
	var buf []byte
	var samples []model.Sample
	for i, ls := range datagen.Series(nSeries) {
		samples = datagen.AppendSamples(samples[:0], ls, i, cmpStart, cmpInterval, cmpSamples)
		var err error
		buf, err = AppendBlock(buf[:0], samples)
		if err != nil {
			tb.Fatal(err)
		}
		st.samples += len(samples)
		st.stratusBytes += len(buf)
		key := encName(buf)
		e := st.byEnc[key]
		st.byEnc[key] = [2]int{e[0] + 1, e[1] + len(buf)}
		st.promBytes += promSize(tb, samples)
	}
	return st
}

// promSize returns the bytes Prometheus's XOR chunks take for samples, cut
// every promPerChunk samples as its head does.
func promSize(tb testing.TB, samples []model.Sample) int {
	total := 0
	for len(samples) > 0 {
		k := min(promPerChunk, len(samples))
		c := promchunkenc.NewXORChunk()
		app, err := c.Appender()
		if err != nil {
			tb.Fatal(err)
		}
		for _, s := range samples[:k] {
			app.Append(0, s.T, s.V)
		}
		total += len(c.Bytes())
		samples = samples[k:]
	}
	return total
}

func encName(b []byte) string {
	ts := [...]string{"ts=regular", "ts=dod-varint", "ts=dod-bits", "ts=?"}[b[1]&flagTSMask]
	vs := [...]string{"v=const", "v=xor", "v=dec-delta", "v=dec-dod", "v=?", "v=?", "v=?", "v=?"}[(b[1]&flagValueMask)>>flagValueShift]
	sn := ""
	if b[1]&flagSnappy != 0 {
		sn = "+snappy"
	}
	return ts + " " + vs + sn
}

func TestBlockSizeVsPrometheus(t *testing.T) {
	n := cmpSeries
	if testing.Short() {
		n = 300
	}
	st := measureSizes(t, n)
	ours := float64(st.stratusBytes) / float64(st.samples)
	prom := float64(st.promBytes) / float64(st.samples)
	t.Logf("%d series x %d samples: stratus %.3f B/sample, prometheus %.3f B/sample, ratio %.3f", n, cmpSamples, ours, prom, ours/prom)
	for k, v := range st.byEnc {
		t.Logf("  %-32s %5d blocks %8.3f B/sample", k, v[0], float64(v[1])/float64(v[0]*cmpSamples))
	}
	if ours/prom > 0.6 {
		t.Errorf("stratus/prometheus size ratio %.3f, want <= 0.6", ours/prom)
	}
}
