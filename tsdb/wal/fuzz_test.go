package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path/filepath"
	"testing"

	"github.com/golang/snappy"

	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

// validSegment returns a segment holding recs, for fuzz seeds.
func validSegment(recs [][]byte, compress bool) []byte {
	b := appendSegmentHeader(nil)
	for _, r := range recs {
		b, _ = appendRecord(b, r, compress, nil)
	}
	return b
}

// referenceDecode is a deliberately naive second decoder: it returns the
// records of seg up to the first one whose checks fail. FuzzReader compares
// the Reader against it, so a record is only ever returned if its CRC
// matched.
func referenceDecode(seg []byte) [][]byte {
	if len(seg) < segmentHeaderSize || !bytes.Equal(seg[:4], segmentMagic[:]) ||
		seg[4] != FormatVersion || seg[5]|seg[6]|seg[7] != 0 {
		return nil
	}
	var out [][]byte
	for off := segmentHeaderSize; len(seg)-off >= recordHeaderSize; {
		h := seg[off : off+recordHeaderSize]
		n := int(binary.LittleEndian.Uint32(h[5:]))
		if h[4]&^flagSnappy != 0 || n > len(seg)-off-recordHeaderSize || n > MaxRecordSize {
			break
		}
		stored := seg[off+recordHeaderSize : off+recordHeaderSize+n]
		if crc32.Checksum(seg[off+4:off+recordHeaderSize+n], castagnoli) != binary.LittleEndian.Uint32(h) {
			break
		}
		rec := stored
		if h[4]&flagSnappy != 0 {
			dl, err := snappy.DecodedLen(stored)
			if err != nil || dl > MaxRecordSize {
				break
			}
			if rec, err = snappy.Decode(nil, stored); err != nil {
				break
			}
		}
		out = append(out, bytes.Clone(rec))
		off += recordHeaderSize + n
	}
	return out
}

// FuzzReader feeds arbitrary bytes as a segment, both as the last segment
// and as a middle one followed by a valid segment. The Reader must not
// panic, must return exactly the records whose checks pass up to the first
// damage, and must still replay the following segment.
func FuzzReader(f *testing.F) {
	recs := testRecords(0, 8)
	f.Add(validSegment(recs, true))
	f.Add(validSegment(recs, false))
	f.Add(validSegment(nil, true))
	f.Add([]byte{})
	f.Add([]byte("SWAL\x01\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff"))
	tail := [][]byte{[]byte("tail-record")}
	f.Fuzz(func(t *testing.T, seg []byte) {
		want := referenceDecode(seg)
		for _, middle := range []bool{false, true} {
			fsys := vfs.NewMemFS()
			if err := fsys.MkdirAll(testDir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, fsys, filepath.Join(testDir, segmentName(1)), seg)
			expect := want
			if middle {
				writeFile(t, fsys, filepath.Join(testDir, segmentName(2)), validSegment(tail, true))
				expect = append(append([][]byte{}, want...), tail...)
			}
			r, err := NewReader(fsys, testDir, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]byte
			for r.Next() {
				got = append(got, bytes.Clone(r.Record()))
			}
			if r.Err() != nil {
				// Only an unknown format version is an error.
				if len(seg) >= 5 && bytes.Equal(seg[:4], segmentMagic[:]) && seg[4] != FormatVersion {
					continue
				}
				t.Fatalf("reader error: %v", r.Err())
			}
			if len(got) != len(expect) {
				t.Fatalf("middle=%v: got %d records, reference decoder %d", middle, len(got), len(expect))
			}
			for i := range got {
				if !bytes.Equal(got[i], expect[i]) {
					t.Fatalf("middle=%v: record %d differs from reference", middle, i)
				}
			}
		}
		// Open must repair whatever it finds without panicking.
		fsys := vfs.NewMemFS()
		_ = fsys.MkdirAll(testDir, 0o755)
		writeFile(t, fsys, filepath.Join(testDir, segmentName(1)), seg)
		if w, err := Open(fsys, testDir, Options{SyncPolicy: SyncNone}); err == nil {
			if err := w.Log([]byte("x")); err != nil {
				t.Fatal(err)
			}
			_ = w.Close()
			got, _ := readAll(t, fsys, testDir)
			if len(got) != len(want)+1 {
				t.Fatalf("after repair got %d records, want %d", len(got), len(want)+1)
			}
		}
	})
}

// FuzzRoundTrip logs records cut from the fuzz input with a fuzzed segment
// size and compression setting, and checks they replay unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello\x00world\x00\x00aaaaaaaaaaaaaaaaaaaaaaaa"), uint16(100), true)
	f.Add(bytes.Repeat([]byte("metric{a=\"b\"} 1\x00"), 50), uint16(64), false)
	f.Fuzz(func(t *testing.T, data []byte, segSize uint16, compress bool) {
		recs := bytes.Split(data, []byte{0})
		opts := Options{SegmentSize: int64(segSize) + MinSegmentSize, SyncPolicy: SyncNone, DisableCompression: !compress}
		fsys := vfs.NewMemFS()
		w, err := Open(fsys, testDir, opts)
		if err != nil {
			t.Fatal(err)
		}
		var want [][]byte
		for _, r := range recs {
			if err := w.Log(r); err != nil {
				// Records too large for the fuzzed segment size are
				// rejected whole; anything else is a bug.
				if !errors.Is(err, ErrRecordTooLarge) {
					t.Fatalf("Log: %v", err)
				}
				continue
			}
			want = append(want, r)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, rd := readAll(t, fsys, testDir)
		if len(rd.Corruptions()) != 0 {
			t.Fatalf("corruptions: %v", rd.Corruptions())
		}
		if len(got) != len(want) {
			t.Fatalf("got %d records, want %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("record %d differs", i)
			}
		}
	})
}
