#!/usr/bin/env bash
# Edit-then-search in the daemon, two builds interleaved edit by edit (issue 12): what
# bench_search_edit.sh's `edit_search_ms` measures, without its build-after-build phases — on this
# shared machine two phases a few minutes apart differ by ±20 %, more than the changes compared.
# Both builds' daemons (no Pyright) run side by side, each on its own copy of the tree, built cold
# and settled. Per round and query, each build in turn (the order alternating per round): one
# line is written into `tempfile.py` — at its end (`EDIT_AT=end`) or into its middle, indented as
# the line after it (`EDIT_AT=middle`, the default) — with the time in it (no earlier text
# comes back from the skeleton cache), 0.15 s for the watcher's event (`EDIT_PAUSE=S` seconds
# instead), then the search; its round trip on one persistent connection is the figure. Its
# request's sync applies the edit — unless the daemon applied it in the background meanwhile
# (Service::watch_changes, 10 ms after the event: with EDIT_PAUSE above that and the sync, the search
# meets the edit applied, and the index settled when the pause also covers the settle).
# Then 0.7 s for that daemon's settle (`SETTLE_WAIT=S` seconds instead: with 0 on four copies each
# build's next edit lands while its settle of the last one still runs; `ISOLATE=1` stops the other
# build's daemon (SIGSTOP) during each build's turn, so that its settle does not take a core from
# the measured one). Prints, per query, each build's median / p10 / p90 and the
# median of the per-round ratios (second build ÷ first).
#
# Usage: scripts/bench_search_edit_ab.sh TREE COPIES ROUNDS base=BUILD_DIR new=BUILD_DIR
#   TREE: a source tree or `demo`; COPIES: 1 or 4. QUERIES="q1|q2|…" replaces the default three.
# Private sockets, state and trees under a temp dir; both daemons are stopped at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/bench_common.sh
source "$ROOT/scripts/bench_common.sh"
usage="usage: bench_search_edit_ab.sh TREE COPIES ROUNDS label=BUILD label=BUILD"
TREE="${1:?$usage}"
COPIES="${2:?$usage}"
ROUNDS="${3:?$usage}"
shift 3
[[ $# -eq 2 ]] || { echo "$usage" >&2; exit 2; }
bench_trees "$TREE" "$COPIES" "$@"  # sets TMP and builds, prints the machine line
[[ -f "$TMP/one/tempfile.py" ]] || { echo "bench_search_edit_ab.sh: the tree has no tempfile.py to edit" >&2; exit 1; }
EDIT_AT="${EDIT_AT:-middle}" SETTLE_WAIT="${SETTLE_WAIT:-0.7}" EDIT_PAUSE="${EDIT_PAUSE:-0.15}" ISOLATE="${ISOLATE:-0}" python3 - "$TMP" "$ROUNDS" "${builds[@]}" <<'PY'
import json, os, signal, statistics, sys, time
from bench_daemon import Daemon
tmp, rounds = sys.argv[1], int(sys.argv[2])
builds = [a.split("=", 1) for a in sys.argv[3:]]
queries = os.environ.get("QUERIES", "json decode error|self return def none|"
                         "how do I make sure that the temporary files created by my test suite are removed "
                         "even when a test fails halfway through").split("|")
at_end = os.environ["EDIT_AT"] == "end"
settle_wait = float(os.environ["SETTLE_WAIT"])
edit_pause = float(os.environ["EDIT_PAUSE"])
isolate = os.environ["ISOLATE"] == "1"
daemons = []


def call(d, method, params):
    return d["daemon"].call(method, params)


try:
    for label, b in builds:
        dm = Daemon(label, b, f"{tmp}/{label}")
        d = {"label": label, "daemon": dm, "p": dm.proc, "seg": dm.seg, "t": {q: [] for q in queries}}
        daemons.append(d)
        dm.build_segment()
        dm.connect("bench_search_edit_ab")
        for q in queries:
            call(d, "ctx.search", {"segment": dm.seg, "query": q})
    time.sleep(1.0)  # both settled
    for i in range(rounds):
        for q in queries:
            for d in (daemons if i % 2 == 0 else daemons[::-1]):
                if isolate:  # this build's daemon runs, the other's waits
                    for o in daemons:
                        o["p"].send_signal(signal.SIGCONT if o is d else signal.SIGSTOP)
                path = d["seg"] + "/tempfile.py"
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                mark = f"# bench_search_edit_ab {i} {time.time():.6f}"
                if at_end:
                    text += "\n" + mark + "\n"
                else:
                    lines = text.split("\n")
                    mid = len(lines) // 2
                    indent = lines[mid][:len(lines[mid]) - len(lines[mid].lstrip())]
                    text = "\n".join(lines[:mid] + [indent + mark] + lines[mid:])
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                time.sleep(edit_pause)  # the watcher's event is queued (and maybe applied)
                t0 = time.perf_counter()
                r = call(d, "ctx.search", {"segment": d["seg"], "query": q})
                d["t"][q].append((time.perf_counter() - t0) * 1000)
                d.setdefault("generations", []).append(r["generation"])
                time.sleep(settle_wait)  # the settle
    for d in daemons:  # every search applied its edit: one generation more each time
        g = d["generations"]
        if any(b <= a for a, b in zip(g, g[1:])):
            raise SystemExit(f"{d['label']}: a search did not apply its edit (the watcher was late)")
    for q in queries:
        out = {"bench": "search_edit_ab", "edit_at": "end" if at_end else "middle", "edit_pause_s": edit_pause,
               "query": q[:40], "rounds": rounds}
        for d in daemons:
            t = sorted(d["t"][q])
            out[d["label"]] = {"median_ms": round(statistics.median(t), 3), "p10_ms": round(t[len(t) // 10], 3),
                               "p90_ms": round(t[len(t) * 9 // 10], 3)}
        a, b = daemons
        out[f"{b['label']}/{a['label']}"] = round(statistics.median(y / x for x, y in zip(a["t"][q], b["t"][q])), 3)
        print(json.dumps(out))
finally:
    for d in daemons:
        d["p"].send_signal(signal.SIGCONT)
        d["daemon"].stop()
PY
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
