#!/usr/bin/env bash
# `cmake --install`: the layout, and the installed binaries running on their own.
#
#   check_install.sh BUILD_DIR SOURCE_DIR
#
# 1. DESTDIR + --prefix /usr (what the package does): every file in place (binaries, units, man
#    pages, completions, docs, editor plugins when editors/ exists), ExecStart=/usr/bin/trifectad
#    (the prefix, never the DESTDIR), `systemd-analyze verify` clean.
# 2. --prefix <tmp>: the installed binaries run with the build tree hidden (a private mount
#    namespace mounts an empty tmpfs over BUILD_DIR, as if it had been renamed away; without
#    `unshare` the step says so and runs with the build tree in place): versions, the grammar ABI
#    (`trifectad --self-check`), socket activation from the installed units through
#    systemd-socket-activate, real answers (ast skeleton, ctx build, ctx search) on a fixture tree.
# 3. `trifecta setup-pyright` from a local tarball (npm pack of the set-up's Pyright: no network),
#    then `trifecta doctor` passes (Pyright found as "user" and starts); a broken install (socket
#    dir 0777, no Pyright, no units) fails naming each problem. Skipped, with the reason, when npm
#    or the set-up's Pyright is absent.
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
SRC="$(cd "$2" && pwd)"
TMP="$(mktemp -d /tmp/trifecta-install.XXXXXX)"
cleanup() {
  [[ -f "$TMP/activate.pid" ]] && kill "$(cat "$TMP/activate.pid")" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited $?"' ERR

# --- 1. DESTDIR + /usr -----------------------------------------------------------------------------
DESTDIR="$TMP/dest" cmake --install "$BUILD" --prefix /usr >/dev/null
R="$TMP/dest/usr"
for f in bin/trifectad bin/trifecta lib/systemd/user/trifectad.socket lib/systemd/user/trifectad.service \
  share/man/man1/trifecta.1.gz share/man/man1/trifectad.1.gz share/bash-completion/completions/trifecta \
  share/zsh/vendor-completions/_trifecta share/fish/vendor_completions.d/trifecta.fish \
  share/doc/trifecta/README.md share/doc/trifecta/copyright share/doc/trifecta/changelog.gz \
  share/doc/trifecta/docs/install.md; do
  [[ -e "$R/$f" ]] || fail "missing after install: $f"
done
if [[ -d "$SRC/editors/nvim" ]]; then
  [[ -n "$(ls -A "$R/share/nvim/site/pack/trifecta/start/trifecta" 2>/dev/null)" ]] || fail "editors/nvim not installed"
fi
if [[ -d "$SRC/editors/emacs" ]]; then
  ls "$R/share/emacs/site-lisp/trifecta/"*.el >/dev/null 2>&1 || fail "editors/emacs not installed"
fi
grep -qx "ExecStart=/usr/bin/trifectad --foreground --socket %t/trifecta/trifectad.sock" \
  "$R/lib/systemd/user/trifectad.service" || fail "wrong ExecStart: $(grep ExecStart "$R/lib/systemd/user/trifectad.service")"
grep -qx 'ListenStream=%t/trifecta/trifectad.sock' "$R/lib/systemd/user/trifectad.socket" || fail "wrong ListenStream"
if grep -rlF "$BUILD" "$R/lib/systemd" "$R/share" >/dev/null 2>&1; then
  fail "installed files name the build tree: $(grep -rlF "$BUILD" "$R/lib/systemd" "$R/share")"
fi

# --- 2. --prefix <tmp>, build tree hidden ------------------------------------------------------
P="$TMP/prefix"
cmake --install "$BUILD" --prefix "$P" >/dev/null
grep -qx "ExecStart=$P/bin/trifectad --foreground --socket %t/trifecta/trifectad.sock" \
  "$P/lib/systemd/user/trifectad.service" || fail "wrong ExecStart for --prefix $P"
if command -v systemd-analyze >/dev/null; then
  out="$(systemd-analyze verify "$P/lib/systemd/user/trifectad.socket" "$P/lib/systemd/user/trifectad.service" 2>&1 || true)"
  [[ -z "$out" ]] || fail "systemd-analyze verify: $out"
else
  echo "note: systemd-analyze not installed; unit syntax not verified"
fi

# The fixture tree and a private environment (never the user's socket, state or data).
mkdir -p "$TMP/tree" "$TMP/home" "$TMP/run" "$TMP/config" "$TMP/data" "$TMP/state"
chmod 700 "$TMP/run"
cp -r "$SRC/tests/fixtures/pyproject_small/." "$TMP/tree/"
export HOME="$TMP/home" XDG_RUNTIME_DIR="$TMP/run" XDG_CONFIG_HOME="$TMP/config" \
  XDG_DATA_HOME="$TMP/data" XDG_STATE_HOME="$TMP/state"
unset TRIFECTA_SOCKET TRIFECTA_DAEMON TRIFECTA_PYRIGHT TRIFECTA_PYRIGHT_NPM_SPEC

# Pyright for step 3, packed before the build tree disappears (it is in the source tree's
# third_party/, which stays visible: only the build tree is hidden).
PYRIGHT_PKG="$SRC/third_party/pyright/node_modules/pyright"
tarball=""
if command -v npm >/dev/null && [[ -f "$PYRIGHT_PKG/package.json" ]]; then
  tarball="$(cd "$TMP" && npm pack --silent "$PYRIGHT_PKG" 2>/dev/null | tail -1)"
  tarball="$TMP/$tarball"
  [[ -f "$tarball" ]] || tarball=""
fi

cat >"$TMP/run_installed.sh" <<'INNER'
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }
cd "$TREE"
[[ ! -e "$BUILD/CMakeCache.txt" ]] || [[ "$HIDDEN" == 0 ]] || fail "the build tree is still visible"
"$P/bin/trifecta" --version | grep -q '^trifecta ' || fail "trifecta --version"
"$P/bin/trifectad" --version | grep -q '^trifectad ' || fail "trifectad --version"
sc="$("$P/bin/trifectad" --self-check --no-lsp)"
grep -q '"compatible":true' <<<"$sc" || fail "grammar ABI: $sc"

