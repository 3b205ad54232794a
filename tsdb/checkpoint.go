package tsdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

// Checkpoint files (layouts in FORMAT.md):
//
//	blocks/<window start ms>.blk  every series' sealed block of one window
//	series.ckpt                   every live series (id, key) and the
//	                              sealed-window boundary
//
// Each is written to a .tmp file, fsynced, renamed into place and its
// directory fsynced, so a crash leaves either the old file or the new one.
const (
	blocksDirName   = "blocks"
	walDirName      = "wal"
	seriesFileName  = "series.ckpt"
	blockFileSuffix = ".blk"
	tmpSuffix       = ".tmp"
	corruptSuffix   = ".corrupt"

	blockFileMagic  = "STRB"
	seriesFileMagic = "STRS"
	ckptVersion     = 1
	ckptHeaderSize  = 32
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checkpointState tracks what is on disk; guarded by DB.maintMu.
type checkpointState struct {
	// persistedBefore: the blocks of every window before it are in block
	// files.
	persistedBefore int64
	// lastSnapshot is when the last head snapshot was written (or the DB
	// opened).
	lastSnapshot time.Time
	// cuts are WAL segment boundaries: segments before seg hold only
	// samples with timestamps <= maxT, so they can go once sealed windows
	// cover maxT.
	cuts []walCut
}

type walCut struct {
	seg  int
	maxT int64
}

// checkpointLocked persists newly sealed windows, rewrites the series file,
// truncates the WAL segments the checkpoints now cover and deletes block
// files past retention. A failure is logged and counted and the work is
// retried at the next maintenance pass; nothing in memory is dropped.
func (db *DB) checkpointLocked(retentionCutoff int64) {
	db.removeExpiredBlockFiles(retentionCutoff)
	sealed := db.sealedBefore.Load()
	if sealed <= db.ckpt.persistedBefore {
		return
	}
	start := time.Now()
	size, err := db.writeCheckpoint(sealed)
	if err != nil {
		db.m.checkpointFailures.Inc()
		db.logger.Error("checkpoint failed; will retry", "err", err)
		return
	}
	db.ckpt.persistedBefore = sealed
	db.m.checkpointDuration.Observe(time.Since(start).Seconds())
	db.m.checkpointBytes.Set(float64(size))
	db.logger.Info("checkpoint written", "sealed_before", sealed, "bytes", size, "duration", time.Since(start))
	db.truncateWALLocked(sealed)
}

// writeCheckpoint writes the block files of windows in
// [persistedBefore, sealed), then cuts the WAL, then writes the series
// file. The cut comes before the series file so that every series whose
// definition sits in a segment before the cut is in the file.
func (db *DB) writeCheckpoint(sealed int64) (int64, error) {
	windows := db.blocksByWindow(db.ckpt.persistedBefore, sealed)
	var total int64
	for _, w := range slices.Sorted(maps.Keys(windows)) {
		n, err := db.writeBlockFile(w, windows[w])
		if err != nil {
			return total, err
		}
		total += n
	}
	var cut walCut
	if db.wal != nil {
		seg, err := db.wal.Cut()
		if err != nil {
			return total, fmt.Errorf("cut wal segment: %w", err)
		}
		cut = walCut{seg: seg, maxT: db.maxLoggedT.Load()}
	}
	n, err := db.writeSeriesFile(sealed)
	if err != nil {
		return total, err
	}
	total += n
	if db.wal != nil {
		db.ckpt.cuts = append(db.ckpt.cuts, cut)
	}
	return total, nil
}

// truncateWALLocked drops the segments before the newest cut whose samples
// are all in sealed (and so persisted) windows.
func (db *DB) truncateWALLocked(sealed int64) {
	last := -1
	for i, c := range db.ckpt.cuts {
		if c.maxT < sealed {
			last = i
		}
	}
	if last < 0 || db.wal == nil {
		return
	}
	if err := db.wal.Truncate(db.ckpt.cuts[last].seg); err != nil {
		db.logger.Error("truncate wal; will retry", "err", err)
		return
	}
	db.ckpt.cuts = db.ckpt.cuts[last+1:]
}

type blockEntry struct {
	id   uint32
	data []byte
}

// blocksByWindow collects, per window start, every series' block of the
// windows in [from, to). Block data is immutable, so only the slice
// headers are copied under each series' lock.
func (db *DB) blocksByWindow(from, to int64) map[int64][]blockEntry {
	out := map[int64][]blockEntry{}
	for s := range db.seriesUpTo(db.nextID.Load()) {
		s.mu.Lock()
		for _, b := range s.blocks {
			if b.mint >= from && b.mint < to {
				w := db.windowStart(b.mint)
				out[w] = append(out[w], blockEntry{id: s.id, data: b.data})
			}
		}
		s.mu.Unlock()
	}
	return out
}

func (db *DB) blockFilePath(window int64) string {
	return filepath.Join(db.dir, blocksDirName, strconv.FormatInt(window, 10)+blockFileSuffix)
}

// writeBlockFile writes one window's blocks atomically.
func (db *DB) writeBlockFile(window int64, entries []blockEntry) (int64, error) {
	return db.writeFileAtomic(db.blockFilePath(window), func(w *bufio.Writer) error {
		w.Write(ckptHeader(blockFileMagic, window, db.opts.BlockDuration.Milliseconds(), uint32(len(entries))))
		var scratch []byte
		for _, e := range entries {
			scratch = appendEntry(scratch[:0], e.id, e.data)
			if _, err := w.Write(scratch); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeSeriesFile writes every live series and the sealed boundary.
func (db *DB) writeSeriesFile(sealed int64) (int64, error) {
	last := db.nextID.Load()
	live := slices.Collect(db.seriesUpTo(last))
	return db.writeFileAtomic(filepath.Join(db.dir, seriesFileName), func(w *bufio.Writer) error {
		w.Write(ckptHeader(seriesFileMagic, sealed, int64(last), uint32(len(live))))
		var scratch []byte
		for _, s := range live {
			scratch = appendEntry(scratch[:0], s.id, []byte(s.key))
			if _, err := w.Write(scratch); err != nil {
				return err
			}
		}
		return nil
	})
}

// ckptHeader builds the 32-byte header shared by both file kinds: magic,
// version, two int64 fields, the entry count and a CRC32C of the rest.
func ckptHeader(magic string, a, b int64, count uint32) []byte {
	h := make([]byte, 0, ckptHeaderSize)
	h = append(h, magic...)
	h = append(h, ckptVersion, 0, 0, 0)
	h = binary.LittleEndian.AppendUint64(h, uint64(a))
	h = binary.LittleEndian.AppendUint64(h, uint64(b))
	h = binary.LittleEndian.AppendUint32(h, count)
	return binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, castagnoli))
}

// appendEntry appends id, len(data), data and a CRC32C of those.
func appendEntry(dst []byte, id uint32, data []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, id)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(data)))
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// writeFileAtomic writes path through path.tmp: write, fsync, rename,
// fsync the directory. It returns the file's size.
func (db *DB) writeFileAtomic(path string, write func(*bufio.Writer) error) (int64, error) {
	tmp := path + tmpSuffix
	f, err := db.fs.Create(tmp)
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", tmp, err)
	}
	cw := &countingWriter{w: f}
	bw := bufio.NewWriterSize(cw, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = db.fs.Rename(tmp, path)
	}
	if err == nil {
		err = db.fs.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		db.fs.Remove(tmp)
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// removeExpiredBlockFiles deletes block files whose whole window is older
// than the retention cutoff.
func (db *DB) removeExpiredBlockFiles(cutoff int64) {
	dir := filepath.Join(db.dir, blocksDirName)
	names, err := db.fs.List(dir)
	if err != nil {
		db.logger.Error("list block files", "err", err)
		return
	}
	removed := 0
	for _, name := range names {
		w, ok := parseBlockFileName(name)
		if !ok || w+db.opts.BlockDuration.Milliseconds() > cutoff {
			continue
		}
		if err := db.fs.Remove(filepath.Join(dir, name)); err != nil {
			db.logger.Error("remove expired block file", "file", name, "err", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		db.fs.SyncDir(dir)
		db.logger.Info("retention removed block files", "files", removed)
	}
}

func parseBlockFileName(name string) (int64, bool) {
	s, ok := strings.CutSuffix(name, blockFileSuffix)
	if !ok {
		return 0, false
	}
	w, err := strconv.ParseInt(s, 10, 64)
	return w, err == nil
}

// errCorrupt marks checkpoint content that failed a check.
var errCorrupt = errors.New("corrupt checkpoint file")

// ckptFile is a checkpoint file read into memory.
type ckptFile struct {
	a, b    int64
	entries []blockEntry // for series files, data is the key
	// damaged says the file failed a check after its good entries.
	damaged error
}

// readCkptFile reads and verifies a checkpoint file. A bad header fails the
// whole file; a bad entry ends the read, keeping the entries before it, and
// is reported in damaged.
func readCkptFile(fsys vfs.FS, path, magic string) (*ckptFile, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	// One exact-size buffer: loaded blocks alias it rather than being
	// copied one by one, and a window's blocks are dropped together.
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) < ckptHeaderSize || string(data[:4]) != magic {
		return nil, fmt.Errorf("%w %s: bad magic or short header", errCorrupt, path)
	}
	if data[4] != ckptVersion {
		return nil, fmt.Errorf("%w %s: unsupported format version %d", errCorrupt, path, data[4])
	}
	if crc32.Checksum(data[:28], castagnoli) != binary.LittleEndian.Uint32(data[28:]) {
		return nil, fmt.Errorf("%w %s: header checksum mismatch", errCorrupt, path)
	}
	cf := &ckptFile{
		a: int64(binary.LittleEndian.Uint64(data[8:])),
		b: int64(binary.LittleEndian.Uint64(data[16:])),
	}
	count := binary.LittleEndian.Uint32(data[24:])
	rest := data[ckptHeaderSize:]
	for i := range count {
		if len(rest) < 12 {
			cf.damaged = fmt.Errorf("%w %s: truncated at entry %d of %d", errCorrupt, path, i, count)
			return cf, nil
		}
		id := binary.LittleEndian.Uint32(rest)
		n := binary.LittleEndian.Uint32(rest[4:])
		if uint64(n)+12 > uint64(len(rest)) {
			cf.damaged = fmt.Errorf("%w %s: entry %d length %d exceeds file", errCorrupt, path, i, n)
			return cf, nil
		}
		body := rest[:8+n]
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(rest[8+n:]) {
			cf.damaged = fmt.Errorf("%w %s: entry %d checksum mismatch", errCorrupt, path, i)
			return cf, nil
		}
		cf.entries = append(cf.entries, blockEntry{id: id, data: body[8:]})
		rest = rest[12+n:]
	}
	if len(rest) != 0 {
		cf.damaged = fmt.Errorf("%w %s: %d trailing bytes", errCorrupt, path, len(rest))
	}
	return cf, nil
}

// quarantine renames a damaged file aside so that an operator can inspect
// it, and so that the next start does not trip over it again.
func (db *DB) quarantine(path string, cause error) {
	db.m.corruptions.Inc()
	aside := fmt.Sprintf("%s%s-%d", path, corruptSuffix, db.opts.Now().Unix())
	if err := db.fs.Rename(path, aside); err != nil {
		db.logger.Error("quarantine corrupt file", "file", path, "cause", cause, "err", err)
		return
	}
	db.fs.SyncDir(filepath.Dir(path))
	db.logger.Error("corrupt checkpoint file quarantined; the data before the damage is served", "file", path, "moved_to", aside, "cause", cause)
}

// loadedCheckpoint is what loadCheckpoint found on disk.
type loadedCheckpoint struct {
	blocks       []loadedBlock // in file order: windows ascending
	sealedBefore int64
	maxID        uint32
	// damaged maps the start of each window whose block file was damaged
	// to the series loaded from it before the damage; replay restores the
	// others' samples of that window from the WAL where it still has them.
	damaged map[int64]map[uint32]bool
}

// loadCheckpoint reads the series file and the block files, creating the
// series and returning their blocks for attachment after WAL replay (a
// block may belong to a series that only the WAL defines).
func (db *DB) loadCheckpoint() (*loadedCheckpoint, error) {
	lc := &loadedCheckpoint{sealedBefore: math.MinInt64, damaged: map[int64]map[uint32]bool{}}
	seriesPath := filepath.Join(db.dir, seriesFileName)
	switch cf, err := readCkptFile(db.fs, seriesPath, seriesFileMagic); {
	case errors.Is(err, errCorrupt):
		db.quarantine(seriesPath, err)
	case errors.Is(err, fs.ErrNotExist):
		// A new data directory, or no checkpoint yet.
	case err != nil:
		return nil, err
	case err == nil:
		lc.sealedBefore = cf.a
		for _, e := range cf.entries {
			lc.maxID = max(lc.maxID, e.id)
		}
		if cf.damaged != nil {
			db.quarantine(seriesPath, cf.damaged)
		}
		// Series creation is the bulk of start-up: spread it over the
		// cores while this goroutine reads the block files.
		var wg sync.WaitGroup
		defer wg.Wait()
		workers := min(runtime.GOMAXPROCS(0), 4)
		per := (len(cf.entries) + workers - 1) / workers
		for w := range workers {
			part := cf.entries[min(w*per, len(cf.entries)):min((w+1)*per, len(cf.entries))]
			wg.Go(func() {
				for _, e := range part {
					db.replaySeries(e.id, e.data)
				}
			})
		}
	}

	dir := filepath.Join(db.dir, blocksDirName)
	names, err := db.fs.List(dir)
	if err != nil {
		return nil, fmt.Errorf("list block files: %w", err)
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		if strings.HasSuffix(name, tmpSuffix) {
			db.fs.Remove(path) // an interrupted checkpoint
			continue
		}
		w, ok := parseBlockFileName(name)
		if !ok {
			continue
		}
		cf, err := readCkptFile(db.fs, path, blockFileMagic)
		if errors.Is(err, errCorrupt) {
			db.quarantine(path, err)
			lc.damaged[w] = map[uint32]bool{}
			continue
		} else if err != nil {
			return nil, err
		}
		if cf.a != w || cf.b != db.opts.BlockDuration.Milliseconds() {
			db.quarantine(path, fmt.Errorf("%w %s: window %d+%dms does not match its name or block_duration %v", errCorrupt, path, cf.a, cf.b, db.opts.BlockDuration))
			lc.damaged[w] = map[uint32]bool{}
			continue
		}
		loaded := map[uint32]bool{}
		for _, e := range cf.entries {
			if err := db.addLoadedBlock(lc, e); err != nil {
				cf.damaged = fmt.Errorf("%w %s: series %d: %w", errCorrupt, path, e.id, err)
				break
			}
			loaded[e.id] = true
		}
		if cf.damaged != nil {
			db.quarantine(path, cf.damaged)
			lc.damaged[w] = loaded
			continue
		}
		// Only a whole window moves the boundary; see damaged.
		lc.sealedBefore = max(lc.sealedBefore, w+cf.b)
	}
	return lc, nil
}

// loadedBlock is a block read from a file, waiting for its series.
type loadedBlock struct {
	id uint32
	sealedBlock
}

func (db *DB) addLoadedBlock(lc *loadedCheckpoint, e blockEntry) error {
	mint, maxt, _, err := chunkenc.BlockInfo(e.data)
	if err != nil {
		return err
	}
	// The data is capped so that nothing can append into the neighbouring
	// entries of the shared file buffer.
	data := e.data[:len(e.data):len(e.data)]
	lc.blocks = append(lc.blocks, loadedBlock{id: e.id, sealedBlock: sealedBlock{mint: mint, maxt: maxt, data: data}})
	db.m.blockBytes.Add(float64(len(data)))
	return nil
}
