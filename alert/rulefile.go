package alert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// Languages a rule's expression can be written in; QueryFunc receives one
// of them as lang.
const (
	// LangPromQL marks an expression given with `expr:`.
	LangPromQL = "promql"
	// LangAtlas marks an Atlas stack expression given with `atlas:`.
	LangAtlas = "atlas"
)

// GroupSpec is one rule group as written in a rule file: the unit that is
// evaluated sequentially on one schedule.
type GroupSpec struct {
	File     string        // the file it came from ("pack:<name>" for a built-in pack)
	Name     string        // unique within File
	Interval time.Duration // 0 means the Manager's default interval
	// QueryOffset shifts the evaluation time back, for data that arrives late.
	QueryOffset time.Duration
	// Limit caps the alerts (or recorded series) one rule may produce per
	// evaluation; 0 means no limit. Over the limit, the rule fails and
	// produces nothing, as in Prometheus.
	Limit  int
	Labels map[string]string // added to every rule's output; rule labels win
	Rules  []RuleSpec
	Line   int // line of the group in File
}

// RuleSpec is one alerting rule (Alert set) or recording rule (Record set).
type RuleSpec struct {
	Alert         string
	Record        string
	Lang          string // LangPromQL or LangAtlas
	Expr          string // the PromQL or Atlas expression
	For           time.Duration
	KeepFiringFor time.Duration
	Labels        map[string]string
	Annotations   map[string]string
	Line          int // line of the rule in its file
}

// Name returns the alert name or the recorded metric name.
func (r RuleSpec) Name() string {
	if r.Alert != "" {
		return r.Alert
	}
	return r.Record
}

// RuleError is one problem found in a rule file. Its message names the file,
// the line and, where known, the group and rule, so that an operator can go
// straight to the mistake.
type RuleError struct {
	File  string
	Line  int    // 0 when unknown
	Group string // "" when the problem is not inside a group
	Rule  string // alert or record name, "" when unknown
	Err   error
}

func (e *RuleError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Group != "" {
		fmt.Fprintf(&b, "group %q: ", e.Group)
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RuleError) Unwrap() error { return e.Err }

// LoadFiles reads every rule file matched by globs and returns their groups
// in file order. A glob that matches nothing is not an error (a directory of
// rule files may be empty), but a malformed glob is. All problems of all
// files are reported together, joined, each as a *RuleError; nothing is
// returned for use when any file is invalid, so a reload is all or nothing.
func LoadFiles(globs []string) ([]GroupSpec, error) {
	var files []string
	for _, g := range globs {
		m, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("expand rule file pattern %q: %w", g, err)
		}
		slices.Sort(m)
		for _, f := range m {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	var (
		groups []GroupSpec
		errs   []error
	)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, &RuleError{File: f, Err: err})
			continue
		}
		gs, err := ParseRules(f, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		groups = append(groups, gs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return groups, nil
}

// ParseRules parses and validates one rule file's content; file names it in
// errors and in the returned groups.
//
// The schema is Prometheus's rule-group format (so `promtool check rules`
// accepts a file that uses only `expr:`) plus one Stratus field: `atlas:`
// holds an Atlas stack expression in place of `expr:`. A file with `atlas:`
// rules is a Stratus extension that promtool rejects as an unknown field;
// keep such rules in their own files.
//
// The file is decoded into Stratus's own structs rather than with
// Prometheus's rulefmt package, because rulefmt imports the PromQL engine,
// which must stay out of the binary (imports_test.go). The checks are the
// ones rulefmt makes, in the same words, with the same PromQL parser and
// name rules; rulefmt_compat_test.go holds the packs to rulefmt and
// FuzzLoadRules checks that what we accept, rulefmt accepts too.
func ParseRules(file string, content []byte) ([]GroupSpec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	var f fileYAML
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		return nil, &RuleError{File: file, Line: second.Line, Err: errors.New("a rule file holds one YAML document; found a second one")}
	}
	return f.validate(file)
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a YAML decoding error into RuleErrors with lines.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		re := &RuleError{File: file, Err: errors.New(m)}
		if sub := yamlLineRE.FindStringSubmatch(m); sub != nil {
			re.Line, _ = strconv.Atoi(sub[1])
			re.Err = errors.New(sub[2])
		}
		errs = append(errs, re)
	}
	return errors.Join(errs...)
}

type fileYAML struct {
	Groups []groupYAML `yaml:"groups"`
}

