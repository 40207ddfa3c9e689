#!/usr/bin/env bash
# The man pages and completions the build generated (cmake/GenerateCliDocs.cmake) cover every
# subcommand and option that --help shows. The list comes from --help itself (CLI11's own
# rendering of the command table), walked command by command, so it is independent of the
# generators (util/cli_doc.hpp) it checks:
#   bash  the completion function is run: each command path offers its subcommands, and each
#         command offers each of its options for a prefix of it
#   fish  `complete -C` on the same prefixes, when fish is installed (syntax with `fish -n`)
#   zsh   `zsh -n`, and each option / subcommand appears in its command's case branch
#   man   rendered with groff (-ww: no warnings), each command has its subsection and each
#         option its text; trifectad.1 has every `trifectad --help` option
#
#   check_cli_docs.sh TRIFECTA TRIFECTAD GENERATED_DIR
set -euo pipefail
TRIFECTA="$1" TRIFECTAD="$2" GEN="$3"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# "--help" of a command path -> $TMP/<key>.{opts,subs,pos}
# CLI11 prints option rows as "  -n,--limit INT ...", positionals as "  query TEXT ..." under
# "POSITIONALS:", subcommands under "SUBCOMMANDS:" (any case).
parse_help() {  # key, then the help text on stdin
  awk -v o="$TMP/$1.opts" -v s="$TMP/$1.subs" -v p="$TMP/$1.pos" '
    BEGIN { printf "" > o; printf "" > s; printf "" > p }
    /^[^ ].*:$/ { sec = tolower($0); next }
    /^  [^ ]/ {
      f = $1
      if (sec ~ /^subcommands/) { print f >> s; next }
      if (sec ~ /^positionals/) { print f >> p; next }
      if (f ~ /^-/) { n = split(f, a, ","); for (i = 1; i <= n; i++) print a[i] >> o }
    }'
}

