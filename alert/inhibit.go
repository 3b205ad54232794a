package alert

import (
	amconfig "github.com/prometheus/alertmanager/config"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
)

// inhibitRule mutes target alerts while a matching source alert fires, as
// Alertmanager's inhibit_rules: a page for "database down" mutes the pages
// of every service that depends on it.
type inhibitRule struct {
	source, target amlabels.Matchers
	equal          []string
}

func buildInhibitRules(cfg *amconfig.Config) []inhibitRule {
	var out []inhibitRule
	for _, ir := range cfg.InhibitRules {
		r := inhibitRule{equal: ir.Equal}
		for k, v := range ir.SourceMatch {
			m, _ := amlabels.NewMatcher(amlabels.MatchEqual, k, v)
			r.source = append(r.source, m)
		}
		for k, v := range ir.SourceMatchRE {
			m, _ := amlabels.NewMatcher(amlabels.MatchRegexp, k, v.String())
			r.source = append(r.source, m)
		}
		r.source = append(r.source, ir.SourceMatchers...)
		for k, v := range ir.TargetMatch {
			m, _ := amlabels.NewMatcher(amlabels.MatchEqual, k, v)
			r.target = append(r.target, m)
		}
		for k, v := range ir.TargetMatchRE {
			m, _ := amlabels.NewMatcher(amlabels.MatchRegexp, k, v.String())
			r.target = append(r.target, m)
		}
		r.target = append(r.target, ir.TargetMatchers...)
		out = append(out, r)
	}
	return out
}

func matchesAll(ms amlabels.Matchers, ls map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

// inhibited reports whether target is muted by a firing source among
// firing. An alert that matches both sides of a rule is not muted by an
// alert that also matches both sides, so that a rule never mutes all of
// its own sources.
func inhibited(rules []inhibitRule, target map[string]string, targetFP uint64, firing []*notifierAlert) bool {
	for _, r := range rules {
		if !matchesAll(r.target, target) {
			continue
		}
		twoSided := matchesAll(r.source, target)
		for _, s := range firing {
			if s.fp == targetFP || !matchesAll(r.source, s.labelMap) {
				continue
			}
			if twoSided && matchesAll(r.target, s.labelMap) {
				continue
			}
			equal := true
			for _, l := range r.equal {
				if s.labelMap[l] != target[l] {
					equal = false
					break
				}
			}
			if equal {
				return true
			}
		}
	}
	return false
}
