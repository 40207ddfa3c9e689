#!/usr/bin/env python3
"""What one ranking signal costs `ctx.search`, in the daemon and whole process (issue 12).

Two daemons of the same build (no Pyright; scripts/bench_daemon.py), each on its own copy of
the tree: one as is, one with TRIFECTA_RANKING_ABLATE=SIGNAL (the signal off). Every query is
sent to each in turn, ROUNDS times, the order flipped every round so the machine's load falls on
both alike: once over a persistent connection (the request in the daemon plus a socket round
trip) and once through the CLI (`trifecta ctx search`, process start included). Prints the
medians per daemon and on ÷ off. The daemons and the copies are removed at the end, also on
failure.

Usage: scripts/bench_signal_ab.py BUILD_DIR TREE SIGNAL QUERIES [ROUNDS]
  BUILD_DIR  a build folder (client/trifecta and daemon/trifectad in it)
  TREE       the tree to search (copied twice; its `_ctx` is not)
  SIGNAL     an ablation name (lib/index/ranking.hpp, signals_from_env): message, error, ...
  QUERIES    a relevance set's name (tests/relevance/sets/NAME.jsonl) or a file, one query a line
  ROUNDS     how many times each query runs per daemon and way (default 5)
Example: scripts/bench_signal_ab.py build ~/.cache/trifecta-relevance/sqlalchemy message \\
           sqlalchemy_errors 5
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_daemon import Daemon  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def queries_of(spec):
    path = os.path.join(ROOT, "tests", "relevance", "sets", spec + ".jsonl")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return [json.loads(line)["query"] for line in f if line.strip()]
    with open(spec, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    build, tree, signal, spec = argv[1:5]
    rounds = int(argv[5]) if len(argv) == 6 else 5
    build = os.path.abspath(build)
    cli = os.path.join(build, "client", "trifecta")
    if not os.access(cli, os.X_OK):
        print(f"bench_signal_ab: {cli} is not built", file=sys.stderr)
        return 2
    queries = queries_of(spec)
    tmp = tempfile.mkdtemp(prefix="trifecta-signal-ab-")
    daemons = {}
    try:
        for label in ("on", "off"):
            work = os.path.join(tmp, label)
            os.makedirs(work)
            shutil.copytree(tree, work + "/seg", symlinks=True,
                            ignore=shutil.ignore_patterns("_ctx", "__pycache__"))
            saved = os.environ.pop("TRIFECTA_RANKING_ABLATE", None)
            if label == "off":
                os.environ["TRIFECTA_RANKING_ABLATE"] = signal
            try:
                daemons[label] = Daemon(label, build, work)
            finally:
                os.environ.pop("TRIFECTA_RANKING_ABLATE", None)
                if saved is not None:
                    os.environ["TRIFECTA_RANKING_ABLATE"] = saved
            daemons[label].build_segment()
            daemons[label].connect("bench_signal_ab")
        rpc = {"on": [], "off": []}
        proc = {"on": [], "off": []}
        for r in range(rounds):
            order = ("on", "off") if r % 2 == 0 else ("off", "on")
            for q in queries:
                for label in order:
                    d = daemons[label]
                    t = time.perf_counter()
                    d.call("ctx.search", {"segment": d.seg, "query": q, "limit": 10})
                    rpc[label].append(time.perf_counter() - t)
                for label in order:
                    d = daemons[label]
                    t = time.perf_counter()
                    subprocess.run([cli, "--no-spawn", "ctx", "search", "-s", d.seg, "--", q],
                                   env=d.env, check=True, capture_output=True)
                    proc[label].append(time.perf_counter() - t)
        with open("/proc/loadavg", encoding="ascii") as f:
            load = f.read().split()[:3]
        print(f"{len(queries)} queries x {rounds} rounds, {os.cpu_count()} cores, "
              f"load {' '.join(load)}; signal `{signal}` off in the second daemon")
        for name, times in (("in the daemon (round trip)", rpc), ("whole process", proc)):
            on, off = statistics.median(times["on"]), statistics.median(times["off"])
            print(f"  {name}: on {1000 * on:.2f} ms, off {1000 * off:.2f} ms, on / off x {on / off:.3f}")
    finally:
        for d in daemons.values():
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
