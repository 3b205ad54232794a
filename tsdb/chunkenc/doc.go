// Package chunkenc owns the byte encodings of sample data in the Stratus
// TSDB: the appendable head chunk that holds the open head of one series,
// and the sealed block that holds one series' samples for a closed time
// window. It imports only the standard library, model and snappy, so the
// encodings can be tested, fuzzed and benchmarked on their own.
//
// Data flows through it in two steps. While a window is open, the head
// appends each incoming sample to the series' XORChunk (Gorilla-style
// delta-of-delta timestamps and XOR values, a few bits a sample, no
// allocation per append); queries read the open window through a Clone
// taken under the series lock. When the window closes, the head reads the
// chunk back and hands its samples to AppendBlock, which measures the
// candidate encodings on that batch (regular or delta-of-delta timestamps;
// constant, Gorilla XOR or decimal mantissa values) and keeps the smallest,
// snappy-compressed when that helps. Queries look at BlockInfo to skip
// blocks outside their range and decode the rest with a reused
// BlockIterator, which allocates nothing once warm.
//
// Both encodings are lossless: every float64, including NaN payloads, the
// Prometheus stale marker (model.StaleNaNBits), negative zero and
// infinities, comes back bit for bit. FORMAT.md in the parent directory
// documents every byte.
package chunkenc
