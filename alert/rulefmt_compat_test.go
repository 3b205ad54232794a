package alert

import (
	"log/slog"
	"strings"
	"testing"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// rulefmtAccepts runs Prometheus's own rule-file validation, the one
// `promtool check rules` runs. Tests may import it; the binary must not
// (it pulls in the PromQL engine).
func rulefmtAccepts(content []byte) error {
	_, errs := rulefmt.Parse(content, false, commonmodel.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		var b strings.Builder
		for _, e := range errs {
			b.WriteString(e.Error() + "; ")
		}
		return &RuleError{File: "rulefmt", Err: errorString(b.String())}
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestPacksPassPromtool(t *testing.T) {
	for _, name := range PackNames() {
		b, err := packFS.ReadFile("packs/" + name + ".yml")
		if err != nil {
			t.Fatal(err)
		}
		if err := rulefmtAccepts(b); err != nil {
			t.Errorf("pack %s: %v", name, err)
		}
	}
	promOnly := strings.Split(goodRules, "      - alert: AtlasRule")[0]
	if err := rulefmtAccepts([]byte(promOnly)); err != nil {
		t.Errorf("goodRules: %v", err)
	}
}

// FuzzLoadRules checks that the loader never panics and that a file it
// accepts without Stratus's atlas extension is one promtool accepts too.
func FuzzLoadRules(f *testing.F) {
	f.Add([]byte(goodRules))
	f.Add([]byte(stateRules))
	f.Add([]byte("groups:\n- name: g\n  rules:\n  - record: a:b\n    expr: sum(x)\n    labels: {a: b}\n"))
	f.Add([]byte("groups:\n- name: g\n  interval: 1m\n  query_offset: 30s\n  labels: {team: x}\n  rules: []\n"))
	for _, n := range PackNames() {
		b, _ := packFS.ReadFile("packs/" + n + ".yml")
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := ParseRules("f.yml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, g := range gs {
			for _, r := range g.Rules {
				if r.Lang == LangAtlas {
					return
				}
			}
		}
		if err := rulefmtAccepts(b); err != nil {
			t.Fatalf("we accept what promtool rejects: %v", err)
		}
	})
}
