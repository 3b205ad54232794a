package querytest

import "fmt"

// Expressions returns the PromQL expressions of the differential test over
// the Data set: every function for floats, every aggregation and operator,
// with offsets, @, subqueries, NaN and ±Inf, and the error cases
// (duplicate label sets, many-to-many matching).
func Expressions() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	// lit adds an expression as written: % in it is PromQL's modulo.
	lit := func(expr string) { out = append(out, expr) }

	counters := []string{
		`http_requests_total`,
		`http_requests_total{code="500"}`,
		`http_requests_total{job=~"a.*|web", code!="404"}`,
		`pod_memory_bytes`,
		`job_last_success_seconds`,
	}
	gauges := []string{`node_temperature_celsius`, `balance`, `pod_memory_bytes`, `job_last_success_seconds{job="batch"}`}

	// Selectors, offset and @.
	for _, s := range append(counters, gauges[:2]...) {
		add("%s", s)
		add("%s offset 3m", s)
	}
	lit(`http_requests_total @ 1800`)
	lit(`http_requests_total @ start()`)
	lit(`node_temperature_celsius @ end() offset 10m`)
	lit(`node_temperature_celsius offset -2m`)
	lit(`{__name__=~"node_.*|balance"}`)
	lit(`{job="api"}`)

	// Range-vector functions.
	for _, fn := range []string{"rate", "increase", "irate", "delta", "idelta", "deriv", "resets", "changes"} {
		for _, rng := range []string{"1m", "5m", "137s"} {
			add("%s(%s[%s])", fn, counters[0], rng)
		}
		add("%s(%s[5m] offset 2m)", fn, counters[2])
		add("%s(%s[10m])", fn, counters[3])
		add("%s(%s[20m])", fn, counters[4])
	}
	lit(`rate(http_requests_total[5m] @ 3600)`)
	lit(`increase(http_requests_total{code="200"}[1h])`)
	lit(`rate(http_requests_total[30s])`)
	lit(`delta(node_temperature_celsius[10m])`)
	lit(`deriv(node_temperature_celsius[10m])`)
	lit(`idelta(node_temperature_celsius[3m])`)
	lit(`irate(node_temperature_celsius[3m])`)
	for _, fn := range []string{"avg", "sum", "min", "max", "count", "last", "first", "present", "stddev", "stdvar", "mad", "absent", "ts_of_min", "ts_of_max", "ts_of_last", "ts_of_first"} {
		for _, s := range gauges {
			add("%s_over_time(%s[10m])", fn, s)
		}
		add("%s_over_time(%s[90s] offset 1m)", fn, counters[1])
	}
	lit(`absent_over_time(nonexistent{job="x"}[5m])`)
	lit(`absent_over_time(nonexistent{job="x", job=~"y"}[5m])`)
	for _, q := range []string{"0", "0.25", "0.5", "0.99", "1", "-1", "2"} {
		add("quantile_over_time(%s, node_temperature_celsius[15m])", q)
	}
	lit(`predict_linear(node_temperature_celsius[10m], 600)`)
	lit(`predict_linear(http_requests_total{code="200"}[15m], 3600)`)
	lit(`predict_linear(balance[30m], -300)`)
	lit(`double_exponential_smoothing(node_temperature_celsius[10m], 0.3, 0.6)`)
	lit(`double_exponential_smoothing(balance[30m], 0.8, 0.1)`)
	lit(`double_exponential_smoothing(balance[30m], 1, 0.1)`)

	// Instant-vector functions.
	for _, fn := range []string{"abs", "ceil", "floor", "sqrt", "ln", "log2", "log10", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "rad", "deg", "sgn", "exp"} {
		add("%s(node_temperature_celsius)", fn)
	}
	lit(`asin(balance / 1000)`)
	lit(`acos(balance / 1000)`)
	lit(`atanh(balance / 1000)`)
	lit(`exp(balance)`)
	lit(`round(node_temperature_celsius)`)
	lit(`round(node_temperature_celsius, 0.5)`)
	lit(`round(balance, 10)`)
	lit(`clamp(node_temperature_celsius, 15, 25)`)
	lit(`clamp(node_temperature_celsius, 25, 15)`)
	lit(`clamp_min(balance, 0)`)
	lit(`clamp_max(balance, 0)`)
	lit(`timestamp(node_temperature_celsius)`)
	lit(`timestamp(job_last_success_seconds)`)
	lit(`timestamp(rate(http_requests_total[5m]))`)
	lit(`timestamp(node_temperature_celsius @ 3000)`)
	lit(`vector(1)`)
	lit(`vector(time())`)
	lit(`scalar(balance)`)
	lit(`scalar(node_temperature_celsius)`)
	lit(`time()`)
	lit(`pi()`)
	for _, fn := range []string{"minute", "hour", "day_of_week", "day_of_month", "day_of_year", "days_in_month", "month", "year"} {
		add("%s()", fn)
		add("%s(job_last_success_seconds)", fn)
	}
	lit(`hour(vector(1700000000))`)
	lit(`days_in_month(vector(1709251200))`)
	lit(`absent(nonexistent)`)
	lit(`absent(nonexistent{job="a", instance=~"b"})`)
	lit(`absent(http_requests_total)`)
	lit(`absent(sum(nonexistent))`)
	lit(`sort(node_temperature_celsius)`)
	lit(`sort_desc(node_temperature_celsius)`)
	lit(`sort(rate(http_requests_total[5m]))`)
	lit(`sort_desc(sum by (job) (rate(http_requests_total[5m])))`)
	lit(`sort_by_label(http_requests_total, "instance", "code")`)
	lit(`sort_by_label_desc(http_requests_total, "code")`)
	lit(`label_replace(http_requests_total, "svc", "$1-svc", "job", "(.*)")`)
	lit(`label_replace(http_requests_total, "job", "", "job", "a.*")`)
	lit(`label_replace(http_requests_total, "__name__", "renamed", "", "")`)
	lit(`label_replace(rate(http_requests_total[5m]), "code", "x", "code", ".*")`)
	lit(`label_join(http_requests_total, "id", "/", "job", "instance", "code")`)
	lit(`label_join(node_temperature_celsius, "zone", "", "instance")`)

	// Classic histograms.
	for _, q := range []string{"0", "0.5", "0.9", "0.99", "1", "-0.5", "1.5", "NaN"} {
		add("histogram_quantile(%s, rate(request_duration_seconds_bucket[5m]))", q)
	}
	lit(`histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))`)
	lit(`histogram_quantile(0.9, sum by (le, job) (increase(request_duration_seconds_bucket[10m])))`)
	lit(`histogram_quantile(0.5, request_duration_seconds_bucket)`)
	lit(`histogram_quantile(0.5, request_duration_seconds_bucket{le!="+Inf"})`)
	lit(`histogram_quantile(0.5, {__name__=~"request_duration_seconds_bucket", le=~"0.1|1|\\+Inf"})`)
	lit(`histogram_fraction(0, 0.25, rate(request_duration_seconds_bucket[5m]))`)
	lit(`histogram_fraction(0.1, 1, sum by (le) (request_duration_seconds_bucket))`)
	lit(`rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])`)

	// Aggregations.
	inner := `rate(http_requests_total[5m])`
	for _, op := range []string{"sum", "min", "max", "avg", "count", "group", "stddev", "stdvar"} {
		add("%s(%s)", op, inner)
		add("%s by (job) (%s)", op, inner)
		add("%s without (instance) (%s)", op, inner)
		add("%s by (job, code) (node_temperature_celsius or %s)", op, inner)
		add("%s(node_temperature_celsius)", op)
	}
	lit(`sum by (__name__) ({__name__=~"queue_.*"})`)
	lit(`avg without (zone) (node_temperature_celsius)`)
	lit(`sum(http_requests_total) by (code)`)
	lit(`count by (le) (request_duration_seconds_bucket)`)
	for _, q := range []string{"0", "0.5", "0.9", "1", "-1", "1.1"} {
		add("quantile(%s, %s)", q, inner)
		add("quantile by (job) (%s, node_temperature_celsius)", q)
	}
	for _, k := range []string{"1", "3", "0", "100", "scalar(balance)"} {
		add("topk(%s, %s)", k, inner)
		add("bottomk(%s, %s)", k, inner)
		add("topk by (job) (%s, http_requests_total)", k)
		add("bottomk without (code) (%s, node_temperature_celsius)", k)
	}
	lit(`topk(2, node_temperature_celsius)`)
	lit(`bottomk(2, node_temperature_celsius)`)
	lit(`limitk(2, http_requests_total)`)
	lit(`limitk by (job, instance, code) (1, http_requests_total)`)
	lit(`limitk by (job) (1, http_requests_total)`)
	lit(`count(limitk(3, rate(http_requests_total[5m])))`)
	for _, r := range []string{"0.5", "-0.5", "1", "0.1", "-1"} {
		add("limit_ratio(%s, http_requests_total)", r)
	}
	lit(`count_values("value", http_requests_total{code="500"} > 0)`)
	lit(`count_values("v", round(node_temperature_celsius))`)
	lit(`count_values by (job) ("v", ceil(rate(http_requests_total[5m])))`)
	lit(`count_values without (instance) ("v", floor(node_temperature_celsius / 10))`)

	// Binary operators.
	for _, op := range []string{"+", "-", "*", "/", "%", "^", "atan2"} {
		add("node_temperature_celsius %s 3", op)
		add("2 %s balance", op)
		add("rate(http_requests_total[5m]) %s on (job, instance, code) rate(http_requests_total[1m])", op)
	}
	for _, op := range []string{"==", "!=", ">", "<", ">=", "<="} {
		add("node_temperature_celsius %s 20", op)
		add("node_temperature_celsius %s bool 20", op)
		add("20 %s node_temperature_celsius", op)
		add("20 %s bool node_temperature_celsius", op)
		add("http_requests_total %s http_requests_total offset 1m", op)
		add("http_requests_total %s bool ignoring (code) group_left http_requests_total{code=\"200\"}", op)
		add("1 %s bool 2", op)
	}
	lit(`sum by (job, instance) (rate(http_requests_total[5m])) / on (job, instance) group_right sum by (job, instance, code) (rate(http_requests_total[5m]))`)
	lit(`rate(http_requests_total[5m]) / ignoring (code) group_left sum without (code) (rate(http_requests_total[5m]))`)
	lit(`rate(http_requests_total[5m]) * on (job, instance) group_left (zone) node_temperature_celsius`)
	lit(`http_requests_total * on (instance) group_left (zone) label_replace(node_temperature_celsius, "instance", "10.0.0.1:80", "instance", "n0")`)
	lit(`request_duration_seconds_bucket / ignoring (le) group_left request_duration_seconds_count`)
	lit(`queue_depth / queue_capacity`)
	lit(`queue_depth / ignoring (__name__) queue_capacity`)
	lit(`-node_temperature_celsius`)
	lit(`-(-balance)`)
	lit(`+balance`)
	lit(`1 / 0`)
	lit(`-1 / 0`)
	lit(`0 / 0`)
	lit(`node_temperature_celsius / 0`)
	lit(`2 ^ 10 % 7`)
	lit(`balance % -3`)
	lit(`(1 + 2) * 3 - 4 / 5`)
	lit(`time() - timestamp(job_last_success_seconds)`)

	// Set operators.
	lit(`http_requests_total{code="200"} and http_requests_total{job="api"}`)
	lit(`http_requests_total and on (job) node_temperature_celsius`)
	lit(`http_requests_total{code="500"} or http_requests_total{code="404"}`)
	lit(`node_temperature_celsius > 22 or node_temperature_celsius < 18`)
	lit(`rate(http_requests_total[5m]) or on (job) vector(0)`)
	lit(`http_requests_total unless http_requests_total{job="db"}`)
	lit(`http_requests_total unless on (job) http_requests_total{code="200", job="web"}`)
	lit(`pod_memory_bytes unless ignoring (pod) pod_memory_bytes{pod="p1"}`)
	lit(`sum(rate(http_requests_total[5m])) or vector(0)`)
	lit(`(node_temperature_celsius and node_temperature_celsius > 20) or node_temperature_celsius * 0`)

	// Subqueries.
	lit(`max_over_time(rate(http_requests_total[1m])[10m:1m])`)
	lit(`avg_over_time(node_temperature_celsius[15m:])`)
	lit(`rate(http_requests_total[5m:30s])`)
	lit(`sum_over_time(balance[10m:2m] offset 3m)`)
	lit(`min_over_time(sum by (job) (rate(http_requests_total[2m]))[20m:45s])`)
	lit(`deriv(avg(node_temperature_celsius)[30m:1m])`)
	lit(`max_over_time(deriv(rate(http_requests_total[1m])[5m:1m])[10m:])`)
	lit(`count_over_time(pod_memory_bytes[30m:1m])`)
	lit(`last_over_time(node_temperature_celsius[10m:1m] @ 3600)`)
	lit(`quantile_over_time(0.5, node_temperature_celsius[20m:3m])`)
	lit(`absent_over_time(nonexistent[10m:1m])`)
	lit(`present_over_time(job_last_success_seconds[10m:1m])`)
	lit(`changes(round(node_temperature_celsius)[20m:1m])`)
	lit(`increase(http_requests_total{code="200"}[10m:1m] offset 2m)`)

	// Errors.
	lit(`rate({__name__=~"queue_.*"}[5m])`)
	lit(`{__name__=~"queue_.*"} * 2`)
	lit(`abs({__name__=~"queue_.*"})`)
	lit(`http_requests_total + on (job) http_requests_total`)
	lit(`http_requests_total{code="200"} + on (job) group_left http_requests_total`)
	lit(`sum by (job) (http_requests_total) + ignoring (job) sum by (job) (http_requests_total)`)
	lit(`label_replace(http_requests_total, "code", "x", "code", ".*")`)
	lit(`topk(NaN, http_requests_total)`)
	lit(`double_exponential_smoothing(balance[30m], 0, 0.5)`)
	return out
}
