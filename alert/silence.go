package alert

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

// SilenceMatcher is one matcher of a silence, in Alertmanager's API v2
// shape.
type SilenceMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"` // nil means true
}

// Silence mutes the notifications of the alerts its matchers select
// between StartsAt and EndsAt. Muted alerts still fire and show in the
// API; they are only not sent.
type Silence struct {
	ID        string           `json:"id"`
	Matchers  []SilenceMatcher `json:"matchers"`
	StartsAt  time.Time        `json:"startsAt"`
	EndsAt    time.Time        `json:"endsAt"`
	UpdatedAt time.Time        `json:"updatedAt"`
	CreatedBy string           `json:"createdBy"`
	Comment   string           `json:"comment"`
	Status    SilenceStatus    `json:"status"`

	matchers []*model.Matcher
}

// SilenceStatus says whether a silence mutes now.
type SilenceStatus struct {
	State string `json:"state"` // "pending", "active" or "expired"
}

func (s *Silence) state(now time.Time) string {
	switch {
	case !now.Before(s.EndsAt):
		return "expired"
	case now.Before(s.StartsAt):
		return "pending"
	}
	return "active"
}

func (s *Silence) compile() error {
	if len(s.Matchers) == 0 {
		return errors.New("silence has no matchers")
	}
	s.matchers = s.matchers[:0]
	allEmpty := true
	for i, sm := range s.Matchers {
		if sm.Name == "" {
			return fmt.Errorf("matcher %d: empty label name", i)
		}
		eq := sm.IsEqual == nil || *sm.IsEqual
		t := model.MatchEqual
		switch {
		case sm.IsRegex && eq:
			t = model.MatchRegexp
		case sm.IsRegex:
			t = model.MatchNotRegexp
		case !eq:
			t = model.MatchNotEqual
		}
		m, err := model.NewMatcher(t, sm.Name, sm.Value)
		if err != nil {
			return fmt.Errorf("matcher %d: %w", i, err)
		}
		if !m.Matches("") {
			allEmpty = false
		}
		s.matchers = append(s.matchers, m)
	}
	if allEmpty {
		// As in Alertmanager: such a silence would mute every alert.
		return errors.New("at least one matcher must not match the empty string")
	}
	return nil
}

func (s *Silence) matches(ls map[string]string) bool {
	for _, m := range s.matchers {
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

// silenceRetention is how long an expired silence stays listed.
const silenceRetention = 5 * 24 * time.Hour

// Silences is the set of silences, persisted as one JSON file rewritten
// atomically on every change (a handful of silences changes rarely, so a
// log would buy nothing). It is safe for concurrent use.
type Silences struct {
	path string // "" keeps silences in memory only
	now  func() time.Time

	mu       sync.Mutex // guards silences
	silences map[string]*Silence
}

type silencesFile struct {
	Version  int        `json:"version"`
	Silences []*Silence `json:"silences"`
}

func openSilences(path string, now func() time.Time) (*Silences, error) {
	s := &Silences{path: path, now: now, silences: map[string]*Silence{}}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read silences %s: %w", path, err)
	}
	var f silencesFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode silences %s: %w", path, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("silences %s: format version %d, want 1", path, f.Version)
	}
	for _, sl := range f.Silences {
		if err := sl.compile(); err != nil {
			return nil, fmt.Errorf("silences %s: silence %s: %w", path, sl.ID, err)
		}
		s.silences[sl.ID] = sl
	}
	return s, nil
}

// saveLocked writes the file; s.mu must be held.
func (s *Silences) saveLocked() error {
	if s.path == "" {
		return nil
	}
	f := silencesFile{Version: 1, Silences: s.listLocked()}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		panic("BUG: marshal silences: " + err.Error())
	}
	return writeFileAtomic(s.path, b)
}

func (s *Silences) listLocked() []*Silence {
	now := s.now()
	out := make([]*Silence, 0, len(s.silences))
	for id, sl := range s.silences {
		if now.Sub(sl.EndsAt) > silenceRetention {
			delete(s.silences, id)
			continue
		}
		c := *sl
		c.Status.State = sl.state(now)
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *Silence) int { return a.StartsAt.Compare(b.StartsAt) })
	return out
}

// Create validates and stores a new silence and returns its ID. A zero
// StartsAt means now. It is durable when Create returns.
func (s *Silences) Create(sl Silence) (string, error) {
	now := s.now()
	if sl.StartsAt.IsZero() {
		sl.StartsAt = now
	}
	if sl.EndsAt.IsZero() {
		return "", errors.New("silence has no endsAt")
	}
	if !sl.EndsAt.After(sl.StartsAt) {
		return "", fmt.Errorf("silence endsAt %s is not after startsAt %s", sl.EndsAt.Format(time.RFC3339), sl.StartsAt.Format(time.RFC3339))
	}
	if !sl.EndsAt.After(now) {
		return "", fmt.Errorf("silence endsAt %s is in the past", sl.EndsAt.Format(time.RFC3339))
	}
	if err := sl.compile(); err != nil {
		return "", err
	}
	var id [16]byte
	rand.Read(id[:])
	sl.ID = hex.EncodeToString(id[:])
	sl.UpdatedAt = now
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silences[sl.ID] = &sl
	if err := s.saveLocked(); err != nil {
		delete(s.silences, sl.ID)
		return "", err
	}
	return sl.ID, nil
}

// ErrSilenceNotFound is returned for an unknown silence ID.
var ErrSilenceNotFound = errors.New("silence not found")

// Expire ends a silence now. Expiring an expired silence is not an error.
func (s *Silences) Expire(id string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.silences[id]
	if !ok {
		return fmt.Errorf("expire silence %q: %w", id, ErrSilenceNotFound)
	}
	if sl.state(now) == "expired" {
		return nil
	}
	old := *sl
	if now.Before(sl.StartsAt) {
		sl.StartsAt = now
	}
	sl.EndsAt, sl.UpdatedAt = now, now
	if err := s.saveLocked(); err != nil {
		*sl = old
		return err
	}
	return nil
}

// List returns every silence not expired for longer than the retention
// period, with its current status, oldest first.
func (s *Silences) List() []*Silence {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listLocked()
}

// Mutes reports whether an active silence matches the labels at now, and
// which one.
func (s *Silences) Mutes(ls map[string]string, now time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sl := range s.silences {
		if sl.state(now) == "active" && sl.matches(ls) {
			return id, true
		}
	}
	return "", false
}

func silencesPath(dataDir string) string {
	if dataDir == "" {
		return ""
	}
	return filepath.Join(dataDir, "silences.json")
}
