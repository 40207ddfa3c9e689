#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for a fixed time each (docs/fuzzing.md). The targets
# are built by `make fuzz` (clang, -DTRIFECTA_FUZZ=ON: libFuzzer + ASan + UBSan) in BUILD_DIR.
# Each target starts from its seed corpus in tests/fuzz/corpus/<name>/ (read only) plus a working
# corpus in BUILD_DIR/fuzz-corpus/<name>/ that keeps what earlier runs found; a crash, a leak, a
# UBSan report, an input slower than FUZZ_TIMEOUT or an RSS over FUZZ_RSS_MB fails the run and
# leaves the input in BUILD_DIR/fuzz-artifacts/<name>/ (replay: BUILD_DIR/tests/fuzz/fuzz_<name> FILE).
#
# The tree-sitter targets (extractor, chunker, navigation) also start from FUZZ_DAMAGED (1500; 0:
# none) inputs of damaged Python that tests/fuzz/damaged_python.py cuts from the standard library
# (seed FUZZ_DAMAGED_SEED, 7), in BUILD_DIR/fuzz-damaged/<name>/, written again each run.
#
#   scripts/fuzz.sh [BUILD_DIR] [SECONDS_PER_TARGET] [TARGET...]   (default build-fuzz 60, all)
#   exit 0: no target failed; 1: at least one failed (named on stderr); 2: a target is not built
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build-fuzz}" && pwd)"
SECONDS_PER_TARGET="${2:-60}"
shift $(( $# > 2 ? 2 : $# ))
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(request lsp_framing sym_uri extractor chunker tokenizer telemetry_reader navigation)
fi
TIMEOUT="${FUZZ_TIMEOUT:-20}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
MAX_LEN="${FUZZ_MAX_LEN:-16384}"
DAMAGED="${FUZZ_DAMAGED:-1500}"
DAMAGED_SEED="${FUZZ_DAMAGED_SEED:-7}"

failed=()
for t in "${TARGETS[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$t"
  seeds="$ROOT/tests/fuzz/corpus/$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is not built (make fuzz builds it)" >&2
    exit 2
  fi
  work="$BUILD/fuzz-corpus/$t"
  artifacts="$BUILD/fuzz-artifacts/$t"
  mkdir -p "$work" "$artifacts"
  corpora=("$work" "$seeds")
  case "$t" in
    extractor|chunker|navigation)
      if [ "$DAMAGED" -gt 0 ]; then
        damaged="$BUILD/fuzz-damaged/$t"
        rm -rf "$damaged"
        flags=()
        [ "$t" = navigation ] && flags=(--positions)
        rc=0
        python3 "$ROOT/tests/fuzz/damaged_python.py" "$damaged" "$DAMAGED" --seed "$DAMAGED_SEED" "${flags[@]}" || rc=$?
        if [ "$rc" -eq 0 ]; then
          corpora+=("$damaged")
        elif [ "$rc" -eq 3 ]; then
          echo "fuzz: $t without damaged Python (no standard library found)" >&2
        else
          echo "fuzz: tests/fuzz/damaged_python.py failed ($rc)" >&2
          exit 1
        fi
      fi
      ;;
  esac
  log="$BUILD/fuzz-$t.log"
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s (log $log)"
  if "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" \
       -max_len="$MAX_LEN" -print_final_stats=1 -artifact_prefix="$artifacts/" \
       "${corpora[@]}" > "$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $t ok, $runs inputs, corpus $(ls "$work" | wc -l) files"
  else
    echo "fuzz: $t FAILED: see $log and $artifacts/" >&2
    grep -m 5 -E 'ERROR: |runtime error|SUMMARY' "$log" >&2 || tail -20 "$log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET}s each without a failure"
