#!/usr/bin/env bash
# Text screenshots of trifecta.el for docs/editors.md: `emacs -nw -Q` with the package, in a
# private tmux server, on the stdlib demo tree (scripts/demo.sh makes it) with a private trifectad.
#   tests/editors/emacs/screenshots.sh [build-dir] [out-dir=build/emacs-screens]
# Writes mode-line-building.txt, mode-line-warming.txt, mode-line-ready.txt, search.txt, search-filtered.txt, outline.txt,
# map.txt
# (tmux capture-pane -p).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
BUILD="${1:-$ROOT/build}"
OUT="${2:-$BUILD/emacs-screens}"
DEMO_TREE="${TRIFECTA_DEMO_TREE:-${XDG_CACHE_HOME:-$HOME/.cache}/trifecta-demo/stdlib}"
[[ -f "$DEMO_TREE/json/decoder.py" ]] || { echo "no demo tree at $DEMO_TREE: run scripts/demo.sh first"; exit 1; }
mkdir -p "$OUT"

tmp="$(mktemp -d)"
daemon_pid=
T() { tmux -S "$tmp/tmux.sock" "$@"; }
cleanup() {
  T kill-server 2>/dev/null || true
  [[ -n "$daemon_pid" ]] && kill "$daemon_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export TRIFECTA_SOCKET="$tmp/d.sock" XDG_STATE_HOME="$tmp/state" TRIFECTA_TELEMETRY_DIR="$tmp/tel"
PYRIGHT="$ROOT/third_party/pyright/node_modules/.bin/pyright-langserver"
[[ -x "$PYRIGHT" ]] && export TRIFECTA_PYRIGHT="$PYRIGHT"
"$BUILD/daemon/trifectad" --foreground --socket "$TRIFECTA_SOCKET" --log-level warn 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 200); do [[ -S "$TRIFECTA_SOCKET" ]] && break; sleep 0.05; done

# A copy of the tree without its index, to show a cold build's progress in the lighter.
COLD="$tmp/stdlib-cold"
mkdir -p "$COLD" && (cd "$DEMO_TREE" && find . -name '*.py' -not -path './_ctx/*' -exec cp --parents -t "$COLD" {} +)

cat > "$tmp/init.el" <<EL
(setq inhibit-startup-screen t)
(require 'trifecta)
(setq trifecta-socket "$TRIFECTA_SOCKET" trifecta-segment "$DEMO_TREE"
      trifecta-auto-start nil trifecta-status-min-interval 0.5)
(setq icomplete-show-matches-on-no-input t icomplete-prospects-height 12)
(icomplete-vertical-mode 1)
(trifecta-mode 1)
(find-file "$COLD/json/decoder.py")
(setq-local trifecta-segment "$COLD")
(defun shot-open-demo ()
  (kill-buffer (current-buffer))
  (find-file "$DEMO_TREE/json/decoder.py")
  (goto-char (point-min))
  (search-forward "def decode(self, s")
  (recenter 3))
EL
T new-session -d -s shot -x 120 -y 34 "TERM=xterm-256color emacs -nw -Q -L '$ROOT/editors/emacs' -l '$tmp/init.el'"
cap() { T capture-pane -p -t shot | sed -e 's/[[:space:]]*$//' > "$OUT/$1"; echo "wrote $OUT/$1"; }
wait_for() {  # text, seconds
  for _ in $(seq $(( $2 * 10 ))); do T capture-pane -p -t shot | grep -q -- "$1" && return 0; sleep 0.1; done
  echo "timed out waiting for: $1" >&2; T capture-pane -p -t shot >&2; return 1
}
wait_for "trifecta: index building [1-9][0-9]*%" 90
cap mode-line-building.txt
"$BUILD/client/trifecta" segment close -s "$COLD" > /dev/null
T send-keys -t shot M-: "(shot-open-demo)" Enter
wait_for "trifecta: WARMING" 60
cap mode-line-warming.txt
for _ in 1 2 3; do  # Pyright on the whole stdlib may take a while
  "$BUILD/client/trifecta" --timeout 70 def -s "$DEMO_TREE" --wait 60000 json/decoder.py:337:30 2>/dev/null | grep -q . && break
done
wait_for "trifecta: READY" 120
cap mode-line-ready.txt

T send-keys -t shot M-x; sleep 0.3; T send-keys -t shot "trifecta-search" Enter; sleep 0.5
T send-keys -t shot "json decode error" Enter
wait_for " of [0-9]*\]:" 20; sleep 0.3
cap search.txt
T send-keys -t shot C-g; sleep 0.3
T send-keys -t shot M-x; sleep 0.3; T send-keys -t shot "trifecta-search" Enter; sleep 0.5
T send-keys -t shot "scanner path:json/ kind:code" Enter
wait_for " of [0-9]*\]:" 20; sleep 0.3
cap search-filtered.txt
T send-keys -t shot C-g; sleep 0.3

T send-keys -t shot M-x; sleep 0.3; T send-keys -t shot "trifecta-outline" Enter
wait_for "definitions" 20; sleep 0.3
cap outline.txt
T send-keys -t shot C-x 1; sleep 0.3

T send-keys -t shot M-: '(trifecta-map "json" 300)' Enter
wait_for "trifecta map of json" 20; sleep 0.3
cap map.txt
T send-keys -t shot C-x C-c; sleep 0.3
