#!/usr/bin/env bash
# Benchmark lib/index + lib/disclosure on a copy of the machine's Python standard library.
#   scripts/bench_index.sh [build-dir] [python-stdlib-dir]
# Prints the machine, then bench_index's report (cold build, warm restart, search vs rg -l -i,
# ctx.get per mode, skeleton vs raw bytes), then RSS of a fresh process after a cold build and
# after a warm restart. Results are recorded by hand in docs/benchmarks_index.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
STDLIB="${2:-/usr/lib/python3.11}"  # the system Python's stdlib (not a pyenv/venv one)
BENCH="$BUILD/tests/bench/bench_index"
[[ -x "$BENCH" ]] || { echo "build bench_index first (ninja -C $BUILD bench_index)" >&2; exit 1; }
command -v rg >/dev/null || { echo "ripgrep (rg) is needed for the comparison" >&2; exit 1; }

CORPUS="$(mktemp -d /tmp/trifecta-bench-XXXXXX)"
trap 'rm -rf "$CORPUS"' EXIT
# A copy, without bytecode caches (they are excluded from indexing anyway).
(cd "$STDLIB" && tar --exclude=__pycache__ -cf - .) | (cd "$CORPUS" && tar xf -)

echo "## machine"
echo "- $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "- $(uname -sr), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- corpus: copy of $STDLIB ($(find "$CORPUS" -name '*.py' | wc -l) .py files, $(du -sh "$CORPUS" | cut -f1))"
echo "- rg $(rg --version | head -1 | cut -d' ' -f2)"
echo
echo "## bench_index $CORPUS --rounds ${ROUNDS:-5}"
"$BENCH" "$CORPUS" --rounds "${ROUNDS:-5}"
echo
echo "## RSS (fresh processes)"
"$BENCH" "$CORPUS" --phase rss-cold
"$BENCH" "$CORPUS" --phase rss-warm
