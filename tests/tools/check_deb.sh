#!/usr/bin/env bash
# The Debian package: build it with CPack, check its contents, Depends, postinst and lintian, then
# install it with `dpkg --root` into a temporary directory (no debootstrap: a throwaway root with
# only an empty dpkg database, so --force-depends, and --force-script-chrootless so the postinst
# runs without a chroot) and run the installed binaries.
#
#   check_deb.sh BUILD_DIR
#
# Exit 77 (CTest: skipped) when cpack/dpkg-deb are absent; lintian is skipped, with the reason,
# when not installed.
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
for tool in cpack dpkg-deb dpkg; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done
TMP="$(mktemp -d /tmp/trifecta-deb.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited $?"' ERR

(cd "$BUILD" && cpack -G DEB -B "$TMP/pkg" >"$TMP/cpack.log" 2>&1) || fail "cpack: $(tail -20 "$TMP/cpack.log")"
version="$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$BUILD/CPackConfig.cmake")"
deb="$TMP/pkg/trifecta_${version}_amd64.deb"
[[ -f "$deb" ]] || fail "expected $(basename "$deb"); got: $(ls "$TMP/pkg")"

# --- contents --------------------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$TMP/contents"
for f in /usr/bin/trifecta /usr/bin/trifectad /usr/lib/systemd/user/trifectad.socket \
  /usr/lib/systemd/user/trifectad.service /usr/share/man/man1/trifecta.1.gz \
  /usr/share/man/man1/trifectad.1.gz /usr/share/bash-completion/completions/trifecta \
  /usr/share/zsh/vendor-completions/_trifecta /usr/share/fish/vendor_completions.d/trifecta.fish \
  /usr/share/doc/trifecta/copyright /usr/share/doc/trifecta/changelog.gz /usr/share/doc/trifecta/README.md; do
  grep -qx -- "$f" "$TMP/contents" || fail "not in the package: $f"
done
outside="$(grep -v '^/$' "$TMP/contents" | grep -v '^/usr/' || true)"
[[ -z "$outside" ]] || fail "files outside /usr: $outside"
# Installed, not enabled: no *.wants links, nothing under /etc.
! grep -q '\.wants/' "$TMP/contents" || fail "the package enables units: $(grep '\.wants/' "$TMP/contents")"
dpkg-deb -x "$deb" "$TMP/x"
cp "$TMP/x/usr/lib/systemd/user/trifectad.service" "$TMP/service"
grep -qx 'ExecStart=/usr/bin/trifectad --foreground --socket %t/trifecta/trifectad.sock' "$TMP/service" ||
  fail "ExecStart in the package: $(grep ExecStart "$TMP/service")"

# --- control: Depends from dpkg-shlibdeps; the postinst message ----------------------------------
depends="$(dpkg-deb -f "$deb" Depends)"
[[ -n "$depends" ]] || fail "no Depends"
dep_names="$(tr ',|' '\n\n' <<<"$depends" | awk '{print $1}')"
cp "$TMP/x/usr/bin/trifectad" "$TMP/trifectad"
# Every shared library trifectad needs comes from a package that Depends names. (The cache goes
# to a file first: `ldconfig -p | awk '{…; exit}'` dies of SIGPIPE under pipefail.)
ldconfig -p > "$TMP/ldconfig.txt"
while read -r lib; do
  path="$(awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}' "$TMP/ldconfig.txt")"
  [[ -n "$path" ]] || continue
  pkg="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)" || true
  [[ -z "$pkg" ]] && pkg="$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)" || true
  [[ -n "$pkg" ]] || continue
  # Depends may name the package or a virtual package it provides (libspdlog1.10-fmt9).
  ok=0
  for name in "$pkg" $(dpkg-query -W -f='${Provides}' "$pkg" 2>/dev/null | tr ',' '\n' | awk '{print $1}'); do
    grep -qxF -- "$name" <<<"$dep_names" && ok=1
  done
  ((ok)) || fail "trifectad needs $lib ($pkg), Depends lacks it: $depends"
done < <(objdump -p "$TMP/trifectad" | awk '$1 == "NEEDED" {print $2}')
dpkg-deb -e "$deb" "$TMP/control"
grep -qF 'systemctl --user enable --now trifectad.socket' "$TMP/control/postinst" || fail "postinst: no socket activation hint"
grep -qF 'trifecta setup-pyright' "$TMP/control/postinst" || fail "postinst: no Pyright hint"
# The hint is text in a here-document; no line may run systemctl or deb-systemd-helper itself.
if sed "/<<'MSG'/,/^MSG\$/d" "$TMP/control/postinst" | grep -nE '(systemctl|deb-systemd-helper)'; then
  fail "postinst runs systemctl or deb-systemd-helper (the units must not be enabled)"
fi

# --- lintian: no errors (warnings are listed in docs/install.md) ---------------------------------
if command -v lintian >/dev/null; then
  lintian --no-tag-display-limit "$deb" >"$TMP/lintian" 2>&1 || true
  if grep -q '^E:' "$TMP/lintian"; then fail "lintian errors:"$'\n'"$(cat "$TMP/lintian")"; fi
  grep -q '^W:' "$TMP/lintian" && { echo "lintian warnings:"; grep '^W:' "$TMP/lintian"; }
else
  echo "note: lintian not installed; the package was not linted"
fi

# --- dpkg --root install into a temporary directory ---------------------------------------------
R="$TMP/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers"
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
dpkg --root="$R" --force-depends --force-script-chrootless --log=/dev/null -i "$deb" >"$TMP/dpkg.log" 2>&1 ||
  fail "dpkg --root -i: $(cat "$TMP/dpkg.log")"
grep -qF 'systemctl --user enable --now trifectad.socket' "$TMP/dpkg.log" || fail "the postinst message was not shown: $(cat "$TMP/dpkg.log")"
dpkg --root="$R" -s trifecta | grep -qx 'Status: install ok installed' || fail "not installed per dpkg"
"$R/usr/bin/trifecta" --version | grep -q "^trifecta $version " || fail "installed trifecta --version"
"$R/usr/bin/trifectad" --version | grep -q "^trifectad $version " || fail "installed trifectad --version"
"$R/usr/bin/trifectad" --self-check --no-lsp | grep -q '"compatible":true' || fail "installed trifectad: grammar ABI"
dpkg --root="$R" --force-depends --force-script-chrootless --log=/dev/null -r trifecta >/dev/null 2>&1 || fail "dpkg -r"
[[ ! -e "$R/usr/bin/trifecta" ]] || fail "dpkg -r left /usr/bin/trifecta"
echo "deb ok: $(basename "$deb"), Depends: $depends"
