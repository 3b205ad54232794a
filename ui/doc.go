// Package ui is Stratus' web interface: the embedded single-page app
// (home, explore, dashboards, alerts, status) and the few HTTP routes that
// exist for it.
//
// What it owns:
//
//   - The assets under static/, embedded in the binary with embed and served
//     with exact content types, ETags and a strict Content-Security-Policy.
//     Every page path (/, /explore, /dashboards/..., /alerts, /status) answers
//     with the same app shell; the browser-side router picks the page.
//   - Dashboards: built-in JSON files embedded from dashboards/, and user
//     dashboards kept as <data-dir>/dashboards/<id>.json, behind a small CRUD
//     API under /api/v1/dashboards. A user file shadows a built-in of the same
//     id, so "edit a built-in and save" keeps a local copy and deleting it
//     restores the original.
//   - /api/v1/status/config (the effective configuration cmd/ hands over,
//     with secret-looking keys redacted) and /api/v1/status/tsdb (cardinality
//     in Prometheus' shape).
//   - A self-scrape loop: Stratus' own registry is appended to storage every
//     10 s through the Appender interface declared here, so the home and
//     status pages chart the server's own ingest rate, series and memory with
//     the same PromQL as any other metric.
//
// How data flows: the browser loads the shell and ES modules from this
// package, then talks only to the public HTTP APIs any client uses
// (/api/v1/query, query_range, series, label values, rules, alerts,
// silences, notifications, dashboards). The Go side never renders data into
// HTML; the browser builds DOM nodes with textContent, never innerHTML, so
// label values such as "<script>" are shown as text. Alerting endpoints
// that do not exist yet answer 404 and the pages say so instead of failing.
//
// Why no framework and no bundler: Stratus is one binary built with `go
// build`, and `make run` and `make test` must stay the only commands. A
// JavaScript toolchain would add a second build, a lock file of hundreds of
// packages and generated files to keep in sync with the sources. Modern
// browsers load native ES modules directly, the app is a handful of pages,
// and the one component a library would usually supply, a time-series chart,
// is a few hundred lines of canvas code (static/js/chart.js) that we can
// tune for 50 series of 1,440 points. What you read in static/ is exactly
// what the browser runs.
package ui
