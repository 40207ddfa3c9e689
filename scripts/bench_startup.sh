#!/usr/bin/env bash
# CLI start-up against /bin/true, in one run. Usage:
#   scripts/bench_startup.sh [build-dir] [runs=300] [label=/path/to/other/trifecta ...]
# Wall time (bench_startup: /bin/true, `trifecta --version`, `trifecta ping` against a warm private
# trifectad, every command interleaved per round; medians, p10/p90, difference and ratio to
# /bin/true), then, when valgrind is installed, the instruction counts of the same commands
# (callgrind: repeatable on a noisy machine where wall times are not). Extra label=binary
# arguments measure other builds (e.g. the one before a change) in the same run.
# Results are recorded by hand in docs/benchmarks.md ("CLI start-up") with this command.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"; shift || true
RUNS="${1:-300}"; shift || true
CLIS=("now=$BUILD/client/trifecta" "$@")

echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "# cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)  date: $(date -u +%FT%TZ)  commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
"$BUILD/tests/bench/bench_startup" "$BUILD/daemon/trifectad" "$RUNS" "${CLIS[@]}"

command -v valgrind >/dev/null || { echo "# valgrind not installed: no instruction counts"; exit 0; }
tmp="$(mktemp -d)"
trap 'kill "$daemon_pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
export TRIFECTA_SOCKET="$tmp/d.sock" XDG_STATE_HOME="$tmp/state" TRIFECTA_TELEMETRY_DIR="$tmp/tel"
"$BUILD/daemon/trifectad" --foreground --socket "$TRIFECTA_SOCKET" --log-level warn 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [[ -S "$TRIFECTA_SOCKET" ]] && break; sleep 0.05; done
instructions() {  # label, command...
  local label="$1"; shift
  local n
  n="$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/Collected/ {print $4}')"
  printf '{"bench":"cli_startup_instructions","command":"%s","instructions":%s}\n' "$label" "$n"
}
instructions "/bin/true" /bin/true
for c in "${CLIS[@]}"; do
  label="${c%%=*}"; bin="${c#*=}"
  instructions "$label --version" "$bin" --version
  instructions "$label ping" "$bin" ping
done
