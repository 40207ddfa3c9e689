#!/usr/bin/env bash
# Instructions per `ctx search` (in process, under callgrind) on the stdlib demo tree and on four
# copies of it, for one or two builds: a deterministic figure for comparing changes to lib/index
# on this machine, where wall and CPU time of a 1–3 ms search move by ±20 % from run to run and
# perf has no hardware counters. Each build's tests/bench/bench_search_cg loads (or first builds)
# the index outside the measurement, warms up once, then runs each query REPEAT times.
#
# With EDIT_ROUNDS=N (> 0) a second phase times edits as the daemon applies them (bench_search_cg's
# BENCH_EDIT_ROUNDS: a comment line written into the middle of `tempfile.py`, the watcher's sync,
# then the search; the settle after each round, outside the measurement): per tree, build and
# query, the instructions of one edit + search (callgrind, the mean of N rounds) and — natively,
# in turn base / new twice — the median wall time of N rounds and of the sync alone.
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
EDIT_ROUNDS="${EDIT_ROUNDS:-0}"
[[ "$EDIT_ROUNDS" -gt 0 ]] || exit 0
EDIT_QUERIES=("json decode error"
              "how do I make sure that the temporary files created by my test suite are removed even when a test fails halfway through and raises an exception before cleanup runs")
for tree in demo x4; do
  for arg in "new=$NEW" ${BASE:+"base=$BASE"}; do
    label="${arg%%=*}"
    bin="${arg#*=}/tests/bench/bench_search_cg"
    out="$TMP/cge-$tree-$label"
    BENCH_EDIT=tempfile.py BENCH_EDIT_ROUNDS="$EDIT_ROUNDS" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
      "$bin" "$TMP/$tree" 1 "${EDIT_QUERIES[@]}" >/dev/null 2>"$out.log"
    python3 - "$tree" "$label" "$EDIT_ROUNDS" "$out" <<'PY'
import glob, json, re, sys
tree, label, rounds, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
total = {}
for f in glob.glob(out + ".*"):
    if f.endswith(".log"):
        continue
    text = open(f, encoding="utf-8", errors="replace").read()
    q = re.search(r"^desc: Trigger: Client Request: edit: (.*)$", text, re.M)
    ir = re.search(r"^summary: (\d+)$", text, re.M)
    if q and ir:
        total[q.group(1)] = total.get(q.group(1), 0) + int(ir.group(1))
for q, ir in total.items():
    print(json.dumps({"tree": tree, "build": label, "query": q, "instructions_per_edit_and_search": ir // rounds}))
PY
  done
  for pass in 1 2; do
    for arg in ${BASE:+"base=$BASE"} "new=$NEW"; do
      label="${arg%%=*}"
      BENCH_EDIT=tempfile.py BENCH_EDIT_ROUNDS="$EDIT_ROUNDS" "${arg#*=}/tests/bench/bench_search_cg" "$TMP/$tree" 1 \
        "${EDIT_QUERIES[@]}" 2>/dev/null | sed "s/^/{$tree $label pass $pass} /"
    done
  done
done
