// Package tsdb is Stratus's time-series store: an in-memory head of series,
// an inverted index over their labels, and compact sealed blocks.
//
// It owns series identity (canonical label keys and the ids assigned to
// them), sample storage, sealing, retention and, in its sub-packages, the
// encodings (chunkenc), the inverted index (index), the write-ahead log
// (wal) and the file-system seam used to test durability (vfs). It imports
// only model and its own sub-packages among Stratus packages; a test in the
// repository root enforces that.
//
// Data flow on append: DB.Append takes a batch of model.TimeSeries; each
// series' canonical key is looked up in a fastcache (key -> id, no
// allocation for a known series) and, on a miss, in sharded maps that are
// the source of truth; new series get the next id and enter the index. The
// samples go to the series under its own mutex: the newest sample waits
// unencoded (so a rewrite of the same timestamp replaces it), older ones are
// Gorilla-encoded into the series' open head chunk, and samples arriving
// out of order within the out-of-order window go to a small sorted buffer.
// A full head chunk is closed and moves out of the Go heap, into head chunk
// files read through a mapping (or heap slabs without a data directory);
// the series keeps a 12-byte link to its closed chunks (head_chunks.go).
//
// Sealing: when the clock passes the end of a block window (2h by default)
// plus the out-of-order window, every series' samples of that window are
// merged and re-encoded into one compact, snappy-compressed block (see
// FORMAT.md), and the window becomes read-only.
//
// Data flow on query: Select resolves matchers to postings in the index,
// keeps the series whose time bounds overlap the range, sorts them by
// labels and returns a model.SeriesSet. A series' iterator copies its head
// samples under the series lock and decodes only the sealed blocks that
// overlap the range.
package tsdb
