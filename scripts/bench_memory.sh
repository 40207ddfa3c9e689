#!/usr/bin/env bash
# Daemon memory over a day's use (issue 12: RSS ≤ 2.5 × corpus), for one or two builds in the same
# run: resident memory of a daemon serving the stdlib demo tree after its cold build, after 30
# searches (common words among them), after each of REBUILDS `ctx build --rebuild`s (default 3),
# and of a daemon started on the persisted index (warm start). Prints one JSON line per reading,
# with RSS and anonymous RSS over the corpus (the tree's bytes outside _ctx/).
#
# Usage: [REBUILDS=N] scripts/bench_memory.sh NEW_BUILD [BASE_BUILD]
# Private sockets/state under a temp dir; every daemon started here is stopped here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/bench_common.sh
source "$ROOT/scripts/bench_common.sh"
NEW="$(cd "${1:?usage: bench_memory.sh NEW_BUILD [BASE_BUILD]}" && pwd)"
BASE="${2:-}"; [[ -n "$BASE" ]] && BASE="$(cd "$BASE" && pwd)"
TMP="$(mktemp -d)"
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT
echo "# machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg); date: $(date -u +%FT%TZ); commit: $(git -C "$ROOT" rev-parse --short HEAD)"
demo_copy "$TMP/tree"
corpus=$(find "$TMP/tree" -path '*/_ctx' -prune -o -type f -printf '%s\n' | awk '{s += $1} END {print s}')
QUERIES=("json decode error" tempfile "http cookie parser" "thread pool executor" "utf8 codec" "subprocess pipe"
         "shutil copytree" "asyncio event loop" self def error "read rows of a csv file" "where is the password hashed"
         "url resolve" "socket connect timeout" "parse arguments" "logging handler rotate" "unittest mock patch"
         "zip file extract" "email message header" "xml element tree" "regular expression compile" "date time format"
         "decimal context precision" "pickle protocol" "sqlite cursor execute" "os path join"
         "string template substitute" "random choice" "test case")

reading() {  # reading LABEL STAGE
  local rss anon
  rss=$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
  anon=$(awk '/^RssAnon/ {print $2 * 1024}' "/proc/$pid/status")
  echo "{\"build\":\"$1\",\"stage\":\"$2\",\"rss_bytes\":$rss,\"anon_bytes\":$anon,\"corpus_bytes\":$corpus,\"rss_over_corpus\":$(python3 -c "print(round($rss / $corpus, 3))"),\"anon_over_corpus\":$(python3 -c "print(round($anon / $corpus, 3))")}"
}

start_daemon() {  # start_daemon BUILD RUN_DIR
  "$1/daemon/trifectad" --socket "$2/run/d.sock" --no-lsp -f --log-level err >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 200); do [[ -S "$2/run/d.sock" ]] && return 0; sleep 0.05; done
  echo "daemon did not start" >&2
  exit 1
}

stop_daemon() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

for arg in "new=$NEW" ${BASE:+"base=$BASE"}; do
  label="${arg%%=*}"
  build="${arg#*=}"
  run="$TMP/run-$label"
  mkdir -p "$run"
  cp -r "$TMP/tree" "$run/seg"
  export XDG_STATE_HOME="$run/state" TRIFECTA_SOCKET="$run/run/d.sock" TRIFECTA_TELEMETRY_DIR="$run/tel"
  cli=("$build/client/trifecta")
  start_daemon "$build" "$run"
  "${cli[@]}" --json ctx build -s "$run/seg" --no-spawn --timeout 900 >/dev/null
  reading "$label" cold_build
  for q in "${QUERIES[@]}"; do
    # shellcheck disable=SC2086  # the words of the query are separate arguments, as a user types them
    "${cli[@]}" ctx search -s "$run/seg" --no-spawn $q >/dev/null
  done
  reading "$label" after_30_searches
  for i in $(seq "${REBUILDS:-3}"); do
    "${cli[@]}" --json ctx build --rebuild -s "$run/seg" --no-spawn --timeout 900 >/dev/null
    reading "$label" "after_rebuild_$i"
  done
  stop_daemon
  rm -f "$run/run/d.sock"
  start_daemon "$build" "$run"
  "${cli[@]}" --json ctx build -s "$run/seg" --no-spawn --timeout 900 >/dev/null
  reading "$label" warm_start
  stop_daemon
done
