#!/usr/bin/env bash
# Whole-process latency of `trifecta ctx map` against a warm daemon on the stdlib demo tree, with
# `trifecta ctx search` and `trifecta ping` measured in the same run as references.
#   scripts/bench_map.sh [build-dir] [runs]
# Prints the machine, then one row per command: median, p90 and min wall time (ms) over `runs`
# (default 30) runs, each a fresh `trifecta` process; the last two rows time the first map after
# each of `runs` edits of one file. The daemon (--no-lsp, private socket) is
# started here, builds the index once, and is stopped at the end. Results go to docs/benchmarks.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
RUNS="${2:-30}"
source "$ROOT/scripts/bench_common.sh"
TRIFECTAD="$BUILD/daemon/trifectad"
TRIFECTA="$BUILD/client/trifecta"
[[ -x "$TRIFECTAD" && -x "$TRIFECTA" ]] || { echo "build trifectad and trifecta first" >&2; exit 1; }

WORK="$(mktemp -d /tmp/trifecta-bench-map-XXXXXX)"
SOCK="$WORK/trifectad.sock"
DPID=""
cleanup() {
  [[ -n "$DPID" ]] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
demo_copy "$WORK/stdlib"
TREE="$WORK/stdlib"

echo "## machine"
echo "- $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "- $(uname -sr), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- tree: stdlib demo copy ($(find "$TREE" -name '*.py' | wc -l) .py files)"

XDG_RUNTIME_DIR="$WORK" "$TRIFECTAD" --foreground --no-lsp --socket "$SOCK" --idle-timeout 0 2>"$WORK/daemon.log" &
DPID=$!
T=("$TRIFECTA" --socket "$SOCK" --no-spawn --timeout 300)
for _ in $(seq 100); do "${T[@]}" ping >/dev/null 2>&1 && break; sleep 0.1; done
"${T[@]}" ctx build -s "$TREE" >/dev/null

report() {  # label, then the times (µs): a table row of median, p90 and min (ms)
  local label="$1"; shift
  printf '%s\n' "$@" | python3 -c '
import sys
v = sorted(int(x) / 1000 for x in sys.stdin)
n = len(v)
print(f"| {sys.argv[1]} | {v[n // 2]:.1f} | {v[min(n - 1, (n * 9) // 10)]:.1f} | {v[0]:.1f} |")' "$label"
}

# One run of trifecta with the given arguments, its wall time (µs) appended to the caller's
# `times`. Bash's own clock: `$(date +%s%N)` forked two processes a run, whose start (~2.5 ms
# each on the 2-core VM) was counted in every figure.
time_run() {
  local t0 t1
  t0=${EPOCHREALTIME/[.,]/}
  "${T[@]}" "$@" >/dev/null
  t1=${EPOCHREALTIME/[.,]/}
  times+=("$(( 10#$t1 - 10#$t0 ))")
}

measure() {  # label, then the trifecta arguments
  local label="$1"; shift
  "${T[@]}" "$@" >/dev/null  # warm-up (skeleton cache, page cache)
  local times=()
  for _ in $(seq "$RUNS"); do time_run "$@"; done
  report "$label" "${times[@]}"
}

# The first map after the index changed: each run appends a line to a file, brings the index up
# to date (`ctx build`, not timed), waits out the settle that follows and times the map. A
# comment keeps the import graph (and the package re-exports worked out from it); an import
# changes it, and the map works them out again.
measure_after_edit() {  # label, the line to append (`$i`: the run), then the trifecta arguments
  local label="$1" line="$2"; shift 2
  local times=() edited="$TREE/json/tool.py"
  for i in $(seq "$RUNS"); do
    echo "${line//\$i/$i}" >>"$edited"
    "${T[@]}" ctx build -s "$TREE" >/dev/null
    sleep 1  # past the index's background settle after a change (0.13 s here)
    time_run "$@"
  done
  report "$label" "${times[@]}"
}

echo
echo "## whole-process latency, warm daemon, $RUNS runs each"
echo "| command | median ms | p90 ms | min ms |"
echo "|---|---|---|---|"
measure "trifecta ping" ping
measure "trifecta ctx search json decode" ctx search -s "$TREE" json decode
measure "trifecta ctx map (whole tree, budget 1024)" ctx map -s "$TREE"
measure "trifecta ctx map --budget 8000" ctx map -s "$TREE" --budget 8000
measure "trifecta ctx map json (folder)" ctx map -s "$TREE" "$TREE/json"
measure "trifecta ctx map --json" --json ctx map -s "$TREE"
measure_after_edit "trifecta ctx map, first after a comment edit" '# edit $i' ctx map -s "$TREE"
measure_after_edit "trifecta ctx map, first after an import edit" 'import json.decoder as _d$i' \
  ctx map -s "$TREE"
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
