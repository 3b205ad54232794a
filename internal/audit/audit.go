// Package audit keeps the tamper-evident audit trail a SOX-governed
// change process needs: every change to rules, silences, dashboards,
// tokens and configuration, and every admin API call, as one JSON line in
// <data-dir>/audit/audit.jsonl.
//
// Each entry carries the SHA-256 of the previous entry (Prev) and its own
// hash (Hash) over Prev and its canonical JSON, so editing, removing or
// reordering any entry breaks the chain from there on; Verify finds the
// first broken entry. The chain shows tampering, it does not prevent it:
// ship the file (or its last hash) somewhere the server cannot write, as
// for any audit log.
//
// An entry is written when the call it records has been handled, so it
// holds the outcome (status), and it is fsynced before the caller gets the
// answer. Log is safe for concurrent use.
package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Entry is one audited action.
type Entry struct {
	V      int       `json:"v"` // format version, FormatVersion
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`  // token name, or "anonymous" with auth off, or "system"
	Tenant string    `json:"tenant"` // the tenant the call acted for
	Remote string    `json:"remote"` // client address
	Action string    `json:"action"` // "PUT /api/v1/dashboards/x", "config.load", ...
	Status int       `json:"status"` // HTTP status of the call; 0 for system events
	Before string    `json:"before,omitempty"`
	After  string    `json:"after,omitempty"`
	Prev   string    `json:"prev"` // Hash of the previous entry; "" for the first
	Hash   string    `json:"hash,omitempty"`
}

// hash computes e's hash: SHA-256 over Prev and e's JSON without Hash.
func (e Entry) hash() string {
	e.Hash = ""
	b, _ := json.Marshal(e) // Entry always marshals
	h := sha256.New()
	h.Write([]byte(e.Prev))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// FormatVersion is the version of the entry format (FORMAT.md).
const FormatVersion = 1

// MaxField bounds Before and After: larger texts are cut, with a note.
const MaxField = 64 << 10

// Log is an open audit log.
type Log struct {
	mu   sync.Mutex // guards f, seq, last
	f    *os.File   // nil for an in-memory log (tests)
	path string
	seq  int64
	last string
	mem  []Entry // entries of an in-memory log
	now  func() time.Time
}

// Open opens (creating) the log in dir. A chain already broken in the file
// does not stop the server: the break is returned as a warning in
// brokenAt (the first bad seq, or 0) and new entries chain from the last
// line, so Verify keeps reporting it.
func Open(dir string) (l *Log, brokenAt int64, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, 0, fmt.Errorf("create audit dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, "audit.jsonl")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o640)
	if err != nil {
		return nil, 0, fmt.Errorf("open audit log %s: %w", path, err)
	}
	l = &Log{f: f, path: path, now: time.Now}
	res, err := verify(f, func(e Entry) { l.seq, l.last = e.Seq, e.Hash })
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("read audit log %s: %w", path, err)
	}
	return l, res.BrokenAt, nil
}

// NewMemory returns a log kept in memory, for tests.
func NewMemory(now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{now: now}
}

// Close closes the file.
func (l *Log) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// Append chains e after the last entry, writes and fsyncs it, and returns
// it as stored. Seq, Time (when zero), Prev and Hash are set here.
func (l *Log) Append(e Entry) (Entry, error) {
	e.Before, e.After = clip(e.Before), clip(e.After)
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	e.V = FormatVersion
	e.Seq = l.seq + 1
	e.Prev = l.last
	e.Hash = e.hash()
	if l.f == nil {
		l.mem = append(l.mem, e)
	} else {
		b, _ := json.Marshal(e)
		if _, err := l.f.Write(append(b, '\n')); err != nil {
			return e, fmt.Errorf("append to audit log %s: %w", l.path, err)
		}
		if err := l.f.Sync(); err != nil {
			return e, fmt.Errorf("sync audit log %s: %w", l.path, err)
		}
	}
	l.seq, l.last = e.Seq, e.Hash
	return e, nil
}

func clip(s string) string {
	if len(s) <= MaxField {
		return s
	}
	return s[:MaxField] + fmt.Sprintf("... [%d bytes cut]", len(s)-MaxField)
}

// Query selects entries.
type Query struct {
	// Tenant keeps only the tenant's entries; "" keeps all.
	Tenant string
	// After keeps entries with Seq > After.
	After int64
	// Action keeps only entries of this action; "" keeps all.
	Action string
	// Limit caps the answer (default and maximum 1000); the newest
	// entries are kept.
	Limit int
}

// Entries returns the entries matching q, oldest first.
func (l *Log) Entries(q Query) ([]Entry, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 1000
	}
	var out []Entry
	keep := func(e Entry) {
		if e.Seq <= q.After || (q.Tenant != "" && e.Tenant != q.Tenant) || (q.Action != "" && e.Action != q.Action) {
			return
		}
		out = append(out, e)
		if len(out) > 2*q.Limit { // keep memory bounded while scanning
			out = append(out[:0], out[len(out)-q.Limit:]...)
		}
	}
	if err := l.scan(keep); err != nil {
		return nil, err
	}
	if len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}

// VerifyResult is the outcome of a chain check.
type VerifyResult struct {
	OK       bool   `json:"ok"`
	Entries  int64  `json:"entries"`
	BrokenAt int64  `json:"broken_at,omitempty"` // seq (or line number when unreadable) of the first bad entry
	Reason   string `json:"reason,omitempty"`
	LastHash string `json:"last_hash,omitempty"`
}

// Verify recomputes the whole chain.
func (l *Log) Verify() (VerifyResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return verifyEntries(l.mem), nil
	}
	f, err := os.Open(l.path)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("open audit log %s: %w", l.path, err)
	}
	defer f.Close()
	return verify(f, nil)
}

// scan calls fn with every entry in order.
func (l *Log) scan(fn func(Entry)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		for _, e := range l.mem {
			fn(e)
		}
		return nil
	}
	f, err := os.Open(l.path)
	if err != nil {
		return fmt.Errorf("open audit log %s: %w", l.path, err)
	}
	defer f.Close()
	sc := newScanner(f)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			fn(e)
		}
	}
	return sc.Err()
}

func newScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4*MaxField)
	return sc
}

// verify reads a log from r, checks the chain and calls each (when not
// nil) with every decodable entry.
func verify(r io.Reader, each func(Entry)) (VerifyResult, error) {
	var (
		res  = VerifyResult{OK: true}
		prev string
		line int64
	)
	fail := func(at int64, format string, args ...any) {
		if res.OK {
			res.OK, res.BrokenAt, res.Reason = false, at, fmt.Sprintf(format, args...)
		}
	}
	sc := newScanner(r)
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fail(line, "line %d does not decode: %v", line, err)
			continue
		}
		res.Entries++
		if e.Seq != res.Entries {
			fail(e.Seq, "entry on line %d has seq %d, want %d (an entry was removed or inserted)", line, e.Seq, res.Entries)
		}
		if e.Prev != prev {
			fail(e.Seq, "entry %d does not chain to the entry before it", e.Seq)
		}
		if h := e.hash(); h != e.Hash {
			fail(e.Seq, "entry %d was modified: its hash does not match its content", e.Seq)
		}
		prev = e.Hash
		if each != nil {
			each(e)
		}
	}
	if err := sc.Err(); err != nil {
		return res, err
	}
	res.LastHash = prev
	return res, nil
}

func verifyEntries(es []Entry) VerifyResult {
	var buf bytes.Buffer
	for _, e := range es {
		b, _ := json.Marshal(e)
		buf.Write(append(b, '\n'))
	}
	res, _ := verify(&buf, nil)
	return res
}
