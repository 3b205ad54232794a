package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/stratus-metrics/stratus/model"
)

// Register adds the alerting HTTP API to r:
//
//	GET    /api/v1/rules          rule groups, Prometheus's JSON shape
//	GET    /api/v1/alerts         pending and firing alerts, Prometheus's shape
//	GET    /api/v1/silences       silences
//	POST   /api/v1/silences       create a silence; answers {"silenceID": ...}
//	DELETE /api/v1/silence/{id}   expire a silence
//	GET    /api/v1/notifications  the webhook delivery log, newest first
//
// Answers use Prometheus's envelope: {"status":"success","data":...} or
// {"status":"error","errorType":...,"error":...}. The silence and
// notification routes answer 503 when the Manager has no Notifier.
func (m *Manager) Register(r *mux.Router) {
	r.HandleFunc("/api/v1/rules", m.handleRules).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/api/v1/alerts", m.handleAlerts).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/api/v1/silences", m.handleListSilences).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/silences", m.handleCreateSilence).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/silence/{id}", m.handleExpireSilence).Methods(http.MethodDelete)
	r.HandleFunc("/api/v1/notifications", m.handleNotifications).Methods(http.MethodGet)
}

type apiResponse struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeData(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, apiResponse{Status: "success", Data: data})
}

func writeError(w http.ResponseWriter, code int, typ string, err error) {
	writeJSON(w, code, apiResponse{Status: "error", ErrorType: typ, Error: err.Error()})
}

// apiLabels renders labels as a JSON object, as Prometheus does.
type apiLabels model.Labels

func (ls apiLabels) MarshalJSON() ([]byte, error) {
	m := model.Labels(ls).Map()
	return json.Marshal(m)
}

type apiAlert struct {
	Labels          apiLabels  `json:"labels"`
	Annotations     apiLabels  `json:"annotations"`
	State           string     `json:"state"`
	ActiveAt        *time.Time `json:"activeAt,omitempty"`
	KeepFiringSince *time.Time `json:"keepFiringSince,omitempty"`
	Value           string     `json:"value"`
}

func toAPIAlerts(as []*Alert) []*apiAlert {
	out := make([]*apiAlert, 0, len(as))
	for _, a := range as {
		x := &apiAlert{Labels: apiLabels(a.Labels), Annotations: apiLabels(a.Annotations), State: a.State.String(),
			ActiveAt: &a.ActiveAt, Value: formatValue(a.Value)}
		if !a.KeepFiringSince.IsZero() {
			x.KeepFiringSince = &a.KeepFiringSince
		}
		out = append(out, x)
	}
	return out
}

func (m *Manager) handleAlerts(w http.ResponseWriter, r *http.Request) {
	writeData(w, map[string]any{"alerts": toAPIAlerts(m.Alerts())})
}

type apiRuleGroup struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	Rules          []any     `json:"rules"`
	Interval       float64   `json:"interval"`
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type apiAlertingRule struct {
	State          string      `json:"state"`
	Name           string      `json:"name"`
	Query          string      `json:"query"`
	Duration       float64     `json:"duration"`
	KeepFiringFor  float64     `json:"keepFiringFor"`
	Labels         apiLabels   `json:"labels"`
	Annotations    apiLabels   `json:"annotations"`
	Alerts         []*apiAlert `json:"alerts"`
	Health         string      `json:"health"`
	LastError      string      `json:"lastError,omitempty"`
	EvaluationTime float64     `json:"evaluationTime"`
	LastEvaluation time.Time   `json:"lastEvaluation"`
	Type           string      `json:"type"`
}

