#!/usr/bin/env bash
# Request latency inside trifectad (ping, ctx.search, ctx.get, fallback definition/hover,
# ast.skeleton) for this build and, optionally, other trifectad binaries, in one interleaved run.
#   scripts/bench_rpc.sh [build-dir] [LABEL=/path/to/other/trifectad ...]
# ROUNDS (default 5) and REQUESTS (default 200 per method per round) are read from the environment.
# The corpus is a private copy of this machine's Python standard library.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"; shift || true
source "$ROOT/scripts/bench_common.sh"
STDLIB="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
CORPUS="$(mktemp -d)"; trap 'rm -rf "$CORPUS"' EXIT
copy_stdlib "$STDLIB" "$CORPUS/stdlib"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BUILD/tests/bench/bench_rpc" "$CORPUS/stdlib" "${ROUNDS:-5}" "${REQUESTS:-200}" "$@" "now=$BUILD/daemon/trifectad"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
