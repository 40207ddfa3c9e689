#!/usr/bin/env bash
# Runs the Neovim plugin's test suites headless against a real trifectad.
#   tests/editors/nvim/run.sh TRIFECTAD TRIFECTA [suite ...]   (suites: fallback pyright; default both)
# Each suite gets a fresh copy of tests/fixtures/pyproject_small, a private socket, state and
# runtime directories in a temporary directory; the plugin itself starts the daemon (autostart)
# with the binary given here. Exit 77 (CTest: skipped) with the reason when nvim is absent.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
TRIFECTAD="${1:?usage: run.sh TRIFECTAD TRIFECTA [suite ...]}"
TRIFECTA="${2:?usage: run.sh TRIFECTAD TRIFECTA [suite ...]}"
shift 2
TRIFECTAD="$(realpath "$TRIFECTAD")"
TRIFECTA="$(realpath "$TRIFECTA")"
SUITES=("$@")
[[ ${#SUITES[@]} -gt 0 ]] || SUITES=(fallback pyright)

if ! command -v nvim > /dev/null 2>&1; then
  echo "SKIP: nvim is not installed (scripts/setup.sh installs neovim)"
  exit 77
fi
echo "# $(nvim --version | head -1)"

# Pyright for the `pyright` suite: the set-up's copy unless TRIFECTA_PYRIGHT says otherwise.
if [[ -z "${TRIFECTA_PYRIGHT:-}" && -x "$ROOT/third_party/pyright/node_modules/.bin/pyright-langserver" ]]; then
  export TRIFECTA_PYRIGHT="$ROOT/third_party/pyright/node_modules/.bin/pyright-langserver"
fi

TMP="$(mktemp -d /tmp/trifecta-nvim-test.XXXXXX)"
SOCKETS=()
cleanup() {
  for s in "${SOCKETS[@]}"; do
    "$TRIFECTA" --socket "$s" --no-spawn daemon stop > /dev/null 2>&1 || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

rc=0
for suite in "${SUITES[@]}"; do
  dir="$TMP/$suite"
  mkdir -p "$dir/xdg" "$dir/state" "$dir/config" "$dir/data" "$dir/telemetry"
  chmod 700 "$dir/xdg"
  cp -r "$ROOT/tests/fixtures/pyproject_small" "$dir/proj"
  SOCKETS+=("$dir/run/d.sock")
  echo "# suite $suite"
  set +e
  (cd "$dir/proj" && env XDG_RUNTIME_DIR="$dir/xdg" XDG_STATE_HOME="$dir/state" XDG_CONFIG_HOME="$dir/config" \
    XDG_DATA_HOME="$dir/data" TRIFECTA_TELEMETRY_DIR="$dir/telemetry" TRIFECTA_SOCKET="$dir/run/d.sock" \
    TRIFECTA_DAEMON="$TRIFECTAD" TRIFECTA_TEST_TMP="$dir" TRIFECTA_TEST_ROOT="$ROOT" \
    TRIFECTA_TEST_SUITE="$HERE/test_$suite.lua" \
    timeout 280 nvim --headless -u NONE -i NONE -n --cmd "set rtp^=$ROOT/editors/nvim" \
      -c "runtime plugin/trifecta.lua" -c "luafile $HERE/runner.lua" < /dev/null)
  r=$?
  set -e
  if [[ $r -ne 0 ]]; then
    echo "# suite $suite failed (exit $r)"
    rc=1
  fi
done
exit $rc
