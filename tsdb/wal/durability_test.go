package wal

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

// injector fails chosen operations and can slow fsyncs down, so tests see
// real group-commit batching on an in-memory FS.
type injector struct {
	mu        sync.Mutex
	fail      map[vfs.Op]error
	syncDelay time.Duration
	syncs     atomic.Int64
}

func (in *injector) inject(op vfs.Op, _ string) error {
	if op == vfs.OpSync {
		in.syncs.Add(1)
		if in.syncDelay > 0 {
			time.Sleep(in.syncDelay)
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.fail[op]
}

func (in *injector) set(fail map[vfs.Op]error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.fail = fail
}

// TestProcessCrash checks that Log leaves nothing in a user-space buffer:
// a reader of the live files (what survives kill -9) sees every
// acknowledged record before Close, under every policy.
func TestProcessCrash(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
		t.Run(p.String(), func(t *testing.T) {
			fsys := vfs.NewMemFS()
			w := mustOpen(t, fsys, Options{SegmentSize: 4096, SyncPolicy: p, SyncInterval: time.Hour})
			defer w.Close()
			want := testRecords(0, 100)
			logAll(t, w, want)
			got, _ := readAll(t, fsys, testDir)
			equalRecords(t, got, want)
		})
	}
}

// TestCrashSyncAlways crashes (power loss) while 4 writers log under
// SyncAlways: every record acknowledged before the crash must replay, in
// each writer's order, with nothing unknown.
func TestCrashSyncAlways(t *testing.T) {
	for _, torn := range []bool{false, true} {
		for crashAt := 50; crashAt <= 350; crashAt += 150 {
			t.Run(fmt.Sprintf("torn=%v/at=%d", torn, crashAt), func(t *testing.T) {
				testCrashSyncAlways(t, torn, crashAt)
			})
		}
	}
}

func testCrashSyncAlways(t *testing.T, torn bool, crashAt int) {
	fsys := vfs.NewMemFS()
	w := mustOpen(t, fsys, Options{SegmentSize: 4096, SyncPolicy: SyncAlways})
	const writers, perWriter = 4, 100
	var (
		mu     sync.Mutex
		acked  = map[string]bool{}
		crash  *vfs.MemFS
		before map[string]bool
	)
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				rec := fmt.Sprintf("w%d-%04d-%s", g, i, strings.Repeat("p", i%50))
				if err := w.Log([]byte(rec)); err != nil {
					t.Errorf("Log: %v", err)
					return
				}
				mu.Lock()
				acked[rec] = true
				if len(acked) == crashAt {
					// Snapshot what was acknowledged, then crash: every
					// snapshot record was acknowledged before the crash.
					before = make(map[string]bool, len(acked))
					for k := range acked {
						before[k] = true
					}
					if torn {
						crash = fsys.CrashCloneTorn(rand.New(rand.NewPCG(uint64(crashAt), 1)))
					} else {
						crash = fsys.CrashClone()
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := Open(crash, testDir, Options{SegmentSize: 4096})
	if err != nil {
		t.Fatalf("Open after crash: %v", err)
	}
	_ = w2.Close()
	got, r := readAll(t, crash, testDir)
	if c := r.Corruptions(); len(c) != 0 {
		t.Fatalf("corruptions after repair: %v", c)
	}
	seen := map[string]bool{}
	last := map[string]int{}
	for _, g := range got {
		var wr, i int
		if _, err := fmt.Sscanf(string(g), "w%d-%04d-", &wr, &i); err != nil {
			t.Fatalf("garbage record %q", g)
		}
		key := fmt.Sprint(wr)
		if prev, ok := last[key]; ok && i != prev+1 {
			t.Fatalf("writer %d: record %d after %d", wr, i, prev)
		}
		last[key] = i
		seen[string(g)] = true
	}
	for rec := range before {
		if !seen[rec] {
			t.Fatalf("acknowledged record %q lost in crash (%d acked, %d replayed)", rec, len(before), len(got))
		}
	}
}

// TestCrashSyncInterval: records before an explicit sync point survive
// power loss; later ones may not, but what survives is a prefix.
func TestCrashSyncInterval(t *testing.T) {
	for _, torn := range []bool{false, true} {
		t.Run(fmt.Sprintf("torn=%v", torn), func(t *testing.T) {
			fsys := vfs.NewMemFS()
			w := mustOpen(t, fsys, Options{SegmentSize: 4096, SyncInterval: time.Hour})
			all := testRecords(0, 150)
			logAll(t, w, all[:100])
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			logAll(t, w, all[100:])
			var crash *vfs.MemFS
			if torn {
				crash = fsys.CrashCloneTorn(rand.New(rand.NewPCG(3, 4)))
			} else {
				crash = fsys.CrashClone()
			}
			_ = w.Close()
			w2, err := Open(crash, testDir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_ = w2.Close()
			got, _ := readAll(t, crash, testDir)
			if len(got) < 100 {
				t.Fatalf("replayed %d records, want >= 100 (synced)", len(got))
			}
			equalRecords(t, got, all[:len(got)])
			if !torn && len(got) != 100 {
				// Nothing after the sync point was fsynced, except segments
				// closed by a roll.
				t.Logf("replayed %d records (rolled segments are synced)", len(got))
			}
		})
	}
}

// TestCrashSyncNoneAfterCut: a Cut makes everything before it durable.
func TestCrashSyncNoneAfterCut(t *testing.T) {
	fsys := vfs.NewMemFS()
	w := mustOpen(t, fsys, Options{SyncPolicy: SyncNone})
	logAll(t, w, testRecords(0, 50))
	if _, err := w.Cut(); err != nil {
		t.Fatal(err)
	}
	crash := fsys.CrashClone()
	_ = w.Close()
	got, _ := readAll(t, crash, testDir)
	equalRecords(t, got, testRecords(0, 50))
}

// TestFailures injects ENOSPC and EROFS at write and at fsync. Log must
// return a wrapped error naming what failed, nothing acknowledged may be
// lost (also across power loss under SyncAlways), later Log calls must
// succeed once the fault clears, and replay must show exactly the
// acknowledged records.
func TestFailures(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
		for _, op := range []vfs.Op{vfs.OpWrite, vfs.OpSync} {
			for _, fault := range []error{syscall.ENOSPC, syscall.EROFS} {
				t.Run(fmt.Sprintf("%s/%s/%v", p, op, fault), func(t *testing.T) {
					testFailure(t, p, op, fault)
				})
			}
		}
	}
}

func testFailure(t *testing.T, p SyncPolicy, op vfs.Op, fault error) {
	mem := vfs.NewMemFS()
	in := &injector{}
	fsys := vfs.NewInjectFS(mem, in.inject)
	reg := prometheus.NewRegistry()
	w := mustOpen(t, fsys, Options{SegmentSize: 4096, SyncPolicy: p, SyncInterval: time.Hour, Registerer: reg})
	var acked [][]byte
	logOne := func(i int) error {
		rec := testRecord(i)
		err := w.Log(rec)
		if err == nil {
			acked = append(acked, rec)
		}
		return err
	}
	for i := 0; i < 20; i++ {
		if err := logOne(i); err != nil {
			t.Fatal(err)
		}
	}

	in.set(map[vfs.Op]error{op: fault})
	var sawErr error
	for i := 20; i < 25; i++ {
		if err := logOne(i); err != nil {
			sawErr = err
		}
		if op == vfs.OpSync && p != SyncAlways && i == 22 {
			// These policies fsync only on demand: ask for it.
			if err := w.Sync(); err == nil {
				t.Fatal("Sync succeeded under an fsync fault")
			}
		}
	}
	if sawErr == nil {
		t.Fatal("no Log call failed under the fault")
	}
	if !errors.Is(sawErr, fault) {
		t.Fatalf("Log error %v does not wrap %v", sawErr, fault)
	}
	if !strings.Contains(sawErr.Error(), "wal segment") {
		t.Fatalf("Log error %q does not say what failed", sawErr)
	}
	if got := testutil.ToFloat64(w.m.writeFailures); got == 0 {
		t.Fatal("stratus_wal_write_failures_total not incremented")
	}

	in.set(nil)
	for i := 25; i < 40; i++ {
		if err := logOne(i); err != nil {
			t.Fatalf("Log after the fault cleared: %v", err)
		}
	}
	if p == SyncAlways {
		got, _ := readAll(t, mem.CrashClone(), testDir)
		equalRecords(t, got, acked)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got, r := readAll(t, mem, testDir)
	equalRecords(t, got, acked)
	if c := r.Corruptions(); len(c) != 0 {
		t.Fatalf("corruptions: %v", c)
	}
	// Power loss after Close loses nothing either, except under SyncNone
	// after a failed fsync: SyncNone keeps no copy of unsynced records, so
	// the failed segment's tail is only as durable as the kernel made it.
	// The failed Sync reported that.
	got, _ = readAll(t, mem.CrashClone(), testDir)
	if p == SyncNone && op == vfs.OpSync {
		if len(got) > len(acked) {
			t.Fatalf("replayed %d records after crash, only %d acknowledged", len(got), len(acked))
		}
		return
	}
	equalRecords(t, got, acked)
}

// TestFailureCannotTruncate: the write fails and cutting the torn tail away
// fails too. The WAL abandons the segment; replay may skip the torn region
// (reported as corruption in a middle segment) but loses nothing
// acknowledged and shows nothing that was never logged.
func TestFailureCannotTruncate(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
		t.Run(p.String(), func(t *testing.T) {
			mem := vfs.NewMemFS()
			in := &injector{}
			w := mustOpen(t, vfs.NewInjectFS(mem, in.inject), Options{SyncPolicy: p, SyncInterval: time.Hour})
			var acked [][]byte
			tried := map[string]bool{}
			for i := 0; i < 60; i++ {
				if i == 20 {
					in.set(map[vfs.Op]error{vfs.OpWrite: syscall.ENOSPC, vfs.OpTruncate: syscall.EIO})
				}
				if i == 25 {
					in.set(nil)
				}
				rec := testRecord(i)
				tried[string(rec)] = true
				if err := w.Log(rec); err == nil {
					acked = append(acked, rec)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, _ := readAll(t, mem, testDir)
			j := 0
			for _, g := range got {
				if !tried[string(g)] {
					t.Fatalf("garbage record %q", trunc(g))
				}
				if j < len(acked) && bytes.Equal(g, acked[j]) {
					j++
				}
			}
			if j != len(acked) {
				t.Fatalf("acknowledged record %d (%q) missing from replay", j, trunc(acked[j]))
			}
		})
	}
}

// TestGroupCommit: 8 writers under SyncAlways share fsyncs.
func TestGroupCommit(t *testing.T) {
	mem := vfs.NewMemFS()
	in := &injector{syncDelay: 2 * time.Millisecond}
	reg := prometheus.NewRegistry()
	w := mustOpen(t, vfs.NewInjectFS(mem, in.inject), Options{SyncPolicy: SyncAlways, Registerer: reg})
	const writers, perWriter = 8, 50
	base := in.syncs.Load()
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				if err := w.Log([]byte(fmt.Sprintf("w%d-%d", g, i))); err != nil {
					t.Errorf("Log: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	syncs := in.syncs.Load() - base
	calls := int64(writers * perWriter)
	t.Logf("%d Log calls, %d fsyncs (%.1f calls per fsync)", calls, syncs, float64(calls)/float64(syncs))
	if syncs*3 > calls {
		t.Fatalf("%d fsyncs for %d Log calls; group commit is not batching", syncs, calls)
	}
	if got := testutil.ToFloat64(w.m.recordsWritten); got != float64(calls) {
		t.Fatalf("stratus_wal_records_written_total = %v, want %d", got, calls)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, mem, testDir)
	if len(got) != int(calls) {
		t.Fatalf("replayed %d records, want %d", len(got), calls)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n < 7 {
		t.Fatalf("GatherAndCount = %d, %v; want the 7 wal metrics", n, err)
	}
}

// TestReopenSameRegisterer: a second Open on the same registry reuses the
// collectors instead of failing.
func TestReopenSameRegisterer(t *testing.T) {
	fsys := vfs.NewMemFS()
	reg := prometheus.NewRegistry()
	for i := 0; i < 2; i++ {
		w := mustOpen(t, fsys, Options{SyncPolicy: SyncNone, Registerer: reg})
		logAll(t, w, testRecords(0, 10))
		_ = w.Close()
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "stratus_wal_records_written_total" {
			if got := mf.GetMetric()[0].GetCounter().GetValue(); got != 20 {
				t.Fatalf("records written = %v, want 20", got)
			}
			return
		}
	}
	t.Fatal("stratus_wal_records_written_total not registered")
}

// TestCorruptionMetric: Open's repair is counted.
func TestCorruptionMetric(t *testing.T) {
	fsys := vfs.NewMemFS()
	w := mustOpen(t, fsys, Options{SyncPolicy: SyncNone})
	logAll(t, w, testRecords(0, 10))
	_ = w.Close()
	name := testDir + "/" + segmentName(1)
	data := readFile(t, fsys, name)
	writeFile(t, fsys, name, data[:len(data)-3])
	reg := prometheus.NewRegistry()
	w = mustOpen(t, fsys, Options{Registerer: reg})
	defer w.Close()
	if got := testutil.ToFloat64(w.m.corruptions); got != 1 {
		t.Fatalf("stratus_wal_corruptions_total = %v, want 1", got)
	}
}

// TestPendingShrinksAfterPeak: while fsyncs are slow, SyncInterval's rescue
// copy of unsynced bytes grows past pendingKeepBytes; once syncs drain it,
// the large buffer is given back, and every record is still there.
func TestPendingShrinksAfterPeak(t *testing.T) {
	mem := vfs.NewMemFS()
	in := &injector{syncDelay: 500 * time.Millisecond}
	w := mustOpen(t, vfs.NewInjectFS(mem, in.inject), Options{SyncPolicy: SyncInterval, SyncInterval: time.Hour})
	rng := rand.NewChaCha8([32]byte{1})
	rec := make([]byte, 64<<10) // random, so compression cannot shrink it
	const n = 96                // 6 MiB, logged faster than one slow fsync
	peak := 0
	for range n {
		rng.Read(rec)
		if err := w.Log(rec); err != nil {
			t.Fatal(err)
		}
		w.mu.Lock()
		peak = max(peak, cap(w.pending))
		w.mu.Unlock()
	}
	if peak <= pendingKeepBytes {
		t.Fatalf("pending peaked at %d bytes; the test needs it past %d", peak, pendingKeepBytes)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	got, size := cap(w.pending), len(w.pending)
	w.mu.Unlock()
	if got > pendingKeepBytes {
		t.Fatalf("after the syncs pending holds a %d-byte buffer (%d in use); want at most %d", got, size, pendingKeepBytes)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if recs, _ := readAll(t, mem, testDir); len(recs) != n {
		t.Fatalf("replayed %d records, want %d", len(recs), n)
	}
}
