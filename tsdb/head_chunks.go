package tsdb

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
)

// Closed head chunks.
//
// A series appends to one open head chunk. When that chunk is full
// (HeadChunkSamples) or its window ends, it is closed: its state goes to the
// chunk log as one record, and the series keeps only the reference of its
// newest closed chunk and how many it has. Each record holds the reference
// of the series' previous closed chunk, so a series spends 12 bytes on its
// closed chunks however many there are, and readers walk the links.
//
// With a data directory on the operating system's file system, the log is
// a sequence of files under head_chunks/, written with write(2) in pieces
// of chunkWriteBuffer bytes and read through a read-only shared mapping:
// closed chunks live in the page cache, which the kernel can reclaim,
// instead of the Go heap, and a record adds to the process' resident memory
// only while it is read. Otherwise (an in-memory DB, a vfs.FS other than
// the OS, a platform without mmap, or after a file error) the log is a
// sequence of heap slabs holding the records back to back, which is still
// smaller than keeping the chunks: no spare capacity, no object per chunk.
//
// The log is not part of durability: the WAL, the head snapshot and the
// block files are. Open deletes what a previous process left, a file or
// slab is deleted once every window it holds records of is sealed, and
// Close deletes the rest. Layout: FORMAT.md, "Closed head chunks".
const (
	chunkLogDirName   = "head_chunks"
	chunkFileSuffix   = ".chunks"
	chunkFileSize     = 128 << 20 // the largest file; also the mapping's length
	chunkWriteBuffer  = 256 << 10 // records of the current file not yet written
	chunkSlabMin      = 64 << 10  // the first heap slab; later ones double
	chunkSlabMax      = 4 << 20
	chunkRecordHeader = 4 + 8 + 8 // length, previous reference, window start
	chunkRefOffBits   = 40
)

// chunkRef locates a record in the chunk log: the file's sequence number
// (from 1, so that 0 means none) above the record's offset in it.
type chunkRef uint64

func makeChunkRef(seq uint32, off int64) chunkRef {
	return chunkRef(uint64(seq)<<chunkRefOffBits | uint64(off))
}

func (r chunkRef) seq() uint32 { return uint32(r >> chunkRefOffBits) }
func (r chunkRef) off() int64  { return int64(r & (1<<chunkRefOffBits - 1)) }

// chunkFile is one file, or heap slab, of the chunk log.
type chunkFile struct {
	seq uint32

	// A file (mm != nil): records below flushed are in the file and read
	// through mm, the file mapped read-only at its largest size.
	path    string
	f       *os.File
	mm      []byte
	flushed atomic.Int64

	// A heap slab (mm == nil): heap holds the records at offsets from 0,
	// fixed in length so it never moves. Records are written under the
	// log's mu and read without it: a reader has the record's reference
	// from a series, under the series' lock, which the writer held when it
	// wrote the record and stored the reference.
	//
	// A file whose write failed keeps the records it could not write in
	// heap, at offsets from heapBase; then heap is guarded by the log's mu.
	heap     []byte
	heapBase int64

	size      int64 // bytes of records given to this file; guarded by the log's mu
	minWindow int64 // the oldest window it holds a record of; guarded by the log's mu
	maxWindow int64 // the newest window it holds a record of; guarded by the log's mu
}

// chunkLog is the store of closed head chunks. It is safe for concurrent
// use.
type chunkLog struct {
	dir    string // "" for heap slabs only
	logger *slog.Logger
	// fileSize and bufferSize are chunkFileSize and chunkWriteBuffer;
	// tests shrink them.
	fileSize   int64
	bufferSize int

	files atomic.Pointer[[]*chunkFile] // by seq; replaced as a whole under mu

	mu      sync.Mutex // guards the fields below and chunkFile's guarded fields
	cur     *chunkFile // the file or slab records are added to; nil before the first
	buf     []byte     // records of cur not yet written to its file
	rec     []byte     // scratch for encoding a record
	nextSeq uint32
	slab    int  // the length of the next heap slab
	onDisk  bool // new files are files, not heap slabs
	failed  bool // a file operation failed: heap slabs from then on

	bytes    atomic.Int64 // bytes of records held
	failures atomic.Int64 // file operations that failed
}

