#!/usr/bin/env bash
# The Emacs package's tests (CTest: emacs_byte_compile, emacs_ert). Exits 77 (skipped, with the
# reason) when emacs is not installed.
#   run.sh byte-compile                 trifecta.el compiles with byte-compile-error-on-warn
#   run.sh ert TRIFECTAD TRIFECTA [SELECTOR]
#                                       ERT against a real trifectad (tests/editors/emacs/trifecta-test.el)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
EL="$ROOT/editors/emacs"
EMACS="${EMACS:-emacs}"
if ! command -v "$EMACS" > /dev/null 2>&1; then
  echo "skipped: emacs is not installed (scripts/setup.sh installs emacs-nox)"
  exit 77
fi
"$EMACS" --version | head -1

case "${1:-}" in
  byte-compile)
    # Compile a copy, so no .elc lands in the source tree.
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    cp "$EL/trifecta.el" "$tmp/"
    "$EMACS" -Q --batch --eval '(setq byte-compile-error-on-warn t)' \
      -f batch-byte-compile "$tmp/trifecta.el"
    test -f "$tmp/trifecta.elc"
    echo "trifecta.el: byte-compiled without warnings"
    ;;
  ert)
    [[ $# -ge 3 ]] || { echo "usage: $0 ert TRIFECTAD TRIFECTA [SELECTOR]" >&2; exit 2; }
    export TRIFECTAD_BIN="$2" TRIFECTA_BIN="$3"
    export TRIFECTA_FIXTURES_DIR="$ROOT/tests/fixtures" TRIFECTA_SOURCE_DIR="$ROOT"
    selector="${4:-t}"
    "$EMACS" -Q --batch -L "$EL" -L "$HERE" -l ert -l "$EL/trifecta.el" -l "$HERE/trifecta-test.el" \
      --eval "(ert-run-tests-batch-and-exit (quote $selector))"
    ;;
  *)
    echo "usage: $0 byte-compile | ert TRIFECTAD TRIFECTA [SELECTOR]" >&2
    exit 2
    ;;
esac
