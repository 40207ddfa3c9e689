#!/usr/bin/env bash
# What a rest before a search costs, and what part of it survives which control (issue 12;
# docs/benchmarks.md, "What a rest costs: time, not idleness"). In process, no daemon: per round
# and query, tests/bench/bench_search_cg runs the query REPEAT times in six modes, one after the
# other — back to back; after 1 s asleep (BENCH_REST_MS); after 1 s of busy waiting
# (BENCH_REST_SPIN); after 1 s asleep and then another query of the same shape, untimed
# (BENCH_REST_WARM); that other query alone before each search; 64 MiB written before each
# (BENCH_EVICT_MB: data caches and TLBs emptied). Then bench_rest_pages walks 16 and 64 MiB
# page by page after 1 s asleep and after 1 s busy, the control with nothing of Trifecta in it.
# Prints one tab-separated line per round, query and mode: the median of its REPEAT searches.
#
# Usage: scripts/bench_rest_modes.sh BUILD_DIR TREE [REPEAT] [ROUNDS]   (defaults 8, 2)
# TREE: an indexed tree (its _ctx/cache is loaded; built cold when absent), e.g. four stdlib
# copies. A round takes about 2.5 minutes at REPEAT 8.
set -euo pipefail

build=${1:?usage: bench_rest_modes.sh BUILD_DIR TREE [REPEAT] [ROUNDS]}
tree=${2:?usage: bench_rest_modes.sh BUILD_DIR TREE [REPEAT] [ROUNDS]}
repeat=${3:-8}
rounds=${4:-2}
bench="$build/tests/bench/bench_search_cg"
pages="$build/tests/bench/bench_rest_pages"
for b in "$bench" "$pages"; do
  [[ -x "$b" ]] || { echo "bench_rest_modes: $b is missing (ninja -C $build)" >&2; exit 1; }
done

# Each query and the other query of its shape that warms up after the rest.
queries=("json decode error"
         "self return def none"
         "how do I make sure that the temporary files created by my test suite are removed even when a test fails halfway through and raises an exception before cleanup runs")
others=("http cookie parser"
        "self assert true false"
        "why does my web server return a blank page when the client sends a large upload over a slow network connection with compression")

# run ROUND QUERY MODE VAR=VALUE...: one bench_search_cg run, its median printed.
run() {
  local round=$1 query=$2 mode=$3
  shift 3
  local line
  line=$(env "$@" "$bench" "$tree" "$repeat" "$query" 2>/dev/null | tail -n 1)
  printf '%s\t%s\t%s\t%s\n' "$round" "${query:0:30}" "$mode" "${line##*median }"
}

printf 'round\tquery\tmode\tmedian\n'
for round in $(seq "$rounds"); do
  for i in "${!queries[@]}"; do
    q=${queries[$i]}
    w=${others[$i]}
    run "$round" "$q" back-to-back BENCH_REST_MS=0
    run "$round" "$q" rest-asleep BENCH_REST_MS=1000
    run "$round" "$q" rest-busy BENCH_REST_MS=1000 BENCH_REST_SPIN=1
    run "$round" "$q" rest-asleep+other BENCH_REST_MS=1000 "BENCH_REST_WARM=$w"
    run "$round" "$q" other-only "BENCH_REST_WARM=$w"
    run "$round" "$q" evict64 BENCH_EVICT_MB=64
  done
  for mode in asleep busy; do
    spin=()
    [[ $mode == busy ]] && spin=(BENCH_REST_SPIN=1)
    env "${spin[@]}" "$pages" 1000 6 16 64 |
      while read -r json; do printf '%s\tbench_rest_pages\t%s\t%s\n' "$round" "$mode" "$json"; done
  done
done
