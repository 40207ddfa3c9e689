#!/usr/bin/env bash
# Merged navigation (issue 13): first-location accuracy of Pyright alone, the AST alone and the
# merged answer on the hand-checked definition set, and references recall/precision, on copies of
# Django 3.2 (python3-django) and pyflakes (python3-pyflakes). Prints a Markdown summary and writes
# the per-position JSON next to it. Usage: scripts/bench_navmerge.sh [build-dir] [out.json]
# Data: tests/navigation/navmerge_definitions.tsv, tests/navigation/navmerge_refs.tsv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
OUT_JSON="${2:-$(mktemp --suffix=.json)}"
[[ -x "$BUILD/daemon/trifectad" ]] || { echo "build trifectad first (ninja -C $BUILD trifectad)" >&2; exit 1; }
for d in /usr/lib/python3/dist-packages/django /usr/lib/python3/dist-packages/pyflakes; do
  [[ -d "$d" ]] || { echo "missing $d (apt-get install python3-django python3-pyflakes; scripts/setup.sh does)" >&2; exit 1; }
done
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
load="$(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
set +e
python3 "$ROOT/tests/navigation/navmerge_eval.py" --trifectad "$BUILD/daemon/trifectad" \
  --work "$work" --json "$OUT_JSON" > /dev/null
rc=$?
set -e
secs=$(( $(date +%s) - start ))
python3 - "$OUT_JSON" "$load" "$secs" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
df = d["definition"]
pct = lambda k, n: "%d/%d (%.0f %%)" % (k, n, 100.0 * k / n if n else 0)
print("Run: %s s, load average at start %s; Pyright READY after %s s." % (sys.argv[3], sys.argv[2], d["ready_s"]))
print()
print("| corpus | positions | Pyright alone | AST alone | merged |")
print("|---|---|---|---|---|")
for c, v in sorted(df["per_corpus"].items()):
    print("| %s | %d | %s | %s | %s |" % (c, v["n"], pct(v["pyright"], v["n"]), pct(v["ast"], v["n"]), pct(v["merged"], v["n"])))
print("| **all** | %d | %s | %s | %s |" % (df["n"], pct(df["pyright"], df["n"]), pct(df["ast"], df["n"]), pct(df["merged"], df["n"])))
print()
print("| corpus | name | expected | Pyright confirmed | recall / precision (Pyright) | merged | recall / precision (merged) | filtered |")
print("|---|---|---|---|---|---|---|---|")
tot = {"rc": 0, "pc": 0, "rm": 0, "pm": 0}
for r in d["refs"]:
    print("| %s | %s | %d | %d | %.2f / %.2f | %d | %.2f / %.2f | %s |" % (r["corpus"], r["name"], r["expected"], r["confirmed"], r["recall_pyright"], r["precision_pyright"], r["merged"], r["recall_merged"], r["precision_merged"], r["filtered"]))
    tot["rc"] += r["recall_pyright"]; tot["pc"] += r["precision_pyright"]; tot["rm"] += r["recall_merged"]; tot["pm"] += r["precision_merged"]
n = len(d["refs"]) or 1
print("| **mean** | | | | %.2f / %.2f | | %.2f / %.2f | |" % (tot["rc"] / n, tot["pc"] / n, tot["rm"] / n, tot["pm"] / n))
PY
echo "(per-position results: $OUT_JSON)"
exit $rc
