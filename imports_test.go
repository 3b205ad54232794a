// Package stratus_test holds repository-wide checks. TestImportRules keeps
// the dependency picture of ARCHITECTURE.md true: storage knows nothing of
// HTTP or query languages, model is standard library only, and each
// consumer declares the interface it needs instead of importing tsdb.
package stratus_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const modulePath = "github.com/stratus-metrics/stratus"

type goPackage struct {
	ImportPath string
	Standard   bool
	Deps       []string
	Imports    []string
}

// listPackages runs `go list -json` over the module's packages.
func listPackages(t *testing.T, patterns ...string) []goPackage {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, patterns...)...)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []goPackage
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// forbidden lists, per package prefix (relative to the module), the module
// packages it must not depend on, directly or transitively.
var forbidden = map[string][]string{
	"tsdb":   {"ingest", "query", "alert", "ui", "cmd"},
	"ingest": {"tsdb", "query", "alert", "ui", "cmd"},
	"query":  {"tsdb", "ingest", "alert", "ui", "cmd"},
	"alert":  {"tsdb", "ingest", "ui", "cmd"},
	"ui":     {"tsdb", "ingest", "cmd"},
}

func TestImportRules(t *testing.T) {
	pkgs := listPackages(t, "./...")
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, modulePath), "/")
		top, _, _ := strings.Cut(rel, "/")
		for _, dep := range p.Deps {
			if !strings.HasPrefix(dep, modulePath+"/") {
				continue
			}
			depRel := strings.TrimPrefix(dep, modulePath+"/")
			depTop, _, _ := strings.Cut(depRel, "/")
			for _, bad := range forbidden[top] {
				if depTop == bad {
					t.Errorf("%s depends on %s: %s must not depend on %s/", rel, depRel, top, bad)
				}
			}
		}
		if top == "model" {
			for _, imp := range p.Imports {
				if strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
					t.Errorf("model imports %s: model may import only the standard library", imp)
				}
			}
		}
	}
}

// TestBinaryExcludesPeerEngines keeps Prometheus's TSDB and PromQL engine,
// which benchmarks and differential tests import, out of the binary.
func TestBinaryExcludesPeerEngines(t *testing.T) {
	for _, p := range listPackages(t, "./cmd/stratus") {
		for _, dep := range p.Deps {
			if dep == "github.com/prometheus/prometheus/tsdb" || dep == "github.com/prometheus/prometheus/promql" {
				t.Errorf("the stratus binary depends on %s; it belongs in tests and benchmarks only", dep)
			}
		}
	}
}
