#!/usr/bin/env python3
"""Write N synthetic telemetry events (events.jsonl) for the `telemetry report` benchmark.

    gen_telemetry_events.py N OUT_DIR

The mix and the line shapes follow the committed sample of a real session
(tests/fixtures/telemetry/events.jsonl): RPC events with status and bytes, file.read and ctx.get
in the three disclosure modes, position requests answered by Pyright or the AST, ast.parse with
cache hits, LSP state changes, one event per ~20 ms over the span. Deterministic (seeded), and
a last_run.json with the sink's counters is written next to it.
"""
import json, os, random, sys
from datetime import datetime, timedelta, timezone

n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = random.Random(20261201)
t0 = datetime(2026, 12, 1, 8, 0, 0, tzinfo=timezone.utc)
RUN, SEG = "run_1796112000_5eed5eed", "1f21bee9"
files = [f"pkg{i % 40}/mod{i}.py" for i in range(400)]
modes = ("skeleton", "excerpt", "raw")
head = '{"ts":"%s","run_id":"' + RUN + '","segment_id":"' + SEG + '","cmd":"%s","args":%s,"result":%s,"timing_ms":%.3f,"tokens":{"in":%d,"out":%d},"warnings":[],"x":%s}\n'
state = "COLD"
with open(os.path.join(out, "events.jsonl"), "w") as f:
    us = 0
    for i in range(n):
        us += rng.randint(1000, 40000)
        ts = (t0 + timedelta(microseconds=us)).isoformat(timespec="microseconds")
        k = rng.random()
        fl = files[rng.randrange(len(files))]
        if i % 50000 == 0:
            nxt = {"COLD": "WARMING", "WARMING": "READY", "READY": "COLD"}[state]
            line = head % (ts, "lsp.state_change", "{}", '{"from_state":"%s","to_state":"%s","reason":"bench"}' % (state, nxt),
                           rng.uniform(100, 9000), 1, 20, "{}")
            state = nxt
        elif k < 0.25:
            ms = rng.lognormvariate(-0.5, 0.8)
            line = head % (ts, "ast.parse", '{"file":"%s"}' % fl, '{"status":"ok","functions":%d,"classes":%d}' % (rng.randint(0, 40), rng.randint(0, 8)),
                           ms, 6, 12, '{"skeleton_bytes":%d,"reduction_ratio":0.12,"cache_hit":%s}' % (rng.randint(100, 9000), "true" if rng.random() < 0.8 else "false"))
        elif k < 0.45:
            line = head % (ts, "ctx.search", '{"query":"word%d other","limit":10,"filters":{}}' % rng.randint(0, 999),
                           '{"status":"ok","hits":10}', rng.lognormvariate(0, 0.7), 12, 4, '{"bytes_in":120,"bytes_out":%d}' % rng.randint(800, 4000))
        elif k < 0.60:
            m = modes[rng.randrange(3)]
            b = rng.randint(500, 40000)
            line = head % (ts, "file.read", '{"file":"%s","mode":"%s"}' % (fl, m), '{"bytes":%d}' % b, rng.uniform(0.02, 0.3), 11, 4,
                           '{"disclosure_mode":"%s","bytes_read":%d}' % (m, b))
        elif k < 0.75:
            m = modes[rng.randrange(3)]
            line = head % (ts, "ctx.get", '{"ids":["%s#f"],"mode":"%s","budget":2000}' % (fl, m), '{"status":"ok","chunks":1}',
                           rng.lognormvariate(0, 0.6), 16, 4, '{"bytes_in":150,"bytes_out":%d}' % rng.randint(200, 9000))
        elif k < 0.90:
            meth = ("lsp.definition", "lsp.hover", "lsp.references")[rng.randrange(3)]
            be = "lsp" if state == "READY" and rng.random() < 0.9 else "ast"
            status = "error" if rng.random() < 0.01 else "ok"
            line = head % (ts, meth, '{"file":"%s","line":%d,"col":%d}' % (fl, rng.randint(1, 900), rng.randint(1, 60)),
                           '{"status":"%s","backend":"%s","resolved":true}' % (status, be),
                           rng.lognormvariate(3 if be == "lsp" else -0.5, 1.0), 12, 12, '{"bytes_in":140,"bytes_out":300,"lsp_state":"%s"}' % state)
        else:
            line = head % (ts, "selector.resolve", '{"symbol_query":"sym://python/pkg.mod%d/C.f"}' % rng.randint(0, 399),
                           '{"resolved":true,"matches":1,"ambiguous":false}', rng.uniform(0.2, 1.5), 14, 12, "{}")
        f.write(line)
json.dump({"run_id": RUN, "telemetry_drops": {"attempted": n + 17, "dropped": 17, "drop_rate": round(17 / (n + 17), 4),
                                               "write_errors": 0, "lock_skipped": 0}},
          open(os.path.join(out, "last_run.json"), "w"))
