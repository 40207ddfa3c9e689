#!/usr/bin/env bash
# Relevance benchmark driver (issue 12): MRR@10, recall@5 and nDCG@10 per query set, for
# `trifecta ctx search` and the FTS5 and ripgrep baselines on the same corpora in the same run.
# Usage: scripts/relevance.sh [evaluate.py options]   e.g. --split check, --sets django_ref,
#        --limit 50, --systems ours,fts5, --json out.json, --dump per-query.jsonl
# The build must exist (make build); the corpora come from Debian packages scripts/setup.sh
# installs. Figures go to docs/benchmarks.md; see docs/relevance.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$(cd "${BUILD_DIR:-$ROOT/build}" 2>/dev/null && pwd || echo "${BUILD_DIR:-$ROOT/build}")"
if [[ ! -x "$BUILD/client/trifecta" ]]; then
  echo "relevance: $BUILD/client/trifecta is missing: run make build first" >&2
  exit 2
fi
echo "# $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec python3 "$ROOT/tests/relevance/evaluate.py" --bin-dir "$BUILD/client" "$@"
