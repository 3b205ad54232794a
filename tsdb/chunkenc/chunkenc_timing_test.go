package chunkenc

import (
	"slices"
	"strings"
	"testing"

	promchunkenc "github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/stratus-metrics/stratus/model"
)

// benchSeries is the data every speed benchmark runs on: 200 series of
// node_exporter-like data, 720 samples each.
var benchSeries = datagenSeries(200)

func benchSamples() int {
	n := 0
	for _, s := range benchSeries {
		n += len(s)
	}
	return n
}

func reportSamplesPerSec(b *testing.B, perOp int) {
	b.ReportMetric(float64(perOp)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkAppendBlock(b *testing.B) {
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		for _, s := range benchSeries {
			var err error
			if buf, err = AppendBlock(buf[:0], s); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportSamplesPerSec(b, benchSamples())
}

func BenchmarkBlockIterator(b *testing.B) {
	blocks := make([][]byte, len(benchSeries))
	for i, s := range benchSeries {
		blocks[i] = encodeBlock(b, s)
	}
	it := &BlockIterator{}
	b.ReportAllocs()
	for b.Loop() {
		for _, blk := range blocks {
			if err := it.Reset(blk); err != nil {
				b.Fatal(err)
			}
			for it.Next() {
				it.At()
			}
		}
	}
	reportSamplesPerSec(b, benchSamples())
}

func BenchmarkBlockInfo(b *testing.B) {
	blk := encodeBlock(b, benchSeries[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := BlockInfo(blk); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkXORChunkAppend(b *testing.B) {
	chunks := make([]*XORChunk, len(benchSeries))
	for i := range chunks {
		chunks[i] = NewXORChunk()
	}
	b.ReportAllocs()
	for b.Loop() {
		for i, s := range benchSeries {
			c := chunks[i]
			c.Reset()
			for _, smp := range s {
				c.Append(smp.T, smp.V)
			}
		}
	}
	reportSamplesPerSec(b, benchSamples())
}

// BenchmarkXORChunkAppendTimeMajor appends in the order the head sees
// samples: one per series per scrape, going round all series, so each
// append finds its chunk cold.
func BenchmarkXORChunkAppendTimeMajor(b *testing.B) {
	chunks := make([]*XORChunk, len(benchSeries))
	for i := range chunks {
		chunks[i] = NewXORChunk()
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range chunks {
			c.Reset()
		}
		for j := range benchSeries[0] {
			for i, s := range benchSeries {
				chunks[i].Append(s[j].T, s[j].V)
			}
		}
	}
	reportSamplesPerSec(b, benchSamples())
}

func BenchmarkXORChunkIterate(b *testing.B) {
	chunks := make([]*XORChunk, len(benchSeries))
	for i, s := range benchSeries {
		chunks[i] = xorChunkOf(s)
	}
	var it model.SampleIterator
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range chunks {
			it = c.Iterator(it)
			for it.Next() {
				it.At()
			}
		}
	}
	reportSamplesPerSec(b, benchSamples())
}

// BenchmarkPromXORAppend and BenchmarkPromXORIterate run Prometheus's XOR
// chunks on the same data, as the peer for the two benchmarks above.
func BenchmarkPromXORAppend(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range benchSeries {
			c := promchunkenc.NewXORChunk()
			app, _ := c.Appender()
			for _, smp := range s {
				app.Append(0, smp.T, smp.V)
			}
		}
	}
	reportSamplesPerSec(b, benchSamples())
}

func BenchmarkPromXORAppendTimeMajor(b *testing.B) {
	apps := make([]promchunkenc.Appender, len(benchSeries))
	b.ReportAllocs()
	for b.Loop() {
		for i := range apps {
			apps[i], _ = promchunkenc.NewXORChunk().Appender()
		}
		for j := range benchSeries[0] {
			for i, s := range benchSeries {
				apps[i].Append(0, s[j].T, s[j].V)
			}
		}
	}
	reportSamplesPerSec(b, benchSamples())
}

func BenchmarkPromXORIterate(b *testing.B) {
	chunks := make([]*promchunkenc.XORChunk, len(benchSeries))
	for i, s := range benchSeries {
		chunks[i] = promchunkenc.NewXORChunk()
		app, _ := chunks[i].Appender()
		for _, smp := range s {
			app.Append(0, smp.T, smp.V)
		}
	}
	var it promchunkenc.Iterator
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range chunks {
			it = c.Iterator(it)
			for it.Next() != promchunkenc.ValNone {
				it.At()
			}
		}
	}
	reportSamplesPerSec(b, benchSamples())
}

// BenchmarkBlockSize reports sealed bytes per sample against Prometheus's
// XOR chunks (120 samples a chunk) on 2000 series x 720 samples of datagen
// data; FORMAT.md quotes its output.
func BenchmarkBlockSize(b *testing.B) {
	var st sizeStats
	for b.Loop() {
		st = measureSizes(b, cmpSeries)
	}
	ours := float64(st.stratusBytes) / float64(st.samples)
	prom := float64(st.promBytes) / float64(st.samples)
	b.ReportMetric(ours, "stratus_B/sample")
	b.ReportMetric(prom, "prom_B/sample")
	b.ReportMetric(ours/prom, "ratio")
}

// benchBlocks encodes benchSeries as sealed blocks.
func benchBlocks(b *testing.B) [][]byte {
	blocks := make([][]byte, len(benchSeries))
	for i, s := range benchSeries {
		blocks[i] = encodeBlock(b, s)
	}
	return blocks
}

// BenchmarkBlockRange copies a time range out of every block into a reused
// []model.Sample, as a query does: with the SeekTo/Next/At loop the TSDB
// has used, and with AppendRange. The ranges are the whole two-hour block
// and each of its halves (a one-hour query). samples/s counts the samples
// copied out.
func BenchmarkBlockRange(b *testing.B) {
	blocks := benchBlocks(b)
	mint, maxt := benchSeries[0][0].T, benchSeries[0][len(benchSeries[0])-1].T
	mid := mint + (maxt-mint)/2
	for _, r := range []struct {
		name       string
		mint, maxt int64
	}{
		{"all", mint, maxt},
		{"first-half", mint, mid},
		{"second-half", mid + 1, maxt},
	} {
		for _, m := range []string{"loop", "AppendRange"} {
			b.Run(r.name+"/"+m, func(b *testing.B) {
				it := &BlockIterator{}
				var dst []model.Sample
				out := 0
				b.ReportAllocs()
				for b.Loop() {
					out = 0
					for _, blk := range blocks {
						if err := it.Reset(blk); err != nil {
							b.Fatal(err)
						}
						dst = dst[:0]
						if m == "loop" {
							for ok := it.SeekTo(r.mint); ok; ok = it.Next() {
								t, v := it.At()
								if t > r.maxt {
									break
								}
								dst = append(dst, model.Sample{T: t, V: v})
							}
						} else {
							var err error
							if dst, err = it.AppendRange(dst, r.mint, r.maxt); err != nil {
								b.Fatal(err)
							}
						}
						out += len(dst)
					}
				}
				reportSamplesPerSec(b, out)
			})
		}
	}
}

// BenchmarkBlockIteratorByEncoding is BenchmarkBlockIterator for the
// benchmark blocks of each encoding apart, to show where decoding time goes.
func BenchmarkBlockIteratorByEncoding(b *testing.B) {
	byEnc := map[string][][]byte{}
	var names []string
	for _, blk := range benchBlocks(b) {
		name := encName(blk)
		if byEnc[name] == nil {
			names = append(names, name)
		}
		byEnc[name] = append(byEnc[name], blk)
	}
	slices.Sort(names)
	for _, name := range names {
		blocks := byEnc[name]
		b.Run(strings.ReplaceAll(name, " ", "/"), func(b *testing.B) {
			it := &BlockIterator{}
			samples := 0
			b.ReportAllocs()
			for b.Loop() {
				samples = 0
				for _, blk := range blocks {
					if err := it.Reset(blk); err != nil {
						b.Fatal(err)
					}
					for it.Next() {
						it.At()
						samples++
					}
				}
			}
			reportSamplesPerSec(b, samples)
		})
	}
}
