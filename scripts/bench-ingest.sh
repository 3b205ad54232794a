#!/usr/bin/env bash
# bench-ingest.sh: the same remote-write load (`stratus loadgen`) against
# Stratus, VictoriaMetrics single-node and Prometheus, one server at a time,
# in one run on this machine. Prints accepted samples/s, latency, server CPU
# seconds, resident memory (after the run, and its anonymous part; its
# mean over the run sampled once a second; the peak), and the ratios
# BENCHMARKS.md reports.
#
# Usage: scripts/bench-ingest.sh           (from the repository root)
# Environment:
#   DURATION=60s   load per server
#   SERIES=100000 PER_REQUEST=5000 CONCURRENCY=4   the workload (keep the defaults
#                  for figures that go into BENCHMARKS.md)
#   TARGETS="stratus victoria-metrics prometheus"
#   PROFILE=file   also take a 10s CPU profile of Stratus mid-run into file
#
# Needs Debian's victoria-metrics and prometheus packages
# (apt-get install -y --no-install-recommends victoria-metrics prometheus).
# Everything listens on 127.0.0.1 only; every wait has a deadline and every
# server started here is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60s}
SERIES=${SERIES:-100000}
PER_REQUEST=${PER_REQUEST:-5000}
CONCURRENCY=${CONCURRENCY:-4}
TARGETS=${TARGETS:-"stratus victoria-metrics prometheus"}
PROFILE=${PROFILE:-}

for bin in victoria-metrics prometheus curl; do
  command -v "$bin" >/dev/null || { echo "bench-ingest: $bin not found; see the header of $0" >&2; exit 1; }
done