type groupYAML struct {
	Name        string            `yaml:"name"`
	Interval    string            `yaml:"interval,omitempty"`
	QueryOffset *string           `yaml:"query_offset,omitempty"`
	Limit       int               `yaml:"limit,omitempty"`
	Rules       []ruleYAML        `yaml:"rules"`
	Labels      map[string]string `yaml:"labels,omitempty"`

	line  int
	lines map[string]int
}

type ruleYAML struct {
	Record        string            `yaml:"record,omitempty"`
	Alert         string            `yaml:"alert,omitempty"`
	Expr          string            `yaml:"expr"`
	Atlas         string            `yaml:"atlas,omitempty"`
	For           string            `yaml:"for,omitempty"`
	KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
	Labels        map[string]string `yaml:"labels,omitempty"`
	Annotations   map[string]string `yaml:"annotations,omitempty"`

	line  int
	lines map[string]int // line of each field's value
}

// UnmarshalYAML records the group's line and rejects unknown keys.
func (g *groupYAML) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "group", "name", "interval", "query_offset", "limit", "rules", "labels"); err != nil {
		return err
	}
	type plain groupYAML
	if err := n.Decode((*plain)(g)); err != nil {
		return err
	}
	g.line, g.lines = n.Line, fieldLines(n)
	return nil
}

// fieldLines maps each key of a mapping node to the line of its value.
func fieldLines(n *yaml.Node) map[string]int {
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		lines[n.Content[i].Value] = n.Content[i+1].Line
	}
	return lines
}

// parseDuration parses a duration field the way rulefmt's model.Duration
// does; "" is zero.
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := commonmodel.ParseDuration(s)
	return time.Duration(d), err
}

// UnmarshalYAML records the line of the rule and of each of its fields.
func (r *ruleYAML) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "rule", "record", "alert", "expr", "atlas", "for", "keep_firing_for", "labels", "annotations"); err != nil {
		return err
	}
	type plain ruleYAML
	if err := n.Decode((*plain)(r)); err != nil {
		return err
	}
	r.line, r.lines = n.Line, fieldLines(n)
	return nil
}

// checkKeys rejects unknown keys itself: a custom unmarshaler decodes its
// node without the decoder's KnownFields setting.
func checkKeys(n *yaml.Node, what string, known ...string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a %s must be a mapping", n.Line, what)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(known, k.Value) {
			return fmt.Errorf("line %d: field %s not found in %s", k.Line, k.Value, what)
		}
	}
	return nil
}

// promqlParser parses with the options promtool uses, so that a file we
// accept is one promtool accepts.
var promqlParser = parser.NewParser(parser.Options{})

