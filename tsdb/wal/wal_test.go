package wal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testDir = "data/wal"

// testRecord returns record i: compressible when i is even, random (so
// snappy cannot shrink it) when odd, with lengths varying from 0 to ~300.
func testRecord(i int) []byte {
	n := (i * 37) % 300
	if i%2 == 0 {
		return []byte(fmt.Sprintf("rec-%06d-%s", i, bytes.Repeat([]byte{'x'}, n)))
	}
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(rng.Uint32())
	}
	return b
}

func testRecords(from, to int) [][]byte {
	var recs [][]byte
	for i := from; i < to; i++ {
		recs = append(recs, testRecord(i))
	}
	return recs
}

// readAll replays dir from segment 0 and returns copies of the records.
func readAll(t testing.TB, fsys vfs.FS, dir string) ([][]byte, *Reader) {
	t.Helper()
	r, err := NewReader(fsys, dir, 0)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var recs [][]byte
	for r.Next() {
		recs = append(recs, bytes.Clone(r.Record()))
	}
	if err := r.Err(); err != nil {
		t.Fatalf("reader: %v", err)
	}
	_ = r.Close()
	return recs, r
}

func mustOpen(t testing.TB, fsys vfs.FS, opts Options) *WAL {
	t.Helper()
	w, err := Open(fsys, testDir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w
}

func logAll(t testing.TB, w *WAL, recs [][]byte) {
	t.Helper()
	for i, r := range recs {
		if err := w.Log(r); err != nil {
			t.Fatalf("Log record %d: %v", i, err)
		}
	}
}

func equalRecords(t testing.TB, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d: got %q, want %q", i, trunc(got[i]), trunc(want[i]))
		}
	}
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func TestRoundTripAcrossSegments(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy SyncPolicy
		noComp bool
	}{
		{"interval", SyncInterval, false},
		{"always", SyncAlways, false},
		{"none", SyncNone, false},
		{"none-uncompressed", SyncNone, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := vfs.NewMemFS()
			opts := Options{SegmentSize: 1024, SyncPolicy: tc.policy, DisableCompression: tc.noComp}
			w := mustOpen(t, fsys, opts)
			want := testRecords(0, 300)
			logAll(t, w, want[:100])
			// A multi-record Log that spans a roll.
			if err := w.Log(want[100:200]...); err != nil {
				t.Fatalf("Log batch: %v", err)
			}
			first, last, err := w.Segments()
			if err != nil || first != 1 || last < 10 {
				t.Fatalf("Segments() = %d, %d, %v; want 1, >=10", first, last, err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			// Reopen and append.
			w = mustOpen(t, fsys, opts)
			if w.DroppedBytes() != 0 {
				t.Fatalf("clean reopen dropped %d bytes", w.DroppedBytes())
			}
			logAll(t, w, want[200:])
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got, r := readAll(t, fsys, testDir)
			equalRecords(t, got, want)
			if c := r.Corruptions(); len(c) != 0 {
				t.Fatalf("corruptions: %v", c)
			}
			checkSegmentSizes(t, fsys, opts.SegmentSize)
		})
	}
}

func checkSegmentSizes(t *testing.T, fsys vfs.FS, max int64) {
	t.Helper()
	segs, err := listSegments(fsys, testDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		fi, err := fsys.Stat(filepath.Join(testDir, segmentName(s)))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > max {
			t.Fatalf("segment %d has %d bytes, limit %d", s, fi.Size(), max)
		}
	}
}

func TestCompressionFlag(t *testing.T) {
	compressible := bytes.Repeat([]byte("abcd"), 100)
	random := testRecord(1)
	for _, tc := range []struct {
		name     string
		payload  []byte
		compress bool
		want     byte
	}{
		{"compressible", compressible, true, flagSnappy},
		{"compressible-disabled", compressible, false, 0},
		{"incompressible", random, true, 0},
		{"empty", nil, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, _ := appendRecord(nil, tc.payload, tc.compress, nil)
			if got := rec[4]; got != tc.want {
				t.Fatalf("flags = %#x, want %#x", got, tc.want)
			}
			seg := append(appendSegmentHeader(nil), rec...)
			var d segmentDecoder
			if st, err := d.reset(bytes.NewReader(seg), int64(len(seg))); st != stRecord || err != nil {
				t.Fatalf("reset = %v, %v", st, err)
			}
			got, st, err := d.next()
			if st != stRecord || err != nil || !bytes.Equal(got, tc.payload) {
				t.Fatalf("next = %q, %v, %v", trunc(got), st, err)
			}
		})
	}
}

