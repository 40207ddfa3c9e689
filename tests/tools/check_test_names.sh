#!/usr/bin/env bash
# CTest registers each Catch TEST_CASE by name (catch_discover_tests) and cuts a name at ';'
# (its list separator): the pieces match no test case, and such a test "passes" without running.
# This check fails on any TEST_CASE name that contains ';'.   Usage: check_test_names.sh [ROOT]
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
if hits=$(grep -rnE 'TEST_CASE\("[^"]*;' "$root/tests" --include='*.cpp'); then
  printf '%s\n' "$hits" >&2
  echo "check_test_names: a TEST_CASE name contains ';', which CTest splits: that test would never run" >&2
  exit 1
fi
echo "check_test_names: no TEST_CASE name contains ';'"
