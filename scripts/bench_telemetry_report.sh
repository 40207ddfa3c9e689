#!/usr/bin/env bash
# `trifecta telemetry report` on a 1,000,000-event events.jsonl: elapsed and CPU time, peak RSS
# (/usr/bin/time), against same-run baselines on the same file: `wc -l` (reading the bytes) and
# tests/bench/telemetry_report_baseline.py (plain Python doing the report's core: parse every
# line, per-command count/errors/p50/p95/max).
#   scripts/bench_telemetry_report.sh [build-dir] [events]
# REPEAT (default 3) runs of each, interleaved; medians printed. The events file is generated once
# (tests/bench/gen_telemetry_events.py, seeded) under BENCH_DATA (default build-dir/bench-data).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build}" && pwd)"
N="${2:-1000000}"
REPEAT="${REPEAT:-3}"
DATA="${BENCH_DATA:-$BUILD/bench-data}/telemetry-$N"
T="$BUILD/client/trifecta"
if [[ ! -s "$DATA/events.jsonl" ]]; then
  echo "generating $N events in $DATA ..." >&2
  python3 "$ROOT/tests/bench/gen_telemetry_events.py" "$N" "$DATA"
fi
echo "file: $(wc -c <"$DATA/events.jsonl") bytes, $N events; commit $(git -C "$ROOT" rev-parse --short HEAD)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
measure() {  # label cmd... → appends "elapsed cpu rss_kib" to $TMP/label
  local label="$1"; shift
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/t" "$@" >/dev/null
  awk '{printf "%s %.2f %d\n", $1, $2 + $3, $4}' "$TMP/t" >>"$TMP/$label"
}
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
for ((i = 1; i <= REPEAT; i++)); do
  echo "run $i: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  measure report "$T" telemetry report --from "$DATA"
  measure report_json "$T" telemetry report --from "$DATA" --json
  measure wc wc -l "$DATA/events.jsonl"
  measure python python3 "$ROOT/tests/bench/telemetry_report_baseline.py" "$DATA/events.jsonl"
done
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
printf '%-34s %12s %12s %14s %s\n' "what" "elapsed (s)" "CPU (s)" "peak RSS (MiB)" "runs (elapsed)"
for label in report report_json wc python; do
  e="$(cut -d' ' -f1 "$TMP/$label" | median)"
  c="$(cut -d' ' -f2 "$TMP/$label" | median)"
  m="$(cut -d' ' -f3 "$TMP/$label" | median)"
  case "$label" in
    report) what="trifecta telemetry report" ;;
    report_json) what="trifecta telemetry report --json" ;;
    wc) what="wc -l (baseline: read the bytes)" ;;
    python) what="python3 baseline (parse + aggregate)" ;;
  esac
  printf '%-34s %12s %12s %14.1f %s\n' "$what" "$e" "$c" "$(echo "$m / 1024" | bc -l)" "$(cut -d' ' -f1 "$TMP/$label" | tr '\n' ' ')"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
