#!/usr/bin/env bash
# The README's "main job": with everything built, start trifectad and show real answers on a real
# Python tree (a copy of this machine's Python standard library). Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
T="$BUILD/client/trifecta"
export TRIFECTA_DAEMON="$BUILD/daemon/trifectad"

# A real Python tree to serve: the stdlib, copied (outside any git work tree, so nothing is
# ignored) so the demo never writes into /usr.
STDLIB="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])' 2>/dev/null || echo /usr/lib/python3.11)"
DEMO_TREE="${TRIFECTA_DEMO_TREE:-${XDG_CACHE_HOME:-$HOME/.cache}/trifecta-demo/stdlib}"
if [[ ! -f "$DEMO_TREE/json/decoder.py" ]]; then
  mkdir -p "$DEMO_TREE"
  (cd "$STDLIB" && find . -name '*.py' -not -path './site-packages/*' -not -path './dist-packages/*' \
     -exec cp --parents -t "$DEMO_TREE" {} +)
fi

run() { printf '\n$ trifecta %s\n' "$*"; "$T" "$@"; }

run daemon start
run ping
run ctx build -s "$DEMO_TREE"
run ctx search -s "$DEMO_TREE" -n 5 json decode error
run ctx map -s "$DEMO_TREE" json -b 300
run ctx get -s "$DEMO_TREE" 'json/decoder.py#JSONDecodeError' --mode skeleton
run ctx get -s "$DEMO_TREE" sym://python/json.decoder/JSONDecoder.decode --mode excerpt -q end
run ast skeleton -s "$DEMO_TREE" json/scanner.py
run sym -s "$DEMO_TREE" sym://python/json.decoder/JSONDecoder.decode
# Pyright warms up in parallel with the index; --wait lets it finish (else the AST answers).
run def -s "$DEMO_TREE" --wait 60000 json/decoder.py:337:30
run hover -s "$DEMO_TREE" json/decoder.py:337:30
run lsp status -s "$DEMO_TREE"
run status
printf '\nThe daemon keeps running (idle exit after 30 min). Stop it with: %s daemon stop\n' "$T"