// validate makes rulefmt's checks and Stratus's own (atlas).
func (f *fileYAML) validate(file string) ([]GroupSpec, error) {
	var errs []error
	seen := map[string]bool{}
	out := make([]GroupSpec, 0, len(f.Groups))
	for _, g := range f.Groups {
		gerr := func(err error) { errs = append(errs, &RuleError{File: file, Line: g.line, Group: g.Name, Err: err}) }
		if g.Name == "" {
			//lint:ignore ST1005 the words are rulefmt's, so our messages match promtool's
			gerr(errors.New("Groupname must not be empty"))
		}
		if seen[g.Name] {
			gerr(fmt.Errorf("groupname: %q is repeated in the same file", g.Name))
		}
		seen[g.Name] = true
		for _, k := range sortedKeys(g.Labels) {
			if err := checkLabel(k, g.Labels[k]); err != nil {
				gerr(err)
			}
		}
		spec := GroupSpec{File: file, Name: g.Name, Limit: g.Limit, Labels: g.Labels, Line: g.line}
		var err error
		if spec.Interval, err = parseDuration(g.Interval); err != nil {
			errs = append(errs, &RuleError{File: file, Line: g.lines["interval"], Group: g.Name, Err: fmt.Errorf("interval: %w", err)})
		}
		if g.QueryOffset != nil {
			if spec.QueryOffset, err = parseDuration(*g.QueryOffset); err != nil {
				errs = append(errs, &RuleError{File: file, Line: g.lines["query_offset"], Group: g.Name, Err: fmt.Errorf("query_offset: %w", err)})
			}
		}
		if g.Limit < 0 {
			gerr(fmt.Errorf("limit %d is negative", g.Limit))
		}
		for _, r := range g.Rules {
			rs, rerrs := r.validate()
			for _, e := range rerrs {
				errs = append(errs, &RuleError{File: file, Line: e.line, Group: g.Name, Rule: rs.Name(), Err: e.err})
			}
			spec.Rules = append(spec.Rules, rs)
		}
		out = append(out, spec)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

type lineError struct {
	line int
	err  error
}

func (r *ruleYAML) validate() (RuleSpec, []lineError) {
	rs := RuleSpec{
		Alert: r.Alert, Record: r.Record, Lang: LangPromQL, Expr: r.Expr,
		Labels: r.Labels, Annotations: r.Annotations, Line: r.line,
	}
	var errs []lineError
	add := func(field string, err error) {
		line := r.lines[field]
		if line == 0 {
			line = r.line
		}
		errs = append(errs, lineError{line, err})
	}
	var err error
	if rs.For, err = parseDuration(r.For); err != nil {
		add("for", fmt.Errorf("for: %w", err))
	}
	if rs.KeepFiringFor, err = parseDuration(r.KeepFiringFor); err != nil {
		add("keep_firing_for", fmt.Errorf("keep_firing_for: %w", err))
	}
	switch {
	case r.Record != "" && r.Alert != "":
		add("alert", errors.New("only one of 'record' and 'alert' must be set"))
	case r.Record == "" && r.Alert == "":
		add("", errors.New("one of 'record' or 'alert' must be set"))
	}
	switch {
	case r.Atlas != "" && r.Expr != "":
		add("atlas", errors.New("only one of 'expr' and 'atlas' must be set"))
	case r.Atlas != "":
		rs.Lang, rs.Expr = LangAtlas, r.Atlas
		if err := checkAtlas(r.Atlas); err != nil {
			add("atlas", fmt.Errorf("could not parse atlas expression: %w", err))
		}
	case r.Expr == "":
		add("expr", errors.New("field 'expr' must be set in rule"))
	default:
		if _, err := promqlParser.ParseExpr(r.Expr); err != nil {
			add("expr", fmt.Errorf("could not parse expression: %w", err))
		}
	}
	if r.Record != "" {
		if len(r.Annotations) > 0 {
			add("annotations", errors.New("invalid field 'annotations' in recording rule"))
		}
		if rs.For != 0 {
			add("for", errors.New("invalid field 'for' in recording rule"))
		}
		if rs.KeepFiringFor != 0 {
			add("keep_firing_for", errors.New("invalid field 'keep_firing_for' in recording rule"))
		}
		if !commonmodel.UTF8Validation.IsValidMetricName(r.Record) {
			add("record", fmt.Errorf("invalid recording rule name: %s", r.Record))
		}
		if strings.ContainsAny(r.Record, "{}") {
			add("record", fmt.Errorf("braces present in the recording rule name; should it be in expr?: %s", r.Record))
		}
	}
	for _, k := range sortedKeys(r.Labels) {
		if err := checkLabel(k, r.Labels[k]); err != nil {
			add("labels", err)
		}
	}
	for _, k := range sortedKeys(r.Annotations) {
		if !commonmodel.UTF8Validation.IsValidLabelName(k) {
			add("annotations", fmt.Errorf("invalid annotation name: %s", k))
		}
	}
	if r.Alert != "" {
		for _, k := range sortedKeys(r.Labels) {
			if err := parseTemplate(r.Alert, r.Labels[k]); err != nil {
				add("labels", fmt.Errorf("label %q: %w", k, err))
			}
		}
		for _, k := range sortedKeys(r.Annotations) {
			if err := parseTemplate(r.Alert, r.Annotations[k]); err != nil {
				add("annotations", fmt.Errorf("annotation %q: %w", k, err))
			}
		}
	}
	return rs, errs
}

func checkLabel(name, value string) error {
	if !commonmodel.UTF8Validation.IsValidLabelName(name) || name == commonmodel.MetricNameLabel {
		return fmt.Errorf("invalid label name: %s", name)
	}
	if !commonmodel.LabelValue(value).IsValid() {
		return fmt.Errorf("invalid label value: %s", value)
	}
	return nil
}

// checkAtlas makes the checks possible without the Atlas engine (which
// lives in query/ and is not imported here): the expression is not empty and
// its parentheses balance. The engine reports anything else at evaluation,
// and the rule's health shows it.
func checkAtlas(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return errors.New("empty expression")
	}
	depth := 0
	for i, tok := range strings.Split(expr, ",") {
		switch strings.TrimSpace(tok) {
		case "(":
			depth++
		case ")":
			depth--
			if depth < 0 {
				return fmt.Errorf("token %d: unbalanced ')'", i+1)
			}
		}
	}
	if depth != 0 {
		return fmt.Errorf("%d unclosed '('", depth)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
