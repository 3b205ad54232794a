package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/stratus-metrics/stratus/alert"
)

// runCLI runs the stratus command line in-process and returns its exit
// code, stdout and stderr.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// promtool returns the path of Prometheus's promtool. CI installs Debian's
// prometheus package, which ships it, so a missing promtool is a broken
// environment, not a reason to skip.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (.ci/run does)")
	}
	return p
}

func writeRuleFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRulesCheck(t *testing.T) {
	dir := t.TempDir()
	bad := writeRuleFile(t, dir, "bad.yml", `groups:
- name: g
  rules:
  - alert: X
    expr: rate(x[5m]
  - alert: Y
    expr: up == 0
    for: 5 minutes
`)
	code, out, errs := runCLI("rules", "check", "../../alert/packs/migration.yml", bad, filepath.Join(dir, "missing.yml"))
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{
		bad + `:5: group "g": rule "X": could not parse expression: 1:11: parse error: unclosed left parenthesis`,
		bad + `:8: group "g": rule "Y": for: unknown unit " minutes" in duration "5 minutes"`,
		filepath.Join(dir, "missing.yml") + ": no such file or directory",
		"rules check: 2 of 3 files have errors",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if !strings.Contains(out, "migration.yml: SUCCESS: 2 groups, 8 rules") {
		t.Errorf("stdout: %s", out)
	}
	if code, _, errs := runCLI("rules", "check"); code != 2 || !strings.Contains(errs, "Usage:") {
		t.Errorf("no files: exit %d, %s", code, errs)
	}
}

// packTestFiles returns the packs' unit-test files.
func packTestFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../alert/packs/*_test.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no pack test files: %v", err)
	}
	return files
}

// TestPackUnitTests runs the packs' unit tests with `stratus rules test`
// and checks that they cover every alert of every pack: each alert is
// expected to fire in some test.
func TestPackUnitTests(t *testing.T) {
	files := packTestFiles(t)
	code, out, errs := runCLI(append([]string{"rules", "test"}, files...)...)
	if code != 0 {
		t.Fatalf("stratus rules test: exit %d\n%s%s", code, out, errs)
	}

	covered := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tf ruleTestFile
		if err := yaml.Unmarshal(b, &tf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tg := range tf.Tests {
			for _, at := range tg.AlertRuleTests {
				if len(at.ExpAlerts) > 0 {
					covered[at.Alertname] = true
				}
			}
		}
	}
	for _, p := range alert.PackNames() {
		gs, err := alert.LoadPack(p)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(files, "../../alert/packs/"+p+"_test.yml") {
			t.Errorf("pack %s has no unit-test file %s_test.yml", p, p)
		}
		for _, g := range gs {
			for _, r := range g.Rules {
				if r.Alert != "" && !covered[r.Alert] {
					t.Errorf("pack %s: no unit test expects alert %s to fire", p, r.Alert)
				}
			}
		}
	}
}

// TestRulesTestAgreesWithPromtool runs the same unit-test files through
// promtool and `stratus rules test`: both must pass the good ones and both
// must fail a copy whose expectations were changed.
func TestRulesTestAgreesWithPromtool(t *testing.T) {
	pt := promtool(t)
	packs, _ := filepath.Glob("../../alert/packs/*.yml")
	var rulesFiles []string
	for _, p := range packs {
		if !strings.HasSuffix(p, "_test.yml") {
			rulesFiles = append(rulesFiles, p)
		}
	}
	if out, err := exec.Command(pt, append([]string{"check", "rules"}, rulesFiles...)...).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules rejects the packs: %v\n%s", err, out)
	}

	testdata, _ := filepath.Glob("testdata/rules/*_test.yml")
	for _, f := range append(packTestFiles(t), testdata...) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if usesAtlas(t, f) {
				t.Skip("rules with atlas: are a Stratus extension promtool does not read")
			}
			if out, err := exec.Command(pt, "test", "rules", f).CombinedOutput(); err != nil {
				t.Errorf("promtool test rules: %v\n%s", err, out)
			}
			if code, out, errs := runCLI("rules", "test", f); code != 0 {
				t.Errorf("stratus rules test: exit %d\n%s%s", code, out, errs)
			}

			// A copy with every expected annotation and sample value
			// changed must fail in both.
			b, _ := os.ReadFile(f)
			broken := strings.ReplaceAll(string(b), "summary: ", "summary: not ")
			broken = strings.ReplaceAll(broken, "value: ", "value: 1")
			dir := t.TempDir()
			copyRuleFiles(t, filepath.Dir(f), dir)
			bf := writeRuleFile(t, dir, "broken_test.yml", broken)
			if err := exec.Command(pt, "test", "rules", bf).Run(); err == nil {
				t.Error("promtool passes the broken copy; the comparison proves nothing")
			}
			if code, _, _ := runCLI("rules", "test", bf); code != 1 {
				t.Errorf("stratus rules test passes the broken copy: exit %d", code)
			}
		})
	}
}

// usesAtlas reports whether any rule file of the test file has atlas: rules.
func usesAtlas(t *testing.T, testFile string) bool {
	b, err := os.ReadFile(testFile)
	if err != nil {
		t.Fatal(err)
	}
	var tf ruleTestFile
	if err := yaml.Unmarshal(b, &tf); err != nil {
		t.Fatal(err)
	}
	for _, rf := range tf.RuleFiles {
		gs, err := alert.LoadFiles([]string{filepath.Join(filepath.Dir(testFile), rf)})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			for _, r := range g.Rules {
				if r.Lang == alert.LangAtlas {
					return true
				}
			}
		}
	}
	return false
}

func copyRuleFiles(t *testing.T, from, to string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(from, "*.yml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeRuleFile(t, to, filepath.Base(f), string(b))
	}
}

func TestRulesTestReportsDifferences(t *testing.T) {
	dir := t.TempDir()
	writeRuleFile(t, dir, "rules.yml", `groups:
- name: g
  rules:
  - alert: Lag
    expr: lag > 10
    for: 2m
    annotations:
      summary: 'lag {{ $value }}'
  - record: lag:doubled
    expr: lag * 2
`)
	f := writeRuleFile(t, dir, "rules_test.yml", `rule_files: [rules.yml]
tests:
  - name: lagging
    interval: 1m
    input_series:
      - series: lag{db="a"}
        values: 20x10
      - series: lag{db="b"}
        values: 1x10
    alert_rule_test:
      - eval_time: 5m
        alertname: Lag
        exp_alerts:
          - exp_labels: {db: a}
            exp_annotations: {summary: lag 21}
          - exp_labels: {db: b}
    promql_expr_test:
      - expr: lag:doubled
        eval_time: 5m
        exp_samples:
          - labels: 'lag:doubled{db="a"}'
            value: 40
          - labels: 'lag:doubled{db="b"}'
            value: 3
`)
	code, out, _ := runCLI("rules", "test", f)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"test 1 (lagging): alertname: Lag, time: 5m: 1 firing, want 2",
		`{alertname="Lag", db="a"}:` + "\n" + `          annotation summary: got "lag 20", want "lag 21"`,
		"expected, not firing:\n" + `        {alertname="Lag", db="b"} annotations {}`,
		`test 1 (lagging): expr: "lag:doubled", time: 5m: 2 samples, want 2`,
		`{__name__="lag:doubled", db="b"}:` + "\n" + `          value: got 2, want 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRulesTestInputErrors(t *testing.T) {
	dir := t.TempDir()
	writeRuleFile(t, dir, "dup.yml", `groups:
- name: g
  rules:
  - record: same
    expr: label_replace(x, "k", "", "k", ".*")
`)
	for name, tc := range map[string]struct{ file, want string }{
		"missing rule file": {"rule_files: [nope.yml]\ntests: []\n", `nope.yml" matches no file`},
		"unknown field":     {"rule_files: [dup.yml]\ntests:\n  - intervall: 1m\n", "field intervall not found"},
		"bad series":        {"rule_files: [dup.yml]\ntests:\n  - input_series:\n      - series: 'x{'\n        values: '1'\n", "input_series 1 (x{)"},
		"bad duration":      {"rule_files: [dup.yml]\nevaluation_interval: 1 minute\ntests: []\n", `duration "1 minute"`},
		"unknown group":     {"rule_files: [dup.yml]\ngroup_eval_order: [h]\ntests:\n  - input_series: []\n", `no rule file defines a group "h"`},
		"evaluation error": {"rule_files: [dup.yml]\ntests:\n  - input_series:\n      - series: 'x{k=\"1\"}'\n        values: '1'\n      - series: 'x{k=\"2\"}'\n        values: '1'\n",
			`time 0s: ` + filepath.Join(dir, "dup.yml") + `:4: group "g": rule "same": query promql: vector cannot contain metrics with the same labelset`},
	} {
		t.Run(name, func(t *testing.T) {
			f := writeRuleFile(t, dir, "t_test.yml", tc.file)
			code, out, _ := runCLI("rules", "test", f)
			if code != 1 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want 1 and %q in:\n%s", code, tc.want, out)
			}
		})
	}
}
