package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"slices"

	"github.com/golang/snappy"

	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

// Corruption describes damaged bytes a Reader (or Open's repair) found and
// skipped. Damage in the last segment is expected after a crash (a torn
// tail); damage in an earlier segment means the disk lost acknowledged data.
type Corruption struct {
	// Segment is the index of the damaged segment.
	Segment int
	// Offset is where valid data ends in the segment: everything before it
	// was read, nothing from it on was.
	Offset int64
	// Size is the segment's length when it was read.
	Size int64
	// Reason says what check failed, for logs.
	Reason string
	// LastSegment is true when the damage is in the last segment, so the
	// stream ended there instead of skipping to the next segment.
	LastSegment bool
}

// String formats c for logs.
func (c Corruption) String() string {
	return fmt.Sprintf("segment %s offset %d (of %d bytes): %s", segmentName(c.Segment), c.Offset, c.Size, c.Reason)
}

// Reader iterates the records of a WAL directory, oldest first, across all
// segments from a starting index.
//
// A damaged record in the last segment ends the stream cleanly (that is the
// torn tail of a crash); a damaged record in an earlier segment is recorded
// and the Reader continues with the next segment, so acknowledged data in
// later segments is still replayed. Both show up in Corruptions. Err reports
// only I/O failures and unreadable formats. A Reader never panics on disk
// contents and is not safe for concurrent use.
type Reader struct {
	fs   vfs.FS
	dir  string
	segs []int // segment indices to read, ascending and contiguous
	i    int   // position in segs of the next segment to open

	f    vfs.File // open segment, or nil
	seg  int      // index of the segment f holds
	last bool     // whether seg is the last segment
	dec  segmentDecoder

	rec         []byte
	err         error
	done        bool
	corruptions []Corruption
}

// NewReader returns a Reader over the segments of dir with index >=
// fromSegment. Segments below the first one on disk are not an error (a
// Truncate after a checkpoint removed them); a gap between segments is,
// because replaying across it would silently lose data.
func NewReader(fsys vfs.FS, dir string, fromSegment int) (*Reader, error) {
	all, err := listSegments(fsys, dir)
	if err != nil {
		return nil, err
	}
	var segs []int
	for _, s := range all {
		if s >= fromSegment {
			segs = append(segs, s)
		}
	}
	for i := 1; i < len(segs); i++ {
		if segs[i] != segs[i-1]+1 {
			return nil, fmt.Errorf("open wal reader %s: missing segment %s", dir, segmentName(segs[i-1]+1))
		}
	}
	return &Reader{fs: fsys, dir: dir, segs: segs}, nil
}

