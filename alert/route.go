package alert

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/stratus-metrics/stratus/model"
)

// Alertmanager's defaults for a route that sets no timing.
const (
	defaultGroupWait      = 30 * time.Second
	defaultGroupInterval  = 5 * time.Minute
	defaultRepeatInterval = 4 * time.Hour
)

// LoadNotifierConfig parses the `alerting:` section of the configuration,
// which is an Alertmanager configuration (route, receivers, inhibit_rules),
// with Alertmanager's own parser so that a file that works there works
// here. Only webhook receivers are supported: a receiver with any other
// integration is rejected by name rather than silently never notified.
func LoadNotifierConfig(yamlText string) (*amconfig.Config, error) {
	cfg, err := amconfig.Load(yamlText)
	if err != nil {
		return nil, fmt.Errorf("alerting configuration: %w", err)
	}
	if _, err := buildReceivers(cfg); err != nil {
		return nil, err
	}
	if err := checkNoTimeIntervals(cfg.Route, "route"); err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkNoTimeIntervals refuses mute_time_intervals and
// active_time_intervals, which the notifier does not implement: ignoring
// them would page on-call in hours the operator muted, so the
// configuration is rejected, naming the route, instead.
func checkNoTimeIntervals(r *amconfig.Route, path string) error {
	if r == nil {
		return nil
	}
	if len(r.MuteTimeIntervals) > 0 || len(r.ActiveTimeIntervals) > 0 {
		return fmt.Errorf("alerting configuration: %s (receiver %q): mute_time_intervals and active_time_intervals are not supported; use silences", path, r.Receiver)
	}
	for i, c := range r.Routes {
		if err := checkNoTimeIntervals(c, fmt.Sprintf("%s.routes[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// webhookTarget is one webhook_configs entry of a receiver.
type webhookTarget struct {
	url          string
	sendResolved bool
	maxAlerts    uint64
	timeout      time.Duration
}

func buildReceivers(cfg *amconfig.Config) (map[string][]webhookTarget, error) {
	out := map[string][]webhookTarget{}
	for _, r := range cfg.Receivers {
		if n := len(r.DiscordConfigs) + len(r.EmailConfigs) + len(r.IncidentioConfigs) + len(r.PagerdutyConfigs) +
			len(r.SlackConfigs) + len(r.OpsGenieConfigs) + len(r.WechatConfigs) + len(r.PushoverConfigs) +
			len(r.VictorOpsConfigs) + len(r.SNSConfigs) + len(r.TelegramConfigs) + len(r.WebexConfigs) +
			len(r.MSTeamsConfigs) + len(r.MSTeamsV2Configs) + len(r.JiraConfigs) + len(r.RocketchatConfigs) +
			len(r.MattermostConfigs); n > 0 {
			return nil, fmt.Errorf("alerting configuration: receiver %q: only webhook_configs are supported; put a webhook bridge in front of other integrations", r.Name)
		}
		var ts []webhookTarget
		for i, w := range r.WebhookConfigs {
			u := string(w.URL)
			if u == "" && w.URLFile != "" {
				b, err := os.ReadFile(w.URLFile)
				if err != nil {
					return nil, fmt.Errorf("alerting configuration: receiver %q webhook %d: read url_file: %w", r.Name, i, err)
				}
				u = strings.TrimSpace(string(b))
			}
			if strings.Contains(u, "{{") {
				return nil, fmt.Errorf("alerting configuration: receiver %q webhook %d: templated URLs are not supported", r.Name, i)
			}
			ts = append(ts, webhookTarget{url: u, sendResolved: w.SendResolved(), maxAlerts: w.MaxAlerts, timeout: w.Timeout})
		}
		out[r.Name] = ts
	}
	return out, nil
}

// route is a node of the routing tree with its inherited options resolved,
// as Alertmanager's dispatch.Route.
type route struct {
	parent         *route
	matchers       amlabels.Matchers
	receiver       string
	groupBy        map[string]bool
	groupByAll     bool
	groupWait      time.Duration
	groupInterval  time.Duration
	repeatInterval time.Duration
	continue_      bool
	labels         map[string]string
	routes         []*route
	idx            int // position among its siblings
}

func newRoute(cr *amconfig.Route, parent *route, idx int) *route {
	r := &route{parent: parent, idx: idx, continue_: cr.Continue, matchers: cr.AllMatchers(), labels: map[string]string{}}
	if parent != nil {
		r.receiver, r.groupBy, r.groupByAll = parent.receiver, parent.groupBy, parent.groupByAll
		r.groupWait, r.groupInterval, r.repeatInterval = parent.groupWait, parent.groupInterval, parent.repeatInterval
		for k, v := range parent.labels {
			r.labels[k] = v
		}
	} else {
		r.groupBy = map[string]bool{}
		r.groupWait, r.groupInterval, r.repeatInterval = defaultGroupWait, defaultGroupInterval, defaultRepeatInterval
	}
	if cr.Receiver != "" {
		r.receiver = cr.Receiver
	}
	if cr.GroupBy != nil || cr.GroupByAll {
		r.groupBy = map[string]bool{}
		for _, l := range cr.GroupBy {
			r.groupBy[string(l)] = true
		}
		r.groupByAll = cr.GroupByAll
	}
	if cr.GroupWait != nil {
		r.groupWait = time.Duration(*cr.GroupWait)
	}
	if cr.GroupInterval != nil {
		r.groupInterval = time.Duration(*cr.GroupInterval)
	}
	if cr.RepeatInterval != nil {
		r.repeatInterval = time.Duration(*cr.RepeatInterval)
	}
	for k, v := range cr.Labels {
		r.labels[string(k)] = string(v)
	}
	for i, c := range cr.Routes {
		r.routes = append(r.routes, newRoute(c, r, i))
	}
	return r
}

// key is Alertmanager's route key: the matchers of the path from the root,
// joined by "/". It is the first part of a group key.
func (r *route) key() string {
	var b strings.Builder
	if r.parent != nil {
		b.WriteString(r.parent.key())
		b.WriteByte('/')
	}
	b.WriteString(r.matchers.String())
	return b.String()
}

// id is unique per node even when siblings have the same matchers.
func (r *route) id() string {
	if r.parent == nil {
		return r.matchers.String()
	}
	return fmt.Sprintf("%s/%s/%d", r.parent.id(), r.matchers.String(), r.idx)
}

// match returns the routes an alert with labels ls goes to: the deepest
// matching routes, following `continue`, as Alertmanager does.
func (r *route) match(ls map[string]string) []*route {
	for _, m := range r.matchers {
		if !m.Matches(ls[m.Name]) {
			return nil
		}
	}
	var all []*route
	for _, c := range r.routes {
		matches := c.match(ls)
		all = append(all, matches...)
		if matches != nil && !c.continue_ {
			break
		}
	}
	if len(all) == 0 {
		all = append(all, r)
	}
	return all
}

// groupLabels returns the labels of ls that the route groups by.
func (r *route) groupLabels(ls model.Labels) model.Labels {
	if r.groupByAll {
		return ls
	}
	var out model.Labels
	for _, l := range ls {
		if r.groupBy[l.Name] {
			out = append(out, l)
		}
	}
	return out
}

// groupKeyString renders an Alertmanager group key: route key, then the
// group labels in Prometheus notation ({a="1", b="2"}).
func groupKeyString(routeKey string, groupLabels model.Labels) string {
	parts := make([]string, 0, len(groupLabels))
	for _, l := range groupLabels {
		parts = append(parts, fmt.Sprintf("%s=%q", l.Name, l.Value))
	}
	slices.Sort(parts)
	return routeKey + ":{" + strings.Join(parts, ", ") + "}"
}
