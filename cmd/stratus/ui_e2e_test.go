package main

// Browser tests of the web UI: the real binary, data pushed over remote
// write, and Debian's Chromium driven by chromedp. They check what a user
// sees (series in the chart, panels with data, escaped labels), measure
// page-load-to-first-chart with the Performance API, and save screenshots
// (to $STRATUS_UI_SCREENSHOTS, or a temporary directory).

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/prometheus/prompb"
)

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium with the flags that work on our CI
// machines, a fresh profile and a 1280x800 window.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser tests need %s (apt-get install chromium; .ci/run installs it)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func screenshotDir(t *testing.T) string {
	if d := os.Getenv("STRATUS_UI_SCREENSHOTS"); d != "" {
		os.MkdirAll(d, 0o755)
		return d
	}
	return t.TempDir()
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(dir, name+".png")
	os.WriteFile(path, png, 0o644)
	t.Logf("screenshot: %s", path)
}

// poll waits until the JavaScript expression is truthy and returns it.
func poll[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.querySelector("main").innerText.slice(0, 2000)`))
		t.Fatalf("%s: %v\npage: %s", what, err, state)
	}
	return v
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// setText sets the value of the element matching sel and fires "input",
// as typing would.
func setText(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event("input")); })()`, sel, v))
}

// uiData pushes the data the UI tests look at: 50 series of 1,440
// one-minute points (the Explore benchmark), the metrics of the two
// built-in dashboards over the last 6 hours, and a label holding HTML.
func uiData(t *testing.T, addr string, now time.Time) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	// The oldest point is 23h59m old: inside the default 24 h max_sample_age.
	end := now.Truncate(time.Second).UnixMilli()
	var batch []prompb.TimeSeries
	flush := func() {
		if len(batch) == 0 {
			return
		}
		code, err := remoteWrite(client, addr, batch)
		if err != nil || code != http.StatusNoContent {
			t.Fatalf("remote write: %d %v", code, err)
		}
		batch = batch[:0]
	}
	add := func(points int, f func(i int) float64, ls ...string) {
		labels := []prompb.Label{}
		for i := 0; i < len(ls); i += 2 {
			labels = append(labels, prompb.Label{Name: ls[i], Value: ls[i+1]})
		}
		samples := make([]prompb.Sample, points)
		for i := range samples {
			samples[i] = prompb.Sample{Timestamp: end - int64(points-1-i)*60_000, Value: f(i)}
		}
		batch = append(batch, prompb.TimeSeries{Labels: labels, Samples: samples})
		if len(batch) >= 20 {
			flush()
		}
	}
	for s := range 50 {
		add(1440, func(i int) float64 { return 100 + float64(s)*3 + 20*math.Sin(float64(i)/90+float64(s)) }, "__name__", "ui_bench_latency_ms", "idx", fmt.Sprintf("%02d", s))
	}
	const pts = 360 // six hours
	countries := []string{"DE", "FR", "ES", "IT", "UK"}
	tables := []string{"accounts", "invoices", "payments"}
	for ci, c := range countries {
		progress := []float64{1, 0.8, 0.45, 0.2, 0}[ci]
		add(pts, func(i int) float64 { return math.Min(1, progress*float64(i+60)/float64(pts+60)) }, "__name__", "migration_cutover_progress_ratio", "country", c)
		add(pts, func(i int) float64 { return 1 }, "__name__", "migration_cutover_in_progress", "country", c)
		add(pts, func(i int) float64 { return float64(i) * (900 + 100*float64(ci)) }, "__name__", "migration_rows_processed_total", "country", c)
		add(pts, func(i int) float64 { return float64(i) * float64(2+3*ci) }, "__name__", "migration_rows_failed_total", "country", c)
		for ti, tb := range tables {
			add(pts, func(i int) float64 { return 5 + float64(ci*ti)*4 + 30*math.Abs(math.Sin(float64(i)/40+float64(ti))) }, "__name__", "migration_replication_lag_seconds", "country", c, "table", tb)
			add(pts, func(i int) float64 { return 1e6*float64(ti+1) + float64(i)*100 }, "__name__", "migration_source_rows", "country", c, "table", tb)
			add(pts, func(i int) float64 { return 1e6*float64(ti+1) + float64(i)*100 - float64(ci*ti*50) }, "__name__", "migration_target_rows", "country", c, "table", tb)
			add(pts, func(i int) float64 { return float64(ci*200+ti*50) + 40*math.Sin(float64(i)/25) }, "__name__", "migration_retry_queue_depth", "country", c, "table", tb)
		}
	}
	services := []string{"billing", "checkout", "search"}
	buckets := []string{"0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"}
	for si, svc := range services {
		for inst := range 2 {
			instance := fmt.Sprintf("%s-%d:8080", svc, inst)
			rate := 50.0 * float64(si+1)
			add(pts, func(i int) float64 { return float64(i) * 60 * rate }, "__name__", "http_server_requests_total", "service", svc, "instance", instance, "code", "200")
			add(pts, func(i int) float64 { return float64(i) * 60 * rate * 0.01 * float64(si+1) }, "__name__", "http_server_requests_total", "service", svc, "instance", instance, "code", "500")
			add(pts, func(i int) float64 { return float64(i) * 60 * (0.3 + 0.1*float64(si)) }, "__name__", "process_cpu_seconds_total", "service", svc, "instance", instance)
			add(pts, func(i int) float64 { return 1 }, "__name__", "process_cpu_limit_cores", "service", svc, "instance", instance)
			add(pts, func(i int) float64 { return (1 + 0.3*float64(si) + 0.1*math.Sin(float64(i)/30)) * (1 << 30) }, "__name__", "process_resident_memory_bytes", "service", svc, "instance", instance)
			add(pts, func(i int) float64 { return 2 * (1 << 30) }, "__name__", "process_memory_limit_bytes", "service", svc, "instance", instance)
			up := 1.0
			if si == 2 && inst == 1 {
				up = 0
			}
			add(pts, func(i int) float64 { return up }, "__name__", "up", "job", svc, "instance", instance)
		}
		for bi, le := range buckets {
			frac := []float64{0.3, 0.55, 0.8, 0.93, 0.98, 0.995, 1}[bi]
			add(pts, func(i int) float64 { return float64(i) * 60 * 100 * float64(si+1) * frac }, "__name__", "http_server_request_duration_seconds_bucket", "service", svc, "le", le)
		}
		for _, state := range []string{"closed", "open"} {
			v := 0.0
			if (state == "open") == (svc == "checkout") {
				v = 1
			}
			add(pts, func(i int) float64 { return v }, "__name__", "resilience4j_circuitbreaker_state", "service", svc, "name", "payments-api", "state", state)
		}
	}
	add(10, func(i int) float64 { return 42 }, "__name__", "ui_xss_probe", "payload", `<script>window.__xss=1</script><img src=x onerror="window.__xss=2"><b>bold</b>`)
	flush()
}

