package alert

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The outbox is the notifier's durable memory (format in FORMAT.md): an
// append-only file of JSON records, each line checksummed. A "notify"
// record is written and fsynced when a notification is decided, before any
// attempt to send it (the notifications of one tick share one fsync); a
// "delivered", "failed" or "superseded" record is written when it is done
// and fsynced with the others at the end of the tick, because losing one
// costs a duplicate (which the Idempotency-Key lets receivers drop), not a
// lost page. On start the file is
// replayed: notifications without a final record are sent again (delivery
// is at least once, with an Idempotency-Key header so that receivers can
// drop the rare duplicate), and the last notify record of each group is the
// notification log that stops the same group notification being sent
// twice across a restart. The file is then rewritten compactly.

const outboxHeader = "stratus-alert-outbox 1"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Types of outbox record.
const (
	recNotify     = "notify"
	recDelivered  = "delivered"
	recFailed     = "failed"
	recSuperseded = "superseded"
)

type outboxRecord struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Time time.Time `json:"time"`

	// notify records only.
	Key         string          `json:"key,omitempty"` // the notification log key: receiver, integration, group key
	Receiver    string          `json:"receiver,omitempty"`
	Integration int             `json:"integration,omitempty"`
	GroupKey    string          `json:"group_key,omitempty"`
	URL         string          `json:"url,omitempty"`
	Status      string          `json:"status,omitempty"` // "firing" or "resolved"
	Alerts      int             `json:"alerts,omitempty"`
	Firing      []string        `json:"firing,omitempty"`   // fingerprints notified as firing
	Resolved    []string        `json:"resolved,omitempty"` // fingerprints notified as resolved
	Payload     json.RawMessage `json:"payload,omitempty"`  // absent: a log entry only, nothing to send

	// delivered and failed records.
	Attempts int    `json:"attempts,omitempty"`
	Error    string `json:"error,omitempty"`
}

type outbox struct {
	path  string
	f     *os.File
	n     int  // records appended since the last rewrite
	dirty bool // records written by appendLazy and not yet fsynced
}

// openOutbox replays the file at path (if any) and returns its records,
// stopping at the first damaged line: a torn tail after a crash loses at
// most the record being written, which was never acted on.
func openOutbox(path string) (*outbox, []outboxRecord, int, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, 0, fmt.Errorf("create outbox directory: %w", err)
	}
	var recs []outboxRecord
	damaged := 0
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, nil, 0, fmt.Errorf("read outbox %s: %w", path, err)
	default:
		recs, damaged, err = decodeOutbox(b)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("outbox %s: %w", path, err)
		}
	}
	return &outbox{path: path}, recs, damaged, nil
}

func decodeOutbox(b []byte) ([]outboxRecord, int, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	if !sc.Scan() {
		return nil, 0, nil // empty file
	}
	if sc.Text() != outboxHeader {
		return nil, 0, fmt.Errorf("header %.40q is not %q", sc.Text(), outboxHeader)
	}
	var recs []outboxRecord
	for sc.Scan() {
		line := sc.Bytes()
		rec, ok := decodeOutboxLine(line)
		if !ok {
			rest := 1
			for sc.Scan() {
				rest++
			}
			return recs, rest, nil
		}
		recs = append(recs, rec)
	}
	return recs, 0, nil
}

func decodeOutboxLine(line []byte) (outboxRecord, bool) {
	var rec outboxRecord
	if len(line) < 10 || line[8] != ' ' {
		return rec, false
	}
	sum, err := strconv.ParseUint(string(line[:8]), 16, 32)
	if err != nil || uint32(sum) != crc32.Checksum(line[9:], crcTable) {
		return rec, false
	}
	if err := json.Unmarshal(line[9:], &rec); err != nil {
		return rec, false
	}
	return rec, true
}

func appendOutboxLine(dst []byte, rec outboxRecord) []byte {
	j, err := json.Marshal(rec)
	if err != nil {
		panic("BUG: marshal outbox record: " + err.Error())
	}
	dst = fmt.Appendf(dst, "%08x ", crc32.Checksum(j, crcTable))
	dst = append(dst, j...)
	return append(dst, '\n')
}

// rewrite replaces the file with exactly recs (atomically) and reopens it
// for appending.
func (o *outbox) rewrite(recs []outboxRecord) error {
	if o.f != nil {
		o.f.Close()
		o.f = nil
	}
	buf := []byte(outboxHeader + "\n")
	for _, r := range recs {
		buf = appendOutboxLine(buf, r)
	}
	if err := writeFileAtomic(o.path, buf); err != nil {
		return fmt.Errorf("rewrite outbox: %w", err)
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open outbox %s: %w", o.path, err)
	}
	o.f, o.n, o.dirty = f, 0, false
	return nil
}

// append writes recs and fsyncs: when it returns nil they survive a crash,
// and so does everything appendLazy wrote before.
func (o *outbox) append(recs ...outboxRecord) error {
	if err := o.write(recs); err != nil {
		return err
	}
	return o.sync()
}

// appendLazy writes recs without fsyncing: they survive a crash of the
// process (they are in the kernel's page cache) but not of the machine
// until the next append or syncIfDirty. For records whose loss costs a
// duplicate, not a lost notification.
func (o *outbox) appendLazy(recs ...outboxRecord) error {
	if err := o.write(recs); err != nil {
		return err
	}
	o.dirty = true
	return nil
}

// syncIfDirty fsyncs what appendLazy wrote, if anything.
func (o *outbox) syncIfDirty() error {
	if !o.dirty || o.f == nil {
		return nil
	}
	return o.sync()
}

func (o *outbox) write(recs []outboxRecord) error {
	if o.f == nil {
		return errors.New("outbox is closed")
	}
	var buf []byte
	for _, r := range recs {
		buf = appendOutboxLine(buf, r)
	}
	if _, err := o.f.Write(buf); err != nil {
		return fmt.Errorf("append to outbox %s: %w", o.path, err)
	}
	o.n += len(recs)
	return nil
}

func (o *outbox) sync() error {
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("sync outbox %s: %w", o.path, err)
	}
	o.dirty = false
	return nil
}

func (o *outbox) close() error {
	if o.f == nil {
		return nil
	}
	err := o.syncIfDirty()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	return err
}
