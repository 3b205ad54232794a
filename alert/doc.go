// Package alert owns Stratus's alerting: rule files and the built-in rule
// packs, the evaluation of alerting and recording rules, alert state and its
// survival across restarts, and the notifier that pages on-call by webhook.
// A missed or duplicated page is the worst failure this product can have,
// and most of the package's design follows from that.
//
// Data flows like this:
//
//	rule files (Prometheus rule-group YAML, plus `atlas:`) and packs
//	  -> LoadFiles / LoadPack -> []GroupSpec                (rulefile.go, packs.go)
//	  -> Manager.Reload -> one Group per spec, one goroutine each (manager.go, group.go)
//	  -> Group.Eval at slots spread by a hash of the group
//	       -> QueryFunc (the engine, injected by cmd/)      (query.go)
//	       -> alertingRule: inactive -> pending -> firing -> resolved,
//	          `for` and `keep_firing_for`, templated labels and annotations
//	                                                       (rule_alerting.go, template.go)
//	       -> recordingRule                                 (rule_recording.go)
//	  -> ALERTS / ALERTS_FOR_STATE / recorded series -> Appender, each
//	     rule's output before the next rule of the group runs
//	  -> state file per group in DataDir/rules/             (state.go)
//	  -> Notifier.Send
//	       -> Alertmanager routing tree -> aggregation groups (route.go)
//	       -> silences and inhibit rules                    (silence.go, inhibit.go)
//	       -> group_wait / group_interval / repeat_interval and the
//	          notification log decide what is sent          (notifier.go)
//	       -> outbox: fsynced before any attempt, one fsync
//	          for all notifications of a tick               (outbox.go)
//	       -> webhook, Alertmanager payload version 4, retried with
//	          exponential backoff and jitter, at most
//	          MaxAttemptsPerHost in flight per host         (webhook.go)
//	  -> Pusher.Send (optional)
//	       -> real Alertmanagers' POST /api/v2/alerts, as Prometheus:
//	          firing alerts resent every ResendDelay with endsAt
//	          ahead, resolutions at once                    (pusher.go)
//
// What survives a restart, and why no page is lost or repeated: each group's
// alert state (which alerts are pending or firing and since when) is in a
// small file rewritten atomically whenever it changes, so `for` clocks do
// not restart and firing alerts come back firing. The notifier's outbox
// records each notification before it is sent and each outcome after, so an
// undelivered notification is sent after the restart, and the last
// notification of each group is remembered, so the same group notification
// is not sent twice. Delivery is at least once; every attempt of one
// notification carries the same Idempotency-Key header for receivers that
// want exactly once. File formats are in FORMAT.md.
//
// The Pusher keeps no files: its protocol is a stream of idempotent
// statements ("fires until endsAt", "resolved at endsAt") that Alertmanager
// deduplicates, so a lost push is repaired by the next resend, and an
// alert Stratus stops talking about expires at its endsAt.
//
// Configuration comes in parts that cmd/ maps from its own file: the rule
// file globs and Options for the Manager; the `alerting:` section, an
// Alertmanager configuration parsed by LoadNotifierConfig, for the
// Notifier; and its `alertmanagers:` list, PusherOptions for the Pusher. The package does not import the query engine, the store or
// Prometheus's PromQL engine; imports_test.go at the repository root keeps
// it that way.
package alert