// TestUIInBrowser runs the UI against a real server with pushed data.
func TestUIInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := newBrowser(t)
	addr := freeAddr(t)
	p := startStratus(t, addr, t.TempDir())
	uiData(t, addr, time.Now())
	base := "http://" + addr
	shots := screenshotDir(t)
	nav := func(t *testing.T, path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path)); err != nil {
			t.Fatalf("navigate %s: %v", path, err)
		}
	}

	t.Run("csp", func(t *testing.T) {
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("GET / Content-Security-Policy = %q", csp)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("GET / Content-Type = %q", ct)
		}
	})

	t.Run("explore", func(t *testing.T) {
		q := url.Values{"q": {"ui_bench_latency_ms"}, "range": {"24h"}, "step": {"60"}}
		var loads []float64
		for range 5 {
			nav(t, "/explore?"+q.Encode())
			n := poll[string](t, ctx, "chart with 50 series", `(document.querySelector("#result .chart[data-drawn]") || {dataset: {}}).dataset.series`)
			if n != "50" {
				t.Fatalf("chart shows %s series, want 50", n)
			}
			loads = append(loads, poll[float64](t, ctx, "first-chart mark", `(performance.getEntriesByName("stratus:first-chart")[0] || {}).startTime`))
		}
		slices.Sort(loads)
		t.Logf("BENCH explore: page load to first chart, 50 series x 1440 points: median %.0f ms, min %.0f, max %.0f (5 loads)", loads[2], loads[0], loads[4])
		info := eval[string](t, ctx, `document.querySelector(".result-info").textContent`)
		if !strings.Contains(info, "50 series, 72,000 points") {
			t.Errorf("result info = %q, want 50 series of 1,440 points", info)
		}
		names := eval[[]string](t, ctx, `[...document.querySelectorAll(".legend-name")].map(e => e.textContent)`)
		if len(names) != 50 || !slices.Contains(names, `ui_bench_latency_ms{idx="07"}`) {
			t.Errorf("legend = %d entries %q", len(names), names[:min(3, len(names))])
		}
		// Hover shows a tooltip with values.
		if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 700, 330)); err != nil {
			t.Fatal(err)
		}
		poll[bool](t, ctx, "hover tooltip", `!document.querySelector(".chart-tip").hidden && document.querySelectorAll(".chart-tip tr").length > 0`)
		shot(t, ctx, shots, "explore")

		// The URL keeps the state: it is shareable.
		href := eval[string](t, ctx, `location.href`)
		if !strings.Contains(href, "q=ui_bench_latency_ms") || !strings.Contains(href, "range=24h") {
			t.Errorf("URL %q does not hold the query state", href)
		}

		// Autocompletion of metric names.
		if err := chromedp.Do(ctx, setText("#expr", ""), chromedp.Focus("#expr"), chromedp.SendKeys("#expr", "ui_bench_l")); err != nil {
			t.Fatal(err)
		}
		poll[bool](t, ctx, "metric completion", `[...document.querySelectorAll("#completions li")].some(li => li.textContent.startsWith("ui_bench_latency_ms"))`)
		// Label completion inside braces.
		if err := chromedp.Do(ctx, setText("#expr", ""), chromedp.SendKeys("#expr", "ui_bench_latency_ms{i")); err != nil {
			t.Fatal(err)
		}
		poll[bool](t, ctx, "label completion", `[...document.querySelectorAll("#completions li")].some(li => li.textContent.startsWith("idx"))`)

		// A syntax error is shown at its position; Ctrl+Enter runs.
		if err := chromedp.Do(ctx, setText("#expr", "sum(rate(ui_bench_latency_ms[5m]) by"), chromedp.Focus("#expr"),
			chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl))); err != nil {
			t.Fatal(err)
		}
		caret := poll[string](t, ctx, "positioned parse error", `(document.querySelector(".query-error .error-pos") || {}).textContent`)
		if !strings.Contains(caret, "^") {
			t.Errorf("error position = %q", caret)
		}
		shot(t, ctx, shots, "explore-error")
	})

	t.Run("explore-atlas", func(t *testing.T) {
		// A link with an Atlas expression charts it through the graph API.
		q := url.Values{"lang": {"atlas"}, "q": {"name,ui_bench_latency_ms,:eq,:max,(,idx,),:by"}, "range": {"24h"}, "step": {"60"}}
		nav(t, "/explore?"+q.Encode())
		if n := poll[string](t, ctx, "Atlas chart with 50 series", `(document.querySelector("#result .chart[data-drawn]") || {dataset: {}}).dataset.series`); n != "50" {
			t.Fatalf("chart shows %s series, want 50", n)
		}
		names := eval[[]string](t, ctx, `[...document.querySelectorAll(".legend-name")].map(e => e.textContent)`)
		if len(names) != 50 || !slices.Contains(names, "(idx=07)") {
			t.Errorf("legend = %d entries %q", len(names), names[:min(3, len(names))])
		}
		if info := eval[string](t, ctx, `document.querySelector(".result-info").textContent`); !strings.HasPrefix(info, "50 series, 72,") || !strings.Contains(info, "step 60s") {
			t.Errorf("result info = %q, want 50 series of a day at a one-minute step", info)
		}
		// The instant/range switch does not apply to the stack language.
		if hidden := eval[bool](t, ctx, `document.querySelector("#seg-mode").hidden`); !hidden {
			t.Error("range/instant switch shown for Atlas")
		}
		shot(t, ctx, shots, "explore-atlas")

		// From PromQL, the toggle switches the language; Ctrl+Enter runs
		// the stack expression typed in.
		nav(t, "/explore?"+url.Values{"q": {"ui_bench_latency_ms"}, "range": {"24h"}}.Encode())
		poll[string](t, ctx, "PromQL chart", `(document.querySelector("#result .chart[data-drawn]") || {dataset: {}}).dataset.series`)
		if err := chromedp.Do(ctx, chromedp.Click(`#seg-lang [data-v="atlas"]`)); err != nil {
			t.Fatal(err)
		}
		// The PromQL text stays with PromQL; Atlas starts empty.
		poll[bool](t, ctx, "empty Atlas editor", `document.querySelector("#expr").value === "" && document.querySelector("#result").textContent.includes(":eq,:sum")`)
		if err := chromedp.Do(ctx, setText("#expr", "name,ui_bench_latency_ms,:eq,(,idx,),:by,max,5,:topk,$idx,:legend"), chromedp.Focus("#expr"),
			chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl))); err != nil {
			t.Fatal(err)
		}
		poll[bool](t, ctx, "top 5 lines", `(document.querySelector("#result .chart[data-drawn]") || {dataset: {}}).dataset.series === "5"`)
		// The five with the highest maximum over the day: the series are
		// offset by 3 per idx and each has a whole sine wave in the day.
		names = eval[[]string](t, ctx, `[...document.querySelectorAll(".legend-name")].map(e => e.textContent)`)
		if !slices.Equal(names, []string{"49", "48", "47", "46", "45"}) {
			t.Errorf("top 5 legend = %q, want 49, 48, 47, 46, 45", names)
		}
		if href := eval[string](t, ctx, `location.href`); !strings.Contains(href, "lang=atlas") || !strings.Contains(href, "%3Atopk") {
			t.Errorf("URL %q does not hold the Atlas query", href)
		}

		// The server-rendered PNG of the same expression.
		if err := chromedp.Do(ctx, chromedp.Click(`#seg-view [data-v="png"]`)); err != nil {
			t.Fatal(err)
		}
		size := poll[[]int](t, ctx, "server-rendered PNG", `(() => { const i = document.querySelector("#graph-png"); return i && i.dataset.loaded ? [i.naturalWidth, i.naturalHeight] : null; })()`)
		if size[0] < 400 || size[1] < 300 {
			t.Errorf("PNG is %dx%d", size[0], size[1])
		}
		src := eval[string](t, ctx, `document.querySelector("#graph-png").src`)
		resp, err := http.Get(src)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
			t.Errorf("GET %s: %d %s", src, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		shot(t, ctx, shots, "explore-atlas-png")

		// Completion: a tag's values, and words after ":".
		if err := chromedp.Do(ctx, chromedp.Click(`#seg-view [data-v="chart"]`), setText("#expr", ""), chromedp.Focus("#expr"), chromedp.SendKeys("#expr", "name,ui_bench_l")); err != nil {
			t.Fatal(err)
		}
		poll[bool](t, ctx, "tag value completion", `[...document.querySelectorAll("#completions li")].some(li => li.textContent.startsWith("ui_bench_latency_ms"))`)
		if err := chromedp.Do(ctx, chromedp.SendKeys("#expr", "atency_ms,:eq,:rolling-m")); err != nil {
			t.Fatal(err)
		}
		poll[bool](t, ctx, "word completion", `[...document.querySelectorAll("#completions li")].some(li => li.textContent.startsWith(":rolling-max"))`)

		// An unknown word is shown at its position.
		if err := chromedp.Do(ctx, setText("#expr", "name,ui_bench_latency_ms,:eq,:sum,:nope"), chromedp.Focus("#expr"),
			chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl))); err != nil {
			t.Fatal(err)
		}
		msg := poll[string](t, ctx, "positioned stack error", `(document.querySelector(".query-error:not([hidden]) .error-pos") || {}).textContent`)
		if want := "name,ui_bench_latency_ms,:eq,:sum,:nope\n" + strings.Repeat(" ", 34) + "^"; msg != want {
			t.Errorf("error position = %q, want %q", msg, want)
		}
		if e := eval[string](t, ctx, `document.querySelector(".query-error").textContent`); !strings.Contains(e, ":nope is not a known word") {
			t.Errorf("error = %q", e)
		}
		shot(t, ctx, shots, "explore-atlas-error")
	})

	t.Run("dashboard-atlas-panel", func(t *testing.T) {
		// Dashboard panels take stack expressions written as in alert
		// rules, with "atlas:".
		body := `{"schemaVersion": 1, "id": "atlas-test", "title": "Atlas panels", "panels": [
			{"title": "Latency by idx (Atlas)", "type": "timeseries", "width": 8, "queries": [{"expr": "atlas:name,ui_bench_latency_ms,:eq,:max,(,idx,),:by,max,3,:topk"}]},
			{"title": "Highest latency (Atlas)", "type": "stat", "width": 4, "unit": "ms", "queries": [{"expr": "atlas:name,ui_bench_latency_ms,:eq,:max"}]}]}`
		req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/dashboards/atlas-test", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("PUT dashboard: %v %v", err, resp)
		}
		resp.Body.Close()
		nav(t, "/dashboards/atlas-test")
		poll[string](t, ctx, "loaded", `(document.querySelector(".grid[data-loaded]") || {dataset: {}}).dataset.loaded`)
		panels := eval[[]map[string]string](t, ctx, `[...document.querySelectorAll(".panel")].map(p => ({state: p.dataset.state || "", series: p.dataset.series || "0", err: (p.querySelector(".panel-error") || {}).textContent || "", text: p.textContent}))`)
		if len(panels) != 2 || panels[0]["state"] != "ok" || panels[0]["series"] != "3" || panels[1]["state"] != "ok" || panels[1]["series"] != "1" {
			t.Errorf("panels = %v", panels)
		}
		shot(t, ctx, shots, "dashboard-atlas")
	})

	t.Run("escaping", func(t *testing.T) {
		nav(t, "/explore?"+url.Values{"q": {"ui_xss_probe"}, "mode": {"instant"}, "view": {"table"}}.Encode())
		text := poll[string](t, ctx, "table row", `(document.querySelector("#result-table tbody") || {}).textContent`)
		if !strings.Contains(text, `<script>window.__xss=1</script>`) || !strings.Contains(text, "<b>bold</b>") {
			t.Errorf("label not shown as text: %q", text)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("#result script, #result img, #result b").length`); n != 0 {
			t.Errorf("label HTML became %d elements", n)
		}
		if x := eval[bool](t, ctx, `window.__xss !== undefined`); x {
			t.Error("label HTML ran script")
		}
		shot(t, ctx, shots, "escaping")
	})

	t.Run("dashboards", func(t *testing.T) {
		for _, id := range []string{"migration-overview", "service-health"} {
			var loads []float64
			for range 5 {
				nav(t, "/dashboards/"+id)
				poll[string](t, ctx, id+" loaded", `(document.querySelector(".grid[data-loaded]") || {dataset: {}}).dataset.loaded`)
				loads = append(loads, poll[float64](t, ctx, "dashboard-ready mark", `(performance.getEntriesByName("stratus:dashboard-ready")[0] || {}).startTime`))
			}
			slices.Sort(loads)
			panels := eval[[]map[string]string](t, ctx, `[...document.querySelectorAll(".panel")].map(p => ({title: p.querySelector(".panel-title").textContent, state: p.dataset.state || "", series: p.dataset.series || "0", err: (p.querySelector(".panel-error") || {}).textContent || ""}))`)
			t.Logf("BENCH dashboard %s: %d panels, page load to all panels rendered: median %.0f ms, min %.0f, max %.0f (5 loads)", id, len(panels), loads[2], loads[0], loads[4])
			if len(panels) != 12 {
				t.Errorf("%s: %d panels, want 12", id, len(panels))
			}
			for _, pn := range panels {
				if pn["state"] != "ok" || pn["series"] == "0" {
					t.Errorf("%s: panel %q: state %q, %s series %s", id, pn["title"], pn["state"], pn["series"], pn["err"])
				}
			}
			shot(t, ctx, shots, "dashboard-"+id)
		}
		// A template variable narrows the panels.
		nav(t, "/dashboards/migration-overview?var-country=DE")
		poll[string](t, ctx, "loaded", `(document.querySelector(".grid[data-loaded]") || {dataset: {}}).dataset.loaded`)
		if n := eval[string](t, ctx, `[...document.querySelectorAll(".panel")].find(p => p.querySelector(".panel-title").textContent === "Cut-over progress").dataset.series`); n != "1" {
			t.Errorf("with $country=DE the cut-over chart has %s series, want 1", n)
		}
		nav(t, "/dashboards")
		poll[bool](t, ctx, "dashboard list", `document.querySelectorAll(".dash-card").length >= 2`)
		shot(t, ctx, shots, "dashboards")
	})

	t.Run("dashboard-edit-save", func(t *testing.T) {
		nav(t, "/dashboards/ui-test/edit?new=1")
		poll[bool](t, ctx, "editor", `!!document.querySelector("#save")`)
		if err := chromedp.Do(ctx, chromedp.Click("#add-panel"), chromedp.Click("#save")); err != nil {
			t.Fatal(err)
		}
		poll[bool](t, ctx, "saved", `(document.querySelector(".flash-ok") || {}).textContent?.includes("Saved")`)
		resp, err := http.Get(base + "/api/v1/dashboards/ui-test")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("saved dashboard not served: %v %v", err, resp)
		}
		resp.Body.Close()
		shot(t, ctx, shots, "dashboard-edit")
	})

	t.Run("alerts", func(t *testing.T) {
		nav(t, "/alerts")
		// Until the alerting API is wired, each section says so.
		poll[bool](t, ctx, "alerts page settled", `!(document.querySelector("#alerts-list") || {textContent: "Loading"}).textContent.includes("Loading")`)
		resp, err := http.Get(base + "/api/v1/silences")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		shot(t, ctx, shots, "alerts")
		if resp.StatusCode == http.StatusNotFound {
			if !strings.Contains(eval[string](t, ctx, `document.querySelector("#silences-list").textContent`), "Not available yet") {
				t.Error("silences section does not say the API is missing")
			}
			t.Log("silence create/expire not tested: /api/v1/silences is not served by this build")
			return
		}
		// Create a silence, then expire it.
		if err := chromedp.Do(ctx, chromedp.Click("#new-silence"), chromedp.WaitVisible("#silence-form"),
			setText(".m-value", "UITestAlert"), setText("#silence-by", "ui-test"),
			setText("#silence-comment", "browser test"), chromedp.Click("#create-silence")); err != nil {
			t.Fatal(err)
		}
		poll[bool](t, ctx, "silence listed", `[...document.querySelectorAll(".silence-row")].some(r => r.textContent.includes("UITestAlert") && r.dataset.state === "active")`)
		if err := chromedp.Do(ctx, chromedp.Click(".silence-row[data-state=active] .expire")); err != nil {
			t.Fatal(err)
		}
		poll[bool](t, ctx, "silence expired", `[...document.querySelectorAll(".silence-row")].some(r => r.textContent.includes("UITestAlert") && r.dataset.state === "expired")`)
	})

	t.Run("status", func(t *testing.T) {
		nav(t, "/status")
		poll[bool](t, ctx, "cardinality", `[...document.querySelectorAll("#cardinality td")].some(td => td.textContent === "ui_bench_latency_ms")`)
		poll[bool](t, ctx, "config", `(document.querySelector("#config") || {textContent: ""}).textContent.includes("data_dir")`)
		shot(t, ctx, shots, "status")
	})

	t.Run("home", func(t *testing.T) {
		nav(t, "/")
		poll[bool](t, ctx, "home panels", `document.querySelectorAll(".panel[data-state]").length >= 4`)
		shot(t, ctx, shots, "home")
		// Dark theme.
		if err := chromedp.Do(ctx, chromedp.Click(".topbar-right button")); err != nil {
			t.Fatal(err)
		}
		nav(t, "/dashboards/service-health")
		poll[string](t, ctx, "loaded", `(document.querySelector(".grid[data-loaded]") || {dataset: {}}).dataset.loaded`)
		shot(t, ctx, shots, "dark-service-health")
	})
	p.stop(t)
}
