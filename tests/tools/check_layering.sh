#!/usr/bin/env bash
# Layering check: who may include whom (docs/layering.md states the same rules, with reasons).
#
#   check_layering.sh [ROOT]      check the tree at ROOT (default: this checkout); exit 1 with one
#                                 "file:line: [rule] message" line per violation
#   check_layering.sh --self-test run the check on temporary trees: a clean one must pass, and each
#                                 rule must catch its violating file (so the check cannot silently
#                                 pass because, say, a pattern stopped matching)
#
# Rules are by folder, so a new lib/<module>/ (lib/service, lib/text, lib/lang/...) is covered
# the day it appears. Every #include "..." / <...> is resolved the way the compiler would: the
# including file's folder first (quoted includes), then the include roots lib/, proto/, daemon/,
# client/; an include that resolves nowhere is a system or third-party header. The area a header
# resolves into (lib/<module>, proto, daemon, client) is what the rules look at.
#
#   lib-no-exe      lib/** never includes daemon/ or client/ headers (lib is the product; the
#                   executables are thin layers over it).
#   proto-lib       proto/** includes no lib/ module except those in PROTO_LIB_ALLOWED.
#   proto-no-exe    proto/** never includes daemon/ or client/ headers.
#   lib-proto       lib/** includes no proto/ header, except the modules in LIB_PROTO_ALLOWED.
#   client-lib      client/** includes no lib/ module except those in CLIENT_LIB_ALLOWED, and never
#                   daemon/ headers.
#   asio            <boost/asio...> is included only under the folders in ASIO_ALLOWED.
#   lib-deps        lib/text and lib/lang include only the lib/ modules in TEXT_LIB_ALLOWED and
#                   LANG_LIB_ALLOWED (lib/text sits under everything language- or LSP-shaped).
#   lang-no-client  lib/lang/** never includes lib/lsp/client.hpp: the AST fallback answers when
#                   the client cannot, so it speaks lib/text, not the client's header.
#   lsp-no-lang     lib/lsp/** never includes lib/lang: the client is language-neutral; each
#                   language (lib/lang/<language>/) finds its server and names its settings.
set -euo pipefail

# proto/ may use lib/util (json_text: the canonical JSON text of every wire message; linked as
# trifecta_util). Nothing else from lib/.
PROTO_LIB_ALLOWED=(util)
# lib/service's typed methods take and return the wire structs (proto/), so the daemon binds each
# method in one line and the wire shapes live in one place. No other lib/ module knows the wire.
LIB_PROTO_ALLOWED=(service)
# client/ talks to the daemon through proto/, prints with util/json_text and renders its man page and
# completions with util/cli_doc (doctor asks `trifectad --self-check` rather than linking lib/lang);
# `trifecta telemetry report|chart|export|health` read the telemetry files locally with lib/telemetry's
# report module (telemetry/report.hpp, linked as trifecta_telemetry_report: no writer thread, no
# spdlog). Nothing else from lib/.
CLIENT_LIB_ALLOWED=(util telemetry)
# Boost.Asio: the daemon's transport (daemon/server.cpp; daemon/lsp_attach.cpp passes the
# io_context to the LSP client) and lib/lsp's client/supervisor of Pyright (lib/lsp/client.cpp).
# Every other lib/ module, lib/service included, is Asio-free.
ASIO_ALLOWED=(daemon lib/lsp)
# lib/text: positions, locations, UTF-16 columns, URIs; below lib/lsp and lib/lang.
TEXT_LIB_ALLOWED=(util)
# lib/lang/<language>: the seam and each language. text (positions), ast (the skeleton model and
# cache), workspace (file lists and the reader), util, telemetry, selector (the fallback resolves
# imports through selector::SegmentSource) and lsp (lsp::ServerBinary, for each language's server
# discovery: lib/lang/python/pyright.hpp).
LANG_LIB_ALLOWED=(text ast workspace util telemetry selector lsp)

# Areas scanned and the roots includes are resolved against.
SCAN_DIRS=(lib proto daemon client)
INCLUDE_ROOTS=(lib proto daemon client)

