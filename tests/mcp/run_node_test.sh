#!/usr/bin/env bash
# Runs one MCP test script (tests/mcp/*_test.mjs) under node with the official MCP SDK.
#   run_node_test.sh SCRIPT --sdk NODE_MODULES [more arguments for the script]
# Exits 77 (CTest: skipped), saying why, only when node >= 18 or the SDK is not installed
# (scripts/setup.sh installs both); otherwise the script's own exit code.
set -euo pipefail
script="$1"; shift
sdk=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ "${args[$i]}" == --sdk ]] && sdk="${args[$((i + 1))]}"
done
if ! command -v node > /dev/null 2>&1; then
  echo "skipped: node is not installed (scripts/setup.sh installs it)"
  exit 77
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if (( major < 18 )); then
  echo "skipped: node $(node --version) is older than 18, which @modelcontextprotocol/sdk needs"
  exit 77
fi
if [[ ! -f "$sdk/@modelcontextprotocol/sdk/package.json" ]]; then
  echo "skipped: the MCP SDK is not installed in $sdk (scripts/setup.sh installs it)"
  exit 77
fi
exec node "$script" "$@"
