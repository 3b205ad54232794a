package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func appendN(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := range n {
		tenant := "a"
		if i%2 == 1 {
			tenant = "b"
		}
		if _, err := l.Append(Entry{Actor: "ops", Tenant: tenant, Action: "PUT /api/v1/dashboards/x", Status: 200, After: `{"title":"x"}`}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainSurvivesReopenAndVerifies(t *testing.T) {
	dir := t.TempDir()
	l, broken, err := Open(dir)
	if err != nil || broken != 0 {
		t.Fatal(err, broken)
	}
	appendN(t, l, 3)
	l.Close()
	l, broken, err = Open(dir)
	if err != nil || broken != 0 {
		t.Fatalf("reopen: %v, broken at %d", err, broken)
	}
	defer l.Close()
	appendN(t, l, 2)
	res, err := l.Verify()
	if err != nil || !res.OK || res.Entries != 5 {
		t.Fatalf("verify = %+v, %v; want 5 entries, ok", res, err)
	}
	es, _ := l.Entries(Query{Tenant: "b"})
	if len(es) != 2 || es[0].Seq != 2 || es[1].Seq != 5 {
		t.Fatalf("tenant b entries = %+v", es)
	}
	es, _ = l.Entries(Query{After: 3, Limit: 1})
	if len(es) != 1 || es[0].Seq != 5 {
		t.Fatalf("after 3, limit 1 = %+v", es)
	}
}

// TestVerifyDetectsTampering edits, removes and reorders entries on disk
// and expects Verify to name the first bad entry.
func TestVerifyDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(lines []string) []string
		wantAt int64
		reason string
	}{
		{"edited field", func(ls []string) []string {
			ls[2] = strings.Replace(ls[2], `"status":200`, `"status":201`, 1)
			return ls
		}, 3, "modified"},
		{"edited actor and rehashed alone", func(ls []string) []string {
			// Recomputing the edited entry's own hash still breaks the
			// link from the next one.
			e := decode(t, ls[1])
			e.Actor = "mallory"
			e.Hash = e.hash()
			b, _ := json.Marshal(e)
			ls[1] = string(b)
			return ls
		}, 3, "chain"},
		{"removed", func(ls []string) []string { return append(ls[:1], ls[2:]...) }, 3, "removed"},
		{"reordered", func(ls []string) []string { ls[0], ls[1] = ls[1], ls[0]; return ls }, 2, ""},
		{"garbage", func(ls []string) []string { ls[3] = "{not json"; return ls }, 4, "decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l, _, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, l, 5)
			l.Close()
			path := filepath.Join(dir, "audit.jsonl")
			data, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			os.WriteFile(path, []byte(strings.Join(tc.edit(lines), "\n")+"\n"), 0o640)
			l, broken, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			res, _ := l.Verify()
			if res.OK || res.BrokenAt != tc.wantAt || broken != tc.wantAt || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("verify = %+v (open said %d); want broken at %d with %q", res, broken, tc.wantAt, tc.reason)
			}
			// New entries still append, and the break stays reported.
			appendN(t, l, 1)
			if res, _ := l.Verify(); res.OK {
				t.Fatal("a later append hid the break")
			}
		})
	}
}

func TestClipAndMemory(t *testing.T) {
	l := NewMemory(func() time.Time { return time.Unix(0, 0) })
	e, _ := l.Append(Entry{Action: "x", After: strings.Repeat("a", MaxField+10)})
	if !strings.HasSuffix(e.After, "[10 bytes cut]") {
		t.Errorf("After not clipped: ...%s", e.After[len(e.After)-20:])
	}
	if res, _ := l.Verify(); !res.OK || res.Entries != 1 {
		t.Errorf("memory verify = %+v", res)
	}
}

func decode(t *testing.T, s string) Entry {
	t.Helper()
	var e Entry
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		t.Fatal(err)
	}
	return e
}
