package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
)

//go:embed dashboards/*.json
var builtinFS embed.FS

// DashboardSchemaVersion is the version of the dashboard JSON format
// written by this binary (see dashboards/README.md).
const DashboardSchemaVersion = 1

// maxDashboardBytes bounds a PUT body: a dashboard is a few KiB.
const maxDashboardBytes = 1 << 20

// Dashboard is one dashboard file. Built-in ones are embedded; user ones
// live in <data-dir>/dashboards/<id>.json.
type Dashboard struct {
	SchemaVersion int        `json:"schemaVersion"`
	ID            string     `json:"id"`
	Title         string     `json:"title"`
	Description   string     `json:"description,omitempty"`
	Tags          []string   `json:"tags,omitempty"`
	Time          string     `json:"time,omitempty"`    // default relative range, "6h"
	Refresh       string     `json:"refresh,omitempty"` // default auto-refresh, "30s" or ""
	Variables     []Variable `json:"variables,omitempty"`
	Panels        []Panel    `json:"panels"`

	// Set by the server on reads, ignored on writes.
	Source    string    `json:"source,omitempty"` // "builtin" or "user"
	Builtin   bool      `json:"builtin,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// Variable is a template variable: $name in panel expressions is replaced
// by the chosen values of label Label among the series matching Match.
type Variable struct {
	Name       string `json:"name"`
	Title      string `json:"title,omitempty"`
	Label      string `json:"label"`
	Match      string `json:"match,omitempty"`
	IncludeAll bool   `json:"includeAll,omitempty"`
	Default    string `json:"default,omitempty"`
}

// Panel is one chart, single stat or table.
type Panel struct {
	Title       string       `json:"title"`
	Type        string       `json:"type"` // timeseries, stat or table
	Description string       `json:"description,omitempty"`
	Width       int          `json:"width,omitempty"` // grid columns out of 12; default 6
	Unit        string       `json:"unit,omitempty"`  // see static/js/format.js
	Stacked     bool         `json:"stacked,omitempty"`
	Queries     []PanelQuery `json:"queries"`
	Thresholds  []Threshold  `json:"thresholds,omitempty"`
}

// PanelQuery is one PromQL expression of a panel; Legend is a template
// such as "{{country}} {{table}}".
type PanelQuery struct {
	Expr   string `json:"expr"`
	Legend string `json:"legend,omitempty"`
	// Column titles this query's column in a table panel; without column
	// titles a table lists every query's series in one value column.
	Column string `json:"column,omitempty"`
	// Unit overrides the panel's unit for this query (table columns).
	Unit string `json:"unit,omitempty"`
}

// Threshold colours a single stat (and draws a line on a chart) when the
// value reaches Value.
type Threshold struct {
	Value float64 `json:"value"`
	Level string  `json:"level"` // warning or critical
}

var (
	idRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	varNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	panelTypes = []string{"timeseries", "stat", "table"}
)

// Validate reports every problem of d at once, each with its place
// ("panels[2].type: ...").
func (d *Dashboard) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if d.SchemaVersion != DashboardSchemaVersion {
		add("schemaVersion: %d is not supported (this Stratus reads version %d)", d.SchemaVersion, DashboardSchemaVersion)
	}
	if !idRE.MatchString(d.ID) {
		add("id %q: must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit", d.ID)
	}
	if strings.TrimSpace(d.Title) == "" {
		add("title: must not be empty")
	}
	seen := map[string]bool{}
	for i, v := range d.Variables {
		if !varNameRE.MatchString(v.Name) {
			add("variables[%d].name %q: must be a valid identifier", i, v.Name)
		}
		if seen[v.Name] {
			add("variables[%d].name %q: defined twice", i, v.Name)
		}
		seen[v.Name] = true
		if v.Label == "" {
			add("variables[%d].label: must name the label whose values fill $%s", i, v.Name)
		}
	}
	for i, p := range d.Panels {
		if !slices.Contains(panelTypes, p.Type) {
			add("panels[%d].type %q: must be one of %s", i, p.Type, strings.Join(panelTypes, ", "))
		}
		if p.Width < 0 || p.Width > 12 {
			add("panels[%d].width %d: must be between 1 and 12 (0 means 6)", i, p.Width)
		}
		if len(p.Queries) == 0 {
			add("panels[%d] (%q): needs at least one query", i, p.Title)
		}
		for j, q := range p.Queries {
			if strings.TrimSpace(q.Expr) == "" {
				add("panels[%d].queries[%d].expr: must not be empty", i, j)
			}
		}
		for j, t := range p.Thresholds {
			if t.Level != "warning" && t.Level != "critical" {
				add("panels[%d].thresholds[%d].level %q: must be warning or critical", i, j, t.Level)
			}
		}
	}
	return errors.Join(errs...)
}

// decodeDashboard parses a dashboard strictly: unknown fields are an
// error, so a typo in a hand-written file is reported, not ignored.
func decodeDashboard(data []byte) (*Dashboard, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Dashboard
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the dashboard object")
	}
	return &d, nil
}

// DashboardSummary is one entry of the dashboard list.
type DashboardSummary struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Panels      int       `json:"panels"`
	Source      string    `json:"source"`
	Builtin     bool      `json:"builtin"` // a built-in exists with this id
	UpdatedAt   time.Time `json:"updatedAt,omitzero"`
}

// dashboardStore merges the embedded built-ins with the user's files. It
// reads the directory on every request: dashboards are few and small, and
// files edited by hand show up without a restart.
type dashboardStore struct {
	dir     string // "" keeps user dashboards in mem
	now     func() time.Time
	builtin map[string]*Dashboard

	mu  sync.Mutex            // serialises writes and deletes
	mem map[string]*Dashboard // user dashboards when dir == ""; guarded by mu
}

// newDashboardStore loads the built-ins, giving them builtinRange as their
// default range when it is not empty (see Options.BuiltinRange).
func newDashboardStore(dataDir string, now func() time.Time, builtinRange string) *dashboardStore {
	s := &dashboardStore{now: now, builtin: map[string]*Dashboard{}, mem: map[string]*Dashboard{}}
	if dataDir != "" {
		s.dir = filepath.Join(dataDir, "dashboards")
	}
	entries, err := fs.Glob(builtinFS, "dashboards/*.json")
	if err != nil {
		panic("BUG: " + err.Error())
	}
	for _, name := range entries {
		data, _ := builtinFS.ReadFile(name)
		d, err := decodeDashboard(data)
		if err != nil {
			panic(fmt.Sprintf("BUG: built-in dashboard %s: %v", name, err))
		}
		if builtinRange != "" {
			d.Time = builtinRange
		}
		if err := d.Validate(); err != nil {
			panic(fmt.Sprintf("BUG: built-in dashboard %s: %v", name, err))
		}
		d.Source, d.Builtin = "builtin", true
		s.builtin[d.ID] = d
	}
	return s
}

// userDashboard returns the user's dashboard id, or nil.
func (s *dashboardStore) userDashboard(id string) (*Dashboard, error) {
	if s.dir == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if d := s.mem[id]; d != nil {
			c := *d
			return &c, nil
		}
		return nil, nil
	}
	path := filepath.Join(s.dir, id+".json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read dashboard %s: %w", path, err)
	}
	d, err := decodeDashboard(data)
	if err != nil {
		return nil, fmt.Errorf("parse dashboard %s: %w", path, err)
	}
	d.Source = "user"
	if st, err := os.Stat(path); err == nil && d.UpdatedAt.IsZero() {
		d.UpdatedAt = st.ModTime()
	}
	return d, nil
}

func (s *dashboardStore) userIDs() ([]string, error) {
	if s.dir == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		ids := make([]string, 0, len(s.mem))
		for id := range s.mem {
			ids = append(ids, id)
		}
		return ids, nil
	}
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list dashboards in %s: %w", s.dir, err)
	}
	var ids []string
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() && idRE.MatchString(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// lookup returns the dashboard id as served: the user's file when there
// is one, else the built-in.
func (s *dashboardStore) lookup(id string) (*Dashboard, error) {
	d, err := s.userDashboard(id)
	if err != nil || d != nil {
		if d != nil {
			d.Builtin = s.builtin[id] != nil
		}
		return d, err
	}
	if b := s.builtin[id]; b != nil {
		c := *b
		return &c, nil
	}
	return nil, nil
}

func (s *dashboardStore) list(w http.ResponseWriter, r *http.Request) {
	ids, err := s.userIDs()
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "internal", err)
		return
	}
	for id := range s.builtin {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	out := []DashboardSummary{}
	var problems []string
	for _, id := range ids {
		d, err := s.lookup(id)
		if err != nil {
			// One broken file must not hide the others.
			problems = append(problems, err.Error())
			continue
		}
		if d == nil {
			continue
		}
		out = append(out, DashboardSummary{ID: d.ID, Title: d.Title, Description: d.Description, Tags: d.Tags,
			Panels: len(d.Panels), Source: d.Source, Builtin: s.builtin[id] != nil, UpdatedAt: d.UpdatedAt})
	}
	slices.SortFunc(out, func(a, b DashboardSummary) int {
		if c := strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Status   string             `json:"status"`
		Data     []DashboardSummary `json:"data"`
		Warnings []string           `json:"warnings,omitempty"`
	}{"success", out, problems})
}

func (s *dashboardStore) get(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	d, err := s.lookup(id)
	switch {
	case err != nil:
		writeErr(w, http.StatusInternalServerError, "internal", err)
	case d == nil:
		writeErr(w, http.StatusNotFound, "not_found", fmt.Errorf("dashboard %q not found", id))
	default:
		writeData(w, http.StatusOK, d)
	}
}

func (s *dashboardStore) put(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if !idRE.MatchString(id) {
		writeErr(w, http.StatusBadRequest, "bad_data", fmt.Errorf("dashboard id %q: must be 1-64 lower-case letters, digits, '-' or '_'", id))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDashboardBytes))
	if err != nil {
		writeErr(w, http.StatusRequestEntityTooLarge, "bad_data", fmt.Errorf("read dashboard: %w", err))
		return
	}
	d, err := decodeDashboard(body)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_data", fmt.Errorf("parse dashboard: %w", err))
		return
	}
	if d.ID == "" {
		d.ID = id
	}
	if d.ID != id {
		writeErr(w, http.StatusBadRequest, "bad_data", fmt.Errorf("dashboard id %q in the body differs from %q in the path", d.ID, id))
		return
	}
	if d.SchemaVersion == 0 {
		d.SchemaVersion = DashboardSchemaVersion
	}
	if err := d.Validate(); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_data", fmt.Errorf("invalid dashboard: %w", err))
		return
	}
	d.Source, d.Builtin = "", false
	d.UpdatedAt = s.now().UTC()

	s.mu.Lock()
	defer s.mu.Unlock()
	existed, err := s.existsLocked(id)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "internal", err)
		return
	}
	if err := s.writeLocked(d); err != nil {
		writeErr(w, http.StatusInternalServerError, "internal", err)
		return
	}
	d.Source, d.Builtin = "user", s.builtin[id] != nil
	code := http.StatusCreated
	if existed {
		code = http.StatusOK
	}
	writeData(w, code, d)
}

func (s *dashboardStore) existsLocked(id string) (bool, error) {
	if s.dir == "" {
		return s.mem[id] != nil, nil
	}
	_, err := os.Stat(filepath.Join(s.dir, id+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// writeLocked stores d durably: a temporary file, fsynced, renamed over
// the old one, and the directory fsynced, so a crash leaves the old or the
// new dashboard, never half of one.
func (s *dashboardStore) writeLocked(d *Dashboard) error {
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode dashboard %s: %w", d.ID, err)
	}
	data = append(data, '\n')
	if s.dir == "" {
		c := *d
		s.mem[d.ID] = &c
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("create dashboard directory: %w", err)
	}
	path := filepath.Join(s.dir, d.ID+".json")
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write dashboard %s: %w", tmp, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write dashboard %s: %w", path, err)
	}
	if dir, err := os.Open(s.dir); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

func (s *dashboardStore) delete(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.mu.Lock()
	defer s.mu.Unlock()
	existed, err := s.existsLocked(id)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "internal", err)
		return
	}
	if !existed {
		if s.builtin[id] != nil {
			writeErr(w, http.StatusConflict, "bad_data", fmt.Errorf("dashboard %q is built in and cannot be deleted; save a copy under another id instead", id))
			return
		}
		writeErr(w, http.StatusNotFound, "not_found", fmt.Errorf("dashboard %q not found", id))
		return
	}
	if s.dir == "" {
		delete(s.mem, id)
	} else if err := os.Remove(filepath.Join(s.dir, id+".json")); err != nil {
		writeErr(w, http.StatusInternalServerError, "internal", fmt.Errorf("delete dashboard %s: %w", id, err))
		return
	}
	writeData(w, http.StatusOK, map[string]any{"id": id, "restoredBuiltin": s.builtin[id] != nil})
}
