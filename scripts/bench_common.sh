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
