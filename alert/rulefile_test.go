package alert

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodRules = `groups:
  - name: g1
    interval: 30s
    limit: 10
    rules:
      - alert: HighLag
        expr: lag > 5
        for: 5m
        keep_firing_for: 1m
        labels:
          severity: page
        annotations:
          summary: "lag is {{ $value | humanize }}"
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: AtlasRule
        atlas: name,sps,:eq,:sum,50,:gt
`

func TestParseRulesGood(t *testing.T) {
	gs, err := ParseRules("r.yml", []byte(goodRules))
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || len(gs[0].Rules) != 3 {
		t.Fatalf("got %+v", gs)
	}
	g := gs[0]
	if g.Interval != 30*time.Second || g.Limit != 10 || g.File != "r.yml" || g.Line != 2 {
		t.Errorf("group = %+v", g)
	}
	r := g.Rules[0]
	if r.Alert != "HighLag" || r.Lang != LangPromQL || r.For != 5*time.Minute || r.KeepFiringFor != time.Minute || r.Line != 6 {
		t.Errorf("rule 0 = %+v", r)
	}
	if g.Rules[1].Record != "job:up:sum" {
		t.Errorf("rule 1 = %+v", g.Rules[1])
	}
	if a := g.Rules[2]; a.Lang != LangAtlas || a.Expr != "name,sps,:eq,:sum,50,:gt" {
		t.Errorf("rule 2 = %+v", a)
	}
}

func TestParseRulesErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string // substrings of the error, in order of appearance
	}{
		{"bad promql", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(x[5m]\n",
			[]string{`r.yml:5: group "g": rule "A": could not parse expression`}},
		{"unknown field", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    severity: page\n",
			[]string{"r.yml:6: ", "field severity not found in rule"}},
		{"unknown top field", "groupz: []\n", []string{"r.yml:1: ", "field groupz not found"}},
		{"yaml syntax", "groups:\n- name: g\n  rules: [\n", []string{"r.yml:"}},
		{"both record and alert", "groups:\n- name: g\n  rules:\n  - alert: A\n    record: b\n    expr: up\n",
			[]string{"r.yml:4: ", "only one of 'record' and 'alert' must be set"}},
		{"neither", "groups:\n- name: g\n  rules:\n  - expr: up\n", []string{"r.yml:4: ", "one of 'record' or 'alert' must be set"}},
		{"no expr", "groups:\n- name: g\n  rules:\n  - alert: A\n", []string{"r.yml:4: ", "field 'expr' must be set in rule"}},
		{"expr and atlas", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    atlas: a,b\n", []string{"r.yml:6: ", "only one of 'expr' and 'atlas'"}},
		{"atlas unbalanced", "groups:\n- name: g\n  rules:\n  - alert: A\n    atlas: (,a,b\n", []string{"r.yml:5: ", "unclosed"}},
		{"dup group", "groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n", []string{"r.yml:4: ", `groupname: "g" is repeated`}},
		{"empty group name", "groups:\n- rules: []\n", []string{"r.yml:2: ", "Groupname must not be empty"}},
		{"for in recording", "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    for: 1m\n", []string{"r.yml:6: ", "invalid field 'for' in recording rule"}},
		{"bad template", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      s: '{{ $value | nosuchfunc }}'\n",
			[]string{"r.yml:7: ", `annotation "s"`, "nosuchfunc"}},
		{"bad label name", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels:\n      __name__: x\n", []string{"r.yml:7: ", "invalid label name: __name__"}},
		{"bad duration", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 5 minutes\n", []string{"r.yml:6: "}},
		{"two documents", "groups: []\n---\ngroups: []\n", []string{"r.yml:2: ", "second one"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRules("r.yml", []byte(tc.content))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			var re *RuleError
			if !errors.As(err, &re) || re.File != "r.yml" {
				t.Errorf("error %v is not a *RuleError naming the file", err)
			}
		})
	}
}

func TestLoadFilesReportsEveryFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yml", goodRules)
	writeFile(t, dir, "b.yml", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up >\n")
	writeFile(t, dir, "c.yml", "groups:\n- name: g\n  rules:\n  - record: 'a{b}'\n    expr: up\n")
	_, err := LoadFiles([]string{filepath.Join(dir, "*.yml")})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"b.yml:5: ", "c.yml:4: ", "braces present"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	gs, err := LoadFiles([]string{filepath.Join(dir, "a.yml"), filepath.Join(dir, "nothing*.yml")})
	if err != nil || len(gs) != 1 {
		t.Fatalf("got %v, %v", gs, err)
	}
	if _, err := LoadFiles([]string{"[bad"}); err == nil {
		t.Error("malformed glob accepted")
	}
}

func TestPacksLoad(t *testing.T) {
	names := PackNames()
	if strings.Join(names, ",") != "migration,runtime" {
		t.Fatalf("packs = %v", names)
	}
	for _, n := range names {
		gs, err := LoadPack(n)
		if err != nil {
			t.Fatalf("pack %s: %v", n, err)
		}
		alerts := 0
		for _, g := range gs {
			for _, r := range g.Rules {
				if r.Alert != "" {
					alerts++
					if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["runbook_url"] == "" {
						t.Errorf("pack %s rule %s lacks severity, summary or runbook_url", n, r.Alert)
					}
				}
			}
		}
		if alerts < 5 {
			t.Errorf("pack %s has %d alerts", n, alerts)
		}
	}
	if _, err := LoadPack("nope"); err == nil || !strings.Contains(err.Error(), "migration") {
		t.Errorf("unknown pack error = %v", err)
	}
	if _, err := LoadPack("migration_test"); err == nil {
		t.Error("a pack's unit-test file loads as a pack")
	}
}
