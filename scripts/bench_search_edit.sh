#!/usr/bin/env bash
# In-daemon `ctx.search` latency before and after one edit (issue 12): what a user who edits files
# while the daemon watches the tree gets. Each build's daemon (no Pyright) builds its own copy of
# the tree cold (the index's steady state: every list frozen), answers each query ROUNDS times
# over one persistent connection (median round trip), then one line is appended to one file; once
# the watcher has applied it (the segment's generation moved), the same queries are timed again.
# After the edit the index holds a tail (the new chunks' postings) and dead chunks (the old ones)
# until enough edits pile up to freeze it again (InvertedIndex::kTailLimit postings).
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
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "# machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg); date: $(date -u +%FT%TZ); commit: $(git -C "$ROOT" rev-parse --short HEAD); copies: $COPIES"
bench_trees "$TMP" "$TREE" "$COPIES" "$@"
[[ -f "$TMP/one/tempfile.py" ]] || { echo "bench_search_edit.sh: the tree has no tempfile.py to edit" >&2; exit 1; }
python3 - "$TMP" "$ROUNDS" "${builds[@]}" <<'PY'
import json, os, socket, statistics, subprocess, sys, time
tmp, rounds = sys.argv[1], int(sys.argv[2])
builds = [a.split("=", 1) for a in sys.argv[3:]]
QUERIES = ["how do I make sure that the temporary files created by my test suite are removed even when a test fails halfway through and raises an exception before cleanup runs",
           "self return def none", "json decode error", "asyncio event loop", "tempfile"]
for label, b in builds:
    w = f"{tmp}/{label}"
    seg = w + "/seg"
    env = dict(os.environ, XDG_STATE_HOME=w + "/state", TRIFECTA_SOCKET=w + "/run/d.sock", TRIFECTA_TELEMETRY_DIR=w + "/tel")
    p = subprocess.Popen([b + "/daemon/trifectad", "--socket", w + "/run/d.sock", "--no-lsp", "-f", "--log-level", "err"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.exists(w + "/run/d.sock"):
                break
            time.sleep(0.05)
        subprocess.run([b + "/client/trifecta", "--json", "ctx", "build", "-s", seg, "--no-spawn", "--timeout", "900"],
                       env=env, stdout=subprocess.DEVNULL, check=True)
        s = socket.socket(socket.AF_UNIX)
        s.connect(w + "/run/d.sock")
        io = s.makefile("rwb")
        n = [0]

        def call(method, params):
            n[0] += 1
            io.write((json.dumps({"jsonrpc": "2.0", "id": n[0], "method": method, "params": params}) + "\n").encode())
            io.flush()
            while True:
                r = json.loads(io.readline())
                if r.get("id") == n[0]:
                    if "error" in r:
                        raise SystemExit(f"{label}: {r['error']}")
                    return r["result"]

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

        call("hello", {"client_name": "bench_search_edit", "client_version": "0", "protocol": "1.0"})
        before = medians()
        generation = call("ctx.status", {"segment": seg})["index"]["generation"]
        with open(seg + "/tempfile.py", "a", encoding="utf-8") as f:
            f.write("\n# edited by bench_search_edit\n")
        for _ in range(200):  # the watcher applies it (sync also runs before each search)
            time.sleep(0.05)
            if call("ctx.status", {"segment": seg})["index"]["generation"] != generation:
                break
        else:
            raise SystemExit(f"{label}: the edit was not applied within 10 s")
        after = medians()
        for q in QUERIES:
            print(json.dumps({"bench": "search_edit", "build": label, "query": q[:40], "before_ms": round(before[q], 3),
                              "after_one_edit_ms": round(after[q], 3), "ratio": round(after[q] / before[q], 3)}))
    finally:
        p.terminate()
        p.wait()
PY
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
