#!/usr/bin/env bash
# clang-format check over the files listed in tests/tools/format_checked.txt (the root
# .clang-format decides layout). The tree is not formatted all at once — that would collide with
# every branch in flight — so the list grows file by file: new files go in it, and a file joins it
# when it is formatted on its own (a commit that only runs `clang-format -i` on it).
#
#   check_format.sh [ROOT]               check every listed file; exit 1 naming each file that is
#                                        not formatted (or listed but missing)
#   check_format.sh --list-clean [ROOT]  print the C++ files under lib/ proto/ daemon/ client/
#                                        tests/ that are already formatted but not listed (to
#                                        grow the list: append them)
#   check_format.sh --self-test          a formatted file passes, an unformatted or missing one
#                                        fails (so the check cannot silently pass)
#
# Exit 77 (CTest SKIP_RETURN_CODE) with the reason when clang-format is not installed
# (scripts/setup.sh installs it). $CLANG_FORMAT picks the binary; default clang-format-14, else
# clang-format. Other major versions may lay code out differently: the version is printed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

find_clang_format() {
  if [[ -n "${CLANG_FORMAT:-}" ]]; then
    command -v "$CLANG_FORMAT" && return 0
  fi
  command -v clang-format-14 || command -v clang-format || return 1
}

if ! CF="$(find_clang_format)"; then
  echo "SKIP: clang-format not found (apt-get install clang-format; scripts/setup.sh installs it)"
  exit 77
fi

# Check the files listed in $2 (paths relative to $1). Prints one line per problem.
check_list() {
  local root="$1" list="$2" bad=0 n=0 f out
  [[ -f "$list" ]] || { echo "check_format: no list at $list" >&2; return 2; }
  while IFS= read -r f || [[ -n "$f" ]]; do
    f="${f%%#*}"
    f="${f#"${f%%[![:space:]]*}"}"
    f="${f%"${f##*[![:space:]]}"}"
    [[ -n "$f" ]] || continue
    n=$((n + 1))
    if [[ ! -f "$root/$f" ]]; then
      echo "$f: listed in $(basename "$list") but missing (renamed or deleted? update the list)"
      bad=$((bad + 1))
      continue
    fi
    if ! out="$(cd "$root" && "$CF" --dry-run --Werror "$f" 2>&1)"; then
      echo "$f: not clang-formatted; run: clang-format -i $f"
      head -n 6 <<<"$out" | sed 's/^/    /'
      bad=$((bad + 1))
    fi
  done <"$list"
  if ((bad)); then
    echo "check_format: $bad of $n listed file(s) fail ($("$CF" --version | head -n 1))" >&2
    return 1
  fi
  echo "check_format: $n listed files are clang-formatted ($("$CF" --version | head -n 1))"
}

list_clean() {
  local root="$1" list="$here/format_checked.txt" f
  cd "$root"
  find lib proto daemon client tests -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cc' \) \
    2>/dev/null | sort | while IFS= read -r f; do
    grep -qxF "$f" "$list" 2>/dev/null && continue
    "$CF" --dry-run --Werror "$f" >/dev/null 2>&1 && echo "$f"
  done
}

self_test() {
  local tmp ok=1 out
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  printf 'BasedOnStyle: Google\nColumnLimit: 100\n' >"$tmp/.clang-format"
  printf 'int f(int x) { return x + 1; }\n' >"$tmp/clean.cpp"
  printf 'int   g( int x ){return x+1;}\n' >"$tmp/messy.cpp"
  printf 'clean.cpp\n' >"$tmp/ok.txt"
  printf '# a comment\nclean.cpp  # trailing comment\n\nmessy.cpp\n' >"$tmp/bad.txt"
  printf 'clean.cpp\ngone.cpp\n' >"$tmp/missing.txt"
  if ! out="$(check_list "$tmp" "$tmp/ok.txt" 2>&1)"; then
    echo "self-test FAILED: a formatted file was refused:"; echo "$out"; ok=0
  fi
  if out="$(check_list "$tmp" "$tmp/bad.txt" 2>&1)" || ! grep -q '^messy.cpp: not clang-formatted' <<<"$out"; then
    echo "self-test FAILED: an unformatted listed file was not reported:"; echo "$out"; ok=0
  fi
  if out="$(check_list "$tmp" "$tmp/missing.txt" 2>&1)" || ! grep -q '^gone.cpp: listed' <<<"$out"; then
    echo "self-test FAILED: a missing listed file was not reported:"; echo "$out"; ok=0
  fi
  ((ok)) && echo "check_format self-test: formatted passes, unformatted and missing fail"
  ((ok))
}

case "${1:-}" in
  --self-test) self_test ;;
  --list-clean) list_clean "$(cd "${2:-$here/../..}" && pwd)" ;;
  *) check_list "$(cd "${1:-$here/../..}" && pwd)" "$here/format_checked.txt" ;;
esac
