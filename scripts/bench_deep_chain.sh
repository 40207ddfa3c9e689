#!/usr/bin/env bash
# Issue 16 item 2: `def` / `hover` / `refs` through the AST fallback (trifectad --no-lsp) on one file
# of N chained calls (`x = f()()()…`), a baseline build against a candidate build, in the same run.
# Each request is a whole CLI process against a warm daemon (the file parsed and indexed before);
# prints the median and all runs per build and method, and the ratio candidate/baseline.
# Usage: scripts/bench_deep_chain.sh BASELINE_BUILD_DIR CANDIDATE_BUILD_DIR [calls=10000] [runs=5]
# A run that does not answer within 60 s counts as 60 s ("timeout").
set -euo pipefail
BASE="$1"; CAND="$2"; CALLS="${3:-10000}"; RUNS="${4:-5}"
tmp="$(mktemp -d)"; pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$tmp/seg"
python3 -c "import sys; open(sys.argv[1],'w').write('def f():\n    return f\n\nx = f'+'()'*int(sys.argv[2])+'\n')" \
  "$tmp/seg/chain.py" "$CALLS"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

bench_one() {  # label build-dir
  local label="$1" build="$2" w="$tmp/$1"
  mkdir -p "$w/xdg"
  export XDG_STATE_HOME="$w/state" XDG_RUNTIME_DIR="$w/xdg" TRIFECTA_SOCKET="$w/run/d.sock" \
         TRIFECTA_TELEMETRY_DIR="$w/tel" TRIFECTA_DAEMON="$build/daemon/trifectad"
  "$build/daemon/trifectad" --foreground --socket "$w/run/d.sock" --no-lsp --log-level warn >"$w/d.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  for _ in $(seq 100); do [[ -S "$w/run/d.sock" ]] && break; sleep 0.1; done
  "$build/client/trifecta" --json ctx build -s "$tmp/seg" >/dev/null
  for method in def hover refs; do
    local times=()
    for _ in $(seq "$RUNS"); do
      local t0 t1; t0=$(date +%s%N)
      if ! kill -0 "$pid" 2>/dev/null; then times+=("crash"); continue; fi
      timeout 60 "$build/client/trifecta" --json --timeout 60 "$method" -s "$tmp/seg" chain.py:4:5 >/dev/null 2>&1 || true
      t1=$(date +%s%N); times+=("$(( (t1 - t0) / 1000000 ))")
    done
    local med; med=$(printf '%s\n' "${times[@]}" | grep -v crash | median || true)
    echo "$label $method median_ms=${med:-n/a} runs_ms=${times[*]} alive=$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)"
  done
  kill -9 "$pid" 2>/dev/null || true
}

echo "# bench_deep_chain: $CALLS chained calls, $RUNS runs per method, $(nproc) cores, $(uname -r)"
bench_one baseline "$BASE"
bench_one candidate "$CAND"
