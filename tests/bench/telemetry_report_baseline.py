#!/usr/bin/env python3
"""The benchmark's same-run baseline: the core of `telemetry report` in plain Python — parse every
line of events.jsonl, then per command count, errors, nearest-rank p50/p95 and max (all samples
kept and sorted). Prints one line per command.

    telemetry_report_baseline.py EVENTS_JSONL
"""
import json, math, sys
from collections import defaultdict

lat, err = defaultdict(list), defaultdict(int)
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        if not line.endswith("\n"):
            break
        e = json.loads(line)
        lat[e["cmd"]].append(e["timing_ms"])
        r = e["result"]
        if r.get("status") in ("error", "failed") or "error" in r:
            err[e["cmd"]] += 1
for c, v in sorted(lat.items()):
    v.sort()
    rank = lambda p: v[max(1, math.ceil(p / 100 * len(v))) - 1]
    print(c, len(v), err[c], rank(50), rank(95), v[-1])
