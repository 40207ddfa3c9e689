#!/usr/bin/env bash
# Daemon CPU time of a cold `ctx build` and of `ctx.search` requests, for several builds in one
# run (issue 12). CPU time (utime + stime of every trifectad thread, from /proc/PID/stat) is what
# a loaded machine does not blur the way wall time does; wall time and RSS / corpus are printed
# too. Per query: REQUESTS ctx.search requests on one persistent connection, CPU ÷ REQUESTS, and
# the daemon's context switches (voluntary + involuntary, every thread) ÷ REQUESTS.
#
# Usage: scripts/bench_search_cpu.sh TREE REQUESTS label=BUILD_DIR [label=BUILD_DIR ...]
#   TREE: a source tree (copied per build; its _ctx/ is not), e.g. the stdlib demo tree.
# Private sockets/state under a temp dir; every daemon started here is stopped here.
set -euo pipefail
TREE="$(cd "${1:?usage: bench_search_cpu.sh TREE REQUESTS label=BUILD ...}" && pwd)"
REQUESTS="${2:?REQUESTS}"
shift 2
TMP="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT
echo "# machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg); date: $(date -u +%FT%TZ); tree: $TREE"
cpu_ms() { awk '{print ($14 + $15) * 10}' "/proc/$1/stat"; }  # USER_HZ = 100
for arg in "$@"; do
  label="${arg%%=*}"
  build="$(cd "${arg#*=}" && pwd)"
  w="$TMP/$label"
  mkdir -p "$w"
  cp -r "$TREE" "$w/seg"
  rm -rf "$w/seg/_ctx"
  export XDG_STATE_HOME="$w/state" TRIFECTA_SOCKET="$w/run/d.sock" TRIFECTA_TELEMETRY_DIR="$w/tel"
  "$build/daemon/trifectad" --socket "$w/run/d.sock" --no-lsp -f --log-level err >"$w/d.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do [[ -S "$w/run/d.sock" ]] && break; sleep 0.05; done
  corpus=$(find "$w/seg" -path '*/_ctx' -prune -o -type f -printf '%s\n' | awk '{s += $1} END {print s}')
  c0=$(cpu_ms "$pid")
  wall=$("$build/client/trifecta" --json ctx build -s "$w/seg" --no-spawn --timeout 900 |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(round(d.get('result', d)['build']['elapsed_ms']))")
  c1=$(cpu_ms "$pid")
  rss=$(awk '/VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
  echo "{\"build\":\"$label\",\"bench\":\"cold_build\",\"wall_ms\":$wall,\"daemon_cpu_ms\":$((c1 - c0)),\"rss_bytes\":$rss,\"corpus_bytes\":$corpus,\"rss_over_corpus\":$(python3 -c "print(round($rss / $corpus, 3))")}"
  python3 - "$w/run/d.sock" "$w/seg" "$pid" "$REQUESTS" "$label" <<'PY'
import json, os, socket, sys
sock, seg, pid, n, label = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
QUERIES = ["json decode error", "tempfile", "http cookie parser", "thread pool executor", "utf8 codec",
           "subprocess pipe", "shutil copytree", "asyncio event loop"]
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 10.0
def switches():
    n = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in open(f"/proc/{pid}/task/{t}/status"):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    n += int(line.split()[1])
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return n
s = socket.socket(socket.AF_UNIX); s.connect(sock); io = s.makefile("rwb")
i = 0
def call(m, p):
    global i
    i += 1
    io.write((json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": p}) + "\n").encode()); io.flush()
    while True:
        r = json.loads(io.readline())
        if r.get("id") == i: return r
call("hello", {"client_name": "bench", "client_version": "0", "protocol": "1.0"})
for q in QUERIES:
    call("ctx.search", {"segment": seg, "query": q})  # warm-up
    c0, s0 = cpu(), switches()
    for _ in range(n): call("ctx.search", {"segment": seg, "query": q})
    print(json.dumps({"build": label, "bench": "search_cpu", "query": q,
                      "daemon_cpu_ms_per_request": round((cpu() - c0) / n, 3),
                      "context_switches_per_request": round((switches() - s0) / n, 2)}), flush=True)
PY
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
