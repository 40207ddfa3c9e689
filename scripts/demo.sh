#!/usr/bin/env bash
# The README's "main job": with everything built, start trifectad and show real answers on a real
# Python tree (a copy of this machine's Python standard library). Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
T="$BUILD/client/trifecta"
export TRIFECTA_DAEMON="$BUILD/daemon/trifectad"

# A real Python tree to serve: the stdlib, copied so the demo never writes into /usr.
STDLIB="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])' 2>/dev/null || echo /usr/lib/python3.11)"
DEMO_TREE="${TRIFECTA_DEMO_TREE:-$ROOT/build/demo-stdlib}"
if [[ ! -d "$DEMO_TREE/json" ]]; then
  mkdir -p "$DEMO_TREE"
  (cd "$STDLIB" && find . -name '*.py' -not -path './site-packages/*' -not -path './dist-packages/*' \
     -exec cp --parents -t "$DEMO_TREE" {} +)
fi

run() { printf '\n$ trifecta %s\n' "$*"; "$T" "$@"; }

run daemon start
run ping
run status
if "$T" --help 2>/dev/null | grep -q ' ast '; then
  run ast skeleton -s "$DEMO_TREE" json/decoder.py
  run sym -s "$DEMO_TREE" sym://python/json.decoder/JSONDecoder.decode
fi
printf '\nThe daemon keeps running (idle exit after 30 min). Stop it with: %s daemon stop\n' "$T"
