package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"

	commontemplates "github.com/prometheus/common/helpers/templates"
	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/util/strutil"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Label and annotation templates are Prometheus's: Go text/template with the
// variables $labels, $externalLabels, $externalURL and $value defined, and
// the function set of Prometheus's template package (humanize,
// humanizeDuration, humanizePercentage, query, ...). The functions are
// re-declared here, with the same behaviour, because that package imports
// the PromQL engine, which must stay out of the binary; `query` runs through
// the injected QueryFunc instead.

// templateDefs defines the variables every template can use.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// templateData is the template's dot, the same struct Prometheus passes.
type templateData struct {
	Labels         map[string]string
	ExternalLabels map[string]string
	ExternalURL    string
	Value          any
}

// templateSample is one element of a `query` result, in the shape
// Prometheus's templates see.
type templateSample struct {
	Labels map[string]string
	Value  any
}

type templateQueryResult []*templateSample

// expander expands templates for one rule evaluation.
type expander struct {
	ctx         context.Context
	query       QueryFunc // nil when parsing only
	ts          time.Time
	externalURL *url.URL
}

// parseTemplate checks a template's syntax and function names, as rulefmt
// does when it validates a rule file.
func parseTemplate(alert, text string) error {
	_, err := texttemplate.New("__alert_" + alert).Funcs((&expander{}).funcs()).Option("missingkey=zero").Parse(templateDefs + text)
	return err
}

// expand renders text. Like Prometheus it reports a failure in the result
// itself as well as in err, so that a broken annotation is visible to
// on-call rather than silently empty.
func (e *expander) expand(name, text string, data templateData) (result string, err error) {
	if !strings.Contains(text, "{{") {
		return text, nil // the common case: a literal
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic expanding template %s: %v", name, r)
		}
		if err != nil {
			result = fmt.Sprintf("<error expanding template: %v>", err)
		}
	}()
	t, err := texttemplate.New(name).Funcs(e.funcs()).Option("missingkey=zero").Parse(templateDefs + text)
	if err != nil {
		return "", fmt.Errorf("parse template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("execute template %s: %w", name, err)
	}
	return buf.String(), nil
}

func (e *expander) funcs() texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"query": func(q string) (templateQueryResult, error) {
			if e.query == nil {
				return nil, errors.New("query is not available here")
			}
			samples, err := e.query(e.ctx, LangPromQL, q, e.ts)
			if err != nil {
				return nil, err
			}
			out := make(templateQueryResult, len(samples))
			for i, s := range samples {
				out[i] = &templateSample{Labels: s.Labels.Map(), Value: s.V}
			}
			return out, nil
		},
		"first": func(v templateQueryResult) (*templateSample, error) {
			if len(v) > 0 {
				return v[0], nil
			}
			return nil, errors.New("first() called on vector with no elements")
		},
		"label":    func(label string, s *templateSample) string { return s.Labels[label] },
		"value":    func(s *templateSample) any { return s.Value },
		"strvalue": func(s *templateSample) string { return s.Labels["__value__"] },
		"args": func(args ...any) map[string]any {
			result := make(map[string]any, len(args))
			for i, a := range args {
				result[fmt.Sprintf("arg%d", i)] = a
			}
			return result
		},
		"reReplaceAll": func(pattern, repl, text string) string {
			return regexp.MustCompile(pattern).ReplaceAllString(text, repl)
		},
		"safeHtml":  func(text string) template.HTML { return template.HTML(text) },
		"match":     regexp.MatchString,
		"title":     cases.Title(language.AmericanEnglish, cases.NoLower).String,
		"toUpper":   strings.ToUpper,
		"toLower":   strings.ToLower,
		"graphLink": strutil.GraphLinkForExpression,
		"tableLink": strutil.TableLinkForExpression,
		"sortByLabel": func(label string, v templateQueryResult) templateQueryResult {
			sort.SliceStable(v, func(i, j int) bool { return v[i].Labels[label] < v[j].Labels[label] })
			return v
		},
		"stripPort": func(hostPort string) string {
			host, _, err := net.SplitHostPort(hostPort)
			if err != nil {
				return hostPort
			}
			return host
		},
		"stripDomain": func(hostPort string) string {
			host, port, err := net.SplitHostPort(hostPort)
			if err != nil {
				host = hostPort
			}
			if _, err := netip.ParseAddr(host); err == nil {
				return hostPort
			}
			host, _, _ = strings.Cut(host, ".")
			if port != "" {
				return net.JoinHostPort(host, port)
			}
			return host
		},
		"humanize":         humanize,
		"humanize1024":     humanize1024,
		"humanizeDuration": commontemplates.HumanizeDuration,
		"humanizePercentage": func(i any) (string, error) {
			v, err := commontemplates.ConvertToFloat(i)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%.4g%%", v*100), nil
		},
		"humanizeTimestamp": commontemplates.HumanizeTimestamp,
		"toTime": func(i any) (*time.Time, error) {
			v, err := commontemplates.ConvertToFloat(i)
			if err != nil {
				return nil, err
			}
			return commontemplates.FloatToTime(v)
		},
		"toDuration": func(i any) (*time.Duration, error) {
			v, err := commontemplates.ConvertToFloat(i)
			if err != nil {
				return nil, err
			}
			d := time.Duration(v * float64(time.Second))
			return &d, nil
		},
		"now": func() float64 { return float64(e.ts.UnixMilli()) / 1000 },
		"pathPrefix": func() string {
			if e.externalURL == nil {
				return ""
			}
			return e.externalURL.Path
		},
		"externalURL": func() string {
			if e.externalURL == nil {
				return ""
			}
			return e.externalURL.String()
		},
		"parseDuration": func(d string) (float64, error) {
			v, err := commonmodel.ParseDurationAllowNegative(d)
			if err != nil {
				return 0, err
			}
			return float64(time.Duration(v)) / float64(time.Second), nil
		},
		"urlQueryEscape": url.QueryEscape,
	}
}

// humanize renders a number with an SI prefix: 1234 -> "1.234k".
func humanize(i any) (string, error) {
	v, err := commontemplates.ConvertToFloat(i)
	if err != nil {
		return "", err
	}
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v), nil
	}
	prefix := ""
	if math.Abs(v) >= 1 {
		for _, p := range []string{"k", "M", "G", "T", "P", "E", "Z", "Y"} {
			if math.Abs(v) < 1000 {
				break
			}
			prefix = p
			v /= 1000
		}
		return fmt.Sprintf("%.4g%s", v, prefix), nil
	}
	for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix = p
		v *= 1000
	}
	return fmt.Sprintf("%.4g%s", v, prefix), nil
}

// humanize1024 renders a number with a binary prefix: 2048 -> "2ki".
func humanize1024(i any) (string, error) {
	v, err := commontemplates.ConvertToFloat(i)
	if err != nil {
		return "", err
	}
	if math.Abs(v) <= 1 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v), nil
	}
	prefix := ""
	for _, p := range []string{"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"} {
		if math.Abs(v) < 1024 {
			break
		}
		prefix = p
		v /= 1024
	}
	return fmt.Sprintf("%.4g%s", v, prefix), nil
}
