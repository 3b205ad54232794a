#!/usr/bin/env bash
# bench-query.sh: the same PromQL range queries over HTTP against Stratus and
# VictoriaMetrics single-node, both loaded with the same data over remote
# write, in one run on this machine; per query the median latency of each
# and the ratio Stratus / VictoriaMetrics (x-time; below 1 means Stratus is
# faster). The work is BenchmarkQueryHTTPVsVictoriaMetrics in
# cmd/stratus/query_bench_test.go: data set, queries and procedure are
# described there and in BENCHMARKS.md ("## Query").
#
# Usage: scripts/bench-query.sh           (from the repository root)
# Environment:
#   ROUNDS=10        timed runs per query and server (the median is reported)
#   SERIES=10000     series in the data set (2h at 10s each)
#   PROFILE=file     also save a 10 s CPU profile of Stratus taken while the
#                    queries run (go tool pprof -top file)
#
# Needs Debian's victoria-metrics package
# (apt-get install -y --no-install-recommends victoria-metrics). Everything
# listens on 127.0.0.1 only; every wait has a deadline and the benchmark
# kills every server it started.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-10}
SERIES=${SERIES:-10000}
PROFILE=${PROFILE:-}

command -v victoria-metrics >/dev/null || { echo "bench-query: victoria-metrics not found; see the header of $0" >&2; exit 1; }
echo "== victoria-metrics $(dpkg-query -W -f '${Version}' victoria-metrics 2>/dev/null || echo "(version unknown)"); $(go version); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "$PROFILE" ]; then
  PROFILE=$(realpath -m "$PROFILE")
fi
STRATUS_BENCH_VM=1 STRATUS_BENCH_SERIES=$SERIES STRATUS_BENCH_PROFILE=$PROFILE \
  go test -run '^$' -bench 'QueryHTTPVsVictoriaMetrics' -benchtime "${ROUNDS}x" -timeout 30m -v ./cmd/stratus/ |
  grep -Ev '^(=== RUN|goos|goarch|pkg|cpu)'
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