# Socket activation from the installed units: ListenStream and ExecStart as systemd would use them.
sock="$(sed -n 's/^ListenStream=//p' "$P/lib/systemd/user/trifectad.socket")"
sock="${sock//%t/$XDG_RUNTIME_DIR}"
exec_line="$(sed -n 's/^ExecStart=//p' "$P/lib/systemd/user/trifectad.service")"
exec_line="${exec_line//%t/$XDG_RUNTIME_DIR}"
mkdir -p "$(dirname "$sock")" && chmod 700 "$(dirname "$sock")"
if command -v systemd-socket-activate >/dev/null; then
  # shellcheck disable=SC2086
  systemd-socket-activate -l "$sock" $exec_line --no-lsp >"$TMP/activate.log" 2>&1 &
  echo $! >"$TMP/activate.pid"
  # The socket file appears at bind(), before listen(): a connect in between is refused (seen under
  # a loaded ctest). systemd-socket-activate logs "Listening on …" after listen().
  for _ in $(seq 200); do grep -q '^Listening on' "$TMP/activate.log" 2>/dev/null && break; sleep 0.05; done
  "$P/bin/trifecta" --socket "$sock" --no-spawn status --json | grep -q '"socket_activated":true' ||
    fail "socket activation: $(cat "$TMP/activate.log")"
else
  echo "note: systemd-socket-activate not installed; the installed binary is started by the client instead"
