#!/usr/bin/env bash
# One-shot, idempotent set-up of everything Trifecta needs on Debian 12:
#   * apt packages (compilers, Boost 1.81, libsodium, spdlog, Catch2 v2, ...)
#   * the tree-sitter runtime C sources (npm pack tree-sitter, integrity-checked) -> third_party/tree-sitter/
#   * the tree-sitter-python grammar sources (npm pack, integrity-checked) -> third_party/
#   * Pyright from npm into a project-local prefix                       -> third_party/pyright/
#   * the MCP TypeScript SDK (the official client the MCP tests drive)    -> third_party/mcp-sdk/
#   * the tools tests drive: neovim, emacs-nox, tmux, chromium, gcovr, lintian, clang (libFuzzer),
#     zsh and fish (the generated completions)
# Nothing fetched here is committed (see .gitignore). Fast when everything is already present.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TP="$ROOT/third_party"
GRAMMAR_VERSION="0.23.6"
GRAMMAR_INTEGRITY="sha512-yIM9z0oxKIxT7bAtPOhgoVl6gTXlmlIhue7liFT4oBPF/lha7Ha4dQBS82Av6hMMRZoVnFJI8M6mL+SwWoLD3A=="
PYRIGHT_VERSION="1.1.414"
# The tree-sitter runtime is built from source (lib/lang/python/CMakeLists.txt), not taken from
# Debian: Debian 12's 0.20.7 corrupts its heap on inputs with more than 2^16 nested nodes
# (tree-sitter/tree-sitter#2134, issue 16). The npm package carries the C library under
# vendor/tree-sitter/lib.
TS_RUNTIME_VERSION="0.25.1"
TS_RUNTIME_INTEGRITY="sha512-mrcEdkYtHfrK1A6fs3O6FxkBo0Qig5XUXqHhxUOQu0bmPo00QF4XaSx4edpazdHwxnSCjlGKGgIqWdaN4dvTLA=="

log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(
  g++ cmake ninja-build pkg-config make git
  libboost1.81-dev libboost-json1.81-dev
  libsodium-dev libspdlog-dev libfmt-dev catch2
  libsystemd-dev systemd libsqlite3-dev libcli11-dev
  ripgrep nodejs npm python3 util-linux procps
  clang-format
  # Tools the tests and checks drive (editors headless, the HTML report in a browser, coverage,
  # package lint, libFuzzer).
  neovim emacs-nox tmux chromium gcovr lintian dpkg-dev clang libclang-rt-14-dev
  # The generated zsh and fish completions are syntax-checked and run (tests/tools/check_cli_docs.sh).
  zsh fish
  # Relevance evaluation corpora and query sources (tests/relevance/): the Python library
  # reference, Django 3.2's, SQLAlchemy 1.4's, Sphinx 5.3's, Jinja2 3.1's, Werkzeug 2.2's and
  # Click 8.1's code and reference docs (and Requests 2.28's, a map corpus only:
  # tests/relevance/map_docs.py); Snowball stemmers for ranking.
  python3.11-doc libpython3.11-testsuite python3-django python-django-doc python3-pip
  python3-sqlalchemy python3-sqlalchemy-ext python-sqlalchemy-doc python3-sphinx sphinx-doc
  python3-jinja2 python-jinja2-doc python3-werkzeug python-werkzeug-doc python3-click python-click-doc
  python3-requests python-requests-doc
  libstemmer-dev
  # Merged-navigation benchmark: a second untyped codebase next to Django (tests/navigation/).
  python3-pyflakes
  # The CLI's link lays its hot functions out first (lld --symbol-ordering-file; client/CMakeLists.txt);
  # valgrind regenerates that list (scripts/cli_symbol_order.sh).
  lld valgrind
)

need_apt=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    need_apt+=("$p")
  fi
done
# node/npm may come from somewhere other than apt (a preinstalled Node); accept that.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${need_apt[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  need_apt=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#need_apt[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  log "apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
else
  log "apt packages: all present"
fi

mkdir -p "$TP"

sha512_of() {
  echo "sha512-$(openssl dgst -sha512 -binary "$1" 2>/dev/null | base64 -w0 || python3 -c 'import hashlib,base64,sys;print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$1")"
}

