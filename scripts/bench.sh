#!/usr/bin/env bash
# Benchmark driver. Usage: scripts/bench.sh [build-dir] [suite...]
# Suites: telemetry daemon (default: all available). Prints the machine, then one JSON line per
# measurement, REPEAT times each (default 3) so medians across runs can be quoted.
# Results are recorded by hand in docs/benchmarks.md together with this command.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"; shift || true
SUITES=("$@"); [[ ${#SUITES[@]} -gt 0 ]] || SUITES=(telemetry daemon)
REPEAT="${REPEAT:-3}"

echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "# cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)  date: $(date -u +%FT%TZ)  commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
for suite in "${SUITES[@]}"; do
  for ((i = 1; i <= REPEAT; i++)); do
    case "$suite" in
      telemetry) "$BUILD/tests/bench/bench_telemetry" 10000 ;;
      daemon) "$BUILD/tests/bench/bench_daemon" "$BUILD/daemon/trifectad" "$BUILD/client/trifecta" 2000 300 ;;
      *) if [[ -x "$ROOT/scripts/bench_$suite.sh" ]]; then "$ROOT/scripts/bench_$suite.sh" "$BUILD"; else echo "unknown suite $suite" >&2; exit 2; fi ;;
    esac | sed "s/^/[$suite run $i] /"
  done
done