// newChunkLog returns a log under dir, or one of heap slabs when dir is
// "". It deletes whatever dir holds: records from another process are of no
// use.
func newChunkLog(dir string, logger *slog.Logger) (*chunkLog, error) {
	l := &chunkLog{dir: dir, logger: logger, fileSize: chunkFileSize, bufferSize: chunkWriteBuffer, nextSeq: 1, slab: chunkSlabMin}
	l.files.Store(&[]*chunkFile{})
	if dir != "" && mmapSupported {
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("remove old head chunk files: %w", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create head chunk directory: %w", err)
		}
		l.onDisk = true
	}
	return l, nil
}

// appendChunkRecord appends the record of a closed chunk: its length, the
// previous reference, the window, the chunk's state and zero padding that
// lets the chunk's iterator read ahead (chunkenc.XORReadAhead).
func appendChunkRecord(dst []byte, prev chunkRef, window int64, c *chunkenc.XORChunk) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(prev))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(window))
	dst = chunkenc.AppendXORChunkState(dst, c)
	dst = append(dst, make([]byte, chunkenc.XORReadAhead)...)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// add stores a closed chunk of the given window whose series' previous
// closed chunk is prev, and returns its reference.
func (l *chunkLog) add(prev chunkRef, window int64, c *chunkenc.XORChunk) chunkRef {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rec = appendChunkRecord(l.rec[:0], prev, window, c)
	n := int64(len(l.rec))
	toFile := l.onDisk && n <= l.fileSize
	if toFile && (l.cur == nil || l.cur.mm == nil || l.cur.size+n > l.fileSize) {
		l.openFileLocked()
		toFile = l.onDisk // false if that failed: heap slabs from now on
	}
	if !toFile && (l.cur == nil || l.cur.mm != nil || l.cur.size+n > int64(len(l.cur.heap))) {
		l.newSlabLocked(int(n))
	}
	if l.cur.mm != nil && len(l.buf) > 0 && len(l.buf)+int(n) > l.bufferSize {
		if l.flushLocked(); l.failed {
			l.newSlabLocked(int(n))
		}
	}
	f := l.cur
	off := f.size
	if f.mm != nil {
		l.buf = append(l.buf, l.rec...)
	} else {
		copy(f.heap[off:], l.rec)
	}
	f.size += n
	f.minWindow = min(f.minWindow, window)
	f.maxWindow = max(f.maxWindow, window)
	l.bytes.Add(n)
	return makeChunkRef(f.seq, off)
}

// openFileLocked starts a new file, writing out the current one's records
// first. On failure it falls back to heap slabs for good.
func (l *chunkLog) openFileLocked() {
	if l.cur != nil {
		l.flushLocked()
		if l.failed {
			return
		}
	}
	seq := l.nextSeq
	path := filepath.Join(l.dir, fmt.Sprintf("%08d%s", seq, chunkFileSuffix))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	var mm []byte
	if err == nil {
		mm, err = mapFile(f, int(l.fileSize))
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}
	if err != nil {
		l.failLocked(fmt.Errorf("create head chunk file %s: %w", path, err))
		return
	}
	l.nextSeq++
	cf := &chunkFile{seq: seq, path: path, f: f, mm: mm, minWindow: math.MaxInt64, maxWindow: math.MinInt64}
	l.publishLocked(append(slices.Clone(*l.files.Load()), cf))
	l.cur = cf
}

// newSlabLocked starts a heap slab with room for at least n bytes.
func (l *chunkLog) newSlabLocked(n int) {
	l.flushLocked() // the current file's records must not wait in buf for a file no longer current
	size := max(l.slab, n)
	l.slab = min(l.slab*2, chunkSlabMax)
	cf := &chunkFile{seq: l.nextSeq, heap: make([]byte, size), minWindow: math.MaxInt64, maxWindow: math.MinInt64}
	l.nextSeq++
	l.publishLocked(append(slices.Clone(*l.files.Load()), cf))
	l.cur = cf
}