# --- tree-sitter runtime (C sources) ------------------------------------------------------------
TS_DIR="$TP/tree-sitter"
if [[ -f "$TS_DIR/.version" && "$(cat "$TS_DIR/.version")" == "$TS_RUNTIME_VERSION" \
      && -f "$TS_DIR/lib/src/lib.c" && -f "$TS_DIR/lib/include/tree_sitter/api.h" ]]; then
  log "tree-sitter runtime $TS_RUNTIME_VERSION: present"
else
  log "fetching tree-sitter@$TS_RUNTIME_VERSION (runtime C sources)"
  ts_tmp="$(mktemp -d)"
  (cd "$ts_tmp" && npm pack --silent "tree-sitter@$TS_RUNTIME_VERSION" >/dev/null)
  ts_tgz="$ts_tmp/tree-sitter-$TS_RUNTIME_VERSION.tgz"
  got="$(sha512_of "$ts_tgz")"
  if [[ "$got" != "$TS_RUNTIME_INTEGRITY" ]]; then
    rm -rf "$ts_tmp"
    log "integrity mismatch for tree-sitter: got $got"; exit 1
  fi
  rm -rf "$TS_DIR"; mkdir -p "$TS_DIR"
  tar -xzf "$ts_tgz" -C "$TS_DIR" --strip-components=3 package/vendor/tree-sitter/lib
  tar -xzf "$ts_tgz" -C "$TS_DIR" --strip-components=1 package/LICENSE package/package.json
  rm -rf "$ts_tmp"
  echo "$TS_RUNTIME_VERSION" > "$TS_DIR/.version"
fi

# --- tree-sitter-python grammar ------------------------------------------------------------
GRAMMAR_DIR="$TP/tree-sitter-python"
if [[ -f "$GRAMMAR_DIR/.version" && "$(cat "$GRAMMAR_DIR/.version")" == "$GRAMMAR_VERSION" ]]; then
  log "tree-sitter-python $GRAMMAR_VERSION: present"
else
  log "fetching tree-sitter-python@$GRAMMAR_VERSION"
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "tree-sitter-python@$GRAMMAR_VERSION" >/dev/null)
  tgz="$tmp/tree-sitter-python-$GRAMMAR_VERSION.tgz"
  got="$(sha512_of "$tgz")"
  if [[ "$got" != "$GRAMMAR_INTEGRITY" ]]; then
    log "integrity mismatch for tree-sitter-python: got $got"; exit 1
  fi
  rm -rf "$GRAMMAR_DIR"; mkdir -p "$GRAMMAR_DIR"
  tar -xzf "$tgz" -C "$GRAMMAR_DIR" --strip-components=1 package/src package/queries package/package.json
  echo "$GRAMMAR_VERSION" > "$GRAMMAR_DIR/.version"
fi

# --- Pyright ---------------------------------------------------------------------------------
PYRIGHT_DIR="$TP/pyright"
if [[ -x "$PYRIGHT_DIR/node_modules/.bin/pyright-langserver" && -f "$PYRIGHT_DIR/.version" \
      && "$(cat "$PYRIGHT_DIR/.version")" == "$PYRIGHT_VERSION" ]]; then
  log "pyright $PYRIGHT_VERSION: present"
else
  log "installing pyright@$PYRIGHT_VERSION into third_party/pyright"
  mkdir -p "$PYRIGHT_DIR"
  npm install --prefix "$PYRIGHT_DIR" --no-audit --no-fund --silent --save-exact "pyright@$PYRIGHT_VERSION" >/dev/null
  echo "$PYRIGHT_VERSION" > "$PYRIGHT_DIR/.version"
fi

# --- MCP TypeScript SDK (test-only: the official client the MCP tests use) ---------------------
MCP_SDK_VERSION="1.32.2"
MCP_DIR="$TP/mcp-sdk"
if [[ -f "$MCP_DIR/node_modules/@modelcontextprotocol/sdk/package.json" && -f "$MCP_DIR/.version" \
      && "$(cat "$MCP_DIR/.version")" == "$MCP_SDK_VERSION" ]]; then
  log "@modelcontextprotocol/sdk $MCP_SDK_VERSION: present"
else
  log "installing @modelcontextprotocol/sdk@$MCP_SDK_VERSION into third_party/mcp-sdk"
  mkdir -p "$MCP_DIR"
  npm install --prefix "$MCP_DIR" --no-audit --no-fund --silent --save-exact \
    "@modelcontextprotocol/sdk@$MCP_SDK_VERSION" >/dev/null
  echo "$MCP_SDK_VERSION" > "$MCP_DIR/.version"
fi
log "done"
