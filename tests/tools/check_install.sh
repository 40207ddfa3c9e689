#!/usr/bin/env bash
# `cmake --install` into a temporary prefix puts the binaries and both systemd user units in place,
# with ExecStart pointing at the installed trifectad; systemd-analyze verifies the units when present.
set -euo pipefail
BUILD="$1"
PREFIX="$(mktemp -d)"
trap 'rm -rf "$PREFIX"' EXIT
cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
for f in bin/trifectad bin/trifecta lib/systemd/user/trifectad.socket lib/systemd/user/trifectad.service; do
  [[ -e "$PREFIX/$f" ]] || { echo "missing after install: $f"; exit 1; }
done
grep -qx "ExecStart=$PREFIX/bin/trifectad --foreground --socket %t/trifecta/trifectad.sock" \
  "$PREFIX/lib/systemd/user/trifectad.service" || { echo "wrong ExecStart"; exit 1; }
grep -qx 'ListenStream=%t/trifecta/trifectad.sock' "$PREFIX/lib/systemd/user/trifectad.socket" || { echo "wrong ListenStream"; exit 1; }
"$PREFIX/bin/trifectad" --version | grep -q '^trifectad '
if command -v systemd-analyze >/dev/null; then
  out="$(systemd-analyze verify "$PREFIX/lib/systemd/user/trifectad.socket" "$PREFIX/lib/systemd/user/trifectad.service" 2>&1 || true)"
  if [[ -n "$out" ]]; then echo "systemd-analyze verify: $out"; exit 1; fi
else
  echo "note: systemd-analyze not installed; unit syntax not verified"
fi
echo "install layout ok"