type apiRecordingRule struct {
	Name           string    `json:"name"`
	Query          string    `json:"query"`
	Labels         apiLabels `json:"labels"`
	Health         string    `json:"health"`
	LastError      string    `json:"lastError,omitempty"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
	Type           string    `json:"type"`
}

// queryString shows a rule's expression as Prometheus does: PromQL
// re-printed by the parser, Atlas as written.
func queryString(spec RuleSpec) string {
	if spec.Lang == LangPromQL {
		if e, err := promqlParser.ParseExpr(spec.Expr); err == nil {
			return e.String()
		}
	}
	return spec.Expr
}

func (m *Manager) handleRules(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("parse form: %w", err))
		return
	}
	set := func(vs []string) map[string]bool {
		s := map[string]bool{}
		for _, v := range vs {
			s[v] = true
		}
		return s
	}
	names, groups, files := set(r.Form["rule_name[]"]), set(r.Form["rule_group[]"]), set(r.Form["file[]"])
	typ := strings.ToLower(r.Form.Get("type"))
	if typ != "" && typ != "alert" && typ != "record" {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("invalid parameter \"type\": not supported value %q", typ))
		return
	}
	excludeAlerts := false
	if s := r.Form.Get("exclude_alerts"); s != "" {
		var err error
		if excludeAlerts, err = strconv.ParseBool(s); err != nil {
			writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("invalid parameter \"exclude_alerts\": %w", err))
			return
		}
	}
	out := []*apiRuleGroup{}
	for _, g := range m.Groups() {
		if (len(groups) > 0 && !groups[g.Name()]) || (len(files) > 0 && !files[g.File()]) {
			continue
		}
		last, dur := g.LastEvaluation()
		ag := &apiRuleGroup{Name: g.Name(), File: g.File(), Rules: []any{}, Interval: g.Interval().Seconds(),
			Limit: g.spec.Limit, EvaluationTime: dur.Seconds(), LastEvaluation: last}
		for _, rl := range g.rules {
			switch rule := rl.(type) {
			case *alertingRule:
				if typ == "record" || (len(names) > 0 && !names[rule.spec.Alert]) {
					continue
				}
				rule.mu.Lock()
				h := rule.health
				rule.mu.Unlock()
				alerts := []*apiAlert{}
				if !excludeAlerts {
					alerts = toAPIAlerts(rule.alerts(false))
				}
				ar := apiAlertingRule{State: rule.state().String(), Name: rule.spec.Alert, Query: queryString(rule.spec),
					Duration: rule.spec.For.Seconds(), KeepFiringFor: rule.spec.KeepFiringFor.Seconds(),
					Labels: apiLabels(labelsFromMap(rule.spec.Labels)), Annotations: apiLabels(labelsFromMap(rule.spec.Annotations)),
					Alerts: alerts, Health: h.health, EvaluationTime: h.evalDur.Seconds(), LastEvaluation: h.lastEval, Type: "alerting"}
				if h.lastErr != nil {
					ar.LastError = h.lastErr.Error()
				}
				ag.Rules = append(ag.Rules, ar)
			case *recordingRule:
				if typ == "alert" || (len(names) > 0 && !names[rule.spec.Record]) {
					continue
				}
				rule.mu.Lock()
				h := rule.health
				rule.mu.Unlock()
				rr := apiRecordingRule{Name: rule.spec.Record, Query: queryString(rule.spec),
					Labels: apiLabels(labelsFromMap(rule.spec.Labels)), Health: h.health,
					EvaluationTime: h.evalDur.Seconds(), LastEvaluation: h.lastEval, Type: "recording"}
				if h.lastErr != nil {
					rr.LastError = h.lastErr.Error()
				}
				ag.Rules = append(ag.Rules, rr)
			}
		}
		if len(ag.Rules) > 0 || (len(names) == 0 && typ == "") {
			out = append(out, ag)
		}
	}
	writeData(w, map[string]any{"groups": out})
}

func (m *Manager) notifierOr503(w http.ResponseWriter) *Notifier {
	if m.opts.Notifier == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", errors.New("no notifier is configured (alerting: section missing)"))
	}
	return m.opts.Notifier
}

func (m *Manager) handleListSilences(w http.ResponseWriter, r *http.Request) {
	if n := m.notifierOr503(w); n != nil {
		writeData(w, n.Silences().List())
	}
}

func (m *Manager) handleCreateSilence(w http.ResponseWriter, r *http.Request) {
	n := m.notifierOr503(w)
	if n == nil {
		return
	}
	var s Silence
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("decode silence: %w", err))
		return
	}
	if s.ID != "" {
		writeError(w, http.StatusBadRequest, "bad_data", errors.New("silence id is assigned by the server; updating a silence is not supported, expire it and create a new one"))
		return
	}
	id, err := n.Silences().Create(s)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("create silence: %w", err))
		return
	}
	writeData(w, map[string]string{"silenceID": id})
}

func (m *Manager) handleExpireSilence(w http.ResponseWriter, r *http.Request) {
	n := m.notifierOr503(w)
	if n == nil {
		return
	}
	err := n.Silences().Expire(mux.Vars(r)["id"])
	switch {
	case errors.Is(err, ErrSilenceNotFound):
		writeError(w, http.StatusNotFound, "not_found", err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal", err)
	default:
		writeData(w, nil)
	}
}

func (m *Manager) handleNotifications(w http.ResponseWriter, r *http.Request) {
	if n := m.notifierOr503(w); n != nil {
		writeData(w, n.Deliveries())
	}
}
