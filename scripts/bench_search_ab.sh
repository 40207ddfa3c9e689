#!/usr/bin/env bash
# In-daemon `ctx.search` latency of two or more builds, side by side, on one tree (issue 12): each
# build's daemon (no Pyright) builds its own copy of the tree cold, then every query is sent over
# one persistent connection per daemon, in rounds that alternate the builds (PER requests a
# round, the order flipped every round), so the machine's load falls on every build alike. Prints
# per query the median round trip (the request's time in the daemon plus a socket round trip; no
# process start) and the daemon CPU per request, and the last build's median ÷ the first's.
# scripts/bench_search_scale.sh measures whole-process times; this measures only the search, with
# less noise, for A/B comparisons of search code.
#
# Usage: scripts/bench_search_ab.sh TREE COPIES ROUNDS PER label=BUILD_DIR [label=BUILD_DIR ...]
#   TREE: a source tree, e.g. the stdlib demo tree (`demo`: scripts/demo.sh's, as bench_common.sh
#   finds it); COPIES: 1, or 4 for the tree of four copies of it that bench_search_scale.sh uses.
#   BENCH_QUERIES=long: only the three long query shapes; BENCH_QUERIES=file:PATH: the queries of
#   PATH, one a line (each printed with its own medians; the last line sums them up).
# Private sockets/state/trees under a temp dir; every daemon started here is stopped here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/bench_common.sh
source "$ROOT/scripts/bench_common.sh"
usage="usage: bench_search_ab.sh TREE COPIES ROUNDS PER label=BUILD ..."
TREE="${1:?$usage}"
COPIES="${2:?$usage}"
ROUNDS="${3:?$usage}"
PER="${4:?$usage}"
shift 4
[[ $# -ge 2 ]] || { echo "$usage (at least two builds)" >&2; exit 2; }
bench_trees "$TREE" "$COPIES" "$@"  # sets TMP, prints the machine line
python3 - "$TMP" "$ROUNDS" "$PER" "${BENCH_QUERIES:-all}" "${builds[@]}" <<'PY'
import json, statistics, sys, time
from bench_daemon import Daemon
tmp, rounds, per, which = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
builds = [a.split("=", 1) for a in sys.argv[5:]]
LONG = ['Traceback (most recent call last): File "/usr/lib/python3.11/json/decoder.py", line 337, in decode obj, end = self.raw_decode(s, idx=_w(s, 0).end()) File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode raise JSONDecodeError("Expecting value", s, err.value) from None json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
        "how do I make sure that the temporary files created by my test suite are removed even when a test fails halfway through and raises an exception before cleanup runs",
        "self return def none"]
SHORT = ["json decode error", "tempfile", "http cookie parser", "thread pool executor", "utf8 codec",
         "subprocess pipe", "shutil copytree", "asyncio event loop", "jsno decodr"]
if which.startswith("file:"):  # one query a line
    queries = [l.strip() for l in open(which[5:], encoding="utf-8") if l.strip()]
else:
    queries = LONG if which == "long" else LONG + SHORT
daemons = {}
try:
    for label, b in builds:
        daemons[label] = Daemon(label, b, f"{tmp}/{label}")
        daemons[label].build_segment()
        daemons[label].connect("bench_search_ab")
    labels = list(daemons)
    summary = {l: [] for l in labels}

    def call(label, method, params):
        return daemons[label].call(method, params)

    def cpu_ms(label):
        return daemons[label].cpu_ms()

    for q in queries:
        wall = {l: [] for l in labels}
        cpu = {l: 0.0 for l in labels}
        for label in labels:
            call(label, "ctx.search", {"segment": daemons[label].seg, "query": q})  # warm-up
        for r in range(rounds):
            for label in (labels if r % 2 == 0 else labels[::-1]):
                c0 = cpu_ms(label)
                for _ in range(per):
                    t = time.perf_counter()
                    call(label, "ctx.search", {"segment": daemons[label].seg, "query": q})
                    wall[label].append((time.perf_counter() - t) * 1000)
                cpu[label] += cpu_ms(label) - c0
        med = {l: statistics.median(wall[l]) for l in labels}
        print(json.dumps({"bench": "search_ab", "query": q[:40],
                          **{l: {"median_ms": round(med[l], 3), "cpu_ms_per_request": round(cpu[l] / (rounds * per), 3)} for l in labels},
                          "ratio": round(med[labels[-1]] / med[labels[0]], 3)}), flush=True)
        for l in labels:
            summary[l].append(med[l])
    if len(queries) > 1:
        print(json.dumps({"bench": "search_ab_summary", "queries": len(queries),
                          **{l: {"sum_of_medians_ms": round(sum(summary[l]), 3),
                                 "median_of_medians_ms": round(statistics.median(summary[l]), 3)} for l in labels},
                          "median_ratio": round(statistics.median(
                              [b / a for a, b in zip(summary[labels[0]], summary[labels[-1]])]), 3)}), flush=True)
finally:
    for d in daemons.values():
        d.stop()
print(f"# load at the end: {' '.join(open('/proc/loadavg').read().split()[:3])}")
PY
