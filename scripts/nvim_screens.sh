#!/usr/bin/env bash
# Regenerates the Neovim screenshots of docs/editors.md: Neovim in tmux on a private copy of the
# stdlib demo tree (see scripts/demo.sh), with a private trifectad; the text of the search
# picker, the outline, the map and the status line is captured with `tmux capture-pane -p` and written
# between the `<!-- screen:NAME -->` markers of docs/editors.md.
#   scripts/nvim_screens.sh [build-dir]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$(realpath "${1:-$ROOT/build}")"
source "$ROOT/scripts/bench_common.sh"  # demo_copy
TMP="$(mktemp -d /tmp/trifecta-nvim-screens.XXXXXX)"
export TRIFECTA_SOCKET="$TMP/d.sock" XDG_STATE_HOME="$TMP/state" XDG_RUNTIME_DIR="$TMP/xdg" \
  TRIFECTA_TELEMETRY_DIR="$TMP/telemetry" TRIFECTA_DAEMON="$BUILD/daemon/trifectad"
if [[ -z "${TRIFECTA_PYRIGHT:-}" && -x "$ROOT/third_party/pyright/node_modules/.bin/pyright-langserver" ]]; then
  export TRIFECTA_PYRIGHT="$ROOT/third_party/pyright/node_modules/.bin/pyright-langserver"
fi
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
T="$BUILD/client/trifecta"
TM=(tmux -S "$TMP/tmux.sock")
cleanup() {
  "${TM[@]}" kill-server > /dev/null 2>&1 || true
  "$T" --no-spawn daemon stop > /dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

TREE="$TMP/stdlib"
demo_copy "$TREE"
"$T" daemon start > /dev/null
"$T" --timeout 1800 ctx build -s "$TREE" | head -1
# Pyright READY for the status line (the AST answers meanwhile; give it up to 5 minutes).
for _ in 1 2 3 4 5; do
  "$T" --timeout 70 --json def -s "$TREE" --wait 60000 json/decoder.py:337:30 | grep -q '"backend":"lsp"' && break
done

cat > "$TMP/init.lua" <<LUA
vim.opt.runtimepath:prepend("$ROOT/editors/nvim")
vim.cmd("runtime plugin/trifecta.lua")
require("trifecta").setup({ picker = "select", search_limit = 8 })
vim.o.laststatus = 2
vim.o.statusline = "%f %m%=%{v:lua.require'trifecta'.status()}   %l:%c "
vim.o.shortmess = vim.o.shortmess .. "I"
LUA

screen() { "${TM[@]}" capture-pane -p | sed -e 's/[[:space:]]*$//'; }
wait_for() { # wait_for PATTERN SECONDS
  for _ in $(seq 1 $(($2 * 10))); do
    screen | grep -q -- "$1" && return 0
    sleep 0.1
  done
  echo "nvim_screens: timed out waiting for '$1'; the screen:" >&2
  screen >&2
  return 1
}

"${TM[@]}" new-session -d -x 100 -y 28 "cd '$TREE' && nvim -u '$TMP/init.lua' -i NONE -n json/decoder.py"
wait_for "trifecta: READY" 60 || wait_for "trifecta: " 10
"${TM[@]}" send-keys ":337" Enter
sleep 0.5
screen > "$TMP/status.txt"

"${TM[@]}" send-keys ":Trifecta search json decode error" Enter
wait_for "Type number" 20
screen > "$TMP/search.txt"
"${TM[@]}" send-keys "1" Enter
sleep 0.5

"${TM[@]}" send-keys ":Trifecta outline" Enter
wait_for "class JSONDecoder" 20
"${TM[@]}" send-keys "/raw_decode" Enter
sleep 0.5
screen > "$TMP/outline.txt"
"${TM[@]}" send-keys "q"
sleep 0.3

"${TM[@]}" send-keys ":Trifecta map json budget=300" Enter
wait_for "trifecta map of json" 20
"${TM[@]}" send-keys ":only | echo" Enter
sleep 0.5
screen > "$TMP/map.txt"
"${TM[@]}" send-keys ":qa!" Enter

python3 - "$ROOT/docs/editors.md" "$TMP" <<'PY'
import re, sys, pathlib
doc = pathlib.Path(sys.argv[1]); tmp = pathlib.Path(sys.argv[2])
text = doc.read_text()
for name in ("search", "outline", "map", "status"):
    shot = (tmp / f"{name}.txt").read_text().rstrip("\n")
    block = f"<!-- screen:{name} -->\n```text\n{shot}\n```\n<!-- /screen:{name} -->"
    text, n = re.subn(rf"<!-- screen:{name} -->.*?<!-- /screen:{name} -->", lambda _: block, text, flags=re.S)
    if n != 1:
        sys.exit(f"nvim_screens: marker screen:{name} not found in {doc}")
doc.write_text(text)
print(f"updated {doc}")
PY