// listSegments returns the indices of the segment files in dir, ascending.
func listSegments(fsys vfs.FS, dir string) ([]int, error) {
	names, err := fsys.List(dir)
	if err != nil {
		return nil, fmt.Errorf("list wal dir %s: %w", dir, err)
	}
	var segs []int
	for _, n := range names {
		if i, ok := parseSegmentName(n); ok {
			segs = append(segs, i)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

// Next advances to the next record and reports whether there is one.
func (r *Reader) Next() bool {
	if r.err != nil || r.done {
		return false
	}
	for {
		if r.f == nil {
			if r.i >= len(r.segs) {
				r.done = true
				return false
			}
			if !r.openNext() {
				return false
			}
			continue
		}
		rec, st, err := r.dec.next()
		switch {
		case err != nil:
			r.err = fmt.Errorf("read wal segment %s: %w", segmentName(r.seg), err)
			r.closeSegment()
			return false
		case st == stCorrupt:
			if r.corrupt() {
				return false
			}
		case st == stEnd:
			r.closeSegment()
		default:
			r.rec = rec
			return true
		}
	}
}

// openNext opens the next segment and checks its header. It returns false
// when the stream has ended (with Err or a final corruption).
func (r *Reader) openNext() bool {
	r.seg = r.segs[r.i]
	r.last = r.i == len(r.segs)-1
	r.i++
	name := filepath.Join(r.dir, segmentName(r.seg))
	f, err := r.fs.Open(name)
	if err != nil {
		r.err = fmt.Errorf("open wal segment %s: %w", name, err)
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		r.err = fmt.Errorf("stat wal segment %s: %w", name, err)
		return false
	}
	r.f = f
	st, err := r.dec.reset(f, fi.Size())
	if err != nil {
		r.err = fmt.Errorf("read wal segment %s: %w", name, err)
		r.closeSegment()
		return false
	}
	if st == stCorrupt {
		return !r.corrupt()
	}
	return true
}

// corrupt records the decoder's corruption and closes the segment. It
// returns true when the stream ends here (the segment was the last one).
func (r *Reader) corrupt() bool {
	r.corruptions = append(r.corruptions, Corruption{
		Segment:     r.seg,
		Offset:      r.dec.off,
		Size:        r.dec.size,
		Reason:      r.dec.reason,
		LastSegment: r.last,
	})
	r.closeSegment()
	if r.last {
		r.done = true
		return true
	}
	return false
}

func (r *Reader) closeSegment() {
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
}

// Record returns the current record. It is valid until the next call to
// Next; the Reader reuses its buffers, so copy what you keep.
func (r *Reader) Record() []byte { return r.rec }

// Segment returns the index of the segment holding the current record.
func (r *Reader) Segment() int { return r.seg }

// Err returns the I/O or format error that ended the stream, if any.
// Corrupt records are not errors; see Corruptions.
func (r *Reader) Err() error { return r.err }

// Corruptions returns the damaged regions skipped so far, in stream order.
func (r *Reader) Corruptions() []Corruption { return r.corruptions }

// Close releases the open segment file. It is safe to call at any time and
// more than once; Next after Close returns false.
func (r *Reader) Close() error {
	r.closeSegment()
	r.done = true
	return nil
}

// status is the outcome of one decoder step.
type status uint8

const (
	stRecord  status = iota // a record was decoded
	stEnd                   // the segment ended cleanly
	stCorrupt               // damage found; reason and off say what and where
)

// segmentDecoder decodes the records of one segment from a byte stream of
// known length. Knowing the length up front lets it reject a garbage length
// field before allocating for it.
type segmentDecoder struct {
	br     *bufio.Reader
	size   int64  // segment length at open
	off    int64  // offset just past the last good record (valid end)
	reason string // why the last stCorrupt happened
	hdr    [recordHeaderSize]byte
	stored []byte // stored payload buffer, reused
	dec    []byte // decompressed payload buffer, reused
}

// reset starts decoding a segment of size bytes read from r and checks its
// header. An unknown format version is an error, not corruption: it is
// probably a newer Stratus, and repair must not cut it away.
func (d *segmentDecoder) reset(r io.Reader, size int64) (status, error) {
	if d.br == nil {
		d.br = bufio.NewReaderSize(r, 64<<10)
	} else {
		d.br.Reset(r)
	}
	d.size, d.off, d.reason = size, 0, ""
	if size < segmentHeaderSize {
		return d.corrupt("torn segment header"), nil
	}
	var h [segmentHeaderSize]byte
	if _, err := io.ReadFull(d.br, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return d.corrupt("segment shorter than its size"), nil
		}
		return stCorrupt, err
	}
	if !bytes.Equal(h[:4], segmentMagic[:]) {
		return d.corrupt("bad segment magic"), nil
	}
	if h[4] != FormatVersion {
		return stCorrupt, fmt.Errorf("unsupported wal format version %d (want %d)", h[4], FormatVersion)
	}
	if h[5] != 0 || h[6] != 0 || h[7] != 0 {
		return d.corrupt("nonzero reserved segment header bytes"), nil
	}
	d.off = segmentHeaderSize
	return stRecord, nil
}

func (d *segmentDecoder) corrupt(reason string) status {
	d.reason = reason
	return stCorrupt
}

// next decodes the next record. The returned slice aliases the decoder's
// buffers.
func (d *segmentDecoder) next() ([]byte, status, error) {
	remaining := d.size - d.off
	if remaining == 0 {
		return nil, stEnd, nil
	}
	if remaining < recordHeaderSize {
		return nil, d.corrupt("torn record header"), nil
	}
	if _, err := io.ReadFull(d.br, d.hdr[:]); err != nil {
		return d.readFailed(err)
	}
	flags := d.hdr[4]
	n := int64(binary.LittleEndian.Uint32(d.hdr[5:]))
	if flags&^knownFlags != 0 {
		return nil, d.corrupt(fmt.Sprintf("unknown record flags %#x", flags)), nil
	}
	if n > remaining-recordHeaderSize {
		return nil, d.corrupt(fmt.Sprintf("record length %d beyond end of segment", n)), nil
	}
	if n > MaxRecordSize {
		return nil, d.corrupt(fmt.Sprintf("record length %d above maximum", n)), nil
	}
	d.stored = slices.Grow(d.stored[:0], int(n))[:n]
	if _, err := io.ReadFull(d.br, d.stored); err != nil {
		return d.readFailed(err)
	}
	crc := crc32.Update(crc32.Checksum(d.hdr[4:], castagnoli), castagnoli, d.stored)
	if crc != binary.LittleEndian.Uint32(d.hdr[:4]) {
		return nil, d.corrupt("checksum mismatch"), nil
	}
	rec := d.stored
	if flags&flagSnappy != 0 {
		dl, err := snappy.DecodedLen(d.stored)
		if err != nil || dl > MaxRecordSize {
			return nil, d.corrupt("bad snappy payload"), nil
		}
		d.dec = slices.Grow(d.dec[:0], dl)[:dl]
		rec, err = snappy.Decode(d.dec, d.stored)
		if err != nil {
			return nil, d.corrupt("bad snappy payload"), nil
		}
	}
	d.off += recordHeaderSize + n
	return rec, stRecord, nil
}

// readFailed classifies a read error: a file shorter than its stat said is
// damage (it shrank, or the size lied after a crash); anything else is I/O.
func (d *segmentDecoder) readFailed(err error) ([]byte, status, error) {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return nil, d.corrupt("segment shorter than its size"), nil
	}
	return nil, stCorrupt, err
}

// scanSegment reads a whole segment and returns where its valid data ends
// and, if it ends early, why. Open uses it to repair the last segment.
func scanSegment(fsys vfs.FS, name string) (size, validEnd int64, reason string, err error) {
	f, err := fsys.Open(name)
	if err != nil {
		return 0, 0, "", fmt.Errorf("open wal segment %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, "", fmt.Errorf("stat wal segment %s: %w", name, err)
	}
	var d segmentDecoder
	st, err := d.reset(f, fi.Size())
	for err == nil && st == stRecord {
		_, st, err = d.next()
	}
	if err != nil {
		return 0, 0, "", fmt.Errorf("read wal segment %s: %w", name, err)
	}
	return fi.Size(), d.off, d.reason, nil
}
