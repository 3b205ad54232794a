package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/stratus-metrics/stratus/model"
)

// buildPayload renders the Alertmanager webhook payload (version 4) of a
// group notification with Alertmanager's own types, so that the JSON is
// field for field what a receiver written for Alertmanager expects. It
// returns the payload, its status and the number of alerts it carries.
func buildPayload(ag *aggrGroup, reason string, alerts []*notifierAlert, maxAlerts uint64, externalURL string, now time.Time) ([]byte, string, int) {
	var truncated uint64
	if maxAlerts > 0 && uint64(len(alerts)) > maxAlerts {
		truncated = uint64(len(alerts)) - maxAlerts
		alerts = alerts[:maxAlerts]
	}
	data := &amtemplate.Data{
		Receiver:           regexp.QuoteMeta(ag.route.receiver),
		Status:             "resolved",
		Alerts:             make(amtemplate.Alerts, 0, len(alerts)),
		NotificationReason: reason,
		GroupLabels:        amtemplate.KV(ag.labels.Map()),
		CommonLabels:       amtemplate.KV{},
		CommonAnnotations:  amtemplate.KV{},
		RouteLabels:        amtemplate.KV{},
		ExternalURL:        externalURL,
	}
	for k, v := range ag.route.labels {
		data.RouteLabels[k] = v
	}
	for _, a := range alerts {
		status := "firing"
		if a.resolved(now) {
			status = "resolved"
		} else {
			data.Status = "firing"
		}
		data.Alerts = append(data.Alerts, amtemplate.Alert{
			Status:       status,
			Labels:       amtemplate.KV(a.labels.Map()),
			Annotations:  amtemplate.KV(a.annotations.Map()),
			StartsAt:     a.startsAt.UTC(),
			EndsAt:       a.endsAt.UTC(),
			GeneratorURL: a.generatorURL,
			Fingerprint:  fmt.Sprintf("%016x", a.fp),
		})
	}
	if len(alerts) > 0 {
		common, commonAnn := alerts[0].labels.Map(), alerts[0].annotations.Map()
		for _, a := range alerts[1:] {
			for k, v := range common {
				if a.labelMap[k] != v {
					delete(common, k)
				}
			}
			am := a.annotations.Map()
			for k, v := range commonAnn {
				if am[k] != v {
					delete(commonAnn, k)
				}
			}
		}
		data.CommonLabels, data.CommonAnnotations = common, commonAnn
	}
	msg := &webhook.Message{Data: data, Version: "4", GroupKey: ag.groupKey, TruncatedAlerts: truncated}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(msg); err != nil {
		panic("BUG: encode webhook payload: " + err.Error())
	}
	return buf.Bytes(), data.Status, len(alerts)
}

// sortAlerts orders alerts as Alertmanager does in a notification: by job,
// then instance, then the whole label set.
func sortAlerts(as []*notifierAlert) {
	sort.SliceStable(as, func(i, j int) bool {
		for _, k := range [...]string{"job", "instance"} {
			iv, iok := as[i].labelMap[k]
			jv, jok := as[j].labelMap[k]
			switch {
			case !iok && !jok:
				continue
			case !iok:
				return false
			case !jok:
				return true
			case iv != jv:
				return iv < jv
			}
		}
		return labelSetBefore(as[i].labels, as[j].labels)
	})
}

// labelSetBefore is Alertmanager's LabelSet.Before: by sorted names, then
// values, then length.
func labelSetBefore(a, b model.Labels) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].Name != b[i].Name {
			return a[i].Name < b[i].Name
		}
		if a[i].Value != b[i].Value {
			return a[i].Value < b[i].Value
		}
	}
	return len(a) < len(b)
}

// permanentError is a webhook answer that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// postWebhook makes one delivery attempt. 2xx is success; 4xx other than
// 408 and 429 is permanent (the receiver rejects this payload and will keep
// doing so, as Alertmanager treats it); anything else is retried. The
// Idempotency-Key header carries the notification's ID, the same on every
// attempt and after a restart, so a receiver can drop duplicates.
func postWebhook(ctx context.Context, client *http.Client, t webhookTarget, id string, payload []byte) error {
	if t.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(payload))
	if err != nil {
		return &permanentError{fmt.Errorf("build webhook request to %s: %w", redactURL(t.url), err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Stratus")
	req.Header.Set("Idempotency-Key", id)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook to %s: %w", redactURL(t.url), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch code := resp.StatusCode; {
	case code/100 == 2:
		return nil
	case code/100 == 4 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return &permanentError{fmt.Errorf("webhook %s answered %s: %s", redactURL(t.url), resp.Status, bytes.TrimSpace(body))}
	default:
		return fmt.Errorf("webhook %s answered %s: %s", redactURL(t.url), resp.Status, bytes.TrimSpace(body))
	}
}

// redactURL keeps a webhook URL's secrets (query, user info) out of logs
// and the delivery log.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid URL>"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
