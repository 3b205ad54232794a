package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

// Alert state survives a restart through a small JSON file per rule group
// in <DataDir>/rules/ (format in FORMAT.md), rewritten atomically whenever an
// alert's state or clocks change. It is preferred to restoring from
// ALERTS_FOR_STATE through the QueryFunc because it depends on neither the
// query engine nor the store having replayed yet, and it restores exactly
// what ALERTS_FOR_STATE cannot: which alerts were already firing (so they
// do not go back to pending and page again), FiredAt, and keep_firing_for
// clocks. ALERTS_FOR_STATE is still written for dashboards and for
// compatibility with Prometheus.

const stateFormatVersion = 1

type groupStateFile struct {
	Version int          `json:"version"`
	File    string       `json:"file"`
	Group   string       `json:"group"`
	SavedAt time.Time    `json:"saved_at"`
	Rules   []ruleStateJ `json:"rules"`
}

type ruleStateJ struct {
	Alert  string        `json:"alert"`
	Expr   string        `json:"expr"`
	Alerts []alertStateJ `json:"alerts"`
}

type alertStateJ struct {
	Labels          map[string]string `json:"labels"`
	Annotations     map[string]string `json:"annotations,omitempty"`
	State           string            `json:"state"`
	Value           string            `json:"value"`
	ActiveAt        time.Time         `json:"active_at"`
	FiredAt         time.Time         `json:"fired_at,omitzero"`
	ResolvedAt      time.Time         `json:"resolved_at,omitzero"`
	KeepFiringSince time.Time         `json:"keep_firing_since,omitzero"`
	GeneratorURL    string            `json:"generator_url,omitempty"`
}

// statePath names the group's state file after a hash of its key, so that
// any file path and group name map to a safe, fixed-length file name.
func (g *Group) statePath() string {
	if g.m.opts.DataDir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(g.key))
	return filepath.Join(g.m.opts.DataDir, "rules", hex.EncodeToString(sum[:8])+".json")
}

// snapshot returns the group's persistent state and a digest of the parts
// whose change must be written (not the value or annotations, which change
// at every evaluation and are recomputed at the next one).
func (g *Group) snapshot(now time.Time) (groupStateFile, string) {
	f := groupStateFile{Version: stateFormatVersion, File: g.spec.File, Group: g.spec.Name, SavedAt: now}
	var digest strings.Builder
	for _, r := range g.rules {
		ar, ok := r.(*alertingRule)
		if !ok {
			continue
		}
		rs := ruleStateJ{Alert: ar.spec.Alert, Expr: ar.spec.Expr}
		for _, a := range ar.alerts(true) {
			rs.Alerts = append(rs.Alerts, alertStateJ{
				Labels: a.Labels.Map(), Annotations: a.Annotations.Map(), State: a.State.String(),
				Value: formatValue(a.Value), ActiveAt: a.ActiveAt, FiredAt: a.FiredAt,
				ResolvedAt: a.ResolvedAt, KeepFiringSince: a.KeepFiringSince, GeneratorURL: a.GeneratorURL,
			})
			fmt.Fprintf(&digest, "%x %s %d %d %d %d;", a.Fingerprint(), a.State, a.ActiveAt.UnixNano(),
				a.FiredAt.UnixNano(), a.ResolvedAt.UnixNano(), a.KeepFiringSince.UnixNano())
		}
		f.Rules = append(f.Rules, rs)
		digest.WriteByte('|')
	}
	return f, digest.String()
}

// persist writes the state file when the state changed since the last write.
func (g *Group) persist(now time.Time) {
	path := g.statePath()
	if path == "" {
		return
	}
	f, digest := g.snapshot(now)
	if digest == g.savedState {
		return
	}
	b, err := json.Marshal(f)
	if err != nil {
		panic("BUG: marshal alert state: " + err.Error())
	}
	if err := writeFileAtomic(path, b); err != nil {
		// The alerts keep running; a restart now would restart their clocks.
		g.m.logger.Error("save alert state", "group", g.spec.Name, "err", err)
		return
	}
	g.savedState = digest
}

// restore loads the group's state file, if any. Alerts that were firing are
// restored whatever the downtime, so they do not page again; pending ones
// only when the state was saved less than OutageTolerance ago, because the
// condition was not observed during a longer outage.
func (g *Group) restore(now time.Time) error {
	path := g.statePath()
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read alert state %s: %w", path, err)
	}
	var f groupStateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("decode alert state %s: %w", path, err)
	}
	if f.Version != stateFormatVersion {
		return fmt.Errorf("alert state %s: format version %d, want %d", path, f.Version, stateFormatVersion)
	}
	if f.File != g.spec.File || f.Group != g.spec.Name {
		return fmt.Errorf("alert state %s belongs to group %q of %s", path, f.Group, f.File)
	}
	stale := now.Sub(f.SavedAt) > g.m.opts.OutageTolerance
	used := make([]bool, len(f.Rules))
	for _, r := range g.rules {
		ar, ok := r.(*alertingRule)
		if !ok {
			continue
		}
		for i, rs := range f.Rules {
			if used[i] || rs.Alert != ar.spec.Alert || rs.Expr != ar.spec.Expr {
				continue
			}
			used[i] = true
			ar.mu.Lock()
			for _, as := range rs.Alerts {
				a := &Alert{
					Labels: model.FromMap(as.Labels), Annotations: model.FromMap(as.Annotations),
					ActiveAt: as.ActiveAt, FiredAt: as.FiredAt, ResolvedAt: as.ResolvedAt,
					KeepFiringSince: as.KeepFiringSince, GeneratorURL: as.GeneratorURL,
				}
				a.Value, _ = strconv.ParseFloat(as.Value, 64)
				switch as.State {
				case "firing":
					a.State = StateFiring
				case "pending":
					if stale {
						continue
					}
					a.State = StatePending
				default:
					a.State = StateInactive
				}
				ar.active[a.Fingerprint()] = a
			}
			ar.mu.Unlock()
			break
		}
	}
	_, g.savedState = g.snapshot(now)
	return nil
}

// adopt takes over the in-memory state of the group it replaces on a
// reload: alerts of rules with the same name and expression, and the
// series last written (so that those no longer produced get a staleness
// marker).
func (g *Group) adopt(old *Group) {
	used := make([]bool, len(old.rules))
	for _, r := range g.rules {
		ar, ok := r.(*alertingRule)
		if !ok {
			continue
		}
		for i, or := range old.rules {
			oar, ok := or.(*alertingRule)
			if !ok || used[i] || oar.spec.Alert != ar.spec.Alert || oar.spec.Expr != ar.spec.Expr {
				continue
			}
			used[i] = true
			for _, a := range oar.alerts(true) {
				ar.active[a.Fingerprint()] = a
			}
			break
		}
	}
	g.prevSeries = old.prevSeries
}
