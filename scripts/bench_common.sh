# Sourced by the benchmark drivers (not run on its own).

# copy_stdlib SRC DST — a private copy of a Python standard library to serve as a benchmark
# corpus: no __pycache__, no site-packages/dist-packages (third-party code, machine-dependent).
copy_stdlib() {
  cp -r "$1" "$2"
  find "$2" -name __pycache__ -prune -exec rm -rf {} +
  rm -rf "$2/site-packages" "$2/dist-packages"
}
