#!/usr/bin/env bash
# Emacs search picker: keypress (RET on the query) to completion candidates ready, and
# `trifecta-map` to the map buffer shown, measured inside Emacs with float-time
# (tests/editors/emacs/bench-picker.el), on the stdlib demo tree with a warm private trifectad.
# Usage:
#   scripts/bench_emacs.sh [build-dir] [runs-per-query=20]
# Prints the machine, then JSON lines: per query and over all queries (median, p10, p90, min, max
# in ms) for the picker, the bare ctx.search round trip on the same connection (interleaved), and
# the CLI (`trifecta --json ctx search`, whole process) as a same-run baseline; then the map and
# the bare ctx.map round trip (emacs_map, emacs_ctx_map_rpc).
# Results are recorded by hand in docs/benchmarks.md ("Editor plugins: Emacs").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
RUNS="${2:-20}"
command -v emacs > /dev/null || { echo "emacs is not installed"; exit 1; }

STDLIB="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])' 2>/dev/null || echo /usr/lib/python3.11)"
DEMO_TREE="${TRIFECTA_DEMO_TREE:-${XDG_CACHE_HOME:-$HOME/.cache}/trifecta-demo/stdlib}"
if [[ ! -f "$DEMO_TREE/json/decoder.py" ]]; then
  mkdir -p "$DEMO_TREE"
  (cd "$STDLIB" && find . -name '*.py' -not -path './site-packages/*' -not -path './dist-packages/*' \
     -exec cp --parents -t "$DEMO_TREE" {} +)
fi

echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME"), $(emacs --version | head -1)"
echo "# cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)  date: $(date -u +%FT%TZ)  commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"

tmp="$(mktemp -d)"
daemon_pid=
trap '[[ -n "$daemon_pid" ]] && kill "$daemon_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
export TRIFECTA_SOCKET="$tmp/d.sock" XDG_STATE_HOME="$tmp/state" TRIFECTA_TELEMETRY_DIR="$tmp/tel"
"$BUILD/daemon/trifectad" --foreground --socket "$TRIFECTA_SOCKET" --log-level warn --no-lsp 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 200); do [[ -S "$TRIFECTA_SOCKET" ]] && break; sleep 0.05; done
"$BUILD/client/trifecta" ctx build -s "$DEMO_TREE" > /dev/null

BENCH_TREE="$DEMO_TREE" BENCH_RUNS="$RUNS" emacs -Q --batch -L "$ROOT/editors/emacs" \
  -l "$ROOT/tests/editors/emacs/bench-picker.el" 2>"$tmp/emacs.log" || { cat "$tmp/emacs.log"; exit 1; }

# Same-run baseline: the CLI, whole process, same queries and limit.
python3 - "$BUILD/client/trifecta" "$DEMO_TREE" "$RUNS" <<'PY'
import json, statistics, subprocess, sys, time
cli, tree, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
queries = ["json decode error", "socket timeout", "http request header", "thread lock acquire",
           "parse command line arguments", "subprocess pipe", "datetime timezone",
           "regular expression compile", "mock patch object", "csv writer row"]
xs = []
for r in range(runs + 1):
    for q in queries:
        t0 = time.perf_counter()
        subprocess.run([cli, "--json", "ctx", "search", "-s", tree, "-n", "50", *q.split()],
                       stdout=subprocess.DEVNULL, check=True)
        if r: xs.append((time.perf_counter() - t0) * 1000)
xs.sort(); n = len(xs)
print(json.dumps({"bench": "cli_ctx_search", "query": "all", "median_ms": round(xs[n // 2], 3),
                  "p10_ms": round(xs[n // 10], 3), "p90_ms": round(xs[9 * n // 10], 3),
                  "min_ms": round(xs[0], 3), "max_ms": round(xs[-1], 3)}))
PY
