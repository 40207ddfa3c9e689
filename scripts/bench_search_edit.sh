#!/usr/bin/env bash
# In-daemon `ctx.search` latency before and after one edit (issue 12): what a user who edits files
# while the daemon watches the tree gets. Each build's daemon (no Pyright) builds its own copy of
# the tree cold (the index's steady state: every list frozen), answers each query ROUNDS times
# over one persistent connection (median round trip), then one line is appended to one file and
# `ctx.status` is asked until the segment's generation moves (the request's sync applied it:
# `apply_ms` is that request's round trip). After the edit the index holds a tail (the new
# chunks' postings) and dead chunks (the old ones): searches cost more until it settles
# (SegmentIndex::settle, run by the daemon on its build executor after each applied change; a
# build without it stays so until enough edits pile up, InvertedIndex::kTailLimit postings).
# The queries are timed twice more: at once (`after_edit_ms`, while the settle may still run),
# and once the settle is counted in the daemon's last_run.json (`settled_ms`; `settle_ms` is the
# settle's own time from there) — or, for a build that does not settle, after 5 s. The daemon's
# RSS is read before the edit and after the settle.
#
# `after_edit_ms` mixes states (the first rounds run before the settle installs, later ones after
# it, beside its CPU), so a last phase times what an agent's edit-then-search gets, alone: for
# each query, EDIT_ROUNDS (5) times, one more line is appended, the watcher's event is waited for
# (0.2 s), and the search itself is sent — its request's sync applies the edit and the search runs
# in the state the edit leaves, before any settle. `edit_search_ms` is that round trip's median
# (apply + search); between rounds the settle is waited for (its count in last_run.json, or 1 s).
# `search_edit_tail` gives the phase's slowest and 90th-percentile edit-then-search over all its
# queries (5 × EDIT_ROUNDS edits of the same file), and which edit of the file was the slowest.
# A last phase edits FIRST_EDITS (32) files once each — Python files of 8–64 KiB outside tests,
# evenly spread over the sorted list — one of each pair of about the same size shown by a `ctx.get`
# (skeleton) 0.3 s before its edit, as an agent reads a file before editing it; then one short
# search as above.
# `search_first_edit` gives the medians and maxima of both halves (`read_*`, `cold_*`) and the
# daemon's count of parses kept for read files (`ast_parse_kept_count`; null for a build without).
#
# Usage: scripts/bench_search_edit.sh TREE COPIES ROUNDS label=BUILD_DIR [label=BUILD_DIR ...]
#   TREE: a source tree or `demo` (scripts/demo.sh's, as bench_common.sh finds it); COPIES: 1, or 4.
# Private sockets/state/trees under a temp dir; every daemon started here is stopped here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/bench_common.sh
source "$ROOT/scripts/bench_common.sh"
usage="usage: bench_search_edit.sh TREE COPIES ROUNDS label=BUILD ..."
TREE="${1:?$usage}"
COPIES="${2:?$usage}"
ROUNDS="${3:?$usage}"
shift 3
[[ $# -ge 1 ]] || { echo "$usage" >&2; exit 2; }
bench_trees "$TREE" "$COPIES" "$@"  # sets TMP, prints the machine line
[[ -f "$TMP/one/tempfile.py" ]] || { echo "bench_search_edit.sh: the tree has no tempfile.py to edit" >&2; exit 1; }
python3 - "$TMP" "$ROUNDS" "${builds[@]}" <<'PY'
import glob, json, os, random, statistics, sys, time
from bench_daemon import Daemon
tmp, rounds = sys.argv[1], int(sys.argv[2])
builds = [a.split("=", 1) for a in sys.argv[3:]]
QUERIES = ["how do I make sure that the temporary files created by my test suite are removed even when a test fails halfway through and raises an exception before cleanup runs",
           "self return def none", "json decode error", "asyncio event loop", "tempfile"]
for label, b in builds:
    w = f"{tmp}/{label}"
    dm = Daemon(label, b, w)
    seg = dm.seg
    try:
        dm.build_segment()
        dm.connect("bench_search_edit")
        call = dm.call
        rss_mb = dm.rss_mb

        def medians():
            out = {}
            for q in QUERIES:
                call("ctx.search", {"segment": seg, "query": q})  # warm-up
                t = []
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    call("ctx.search", {"segment": seg, "query": q})
                    t.append((time.perf_counter() - t0) * 1000)
                out[q] = statistics.median(t)
            return out

        before = medians()
        rss_before = rss_mb()
        generation = call("ctx.status", {"segment": seg})["index"]["generation"]
        with open(seg + "/tempfile.py", "a", encoding="utf-8") as f:
            f.write("\n# edited by bench_search_edit\n")
        time.sleep(0.2)  # the watcher's event is queued; the next request's sync applies it
        for _ in range(200):
            t0 = time.perf_counter()
            moved = call("ctx.status", {"segment": seg})["index"]["generation"] != generation
            apply_ms = (time.perf_counter() - t0) * 1000
            if moved:
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"{label}: the edit was not applied within 10 s")
        after = medians()

        def last_run():  # the segment's (written by temp file + rename: never half read)
            for path in glob.glob(w + "/tel/*/last_run.json"):
                with open(path, encoding="utf-8") as f:
                    return json.load(f)
            return None

        def settle_count():
            run = last_run()
            return None if run is None else run.get("metrics_delta", {}).get("index_settle_count", 0)

        def settle_stats():
            run = last_run()
            if run is not None and run.get("metrics_delta", {}).get("index_settle_count", 0) >= 1:
                return run["latencies"]["index.settle"]["max_ms"]
            return None

        settle_ms = None
        for _ in range(50):  # last_run.json is rewritten once a second while something changed
            settle_ms = settle_stats()
            if settle_ms is not None:
                break
            time.sleep(0.1)
        settled = medians()
        rss_settled = rss_mb()
        edit_rounds = int(os.environ.get("EDIT_ROUNDS", "5"))
        edit_search = {}
        edit_all = []  # every edit-then-search of the phase, in order (its slowest is reported)
        for q in QUERIES:
            t = []
            for _ in range(edit_rounds):
                settles = settle_count()
                generation = call("ctx.status", {"segment": seg})["index"]["generation"]
                with open(seg + "/tempfile.py", "a", encoding="utf-8") as f:
                    f.write("\n# edited again by bench_search_edit\n")
                time.sleep(0.2)
                t0 = time.perf_counter()
                call("ctx.search", {"segment": seg, "query": q})
                t.append((time.perf_counter() - t0) * 1000)
                if call("ctx.status", {"segment": seg})["index"]["generation"] == generation:
                    raise SystemExit(f"{label}: the search did not apply the edit (the watcher was late)")
                for _ in range(20):  # until the settle is counted (a build that does not settle: 1 s)
                    time.sleep(0.05)
                    c = settle_count()
                    if settles is not None and c is not None and c > settles:
                        break
                time.sleep(0.1)
            edit_search[q] = statistics.median(t)
            edit_all.extend(t)
        # First edits: files never edited before, half of them shown by a ctx.get first (what an
        # agent does before it edits a file; a build with keep_parse then parses their first edit
        # incrementally), half not; in turn, so both halves see the same phases of the machine.
        def settle_wait(settles):
            for _ in range(20):
                time.sleep(0.05)
                c = settle_count()
                if settles is not None and c is not None and c > settles:
                    break
            time.sleep(0.1)

        candidates = []
        excluded = {".git", ".hg", ".svn", "node_modules", "__pycache__", "venv", ".venv", ".tox", ".nox",
                    ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "_ctx", ".eggs"}  # kDefaultExcludedDirs
        for d, dirs, files in os.walk(seg):
            dirs[:] = sorted(x for x in dirs if x not in excluded and not x.endswith(".egg-info") and "test" not in x)
            for f in sorted(files):
                full = os.path.join(d, f)
                if f.endswith(".py") and "test" not in f and 8192 <= os.path.getsize(full) <= 65536:
                    candidates.append(os.path.relpath(full, seg))
        n_first = int(os.environ.get("FIRST_EDITS", "32")) // 2 * 2
        candidates = [c for c in candidates if c != "tempfile.py"]
        step = max(1, len(candidates) // n_first)
        chosen = candidates[::step][:n_first]
        # Pairs of files of about the same size (the chosen files sorted by size), one of each pair
        # read first (a fixed pseudo-random pick), so the halves parse alike; then in path order.
        rng = random.Random(12)
        roles = {}
        by_size = sorted(chosen, key=lambda c: (os.path.getsize(os.path.join(seg, c)), c))
        for a, b in zip(by_size[::2], by_size[1::2]):
            r = rng.random() < 0.5
            roles[a], roles[b] = ("read", "cold") if r else ("cold", "read")
        first = {"read": [], "cold": []}
        for rel in chosen:
            kind = roles[rel]
            if kind == "read":
                call("ctx.get", {"segment": seg, "ids": [rel], "mode": "skeleton"})
                time.sleep(0.3)  # the kept parse is made on the build executor, after the reply
            settles = settle_count()
            generation = call("ctx.status", {"segment": seg})["index"]["generation"]
            with open(os.path.join(seg, rel), "a", encoding="utf-8") as f:
                f.write("\n# edited by bench_search_edit\n")
            time.sleep(0.2)
            t0 = time.perf_counter()
            call("ctx.search", {"segment": seg, "query": "json decode error"})
            first[kind].append((time.perf_counter() - t0) * 1000)
            if call("ctx.status", {"segment": seg})["index"]["generation"] == generation:
                raise SystemExit(f"{label}: the search did not apply the first edit of {rel}")
            settle_wait(settles)
        run = last_run() or {}
        print(json.dumps({"bench": "search_first_edit", "build": label, "files": len(chosen),
                          "cold_median_ms": round(statistics.median(first["cold"]), 2),
                          "read_median_ms": round(statistics.median(first["read"]), 2),
                          "cold_max_ms": round(max(first["cold"]), 1), "read_max_ms": round(max(first["read"]), 1),
                          "kept_parses": run.get("metrics_delta", {}).get("ast_parse_kept_count")}))
        print(json.dumps({"bench": "search_edit_rss", "build": label, "rss_before_mb": rss_before, "rss_settled_mb": rss_settled}))
        print(json.dumps({"bench": "search_edit_tail", "build": label, "edits": len(edit_all),
                          "max_ms": round(max(edit_all), 1),
                          "slowest_edit": edit_all.index(max(edit_all)) + 2,  # the phase before made edit 1
                          "p90_ms": round(sorted(edit_all)[len(edit_all) * 9 // 10], 1)}))
        for q in QUERIES:
            print(json.dumps({"bench": "search_edit", "build": label, "query": q[:40], "before_ms": round(before[q], 3),
                              "apply_ms": round(apply_ms, 1), "after_edit_ms": round(after[q], 3),
                              "settled_ms": round(settled[q], 3), "settle_ms": settle_ms,
                              "settled_ratio": round(settled[q] / before[q], 3),
                              "edit_search_ms": round(edit_search[q], 3)}))
    finally:
        dm.stop()
PY
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
