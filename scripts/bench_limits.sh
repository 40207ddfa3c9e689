#!/usr/bin/env bash
# Memory of trifectad under the hostile loads of issue 16 (items 9 and 11): resident memory
# (VmRSS, and the peak VmHWM) of a real daemon, measured, never asserted.
#
#   scripts/bench_limits.sh [BUILD_DIR]          (default: build; needs trifectad and trifecta)
#   BENCH_LIMITS_LSP=1 scripts/bench_limits.sh   also the language-server total with 8 segments
#
# Cases, each against a fresh daemon (private socket and state in a temp dir):
#   idle        — the daemon after start-up (the same-run baseline);
#   lines       — 128 connections each sending 15 MiB of one request line without its newline
#                 (before the budget: 1.99 GB; --max-buffered-bytes 64 MiB by default);
#   idle-conns  — 256 connections open and silent;
#   requests    — 300,000 `status` requests on one connection, 100 pipelined at a time, each
#                 answered (before the deadline sweep, each request's deadline timer held ~750
#                 bytes for the whole --request-timeout, 600 s: 224 MiB after 300,000);
#   deep-N      — one segment whose .py lies N directories deep ("d/" per level; at 2,100 the
#                 file is past PATH_MAX and recorded as skipped), opened and built (before:
#                 378 MiB at 2,000);
#   lsp (opt.)  — 8 small segments each with a Pyright, total resident memory of the servers
#                 with no cap (--lsp-total-rss-mb 65536) and with --lsp-total-rss-mb 512.
set -euo pipefail
BUILD="${1:-build}"
TRIFECTAD="$(realpath "$BUILD/daemon/trifectad")"
TRIFECTA="$(realpath "$BUILD/client/trifecta")"
WORK="$(mktemp -d)"
trap 'for p in $(cat "$WORK"/pids 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
touch "$WORK/pids"

start() {  # start NAME [FLAGS...] → sets SOCK and PID
  local name="$1"; shift
  mkdir -p "$WORK/$name/state"
  SOCK="$WORK/$name/run/d.sock"
  XDG_STATE_HOME="$WORK/$name/state" TRIFECTA_TELEMETRY_DIR="$WORK/$name/tel" \
    "$TRIFECTAD" --foreground --socket "$SOCK" --log-level warn "$@" 2> "$WORK/$name/stderr" &
  PID=$!
  echo "$PID" >> "$WORK/pids"
  for _ in $(seq 100); do [[ -S "$SOCK" ]] && break; sleep 0.05; done
}
stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
mib() { awk -v k="$2" '$1==k":" {printf "%.1f", $2/1024}' "/proc/$1/status"; }
cli() { TRIFECTA_SOCKET="$SOCK" XDG_STATE_HOME="$WORK/state" "$TRIFECTA" "$@"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "trifectad: $TRIFECTAD"
printf '%-12s %12s %12s  %s\n' case "VmRSS MiB" "VmHWM MiB" note

start idle --no-lsp
cli ping > /dev/null
sleep 0.5
printf '%-12s %12s %12s  %s\n' idle "$(mib $PID VmRSS)" "$(mib $PID VmHWM)" "after start-up and one ping"
stop

start lines --no-lsp
python3 - "$SOCK" "$PID" > "$WORK/lines.out" <<'PY'
import socket, sys, time
sock_path, pid = sys.argv[1], sys.argv[2]
chunk = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b'x' * (1 << 20)
conns, refused = [], 0
for i in range(128):
    c = socket.socket(socket.AF_UNIX); c.connect(sock_path); c.setblocking(False); conns.append(c)
sent = [0] * len(conns)
target = 15 << 20
deadline = time.time() + 120
while time.time() < deadline and any(s < target for s in sent):
    for i, c in enumerate(conns):
        if sent[i] >= target: continue
        try:
            n = c.send(chunk[: min(len(chunk), target - sent[i])]); sent[i] += n
        except (BlockingIOError, InterruptedError): pass
        except OSError: sent[i] = target; refused += 1
time.sleep(1)
busy = 0
for c in conns:
    try:
        c.setblocking(True); c.settimeout(0.2)
        busy += b"SERVER_BUSY" in c.recv(4096)
    except OSError: pass
status = open(f"/proc/{pid}/status").read()
kv = {l.split(":")[0]: l.split()[1] for l in status.splitlines() if len(l.split()) > 1}
print(f"{int(kv['VmRSS'])/1024:.1f} {int(kv['VmHWM'])/1024:.1f} {sum(sent)/(1<<20):.0f} {busy}")
PY
read -r rss hwm total busy < "$WORK/lines.out"
printf '%-12s %12s %12s  %s\n' lines "$rss" "$hwm" "128 x 15 MiB unterminated: ${total} MiB offered, ${busy} connections answered SERVER_BUSY"
stop

start idle-conns --no-lsp
python3 - "$SOCK" "$PID" > "$WORK/conns.out" <<'PY'
import socket, sys, time
conns = []
for i in range(256):
    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); conns.append(c)
