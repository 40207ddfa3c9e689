# Sourced by the benchmark drivers (not run on its own).

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

# bench_trees TMP TREE COPIES label=BUILD_DIR ... — one private tree per build, $TMP/LABEL/seg:
# a copy of TREE (`demo`: demo_copy's; another tree without its _ctx/, so each daemon builds its
# own index), or with COPIES=4 that tree and copy2..copy4 of it inside (the four copies of
# bench_search_scale.sh). $TMP/one keeps the single tree. Sets `builds` to label=ABSOLUTE_BUILD_DIR.
bench_trees() {
  local tmp="$1" tree="$2" copies="$3" arg label i
  shift 3
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