work=$(mktemp -d /tmp/bench-ingest.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build stratus"
go build -o "$work/stratus" ./cmd/stratus

# free_port asks the kernel for a free loopback port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

# wait_ready polls a URL until it answers 200, for at most 60 seconds.
wait_ready() {
  local url=$1 deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "bench-ingest: $url not ready after 60s" >&2; return 1; fi
    sleep 0.2
  done
}

# cpu_seconds prints a process' user+system CPU time.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

results="$work/results"
: >"$results"
for target in $TARGETS; do
  port=$(free_port)
  data="$work/data-$target"
  mkdir -p "$data"
  case $target in
  stratus)
    "$work/stratus" serve --listen-addr "127.0.0.1:$port" --data-dir "$data" --log-level warn >"$work/$target.log" 2>&1 &
    server_pid=$!
    ready="http://127.0.0.1:$port/-/ready"
    ;;
  victoria-metrics)
    victoria-metrics -storageDataPath "$data" -httpListenAddr "127.0.0.1:$port" -loggerLevel WARN >"$work/$target.log" 2>&1 &
    server_pid=$!
    ready="http://127.0.0.1:$port/health"
    ;;
  prometheus)
    printf 'global:\n  scrape_interval: 1m\n' >"$work/prometheus.yml"
    prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$data" \
      --web.listen-address "127.0.0.1:$port" --web.enable-remote-write-receiver --log.level warn >"$work/$target.log" 2>&1 &
    server_pid=$!
    ready="http://127.0.0.1:$port/-/ready"
    ;;
  *) echo "bench-ingest: unknown target $target" >&2; exit 1 ;;
  esac
  wait_ready "$ready" || { cat "$work/$target.log" >&2; exit 1; }

  if [ "$target" = stratus ] && [ -n "$PROFILE" ]; then
    (sleep 20 && curl -fsS -o "$PROFILE" "http://127.0.0.1:$port/debug/pprof/profile?seconds=10") &
  fi
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  cpu_before=$(cpu_seconds "$server_pid")
  echo "== $target on 127.0.0.1:$port (load average before: $load_before)"
  # bash's time keyword measures the load generator's own CPU, which
  # competes with the server for the same cores.
  TIMEFORMAT='%U %S'
  # Sample the server's resident memory once a second while the load runs;
  # the loop is bounded and ends with the server or at the deadline.
  (
    end=$((SECONDS + 3600)) # killed when the load ends; the bound is a backstop
    while [ $SECONDS -lt $end ] && [ -r "/proc/$server_pid/status" ]; do
      awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || true
      sleep 1
    done
  ) >"$work/rss-$target" &
  sampler_pid=$!
  { time out=$("$work/stratus" loadgen --quiet --target "http://127.0.0.1:$port/api/v1/write" \
    --series "$SERIES" --series-per-request "$PER_REQUEST" --concurrency "$CONCURRENCY" --duration "$DURATION") || {
    echo "$out"; echo "bench-ingest: load against $target failed" >&2; cat "$work/$target.log" >&2; exit 1; }; } 2>"$work/loadgen-time"
  loadgen_cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$work/loadgen-time")
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  mean_kb=$(awk '{ s += $1; n++ } END { printf "%d", n ? s / n : 0 }' "$work/rss-$target")
  cpu_after=$(cpu_seconds "$server_pid")
  rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")
  hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
  # RssAnon is the process' own memory; the rest of VmRSS is file pages,
  # mostly the binary's mapped code and read-only data.
  anon_kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$server_pid/status")
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "$out"
  rate=$(sed -n 's/.*accepted_samples_per_sec=\([0-9]*\).*/\1/p' <<<"$out")
  p50=$(sed -n 's/.*latency_p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  p99=$(sed -n 's/.*latency_p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  accepted=$(sed -n 's/.*samples_accepted=\([0-9]*\).*/\1/p' <<<"$out")
  cpu=$(awk -v a="$cpu_after" -v b="$cpu_before" 'BEGIN { printf "%.1f", a - b }')
  echo "$target $rate $p50 $p99 $cpu $accepted $rss_kb $hwm_kb $loadgen_cpu $mean_kb $load_after $anon_kb" >>"$results"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  rm -rf "$data"
done

echo
echo "== results (workload: $SERIES series, $PER_REQUEST per request, $CONCURRENCY senders, $DURATION per server)"
awk '
  BEGIN { printf "%-17s %12s %8s %8s %8s %14s %9s %9s %9s %9s %10s  %s\n", "server", "samples/s", "p50 ms", "p99 ms", "cpu s", "cpu us/sample", "RSS MiB", "anon MiB", "mean MiB", "peak MiB", "loadgen s", "load avg after" }
  {
    printf "%-17s %12d %8s %8s %8s %14.2f %9.0f %9.0f %9.0f %9.0f %10s  %s %s %s\n", $1, $2, $3, $4, $5, $5 * 1e6 / ($6 > 0 ? $6 : 1), $7 / 1024, $14 / 1024, $10 / 1024, $8 / 1024, $9, $11, $12, $13
    rate[$1] = $2; rss[$1] = $7; anon[$1] = $14; mean[$1] = $10; peak[$1] = $8; cpus[$1] = $5 * 1e6 / ($6 > 0 ? $6 : 1)
  }
  END {
    if (rate["stratus"] && rate["victoria-metrics"])
      printf "Stratus/VictoriaMetrics: samples/s %.2fx (goal >= 1.5x), RSS after %.2fx (goal <= 0.5x), its anonymous part %.2fx, mean %.2fx, peak %.2fx, CPU per sample %.2fx\n",
        rate["stratus"] / rate["victoria-metrics"], rss["stratus"] / rss["victoria-metrics"], anon["stratus"] / anon["victoria-metrics"], mean["stratus"] / mean["victoria-metrics"],
        peak["stratus"] / peak["victoria-metrics"], cpus["stratus"] / cpus["victoria-metrics"]
    if (rate["stratus"] && rate["prometheus"])
      printf "Stratus/Prometheus:      samples/s %.2fx (goal >= 3x), RSS %.2fx, CPU per sample %.2fx\n",
        rate["stratus"] / rate["prometheus"], rss["stratus"] / rss["prometheus"], cpus["stratus"] / cpus["prometheus"]
  }' "$results"
