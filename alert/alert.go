package alert

import (
	"fmt"
	"time"

	commonmodel "github.com/prometheus/common/model"
	"github.com/stratus-metrics/stratus/model"
)

// AlertState is where an alert is in its life: inactive -> pending ->
// firing -> inactive (resolved).
type AlertState int

// The states of an alert, in the order a rule's state takes the maximum.
const (
	// StateInactive: the condition no longer holds; a resolved alert stays
	// in this state for a while so that the resolution can be notified.
	StateInactive AlertState = iota
	// StatePending: the condition holds, for less than the rule's `for`.
	StatePending
	// StateFiring: the condition has held for `for`, or stopped holding
	// less than `keep_firing_for` ago.
	StateFiring
)

func (s AlertState) String() string {
	switch s {
	case StateInactive:
		return "inactive"
	case StatePending:
		return "pending"
	case StateFiring:
		return "firing"
	}
	return fmt.Sprintf("AlertState(%d)", int(s))
}

// Alert is one alert of an alerting rule: one label set of the rule's
// result. Values handed out by the package are copies; the evaluator keeps
// its own.
type Alert struct {
	Labels      model.Labels // sorted; includes alertname
	Annotations model.Labels // sorted, expanded
	State       AlertState
	Value       float64 // the sample value at the last evaluation it held

	// ActiveAt is when the condition started holding; `for` counts from it.
	ActiveAt time.Time
	// FiredAt is when the alert went from pending to firing.
	FiredAt time.Time
	// ResolvedAt is when a firing alert became inactive (zero while active).
	ResolvedAt time.Time
	// KeepFiringSince is when the condition stopped holding while
	// keep_firing_for keeps the alert firing (zero otherwise).
	KeepFiringSince time.Time
	// GeneratorURL links to the expression that produced the alert.
	GeneratorURL string
}

// Fingerprint identifies the alert's label set across processes. It is
// Alertmanager's fingerprint (FNV-64a over sorted names and values), so it
// is also what the webhook payload carries.
func (a *Alert) Fingerprint() uint64 { return fingerprint(a.Labels) }

func fingerprint(ls model.Labels) uint64 {
	set := make(commonmodel.LabelSet, len(ls))
	for _, l := range ls {
		set[commonmodel.LabelName(l.Name)] = commonmodel.LabelValue(l.Value)
	}
	return uint64(set.Fingerprint())
}

func (a *Alert) clone() *Alert {
	c := *a
	return &c
}
