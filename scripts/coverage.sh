#!/usr/bin/env bash
# Line and branch coverage per module, from a build made with -DTRIFECTA_COVERAGE=ON whose test
# suite has run (`make coverage` does both). Reads the .gcda files with gcovr (Debian's package,
# installed by scripts/setup.sh), writes build-coverage/coverage/{summary.json,summary.txt}, prints
# one row per module (lib/<module>, daemon, client, proto) and a total, and exits 1 when a module
# or the total is below its floor in scripts/coverage_floors.txt (the figures CI holds).
#
#   scripts/coverage.sh [BUILD_DIR]          (default build-coverage)
#   COVERAGE_FLOORS=/dev/null scripts/coverage.sh   report only, no floors
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build-coverage}" && pwd)"
FLOORS="${COVERAGE_FLOORS:-$ROOT/scripts/coverage_floors.txt}"
OUT="$BUILD/coverage"
mkdir -p "$OUT"
command -v gcovr > /dev/null || { echo "coverage: gcovr is not installed (scripts/setup.sh installs it)" >&2; exit 2; }
if ! find "$BUILD" -name '*.gcda' -print -quit | grep -q .; then
  echo "coverage: no .gcda files under $BUILD: build with -DTRIFECTA_COVERAGE=ON and run the tests first" >&2
  exit 2
fi
# Throw branches and compiler-made branches on lines without code say nothing about the tests.
# --gcov-ignore-parse-errors: a counter line gcov cannot print (a negative branch count, from
# threads racing on a counter — the build uses -fprofile-update=atomic against exactly that) is
# reported on stderr and skipped, rather than losing the whole report.
gcovr --root "$ROOT" --object-directory "$BUILD" --gcov-ignore-parse-errors \
  --filter "$ROOT/lib/" --filter "$ROOT/daemon/" --filter "$ROOT/client/" --filter "$ROOT/proto/" \
  --exclude-unreachable-branches --exclude-throw-branches -j 2 \
  --json-summary-pretty --output "$OUT/summary.json" 2> "$OUT/gcovr.stderr" || gcovr_status=$?
cat "$OUT/gcovr.stderr" >&2
[[ "${gcovr_status:-0}" -eq 0 ]] || exit 2
# Damaged counters (a count near -2^63) make gcov print lines gcovr skips; the files they come
# from then read as less covered than they are (docs/coverage.md). Say so next to the figures.
damaged=$(grep -c 'UnknownLineType' "$OUT/gcovr.stderr" || true)
if [[ "$damaged" -gt 0 ]]; then
  echo "coverage: warning: $damaged gcov line(s) with damaged counters were skipped; a module below its floor" \
    "may be an artefact (rerun gcovr with -v to see which .gcda file)" >&2
fi
# A test that failed or was killed at its limit in this run, or a process whose exit-time write
# of its counters libgcov reported as failing, leaves counters short — for the modules of every
# object it links, not only its own (every unit test links the whole core library). Twice a
# module fell below its floor in CI with a test killed at its limit (docs/coverage.md): say so
# next to the figures. CTest's log of the run holds each test's output and verdict.
LOG="$BUILD/Testing/Temporary/LastTest.log"
if [[ -f "$LOG" ]]; then
  failed=$(grep -a -A1 '^Test Failed\.$' "$LOG" | sed -n 's/^"\(.*\)" end time:.*/\1/p' || true)
  if [[ -n "$failed" ]]; then
    echo "coverage: warning: $(wc -l <<< "$failed") test(s) failed or were killed at their limit in this run" \
      "($(head -3 <<< "$failed" | paste -sd ';' -)); their counters are missing, and a process killed" \
      "while writing them can leave other modules' short" >&2
  fi
  gcov_errors=$(grep -a '^profiling:' "$LOG" || true)
  if [[ -n "$gcov_errors" ]]; then
    echo "coverage: warning: libgcov reported $(wc -l <<< "$gcov_errors") problem(s) writing counters" \
      "(first: $(head -1 <<< "$gcov_errors")); the modules of those files may read as less covered" >&2
  fi
fi
python3 "$ROOT/scripts/coverage_report.py" "$OUT/summary.json" "$FLOORS" | tee "$OUT/summary.txt"
exit "${PIPESTATUS[0]}"