# Normalise a relative path (drop "." and resolve ".." lexically) into NORM. (Results go through
# globals, not $(...), to keep the check fork-free: it runs on every `make test`.)
normalize() {
  local IFS=/ part out=()
  for part in $1; do
    case "$part" in
      "" | .) ;;
      ..) if ((${#out[@]})); then unset 'out[${#out[@]}-1]'; else out+=(..); fi ;;
      *) out+=("$part") ;;
    esac
  done
  NORM="${out[*]}"
}

# The area of a path relative to ROOT into AREA: lib/<module>, proto, daemon, client, or ""
# (elsewhere).
area_of() {
  case "$1" in
    lib/*/*) local rest="${1#lib/}"; AREA="lib/${rest%%/*}" ;;
    proto/* | daemon/* | client/*) AREA="${1%%/*}" ;;
    *) AREA="" ;;
  esac
}

in_list() {
  local needle="$1"; shift
  local x
  for x in "$@"; do [[ "$x" == "$needle" ]] && return 0; done
  return 1
}

# Is path (relative to ROOT) inside one of the folders given?
under_any() {
  local path="$1"; shift
  local d
  for d in "$@"; do [[ "$path" == "$d"/* ]] && return 0; done
  return 1
}

check_tree() {
  local root="$1" violations=0 file rel dir line inc kind target resolved area src_area module
  local -a files=()
  local d
  for d in "${SCAN_DIRS[@]}"; do
    [[ -d "$root/$d" ]] || continue
    while IFS= read -r -d '' file; do files+=("$file"); done < <(
      find "$root/$d" -type f \( -name '*.cpp' -o -name '*.cc' -o -name '*.hpp' -o -name '*.h' \
        -o -name '*.ipp' -o -name '*.in' \) -print0 | sort -z)
  done
  if ((${#files[@]} == 0)); then
    echo "check_layering: no source files under $root (${SCAN_DIRS[*]}): wrong root?" >&2
    return 2
  fi
  report() {  # rel line rule message
    echo "$1:$2: [$3] $4"
    violations=$((violations + 1))
  }
  for file in "${files[@]}"; do
    rel="${file#"$root"/}"
    dir="${rel%/*}"
    area_of "$rel"
    src_area="$AREA"
    # "<line>:<kind><target>" for each include line (kind: " or <).
    while IFS= read -r line; do
      local lineno="${line%%:*}" text="${line#*:}"
      [[ "$text" =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*([\"\<])([^\"\>]+)[\"\>] ]] || continue
      kind="${BASH_REMATCH[1]}"
      inc="${BASH_REMATCH[2]}"
      # Asio, wherever it comes from.
      if [[ "$inc" == boost/asio || "$inc" == boost/asio/* || "$inc" == boost/asio.hpp ]]; then
        if ! under_any "$rel" "${ASIO_ALLOWED[@]}"; then
          report "$rel" "$lineno" asio "includes <$inc>; Boost.Asio is allowed only under: ${ASIO_ALLOWED[*]}"
        fi
        continue
      fi
      # Resolve the header to an area of the tree.
      resolved=""
      if [[ "$kind" == '"' && -f "$root/$dir/$inc" ]]; then
        normalize "$dir/$inc"
        resolved="$NORM"
      else
        local r
        for r in "${INCLUDE_ROOTS[@]}"; do
          if [[ -f "$root/$r/$inc" || -f "$root/$r/$inc.in" ]]; then
            normalize "$r/$inc"
            resolved="$NORM"
            break
          fi
        done
      fi
      # A path naming daemon/ or client/ counts even if the file is absent (a typo must not hide
      # the intent).
      if [[ -z "$resolved" && "$inc" =~ (^|/)(daemon|client)/(.*)$ ]]; then
        resolved="${BASH_REMATCH[2]}/${BASH_REMATCH[3]}"
      fi
      [[ -n "$resolved" ]] || continue
      area_of "$resolved"
      area="$AREA"
      [[ -n "$area" && "$area" != "$src_area" ]] || continue
      module="${area#lib/}"
      case "$src_area" in
        lib/*)
          if [[ "$area" == daemon || "$area" == client ]]; then
            report "$rel" "$lineno" lib-no-exe "includes \"$inc\" ($resolved): lib/ must not depend on $area/"
          elif [[ "$area" == proto ]] && ! in_list "${src_area#lib/}" "${LIB_PROTO_ALLOWED[@]}"; then
            report "$rel" "$lineno" lib-proto "includes \"$inc\" ($resolved): only lib/{${LIB_PROTO_ALLOWED[*]}} may use proto/"
          elif [[ "$src_area" == lib/text ]] && ! in_list "$module" "${TEXT_LIB_ALLOWED[@]}"; then
            report "$rel" "$lineno" lib-deps "includes \"$inc\" ($resolved): lib/text may use only lib/{${TEXT_LIB_ALLOWED[*]}}"
          elif [[ "$src_area" == lib/lang ]] && ! in_list "$module" "${LANG_LIB_ALLOWED[@]}"; then
            report "$rel" "$lineno" lib-deps "includes \"$inc\" ($resolved): lib/lang may use only lib/{${LANG_LIB_ALLOWED[*]}}"
          elif [[ "$src_area" == lib/lang && "$resolved" == lib/lsp/client.hpp ]]; then
            report "$rel" "$lineno" lang-no-client "includes \"$inc\": lib/lang uses lib/text's positions, never the LSP client's header"
          elif [[ "$src_area" == lib/lsp && "$area" == lib/lang ]]; then
            report "$rel" "$lineno" lsp-no-lang "includes \"$inc\" ($resolved): lib/lsp is language-neutral; lib/lang depends on it, not the reverse"
          fi
          ;;
        proto)
          if [[ "$area" == daemon || "$area" == client ]]; then
            report "$rel" "$lineno" proto-no-exe "includes \"$inc\" ($resolved): proto/ must not depend on $area/"
          elif [[ "$area" == lib/* ]] && ! in_list "$module" "${PROTO_LIB_ALLOWED[@]}"; then
            report "$rel" "$lineno" proto-lib "includes \"$inc\" ($resolved): proto/ may use only lib/{${PROTO_LIB_ALLOWED[*]}}"
          fi
          ;;
        client)
          if [[ "$area" == daemon ]]; then
            report "$rel" "$lineno" client-lib "includes \"$inc\" ($resolved): client/ must not depend on daemon/"
          elif [[ "$area" == lib/* ]] && ! in_list "$module" "${CLIENT_LIB_ALLOWED[@]}"; then
            report "$rel" "$lineno" client-lib "includes \"$inc\" ($resolved): client/ may use only lib/{${CLIENT_LIB_ALLOWED[*]}}"
          fi
          ;;
      esac
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$file" || true)
  done
  if ((violations)); then
    echo "check_layering: $violations violation(s); the rules are in docs/layering.md and at the top of $0" >&2
    return 1
  fi
  echo "check_layering: ${#files[@]} files under ${SCAN_DIRS[*]}: ok"
}

self_test() {
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  local ok=1
  make_clean_tree() {  # a small tree that obeys every rule, mirroring today's layout
    rm -rf "$1" && mkdir -p "$1"/lib/util "$1"/lib/lsp "$1"/lib/service "$1"/proto/trifecta/proto \
      "$1"/daemon "$1"/client
    printf '#pragma once\n' >"$1/lib/util/json_text.hpp"
    printf '#pragma once\n#include "util/json_text.hpp"\n#include "trifecta/proto/protocol.hpp"\n' >"$1/lib/service/service.hpp"
    printf '#include <boost/asio/io_context.hpp>\n#include "util/json_text.hpp"\n' >"$1/lib/lsp/client.cpp"
    printf '#pragma once\n' >"$1/lib/lsp/client.hpp"
    printf '#pragma once\n' >"$1/lib/lsp/server.hpp"
    mkdir -p "$1"/lib/text "$1"/lib/lang/python
    printf '#pragma once\n#include "util/json_text.hpp"\n' >"$1/lib/text/text.hpp"
    printf '#include "lang/python/fallback.hpp"\n#include "text/text.hpp"\n#include "lsp/server.hpp"\n' >"$1/lib/lang/language.cpp"
    printf '#pragma once\n#include "text/text.hpp"\n' >"$1/lib/lang/python/fallback.hpp"
    printf '#pragma once\n#include "util/json_text.hpp"\n' >"$1/proto/trifecta/proto/protocol.hpp"
    printf '#pragma once\n' >"$1/proto/trifecta/proto/version.hpp.in"
    printf '#include "trifecta/proto/protocol.hpp"\n#include "trifecta/proto/version.hpp"\n' >"$1/proto/protocol.cpp"
    printf '#pragma once\n' >"$1/daemon/server.hpp"
    printf '#include <boost/asio.hpp>\n#include "server.hpp"\n#include "service/service.hpp"\n' >"$1/daemon/server.cpp"
    printf '#pragma once\n' >"$1/client/connection.hpp"
    printf '#include "connection.hpp"\n#include "trifecta/proto/protocol.hpp"\n#include "util/json_text.hpp"\n#include <vector>\n' >"$1/client/main.cpp"
  }
  # case: file to write, its content, the rule that must be reported
  local -a cases=(
    "lib/service/bad.cpp|#include \"server.hpp\"|lib-no-exe"
    "lib/service/bad.cpp|#include \"../../daemon/server.hpp\"|lib-no-exe"
    "lib/text/bad.hpp|#include \"daemon/server.hpp\"|lib-no-exe"
    "lib/index/bad.cpp|#include \"trifecta/proto/protocol.hpp\"|lib-proto"
    "lib/lang/python/bad.hpp|#include \"../../../proto/trifecta/proto/protocol.hpp\"|lib-proto"
    "lib/lang/python/bad.cpp|#include \"connection.hpp\"|lib-no-exe"
    "lib/text/bad.hpp|#include \"lsp/client.hpp\"|lib-deps"
    "lib/lang/python/bad.cpp|#include \"service/service.hpp\"|lib-deps"
    "lib/lang/python/bad.hpp|#include \"lsp/client.hpp\"|lang-no-client"
    "lib/lsp/bad.cpp|#include \"lang/python/fallback.hpp\"|lsp-no-lang"
    "proto/bad.cpp|#include \"service/service.hpp\"|proto-lib"
    "proto/bad.cpp|#include \"server.hpp\"|proto-no-exe"
    "client/bad.cpp|#include \"service/service.hpp\"|client-lib"
    "client/bad.cpp|#include \"server.hpp\"|client-lib"
    "lib/service/bad.cpp|#include <boost/asio/post.hpp>|asio"
    "lib/util/bad.hpp|  #  include <boost/asio.hpp>|asio"
    "client/bad.cpp|#include <boost/asio.hpp>|asio"
  )
  make_clean_tree "$tmp/t"
  if ! out="$(check_tree "$tmp/t" 2>&1)"; then
    echo "self-test FAILED: the clean tree was refused:"; echo "$out"; ok=0
  fi
  local c path content rule
  for c in "${cases[@]}"; do
    IFS='|' read -r path content rule <<<"$c"
    make_clean_tree "$tmp/t"
    mkdir -p "$tmp/t/$(dirname "$path")"
    printf '// violating file\n%s\n' "$content" >"$tmp/t/$path"
    if out="$(check_tree "$tmp/t" 2>&1)"; then
      echo "self-test FAILED: $path with '$content' passed; expected [$rule]"; ok=0
    elif ! grep -q "^$path:2: \[$rule\]" <<<"$out"; then
      echo "self-test FAILED: $path with '$content': expected '$path:2: [$rule]', got:"; echo "$out"; ok=0
    fi
  done
  if ((ok)); then
    echo "check_layering self-test: clean tree passes, ${#cases[@]} violations caught"
    return 0
  fi
  return 1
}

if [[ "${1:-}" == --self-test ]]; then
  self_test
else
  check_tree "$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/../..}" && pwd)"
fi
