package alert

import (
	"embed"
	"fmt"
	"slices"
	"strings"
)

// The built-in rule packs, one YAML file each, embedded so that the single
// binary carries them. Their metrics are documented in packs/README.md.
// Each pack's unit tests (`<name>_test.yml`, promtool's test format) are
// embedded too, because embed patterns cannot exclude them, but they are
// not packs.
//
//go:embed packs/*.yml
var packFS embed.FS

// PackNames returns the names of the built-in rule packs, sorted.
func PackNames() []string {
	entries, err := packFS.ReadDir("packs")
	if err != nil {
		panic("BUG: embedded packs: " + err.Error())
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yml"); ok && !strings.HasSuffix(n, "_test") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// LoadPack returns the groups of the named built-in pack. Their File is
// "pack:<name>", which is what the rules API shows.
func LoadPack(name string) ([]GroupSpec, error) {
	b, err := packFS.ReadFile("packs/" + name + ".yml")
	if err != nil || !slices.Contains(PackNames(), name) {
		return nil, fmt.Errorf("unknown rule pack %q (have %v)", name, PackNames())
	}
	return ParseRules("pack:"+name, b)
}