func TestRecordTooLarge(t *testing.T) {
	w := mustOpen(t, vfs.NewMemFS(), Options{SegmentSize: 128, SyncPolicy: SyncNone, DisableCompression: true})
	defer w.Close()
	err := w.Log([]byte("ok"), make([]byte, 200))
	if !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("Log = %v, want ErrRecordTooLarge", err)
	}
	// Nothing of the rejected batch was written.
	if err := w.Log([]byte("after")); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	got, _ := readAll(t, w.fs, testDir)
	equalRecords(t, got, [][]byte{[]byte("after")})
}

func TestCutTruncateSegments(t *testing.T) {
	fsys := vfs.NewMemFS()
	w := mustOpen(t, fsys, Options{SyncPolicy: SyncNone})
	for i := 0; i < 5; i++ {
		logAll(t, w, testRecords(i*10, i*10+10))
		idx, err := w.Cut()
		if err != nil || idx != i+2 {
			t.Fatalf("Cut() = %d, %v; want %d", idx, err, i+2)
		}
	}
	if err := w.Truncate(4); err != nil {
		t.Fatal(err)
	}
	// Truncate never removes the current segment.
	if err := w.Truncate(100); err != nil {
		t.Fatal(err)
	}
	first, last, _ := w.Segments()
	if first != 6 || last != 6 {
		t.Fatalf("Segments() = %d, %d; want 6, 6", first, last)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Log([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Log after Close = %v", err)
	}
	r, err := NewReader(fsys, testDir, 4)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r.Next() {
		n++
	}
	if n != 0 || r.Err() != nil {
		t.Fatalf("read %d records, err %v; want 0 (only the empty segment 6 is left)", n, r.Err())
	}
}

func TestReaderFromSegmentAndGap(t *testing.T) {
	fsys := vfs.NewMemFS()
	w := mustOpen(t, fsys, Options{SyncPolicy: SyncNone})
	for i := 0; i < 4; i++ {
		logAll(t, w, testRecords(i*10, i*10+10))
		if _, err := w.Cut(); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	r, err := NewReader(fsys, testDir, 3)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for r.Next() {
		if r.Segment() < 3 {
			t.Fatalf("record from segment %d", r.Segment())
		}
		got = append(got, bytes.Clone(r.Record()))
	}
	equalRecords(t, got, testRecords(20, 40))

	if err := fsys.Remove(filepath.Join(testDir, segmentName(2))); err != nil {
		t.Fatal(err)
	}
	if _, err := NewReader(fsys, testDir, 0); err == nil {
		t.Fatal("NewReader over a gap succeeded")
	}
}

func TestUnsupportedVersion(t *testing.T) {
	fsys := vfs.NewMemFS()
	w := mustOpen(t, fsys, Options{SyncPolicy: SyncNone})
	logAll(t, w, testRecords(0, 3))
	_ = w.Close()
	name := filepath.Join(testDir, segmentName(1))
	data := readFile(t, fsys, name)
	data[4] = FormatVersion + 1
	writeFile(t, fsys, name, data)
	if _, err := Open(fsys, testDir, Options{}); err == nil {
		t.Fatal("Open of a newer format succeeded; it must not repair what it cannot read")
	}
	_, err := NewReader(fsys, testDir, 0)
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, fsys vfs.FS, name string) []byte {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, fsys vfs.FS, name string, data []byte) {
	t.Helper()
	f, err := fsys.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{
		{SegmentSize: 10},
		{SyncPolicy: 9},
		{SyncInterval: -1},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", o)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero Options invalid: %v", err)
	}
}
