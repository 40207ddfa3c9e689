#!/usr/bin/env bash
# AST skeleton benchmark (issue 4): cold build on all cores vs a raw single-thread tree-sitter
# parse, warm rebuild, restart with the persisted cache — on a *copy* of the machine's Python
# standard library (the cache writes <copy>/_ctx/cache/ast.sqlite, never into /usr/lib).
#
#   scripts/bench_ast.sh [build-dir] [runs]      (defaults: build, 5)
#
# Prints the machine, the command and a Markdown table for docs/benchmarks.md ("## AST skeletons").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
RUNS="${2:-5}"
STDLIB="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])' 2>/dev/null || true)"
[[ -d /usr/lib/python3.11 ]] && STDLIB=/usr/lib/python3.11
if [[ ! -d "$STDLIB" ]]; then echo "no Python stdlib found" >&2; exit 1; fi

ninja -C "$BUILD" bench_ast >/dev/null
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Copy only the .py files, keeping the layout (symlinks followed, as a checkout would have them).
python3 - "$STDLIB" "$WORK/stdlib" <<'PY'
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
for d, _, files in os.walk(src, followlinks=False):
    for f in files:
        if f.endswith(".py") and os.path.isfile(os.path.join(d, f)):
            out = os.path.join(dst, os.path.relpath(d, src))
            os.makedirs(out, exist_ok=True)
            shutil.copyfile(os.path.join(d, f), os.path.join(out, f))
PY

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "corpus: copy of $STDLIB ($(find "$WORK/stdlib" -name '*.py' | wc -l) .py files, $(du -sh "$WORK/stdlib" | cut -f1))"
echo "command: scripts/bench_ast.sh $BUILD $RUNS  (bench_ast <copy> $RUNS)"
echo
"$BUILD/tests/bench/bench_ast" "$WORK/stdlib" "$RUNS"