time.sleep(1.5)
kv = {l.split(":")[0]: l.split()[1] for l in open(f"/proc/{sys.argv[2]}/status").read().splitlines() if len(l.split()) > 1}
print(f"{int(kv['VmRSS'])/1024:.1f} {int(kv['VmHWM'])/1024:.1f}")
PY
read -r rss hwm < "$WORK/conns.out"
printf '%-12s %12s %12s  %s\n' idle-conns "$rss" "$hwm" "256 silent connections"
stop

start requests --no-lsp
python3 - "$SOCK" "$PID" > "$WORK/requests.out" <<'PY'
import json, socket, sys, time
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); f = c.makefile("rwb")
n, batch, t0 = 300000, 100, time.time()
for i in range(0, n, batch):
    f.write(b"".join((json.dumps({"jsonrpc": "2.0", "id": i + j, "method": "status"}) + "\n").encode()
                     for j in range(batch)))
    f.flush()
    for _ in range(batch): f.readline()
kv = {l.split(":")[0]: l.split()[1] for l in open(f"/proc/{sys.argv[2]}/status").read().splitlines() if len(l.split()) > 1}
print(f"{int(kv['VmRSS'])/1024:.1f} {int(kv['VmHWM'])/1024:.1f} {time.time() - t0:.1f}")
PY
read -r rss hwm secs < "$WORK/requests.out"
printf '%-12s %12s %12s  %s\n' requests "$rss" "$hwm" "300,000 status requests answered on one connection in ${secs} s"
stop

for levels in 2000 2100; do
  start "deep-$levels" --no-lsp
  SEG="$WORK/deep"
  rm -rf "$SEG"; mkdir -p "$SEG"
  python3 - "$SEG" "$levels" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for i in range(int(sys.argv[2])):
    os.mkdir("d", dir_fd=fd); nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd); os.close(fd); fd = nfd
f = os.open("deep.py", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd); os.write(f, b"x = 1\n"); os.close(f); os.close(fd)
open(os.path.join(sys.argv[1], "top.py"), "w").write("def top():\n    return 1\n")
PY
  before="$(mib $PID VmHWM)"
  cli --json --timeout 300 ctx build -s "$SEG" > /dev/null
  cli --json ctx status -s "$SEG" > "$WORK/deep.json"
  counts="$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["result"]["status"]; print("indexed", s["files_indexed"], "skipped", s["files_skipped"], s["skip_reasons"])' "$WORK/deep.json")"
  printf '%-12s %12s %12s  %s\n' "deep-$levels" "$(mib $PID VmRSS)" "$(mib $PID VmHWM)" \
    "one .py $levels levels down, opened and built (peak before opening: $before MiB); $counts"
  stop
  rm -rf "$SEG" 2>/dev/null || true
done

if [[ "${BENCH_LIMITS_LSP:-0}" == 1 ]]; then
  for cap in 65536 512; do
    start "lsp-$cap" --lsp-total-rss-mb "$cap" --lsp-memory-check-ms 1000
    for i in $(seq 8); do
      mkdir -p "$WORK/lseg$i/pkg"
      printf 'def f%d():\n    return %d\n' "$i" "$i" > "$WORK/lseg$i/pkg/m.py"
      cli --json def -s "$WORK/lseg$i" --wait 60000 --timeout 170 pkg/m.py:1:5 > /dev/null
    done
    sleep 3
    total=0; running=0
    for p in $(pgrep -P "$PID" || true); do
      for q in $p $(pgrep -P "$p" || true); do
        kb=$(awk '/VmRSS/ {print $2}' "/proc/$q/status" 2>/dev/null || echo 0); total=$((total + kb))
      done
      running=$((running + 1))
    done
    printf '%-12s %12s %12s  %s\n' "lsp-$cap" "$(mib $PID VmRSS)" "-" \
      "8 segments: language servers total $((total / 1024)) MiB in $running process group(s), cap $cap MiB"
    stop
  done
fi
