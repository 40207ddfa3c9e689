#!/usr/bin/env bash
# The MCP frontend (`trifecta mcp`), on a private copy of this machine's Python standard library:
#  * latency: search / definition / outline through one persistent MCP session, against the same
#    question to the daemon's socket (persistent connection) and through the CLI (whole process),
#    interleaved request by request, in one run (daemon --no-lsp: definition from the AST);
#  * memory: N = 1, 2, 4 concurrent MCP sessions on one daemon with Pyright READY: RSS of the
#    servers, the daemon and Pyright, growth per extra session, and the one-server-per-session
#    design N × (index + Pyright) from the same figures.
#   scripts/bench_mcp.sh [build-dir] [latency|memory|all]
# ROUNDS (default 5), REQUESTS (default 200 per tool per round), MEM_ROUNDS (default 3) and
# SESSIONS (default 1,2,4) are read from the environment.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
WHAT="${2:-all}"
source "$ROOT/scripts/bench_common.sh"
STDLIB="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
CORPUS="$(mktemp -d)"; trap 'rm -rf "$CORPUS"' EXIT
copy_stdlib "$STDLIB" "$CORPUS/stdlib"
echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr)" >&2
echo "# corpus: $STDLIB ($(find "$CORPUS/stdlib" -name '*.py' | wc -l) .py files, $(du -sh "$CORPUS/stdlib" | cut -f1))  date: $(date -u +%FT%TZ)  commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)" >&2
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [[ "$WHAT" == latency || "$WHAT" == all ]]; then
  "$BUILD/tests/bench/bench_mcp" latency "$CORPUS/stdlib" "${ROUNDS:-5}" "${REQUESTS:-200}"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
fi
if [[ "$WHAT" == memory || "$WHAT" == all ]]; then
  "$BUILD/tests/bench/bench_mcp" memory "$CORPUS/stdlib" "${MEM_ROUNDS:-3}" "${SESSIONS:-1,2,4}"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
fi
