package wal

import (
	"path/filepath"
	"testing"

	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

// cloneFS copies every segment of testDir into a fresh MemFS, so each case
// of a table can damage its own copy.
func cloneFS(t testing.TB, src vfs.FS) *vfs.MemFS {
	t.Helper()
	dst := vfs.NewMemFS()
	if err := dst.MkdirAll(testDir, 0o755); err != nil {
		t.Fatal(err)
	}
	names, err := src.List(testDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		p := filepath.Join(testDir, n)
		writeFile(t, dst, p, readFile(t, src, p))
	}
	return dst
}

// TestTornTail cuts the last segment at every byte offset inside its last
// record: Open must keep every earlier record, report the dropped bytes, and
// accept new records after the repair point.
func TestTornTail(t *testing.T) {
	base := vfs.NewMemFS()
	opts := Options{SegmentSize: 2048, SyncPolicy: SyncNone}
	w := mustOpen(t, base, opts)
	want := testRecords(0, 60)
	logAll(t, w, want)
	_, last, _ := w.Segments()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lastName := filepath.Join(testDir, segmentName(last))
	full := readFile(t, base, lastName)
	lastRec, _ := appendRecord(nil, want[len(want)-1], true, nil)
	recStart := len(full) - len(lastRec)
	if recStart < segmentHeaderSize {
		t.Fatalf("last segment holds no complete earlier record; adjust sizes")
	}

	for cut := recStart; cut < len(full); cut++ {
		fsys := cloneFS(t, base)
		writeFile(t, fsys, lastName, full[:cut])
		w, err := Open(fsys, testDir, opts)
		if err != nil {
			t.Fatalf("cut %d: Open: %v", cut, err)
		}
		if got, want := w.DroppedBytes(), int64(cut-recStart); got != want {
			t.Fatalf("cut %d: DroppedBytes = %d, want %d", cut, got, want)
		}
		if err := w.Log([]byte("after-repair")); err != nil {
			t.Fatalf("cut %d: Log: %v", cut, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, r := readAll(t, fsys, testDir)
		equalRecords(t, got, append(append([][]byte{}, want[:len(want)-1]...), []byte("after-repair")))
		if c := r.Corruptions(); len(c) != 0 {
			t.Fatalf("cut %d: corruptions after repair: %v", cut, c)
		}
	}
}

// TestTornHeader covers a crash right after a segment was created: an empty
// or partial header in the last segment is rewritten, not fatal.
func TestTornHeader(t *testing.T) {
	for cut := 0; cut < segmentHeaderSize; cut++ {
		fsys := vfs.NewMemFS()
		w := mustOpen(t, fsys, Options{SyncPolicy: SyncNone})
		logAll(t, w, testRecords(0, 5))
		if _, err := w.Cut(); err != nil {
			t.Fatal(err)
		}
		_ = w.Close()
		name := filepath.Join(testDir, segmentName(2))
		writeFile(t, fsys, name, appendSegmentHeader(nil)[:cut])
		w = mustOpen(t, fsys, Options{SyncPolicy: SyncNone})
		logAll(t, w, testRecords(5, 7))
		_ = w.Close()
		got, _ := readAll(t, fsys, testDir)
		equalRecords(t, got, testRecords(0, 7))
	}
}

// recordOffsets returns the start offset of each record in a segment.
func recordOffsets(t testing.TB, data []byte) []int {
	t.Helper()
	var offs []int
	off := segmentHeaderSize
	for off < len(data) {
		offs = append(offs, off)
		n := int(uint32(data[off+5]) | uint32(data[off+6])<<8 | uint32(data[off+7])<<16 | uint32(data[off+8])<<24)
		off += recordHeaderSize + n
	}
	return offs
}

func TestByteFlips(t *testing.T) {
	base := vfs.NewMemFS()
	opts := Options{SegmentSize: 2048, SyncPolicy: SyncNone}
	w := mustOpen(t, base, opts)
	logAll(t, w, testRecords(0, 80))
	_ = w.Close()
	// Map every record to its segment by replaying.
	all, _ := readAll(t, base, testDir)
	segs, _ := listSegments(base, testDir)
	if len(segs) < 4 {
		t.Fatalf("only %d segments; need a middle one", len(segs))
	}
	perSeg := map[int]int{} // records per segment
	{
		r, _ := NewReader(base, testDir, 0)
		for r.Next() {
			perSeg[r.Segment()]++
		}
	}
	startOf := func(seg int) int { // index of the segment's first record
		n := 0
		for s := segs[0]; s < seg; s++ {
			n += perSeg[s]
		}
		return n
	}

	t.Run("middle", func(t *testing.T) {
		seg := segs[1]
		name := filepath.Join(testDir, segmentName(seg))
		data := readFile(t, base, name)
		offs := recordOffsets(t, data)
		for k, off := range offs {
			for _, pos := range []int{off, off + 4, off + 5, off + recordHeaderSize} {
				if pos >= len(data) {
					continue
				}
				fsys := cloneFS(t, base)
				bad := append([]byte(nil), data...)
				bad[pos] ^= 0x40
				writeFile(t, fsys, name, bad)
				// Open only repairs the last segment; the middle one stays.
				w, err := Open(fsys, testDir, opts)
				if err != nil {
					t.Fatal(err)
				}
				if w.DroppedBytes() != 0 {
					t.Fatalf("Open dropped %d bytes for damage in a middle segment", w.DroppedBytes())
				}
				_ = w.Close()
				got, r := readAll(t, fsys, testDir)
				// Records of the damaged segment from record k on are
				// skipped; everything else replays.
				first := startOf(seg)
				want := append(append([][]byte{}, all[:first+k]...), all[first+perSeg[seg]:]...)
				equalRecords(t, got, want)
				c := r.Corruptions()
				if len(c) != 1 || c[0].Segment != seg || c[0].LastSegment || c[0].Offset != int64(off) {
					t.Fatalf("corruptions = %v; want one in segment %d at %d", c, seg, off)
				}
			}
		}
	})

	t.Run("last", func(t *testing.T) {
		seg := segs[len(segs)-1]
		name := filepath.Join(testDir, segmentName(seg))
		data := readFile(t, base, name)
		offs := recordOffsets(t, data)
		for hit, off := range offs {
			fsys := cloneFS(t, base)
			bad := append([]byte(nil), data...)
			bad[off+2] ^= 0x01 // a CRC byte of record hit
			writeFile(t, fsys, name, bad)

			// The Reader ends the stream at the damage without an error.
			got, r := readAll(t, fsys, testDir)
			first := startOf(seg)
			equalRecords(t, got, all[:first+hit])
			if c := r.Corruptions(); len(c) != 1 || !c[0].LastSegment {
				t.Fatalf("corruptions = %v; want one final", c)
			}

			// Open cuts the damaged tail and appends after it.
			w, err := Open(fsys, testDir, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := w.DroppedBytes(), int64(len(data)-offs[hit]); got != want {
				t.Fatalf("DroppedBytes = %d, want %d", got, want)
			}
			logAll(t, w, [][]byte{[]byte("new")})
			_ = w.Close()
			got, _ = readAll(t, fsys, testDir)
			equalRecords(t, got, append(append([][]byte{}, all[:first+hit]...), []byte("new")))
		}
	})
}

func TestBadMagicMiddleSegment(t *testing.T) {
	fsys := vfs.NewMemFS()
	w := mustOpen(t, fsys, Options{SyncPolicy: SyncNone})
	for i := 0; i < 3; i++ {
		logAll(t, w, testRecords(i*10, i*10+10))
		if _, err := w.Cut(); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	name := filepath.Join(testDir, segmentName(2))
	data := readFile(t, fsys, name)
	data[0] = 'X'
	writeFile(t, fsys, name, data)
	got, r := readAll(t, fsys, testDir)
	equalRecords(t, got, append(testRecords(0, 10), testRecords(20, 30)...))
	if c := r.Corruptions(); len(c) != 1 || c[0].Segment != 2 || c[0].Offset != 0 {
		t.Fatalf("corruptions = %v", c)
	}
}
