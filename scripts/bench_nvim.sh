#!/usr/bin/env bash
# Keypress → search picker shown, and keypress → map shown, measured inside Neovim
# (tests/bench/nvim/picker.lua), on a private copy of the stdlib demo tree with a warm daemon (index built, warm-up runs first).
#   scripts/bench_nvim.sh [build-dir] [runs]        (default: build, 200)
# Neovim runs in tmux (a real terminal UI, 160x45) on a private tmux socket and a private
# trifectad socket; Pyright is off for the daemon (LSP_ENABLED=false): search does not use it
# and its warm-up on the stdlib would only add load. Results: docs/benchmarks.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$(realpath "${1:-$ROOT/build}")"
RUNS="${2:-200}"
for tool in nvim tmux; do
  command -v "$tool" > /dev/null || { echo "bench_nvim: $tool is not installed" >&2; exit 1; }
done

source "$ROOT/scripts/bench_common.sh"  # demo_copy
TMP="$(mktemp -d /tmp/trifecta-bench-nvim.XXXXXX)"
export TRIFECTA_SOCKET="$TMP/d.sock" XDG_STATE_HOME="$TMP/state" XDG_RUNTIME_DIR="$TMP/xdg" \
  TRIFECTA_TELEMETRY_DIR="$TMP/telemetry" TRIFECTA_DAEMON="$BUILD/daemon/trifectad" LSP_ENABLED=false
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
T="$BUILD/client/trifecta"
TMUX_SOCK="$TMP/tmux.sock"
cleanup() {
  tmux -S "$TMUX_SOCK" kill-server > /dev/null 2>&1 || true
  "$T" --no-spawn daemon stop > /dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

demo_copy "$TMP/stdlib"
"$T" daemon start > /dev/null
"$T" --timeout 1800 ctx build -s "$TMP/stdlib" | head -1

echo "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD), $(nvim --version | head -1), tmux $(tmux -V | cut -d' ' -f2)"
tmux -S "$TMUX_SOCK" new-session -d -x 160 -y 45 \
  "cd '$TMP/stdlib' && TRIFECTA_BENCH_TREE='$TMP/stdlib' TRIFECTA_BENCH_RUNS='$RUNS' TRIFECTA_BENCH_OUT='$TMP/out' \
   nvim -u NONE -i NONE -n --cmd 'set rtp^=$ROOT/editors/nvim' -c 'runtime plugin/trifecta.lua' \
   -c 'luafile $ROOT/tests/bench/nvim/picker.lua' json/decoder.py"
for _ in $(seq 1 1200); do
  [[ -s "$TMP/out" ]] && ! tmux -S "$TMUX_SOCK" has-session 2> /dev/null && break
  sleep 0.5
done
[[ -s "$TMP/out" ]] || { echo "bench_nvim: no result (screen below)" >&2; tmux -S "$TMUX_SOCK" capture-pane -p >&2; exit 1; }
cat "$TMP/out"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