# Command paths: "" (the root), "daemon", "daemon stop", ...
declare -a PATHS=("")
walk() {  # path words...
  local key="${*:-ROOT}"; key="${key// /_}"
  "$TRIFECTA" "$@" --help | parse_help "$key"
  local sub
  while read -r sub; do
    PATHS+=("${*:+$* }$sub")
    walk "$@" "$sub"
  done <"$TMP/$key.subs"
}
walk
ncmd=$(( ${#PATHS[@]} - 1 ))
((ncmd >= 10)) || bad "only $ncmd subcommands found in --help: the help format changed?"

keyof() { local k="${1:-ROOT}"; echo "${k// /_}"; }

# Queries: "<path>|<word being completed>|<expected candidate>", one a line; each shell answers
# all of them in one process (forking a shell per option is minutes on a busy machine).
: >"$TMP/queries"
nopt=0
for p in "${PATHS[@]}"; do
  key="$(keyof "$p")"
  while read -r sub; do echo "$p|${sub:0:1}|$sub" >>"$TMP/queries"; done <"$TMP/$key.subs"
  while read -r opt; do
    nopt=$((nopt + 1))
    echo "$p|${opt:0:${#opt}-1}|$opt" >>"$TMP/queries"
  done <"$TMP/$key.opts"
done

# --- bash: run the completion function ---------------------------------------------------------
bash -c '
  source "$1"
  while IFS="|" read -r path cur want; do
    read -ra words <<<"$path"
    COMP_WORDS=(trifecta "${words[@]}" "$cur"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=(); _trifecta_complete
    found=0; for c in "${COMPREPLY[@]}"; do [[ "$c" == "$want" ]] && found=1; done
    ((found)) || echo "bash: '"'"'trifecta${path:+ $path} $cur<TAB>'"'"' does not offer '"'"'$want'"'"'"
  done <"$2"' _ "$GEN/trifecta.bash" "$TMP/queries" >"$TMP/bash.out" 2>&1 || bad "bash completion run failed"
while read -r line; do bad "$line"; done <"$TMP/bash.out"
# An option value completes file names (no error, no option list).
bash -c 'source "$1"; COMP_WORDS=(trifecta ctx search --path ""); COMP_CWORD=4; _trifecta_complete
         for c in "${COMPREPLY[@]}"; do [[ "$c" == -* ]] && exit 1; done; exit 0' _ "$GEN/trifecta.bash" ||
  bad "bash: an option value is completed with options"

# --- fish ----------------------------------------------------------------------------------------
if command -v fish >/dev/null; then
  fish -n "$GEN/trifecta.fish" || bad "fish -n: syntax errors in trifecta.fish"
  fish -c '
    source $argv[1]
    while read -l line
      set -l q (string split "|" -- $line)
      set -l cmdline (string trim -- "trifecta $q[1] $q[2]")
      if not contains -- $q[3] (complete -C "$cmdline" | string replace -r "\t.*" "")
        echo "fish: '"'"'$cmdline'"'"' does not offer '"'"'$q[3]'"'"'"
      end
    end <$argv[2]' "$GEN/trifecta.fish" "$TMP/queries" >"$TMP/fish.out" 2>&1 || bad "fish completion run failed"
  while read -r line; do bad "$line"; done <"$TMP/fish.out"
else
  echo "note: fish not installed; the fish completion was not run (scripts/setup.sh installs it)"
fi

# --- zsh -----------------------------------------------------------------------------------------
if command -v zsh >/dev/null; then
  zsh -n "$GEN/_trifecta" || bad "zsh -n: syntax errors in _trifecta"
else
  echo "note: zsh not installed; _trifecta was not syntax-checked (scripts/setup.sh installs it)"
fi
for p in "${PATHS[@]}"; do
  key="$(keyof "$p")"
  # The case branch of this path: from "    '<path>')" to its ";;".
  branch="$(awk -v k="    '$p')" 'index($0, k) == 1 { on = 1 } on { print } on && /;;/ { exit }' "$GEN/_trifecta")"
  [[ -n "$branch" ]] || { bad "zsh: no case branch for 'trifecta${p:+ $p}'"; continue; }
  while read -r x; do
    grep -qF -- "'$x:" <<<"$branch" || bad "zsh: 'trifecta${p:+ $p}' does not list '$x'"
  done < <(cat "$TMP/$key.subs" "$TMP/$key.opts")
done

# --- man pages -----------------------------------------------------------------------------------
render() {  # page.gz -> plain ASCII text; groff warnings (UTF-8 device, as man uses) into $TMP/warn
  zcat "$1" | groff -man -Tutf8 -ww -z 2>"$TMP/warn"
  zcat "$1" | groff -man -Tascii -P-cbou 2>/dev/null
}
flat="$(render "$GEN/trifecta.1.gz" | tr -s ' \n' ' ')"
[[ ! -s "$TMP/warn" ]] || bad "groff warnings in trifecta.1: $(cat "$TMP/warn")"
for p in "${PATHS[@]}"; do
  key="$(keyof "$p")"
  [[ -z "$p" ]] || grep -qF -- "trifecta $p" <<<"$flat" || bad "man: no section for 'trifecta $p'"
  while read -r x; do
    grep -qF -- "$x" <<<"$flat" || bad "man: '$x' (of 'trifecta${p:+ $p}') is missing"
  done < <(cat "$TMP/$key.opts" "$TMP/$key.pos")
done
"$TRIFECTAD" --help | parse_help trifectad
mand="$(render "$GEN/trifectad.1.gz" | tr -s ' \n' ' ')"
[[ ! -s "$TMP/warn" ]] || bad "groff warnings in trifectad.1: $(cat "$TMP/warn")"
while read -r x; do
  grep -qF -- "$x" <<<"$mand" || bad "trifectad.1: '$x' is missing"
done <"$TMP/trifectad.opts"

if ((fails)); then echo "$fails problem(s)"; exit 1; fi
echo "cli docs ok: $ncmd commands, $nopt options in --help; all in bash/zsh/fish completions and trifecta.1; $(wc -l <"$TMP/trifectad.opts") trifectad options in trifectad.1"