func (l *chunkLog) publishLocked(files []*chunkFile) { l.files.Store(&files) }

// flushLocked writes the buffered records to the current file. If that
// fails they stay in memory, in the file's heap, and the log uses heap
// slabs from then on.
func (l *chunkLog) flushLocked() {
	f := l.cur
	if len(l.buf) == 0 || f == nil || f.mm == nil {
		return
	}
	if _, err := f.f.Write(l.buf); err != nil {
		f.heapBase = f.flushed.Load()
		f.heap = slices.Clone(l.buf)
		l.buf = l.buf[:0]
		l.failLocked(fmt.Errorf("write head chunk file %s: %w", f.path, err))
		return
	}
	f.flushed.Store(f.size)
	l.buf = l.buf[:0]
}

func (l *chunkLog) failLocked(err error) {
	l.failures.Add(1)
	if !l.failed {
		l.logger.Error("head chunk files failed; closed head chunks stay in memory from now on", "err", err)
	}
	l.failed, l.onDisk = true, false
}

// file returns the file or slab with the given sequence number.
func (l *chunkLog) file(seq uint32) *chunkFile {
	files := *l.files.Load()
	i, ok := slices.BinarySearchFunc(files, seq, func(f *chunkFile, seq uint32) int {
		return int(int64(f.seq) - int64(seq))
	})
	if !ok {
		return nil
	}
	return files[i]
}

// closedChunk is a closed head chunk as read from the log.
type closedChunk struct {
	prev   chunkRef
	window int64
	c      chunkenc.XORChunk // a read-only view of the log, or of read's scratch: never Append to it
}

// read returns the chunk at ref. The chunk aliases the log's memory, which
// stays valid while the caller holds the lock of the series the reference
// came from, or, for a record not yet written to its file, a copy appended
// to scratch, which read returns. Copies never overwrite earlier ones, so
// the chunks of one walk stay valid together until the caller reuses
// scratch.
func (l *chunkLog) read(ref chunkRef, scratch []byte) (closedChunk, []byte, error) {
	f := l.file(ref.seq())
	if f == nil {
		return closedChunk{}, scratch, fmt.Errorf("BUG: head chunk %#x: no file %d", uint64(ref), ref.seq())
	}
	off := ref.off()
	var rec []byte
	switch {
	case f.mm == nil:
		rec = f.heap[off:]
	case off < f.flushed.Load():
		rec = f.mm[off:f.flushed.Load()]
	default:
		l.mu.Lock()
		switch {
		case off < f.flushed.Load():
			rec = f.mm[off:f.flushed.Load()]
		case f.heap != nil && off >= f.heapBase:
			rec = f.heap[off-f.heapBase:]
		case f == l.cur:
			rec = l.buf[off-(f.size-int64(len(l.buf))):]
		}
		if len(rec) >= 4 {
			// Copy just the record: the rest may change once mu is released.
			n := min(4+int(binary.LittleEndian.Uint32(rec)), len(rec))
			start := len(scratch)
			scratch = append(scratch, rec[:n]...)
			rec = scratch[start:]
		}
		l.mu.Unlock()
	}
	cc, err := parseChunkRecord(rec)
	if err != nil {
		return cc, scratch, fmt.Errorf("head chunk %#x in file %d: %w", uint64(ref), ref.seq(), err)
	}
	return cc, scratch, nil
}

func parseChunkRecord(rec []byte) (closedChunk, error) {
	if len(rec) < chunkRecordHeader {
		return closedChunk{}, fmt.Errorf("record of %d bytes: %w", len(rec), chunkenc.ErrCorruptChunk)
	}
	n := int(binary.LittleEndian.Uint32(rec))
	if n < chunkRecordHeader-4 || n > len(rec)-4 {
		return closedChunk{}, fmt.Errorf("record length %d of %d bytes: %w", n, len(rec), chunkenc.ErrCorruptChunk)
	}
	body := rec[4 : 4+n]
	cc := closedChunk{
		prev:   chunkRef(binary.LittleEndian.Uint64(body)),
		window: int64(binary.LittleEndian.Uint64(body[8:])),
	}
	c, rest, err := chunkenc.ViewXORChunkState(body[16:], chunkenc.XORReadAhead)
	if err != nil {
		return cc, err
	}
	if len(rest) != chunkenc.XORReadAhead {
		return cc, fmt.Errorf("%d bytes after the chunk state, want %d: %w", len(rest), chunkenc.XORReadAhead, chunkenc.ErrCorruptChunk)
	}
	cc.c = c
	return cc, nil
}

