#!/usr/bin/env bash
# Whole-process latency of `trifecta sym --find NAME` (sym.search, issue 13) against a warm daemon on
# a private copy of the stdlib demo tree: the CLI process from spawn to exit, the daemon already
# holding the segment's symbol table. /bin/true is measured in the same run as the process floor.
# Usage: scripts/bench_sym_search.sh [build-dir] [runs=50]
# Prints a Markdown table (median / p90 / max ms per query) on stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bench_common.sh"
BUILD="${1:-$ROOT/build}"
RUNS="${2:-50}"
for b in daemon/trifectad client/trifecta; do
  [[ -x "$BUILD/$b" ]] || { echo "build $b first" >&2; exit 1; }
done
tmp="$(mktemp -d)"
export XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$XDG_RUNTIME_DIR"
sock="$XDG_RUNTIME_DIR/trifectad.sock"
"$BUILD/daemon/trifectad" --socket "$sock" --no-lsp > "$tmp/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$tmp"' EXIT
tree="$tmp/stdlib"
demo_copy "$tree"
files=$(find "$tree" -name '*.py' | wc -l)
cli=("$BUILD/client/trifecta" --socket "$sock" --no-spawn)
# Warm: open the segment and build its symbol table once.
"${cli[@]}" sym --find JSONDecoder -s "$tree" > /dev/null
python3 - "$RUNS" "$tree" "${cli[@]}" <<'PY'
import statistics, subprocess, sys, time
runs, tree, cli = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
queries = [("exact", ["JSONDecoder", "--match", "exact"]), ("prefix", ["getLog", "--match", "prefix"]),
           ("fuzzy", ["jdcd"]), ("dotted", ["JSONDecoder.dec"]), ("common name, fuzzy", ["get"])]
def timed(argv):
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000
def row(label, argv):
    v = sorted(timed(argv) for _ in range(runs))
    print(f"| {label} | {statistics.median(v):.2f} | {v[int(0.9 * (len(v) - 1))]:.2f} | {v[-1]:.2f} |")
print(f"| `trifecta sym --find` ({runs} runs each) | median ms | p90 | max |")
print("|---|---|---|---|")
row("/bin/true (process floor)", ["/bin/true"])
for label, args in queries:
    row(f"{label}: `{' '.join(args)}`", cli + ["sym", "--find"] + args + ["-s", tree])
PY
echo
echo "Tree: private copy of the demo tree ($files .py files); daemon --no-lsp, warm (segment open, table built)."
