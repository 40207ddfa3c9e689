#!/usr/bin/env bash
# Instructions per `ctx search` (in process, under callgrind) on the stdlib demo tree and on four
# copies of it, for one or two builds: a deterministic figure for comparing changes to lib/index
# on this machine, where wall and CPU time of a 1–3 ms search move by ±20 % from run to run and
# perf has no hardware counters. Each build's tests/bench/bench_search_cg loads (or first builds)
# the index outside the measurement, warms up once, then runs each query REPEAT times.
#
# Usage: scripts/bench_search_cg.sh NEW_BUILD [BASE_BUILD] [REPEAT]
# Needs valgrind (scripts/setup.sh installs it). Private trees under a temp dir.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/bench_common.sh
source "$ROOT/scripts/bench_common.sh"
NEW="$(cd "${1:?usage: bench_search_cg.sh NEW_BUILD [BASE_BUILD] [REPEAT]}" && pwd)"
BASE="${2:-}"; [[ -n "$BASE" ]] && BASE="$(cd "$BASE" && pwd)"
REPEAT="${3:-3}"
command -v valgrind >/dev/null || { echo "bench_search_cg.sh: valgrind is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
QUERIES=("json decode error" tempfile "http cookie parser" "thread pool executor" "utf8 codec" "subprocess pipe"
         "shutil copytree" "asyncio event loop"
         # Misspelt and absent words: the typo correction and did_you_mean search the vocabulary.
         "jsno decodr" "threadpol executr" "zqxv blorptastic"
         # Long and common-word queries: a pasted traceback, a question as an agent words it, and
         # words most chunks hold (the pruning's hard cases).
         'Traceback (most recent call last): File "/usr/lib/python3.11/json/decoder.py", line 337, in decode obj, end = self.raw_decode(s, idx=_w(s, 0).end()) File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode raise JSONDecodeError("Expecting value", s, err.value) from None json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)'
         "how do I make sure that the temporary files created by my test suite are removed even when a test fails halfway through and raises an exception before cleanup runs"
         "self return def none"
         # One common word alone (block-max: the blocks that can reach the page are scored).
         self error)
echo "# machine: $(nproc) cores, $(uname -sr); date: $(date -u +%FT%TZ); commit: $(git -C "$ROOT" rev-parse --short HEAD); repeat: $REPEAT"
demo_copy "$TMP/demo"
mkdir -p "$TMP/x4"
cp -r "$TMP/demo/." "$TMP/x4/"
for i in 2 3 4; do cp -r "$TMP/demo" "$TMP/x4/copy$i"; done
for tree in demo x4; do
  for arg in "new=$NEW" ${BASE:+"base=$BASE"}; do
    label="${arg%%=*}"
    bin="${arg#*=}/tests/bench/bench_search_cg"
    # Build (or load) the index natively first: only the searches run under valgrind.
    "$bin" "$TMP/$tree" 1 tempfile >/dev/null
    out="$TMP/cg-$tree-$label"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$TMP/$tree" "$REPEAT" "${QUERIES[@]}" \
      >/dev/null 2>"$out.log"
    for f in "$out".*; do
      [[ "$f" == *.log ]] && continue
      q=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
      [[ -n "$q" ]] || continue
      ir=$(sed -n 's/^summary: //p' "$f")
      python3 -c 'import json, sys; print(json.dumps({"tree": sys.argv[1], "build": sys.argv[2], "query": sys.argv[3],
                                                   "instructions_per_search": int(sys.argv[4])}))' \
        "$tree" "$label" "$q" "$((ir / REPEAT))"
    done
  done
done