// chunks appends to dst the series' closed chunks, oldest first: the n
// chunks that end at newest, or just those from the first that has
// samples at or after mint on. The chunks alias the log's memory and
// scratch, as read's do.
func (l *chunkLog) chunks(dst []closedChunk, newest chunkRef, n int, mint int64, scratch []byte) ([]closedChunk, []byte, error) {
	from := len(dst)
	ref := newest
	for i := 0; i < n; i++ {
		if ref == 0 {
			return dst, scratch, fmt.Errorf("BUG: head chunk chain ends after %d of %d chunks", i, n)
		}
		cc, s, err := l.read(ref, scratch)
		scratch = s
		if err != nil {
			return dst, scratch, err
		}
		if cc.c.MaxTime() < mint {
			break
		}
		dst = append(dst, cc)
		ref = cc.prev
	}
	slices.Reverse(dst[from:])
	return dst, scratch, nil
}

// holdsBefore reports whether the log may hold a record of a window before
// boundary. Sealing asks it so as not to read every series' closed chunks
// when none can be of a window it seals.
func (l *chunkLog) holdsBefore(boundary int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range *l.files.Load() {
		if f.minWindow < boundary {
			return true
		}
	}
	return false
}

// release deletes the files and slabs all of whose records are of windows
// before boundary. The caller must have sealed every series up to
// boundary: no series refers to those records any more.
func (l *chunkLog) release(boundary int64) {
	l.mu.Lock()
	var dead []*chunkFile
	keep := make([]*chunkFile, 0, len(*l.files.Load()))
	for _, f := range *l.files.Load() {
		if f.maxWindow < boundary && (f != l.cur || f.size > 0) {
			dead = append(dead, f)
			continue
		}
		keep = append(keep, f)
	}
	if len(dead) == 0 {
		l.mu.Unlock()
		return
	}
	if slices.Contains(dead, l.cur) {
		l.cur, l.buf = nil, l.buf[:0]
	}
	l.publishLocked(keep)
	for _, f := range dead {
		l.bytes.Add(-f.size)
	}
	l.mu.Unlock()
	for _, f := range dead {
		f.close(true)
	}
}

// close unmaps and closes the file (a slab just goes), deleting it when
// remove is set.
func (f *chunkFile) close(remove bool) {
	if f.mm == nil {
		return
	}
	unmapFile(f.mm)
	f.f.Close()
	if remove {
		os.Remove(f.path)
	}
}

// dropPagesEvery is how many series sealing and head snapshots read
// between two dropReadPages calls, so that what they map in does not add
// up to every closed chunk at once.
const dropPagesEvery = 16384

// dropReadPages tells the kernel that the mapped pages read so far are not
// needed in this process any more (they stay in the page cache). Sealing
// and head snapshots read every closed chunk; without this the pages they
// touched would count as the process' resident memory until the files go.
func (l *chunkLog) dropReadPages() {
	for _, f := range *l.files.Load() {
		if f.mm != nil {
			if n := f.flushed.Load(); n > 0 {
				dropPages(f.mm[:n])
			}
		}
	}
}

// close deletes every file of the log.
func (l *chunkLog) close() {
	l.mu.Lock()
	files := *l.files.Load()
	l.publishLocked(nil)
	l.cur, l.buf = nil, nil
	l.mu.Unlock()
	for _, f := range files {
		f.close(true)
	}
	if l.dir != "" && mmapSupported {
		os.Remove(l.dir)
	}
}

// describe is for error messages and logs.
func (r chunkRef) String() string {
	return strconv.FormatUint(uint64(r.seq()), 10) + ":" + strconv.FormatInt(r.off(), 10)
}