fi
"$P/bin/trifecta" --socket "$sock" ast skeleton main.py | grep -q . || fail "ast skeleton"
"$P/bin/trifecta" --socket "$sock" ctx build >/dev/null || fail "ctx build"
"$P/bin/trifecta" --socket "$sock" ctx search welcome --json | grep -q '"hits"' || fail "ctx search"
"$P/bin/trifecta" --socket "$sock" daemon stop >/dev/null || fail "daemon stop"
echo "installed binaries: ok"
INNER
export BUILD P TMP TREE="$TMP/tree"
if command -v unshare >/dev/null && unshare -rm true 2>/dev/null; then
  HIDDEN=1 unshare -rm bash -c 'mount -t tmpfs none "$BUILD" && bash "$TMP/run_installed.sh"' ||
    fail "installed binaries with the build tree hidden"
else
  echo "note: cannot unshare a mount namespace here; the installed binaries ran with the build tree in place"
  HIDDEN=0 bash "$TMP/run_installed.sh" || fail "installed binaries"
fi
rm -f "$TMP/activate.pid"

# --- 3. setup-pyright + doctor -------------------------------------------------------------------
if [[ -z "$tarball" ]]; then
  echo "note: npm or the set-up's Pyright ($PYRIGHT_PKG) is absent; setup-pyright and doctor not tested here"
  echo "install ok"
  exit 0
fi
TRIFECTA_PYRIGHT_NPM_SPEC="$tarball" "$P/bin/trifecta" setup-pyright --dry-run | grep -qF "$tarball" ||
  fail "setup-pyright --dry-run does not name the spec"
TRIFECTA_PYRIGHT_NPM_SPEC="$tarball" "$P/bin/trifecta" setup-pyright >"$TMP/setup.out" 2>"$TMP/setup.err" ||
  fail "setup-pyright: $(cat "$TMP/setup.err")"
[[ -x "$XDG_DATA_HOME/trifecta/pyright/node_modules/.bin/pyright-langserver" ]] || fail "setup-pyright installed no launcher"

# Good: units found beside the installed binaries, enabled; Pyright from the user data dir.
mkdir -p "$XDG_CONFIG_HOME/systemd/user/sockets.target.wants"
ln -s "$P/lib/systemd/user/trifectad.socket" "$XDG_CONFIG_HOME/systemd/user/sockets.target.wants/trifectad.socket"
rm -rf "$XDG_RUNTIME_DIR/trifecta"
(cd "$TMP/tree" && "$P/bin/trifecta" doctor >"$TMP/doctor.good") || fail "doctor on a good install: $(cat "$TMP/doctor.good")"
grep -q '^ok    pyright: .*(user: ' "$TMP/doctor.good" || fail "doctor: Pyright not found as user: $(cat "$TMP/doctor.good")"
(cd "$TMP/tree" && "$P/bin/trifecta" doctor --json) | grep -q '^{"ok":true' || fail "doctor --json on a good install"

# Broken: socket dir 0777, Pyright missing, units absent.
cp -a "$P" "$TMP/broken"
rm -f "$TMP/broken/lib/systemd/user/"trifectad.*
rm -rf "$XDG_CONFIG_HOME/systemd"
mkdir -p "$XDG_RUNTIME_DIR/trifecta" && chmod 0777 "$XDG_RUNTIME_DIR/trifecta"
rc=0
(cd "$TMP/tree" && XDG_DATA_HOME="$TMP/empty" PATH=/usr/bin:/bin "$TMP/broken/bin/trifecta" doctor >"$TMP/doctor.bad") || rc=$?
[[ $rc == 1 ]] || fail "doctor on a broken install exited $rc: $(cat "$TMP/doctor.bad")"
for check in socket-dir pyright units; do
  grep -q "^FAIL  $check: .* — fix: " "$TMP/doctor.bad" || fail "doctor does not name '$check' with a fix: $(cat "$TMP/doctor.bad")"
done
grep -q '^ok    grammar' "$TMP/doctor.bad" || fail "doctor: grammar should still pass: $(cat "$TMP/doctor.bad")"
echo "install ok (doctor good/broken, setup-pyright from $(basename "$tarball"))"
