#!/usr/bin/env bash
# Whole-process latency of `trifecta sym --find NAME` (sym.search, issue 13) against a warm daemon on
# a private copy of the stdlib demo tree: the CLI process from spawn to exit, the daemon already
# holding the segment's symbol table. /bin/true is measured in the same run as the process floor.
# Usage: scripts/bench_sym_search.sh [build-dir] [runs=50]
# Prints a Markdown table (median / p90 / max ms per query) on stdout, then a second one: the same
# requests inside the daemon (one persistent connection, request written → reply read), with
# ping and ctx.search on the same connection as references.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bench_common.sh"
BUILD="${1:-$ROOT/build}"
RUNS="${2:-50}"
for b in daemon/trifectad client/trifecta; do
  [[ -x "$BUILD/$b" ]] || { echo "build $b first" >&2; exit 1; }
done
tmp="$(mktemp -d)"
export XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$XDG_RUNTIME_DIR"
sock="$XDG_RUNTIME_DIR/trifectad.sock"
# In the foreground, so $daemon is the daemon itself (the trap stops it; a detached one outlived
# the run and its tree).
"$BUILD/daemon/trifectad" --socket "$sock" --no-lsp -f --log-level err > "$tmp/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; rm -rf "$tmp" || true' EXIT
tree="$tmp/stdlib"
demo_copy "$tree"
files=$(find "$tree" -name '*.py' | wc -l)
cli=("$BUILD/client/trifecta" --socket "$sock" --no-spawn)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
# Warm: open the segment, wait for its index build (else the build's threads compete with the
# measured requests on a small machine), and build its symbol table once.
"${cli[@]}" --timeout 1800 ctx build -s "$tree" > /dev/null
"${cli[@]}" --timeout 600 sym --find JSONDecoder -s "$tree" > /dev/null
python3 - "$RUNS" "$tree" "${cli[@]}" <<'PY'
import statistics, subprocess, sys, time
runs, tree, cli = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
queries = [("exact", ["JSONDecoder", "--match", "exact"]), ("prefix", ["getLog", "--match", "prefix"]),
           ("fuzzy", ["jdcd"]), ("dotted", ["JSONDecoder.dec"]), ("common name, fuzzy", ["get"])]
def timed(argv):
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000
def row(label, argv):
    v = sorted(timed(argv) for _ in range(runs))
    print(f"| {label} | {statistics.median(v):.2f} | {v[int(0.9 * (len(v) - 1))]:.2f} | {v[-1]:.2f} |")
print(f"| `trifecta sym --find` ({runs} runs each) | median ms | p90 | max |")
print("|---|---|---|---|")
row("/bin/true (process floor)", ["/bin/true"])
for label, args in queries:
    row(f"{label}: `{' '.join(args)}`", cli + ["sym", "--find"] + args + ["-s", tree])
PY
python3 - "$RUNS" "$tree" "$sock" <<'PY'
import json, socket, statistics, sys, time
runs, tree, sock = int(sys.argv[1]) * 5, sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
f = s.makefile("rwb")
n = 0
def rpc(method, params):
    global n
    n += 1
    f.write((json.dumps({"jsonrpc": "2.0", "id": n, "method": method, "params": params}) + "\n").encode())
    f.flush()
    while True:
        r = json.loads(f.readline())
        if r.get("id") == n:
            if "error" in r:
                raise SystemExit(f"{method}: {r['error']}")
            return r["result"]
rpc("hello", {"protocol": "1.3", "client_name": "bench_sym_search", "client_version": "0"})
def row(label, method, params):
    rpc(method, params)  # warm
    v = []
    for _ in range(runs):
        t = time.perf_counter()
        rpc(method, params)
        v.append((time.perf_counter() - t) * 1000)
    v.sort()
    print(f"| {label} | {statistics.median(v):.3f} | {v[int(0.9 * (len(v) - 1))]:.3f} | {v[-1]:.3f} |")
print()
print(f"| in the daemon, one connection ({runs} requests each) | median ms | p90 | max |")
print("|---|---|---|---|")
row("ping", "ping", {})
row("ctx.search `json decoder`", "ctx.search", {"segment": tree, "query": "json decoder", "limit": 10})
# After an edit: the search syncs the index (the changed file re-parsed); when the edit adds or
# drops a name, the name table is rebuilt too.
import os
edited = os.path.join(tree, "json", "decoder.py")
original = open(edited, encoding="utf-8").read()
def after_edit(label, text_of, query_of):
    v = []
    for k in range(min(runs, 40)):
        with open(edited, "w", encoding="utf-8") as fh:
            fh.write(text_of(k))
        time.sleep(0.3)  # let the watcher see it
        t = time.perf_counter()
        r = rpc("sym.search", {"segment": tree, "query": query_of(k), "mode": "exact", "limit": 10})
        v.append((time.perf_counter() - t) * 1000)
        assert r["total"] >= 1, r
    with open(edited, "w", encoding="utf-8") as fh:
        fh.write(original)
    rpc("sym.search", {"segment": tree, "query": "JSONDecoder", "mode": "exact", "limit": 10})
    v.sort()
    print(f"| {label} ({len(v)} edits) | {statistics.median(v):.3f} | {v[int(0.9 * (len(v) - 1))]:.3f} | {v[-1]:.3f} |")
after_edit("sym.search right after an edit that keeps the names (file re-parsed)",
           lambda k: original + f"\n# edit {k}\n", lambda k: "JSONDecoder")
after_edit("sym.search right after an edit that adds a name (file re-parsed, name table rebuilt)",
           lambda k: original + f"\n\ndef bench_edit_{k}():\n    pass\n", lambda k: f"bench_edit_{k}")
for label, q, mode in [("exact", "JSONDecoder", "exact"), ("prefix", "getLog", "prefix"), ("fuzzy", "jdcd", "fuzzy"),
                       ("dotted", "JSONDecoder.dec", "fuzzy"), ("common name, fuzzy", "get", "fuzzy")]:
    row(f"sym.search {label}: `{q}` ({mode}, limit 10)", "sym.search",
        {"segment": tree, "query": q, "mode": mode, "limit": 10})
PY
echo
echo "Tree: private copy of the demo tree ($files .py files); daemon --no-lsp, warm (segment open, table built)."
echo "Load average: $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after; $(nproc) cores."
