# Sourced by the benchmark drivers (not run on its own). Puts scripts/ on PYTHONPATH, so that
# their inline Python can `from bench_daemon import Daemon` (scripts/bench_daemon.py).
export PYTHONPATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)${PYTHONPATH:+:$PYTHONPATH}"

# copy_stdlib SRC DST — a private copy of a Python standard library to serve as a benchmark
# corpus: no __pycache__, no site-packages/dist-packages (third-party code, machine-dependent).
copy_stdlib() {
  cp -r "$1" "$2"
  find "$2" -name __pycache__ -prune -exec rm -rf {} +
  rm -rf "$2/site-packages" "$2/dist-packages"
}

# demo_copy DST — a private copy of the demo tree (scripts/demo.sh: the stdlib's .py files, no site-packages),
# without the demo's _ctx/ so the daemon here builds its own index.
demo_copy() {
  local src="${TRIFECTA_DEMO_TREE:-${XDG_CACHE_HOME:-$HOME/.cache}/trifecta-demo/stdlib}"
  if [[ -f "$src/json/decoder.py" ]]; then
    cp -r "$src" "$1"
    rm -rf "$1/_ctx"
  else
    local stdlib
    stdlib="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
    mkdir -p "$1"
    (cd "$stdlib" && find . -name '*.py' -not -path './site-packages/*' -not -path './dist-packages/*' \
      -exec cp --parents -t "$1" {} +)
  fi
}

# bench_trees TREE COPIES label=BUILD_DIR ... — sets TMP to a temp dir removed on exit, prints the
# machine line (cores, kernel, load, date, commit, copies), and makes one private tree per build,
# $TMP/LABEL/seg: a copy of TREE (`demo`: demo_copy's; another tree without its _ctx/, so each
# daemon builds its own index), or with COPIES=4 that tree and copy2..copy4 of it inside (the four
# copies of bench_search_scale.sh). $TMP/one keeps the single tree. Sets `builds` to
# label=ABSOLUTE_BUILD_DIR. Expects ROOT (the repository).
bench_trees() {
  local tree="$1" copies="$2" tmp arg label i
  shift 2
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  tmp="$TMP"
  echo "# machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg); date: $(date -u +%FT%TZ); commit: $(git -C "$ROOT" rev-parse --short HEAD); copies: $copies"
  if [[ "$tree" == demo ]]; then demo_copy "$tmp/one"; else cp -r "$tree" "$tmp/one"; rm -rf "$tmp/one/_ctx"; fi
  builds=()
  for arg in "$@"; do
    label="${arg%%=*}"
    mkdir -p "$tmp/$label/seg"
    cp -r "$tmp/one/." "$tmp/$label/seg/"
    if [[ "$copies" == 4 ]]; then
      for i in 2 3 4; do cp -r "$tmp/one" "$tmp/$label/seg/copy$i"; done
    fi
    builds+=("$label=$(cd "${arg#*=}" && pwd)")
  done
}
