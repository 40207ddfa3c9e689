#!/usr/bin/env bash
# Whole-process `trifecta ctx search` (warm daemon) vs `rg -l -i` on the stdlib demo tree and on a
# tree of four copies of it, for two builds in the same run (issue 12: the ranking must not cost
# speed): cold `ctx build` wall time (and the daemon's CPU time up to then), daemon RSS / corpus
# after the build and again after the searches, per-query medians (whole process, and in the
# daemon from its telemetry's timing_ms). The two builds' daemons run side by side and every
# query's searches alternate between them in rounds, so the machine's load falls on both alike.
# scripts/bench_memory.sh follows RSS further (rebuilds, warm start).
# With IDLE=S (seconds), every query is also searched after S seconds of rest before each search,
# in rounds alternating with the back-to-back ones (each of those after one untimed search;
# `idle_ms` and `daemon_idle_ms` beside them; `/bin/true` timed both ways first, the control, and
# NEW_BUILD's tests/bench/bench_rest_pages when it is there, the memory control):
# what an agent or an editor meets, whose searches come seconds apart, after the daemon's caches
# and the CPU's have gone cold.
#
# Usage: [IDLE=S] scripts/bench_search_scale.sh NEW_BUILD [BASE_BUILD] [RUNS]
#   BASE_BUILD: the baseline build dir (e.g. main's), RUNS: runs per median (default 20).
# Private sockets/state under a temp dir; every daemon started here is stopped here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/bench_common.sh
source "$ROOT/scripts/bench_common.sh"
NEW="$(cd "${1:?usage: bench_search_scale.sh NEW_BUILD [BASE_BUILD] [RUNS]}" && pwd)"
BASE="${2:-}"; [[ -n "$BASE" ]] && BASE="$(cd "$BASE" && pwd)"
RUNS="${3:-20}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "# machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg); date: $(date -u +%FT%TZ); commit: $(git -C "$ROOT" rev-parse --short HEAD)"
demo_copy "$TMP/base"
for b in new base; do
  [[ $b == base && -z "$BASE" ]] && continue
  cp -r "$TMP/base" "$TMP/demo-$b"
  mkdir -p "$TMP/x4-$b"
  cp -r "$TMP/base/." "$TMP/x4-$b/"
  for i in 2 3 4; do cp -r "$TMP/base" "$TMP/x4-$b/copy$i"; done
done
IDLE="${IDLE:-0}" python3 - "$TMP" "$RUNS" "$NEW" "$BASE" <<'PY'
import json, os, statistics, subprocess, sys, time
tmp, runs, new, base = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
idle = float(os.environ["IDLE"])
QUERIES = ["json decode error", "tempfile", "http cookie parser", "thread pool executor", "utf8 codec",
           "subprocess pipe", "shutil copytree", "asyncio event loop",
           # Misspelt and absent words: the typo correction and did_you_mean search the vocabulary.
           "jsno decodr", "threadpol executr", "zqxv blorptastic",
           # Long and common-word queries: a pasted traceback, a question as an agent words it, and
           # words most chunks hold (the pruning's hard cases).
           'Traceback (most recent call last): File "/usr/lib/python3.11/json/decoder.py", line 337, in decode obj, end = self.raw_decode(s, idx=_w(s, 0).end()) File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode raise JSONDecodeError("Expecting value", s, err.value) from None json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
           "how do I make sure that the temporary files created by my test suite are removed even when a test fails halfway through and raises an exception before cleanup runs",
           "self return def none",
           # One common word alone (block-max: the blocks that can reach the page are scored).
           "self", "error"]

ROUNDS = 4  # each query's RUNS searches per build are split into rounds that alternate the builds

def timed(cmd, env, n, into, rest=0.0):
    for _ in range(n):
        time.sleep(rest)
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        into.append((time.perf_counter() - t) * 1000)

def daemon_ms(run, want, labels, label):
    """Median in-daemon time (telemetry timing_ms) of the last len(labels) ctx.search events whose
    label (labels: one per search, in request order) is `label`, once the daemon has written
    `want` of them (the telemetry writer is asynchronous)."""
    for _ in range(100):
        ts = []
        for d, _, fs in os.walk(run + "/tel"):
            if "events.jsonl" in fs:
                for line in open(os.path.join(d, "events.jsonl")):
                    e = json.loads(line)
                    if e.get("cmd") == "ctx.search": ts.append(e["timing_ms"])
        if len(ts) >= want:
            mine = [t for t, l in zip(ts[want - len(labels):want], labels) if l == label]
            return statistics.median(mine) if mine else None
        time.sleep(0.05)
    return None

def corpus_bytes(seg):
    n = 0
    for d, _, fs in os.walk(seg):
        if "/_ctx" in d: continue
        n += sum(os.path.getsize(os.path.join(d, f)) for f in fs)
    return n

def status_rss(cli, env):
    st = json.loads(subprocess.run([cli, "--json", "status", "--no-spawn"], env=env, capture_output=True, text=True).stdout)
    return st.get("result", st).get("rss_bytes", 0)

builds = [("new", new)] + ([("base", base)] if base else [])
for tree in ("demo", "x4"):
    # Both builds' daemons run side by side on their own copies of the tree: each cold build runs
    # alone (the first build goes first on the demo tree, the other on four copies), then every
    # query's searches alternate between the builds in ROUNDS rounds, the first build first in
    # even rounds: on this machine the minute and the order within a run move a short query's
    # time more than most changes do, so both builds share them.
    daemons = {}
    try:
        for name, b in (builds if tree == "demo" else builds[::-1]):
            seg = f"{tmp}/{tree}-{name}"
            run = f"{tmp}/run-{tree}-{name}"
            os.makedirs(run)
            env = dict(os.environ, XDG_STATE_HOME=run + "/state", TRIFECTA_SOCKET=run + "/run/d.sock",
                       TRIFECTA_TELEMETRY_DIR=run + "/tel", TRIFECTA_DAEMON=b + "/daemon/trifectad")
            cli = b + "/client/trifecta"
            d = subprocess.Popen([b + "/daemon/trifectad", "--socket", run + "/run/d.sock", "--no-lsp", "-f", "--log-level", "err"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            daemons[name] = (d, seg, run, env, cli)
            for _ in range(600):
                if os.path.exists(run + "/run/d.sock"): break
                time.sleep(0.05)
            size = corpus_bytes(seg)
            out = subprocess.run([cli, "--json", "ctx", "build", "-s", seg, "--no-spawn", "--timeout", "900"], env=env,
                                 capture_output=True, text=True, check=True)
            # The daemon's CPU time (user + system) so far: the cold build's, less than the wall
            # time under a shared machine's load.
            stat = open(f"/proc/{d.pid}/stat").read().rsplit(")", 1)[1].split()
            cpu_ms = (int(stat[11]) + int(stat[12])) * 1000 / os.sysconf("SC_CLK_TCK")
            res = json.loads(out.stdout)
            res = res.get("result", res)
            rss = status_rss(cli, env)
            print(json.dumps({"tree": tree, "build": name, "bench": "cold_build", "elapsed_ms": res["build"]["elapsed_ms"],
                              "cpu_ms": cpu_ms, "chunks": res["build"]["chunks"], "corpus_bytes": size, "rss_bytes": rss,
                              "rss_over_corpus": round(rss / size, 3)}), flush=True)
        # The cold builds' writes (index.bin, the skeleton cache: hundreds of MB on four copies)
        # flushed before anything is timed: their writeback took the machine for ~20 s after the
        # four copies' build (`/bin/true` after a rest 10.9 ms instead of ~1).
        os.sync()
        time.sleep(2.0)
        if idle > 0:  # the control: a process that does nothing, back to back and after the rest
            hot, rested = [], []
            for _ in range(ROUNDS):
                timed(["/bin/true"], dict(os.environ), 1, [])
                timed(["/bin/true"], dict(os.environ), runs // ROUNDS, hot)
                timed(["/bin/true"], dict(os.environ), runs // ROUNDS, rested, idle)
            print(json.dumps({"tree": tree, "bench": "true", "true_ms": round(statistics.median(hot), 2),
                              "idle_s": idle, "true_idle_ms": round(statistics.median(rested), 2)}), flush=True)
            # The memory control: a plain buffer walked page by page, back to back and after the
            # same rest (tests/bench/bench_rest_pages; what a rest costs this machine's pages).
            probe = new + "/tests/bench/bench_rest_pages"
            if os.path.exists(probe):
                out = subprocess.run([probe, str(int(idle * 1000)), str(ROUNDS * 2), "4", "64"],
                                     capture_output=True, text=True).stdout
                for line in out.splitlines():
                    print(json.dumps(dict({"tree": tree, "bench": "rest_pages"}, **json.loads(line))), flush=True)
        searched = {name: 0 for name, _ in builds}  # ctx.search requests so far, per daemon
        for i, q in enumerate(QUERIES):
            times = {name: [] for name, _ in builds}
            idle_times = {name: [] for name, _ in builds}
            labels = {name: [] for name, _ in builds}  # "hot" or "idle", in request order
            for r in range(ROUNDS):
                n = runs // ROUNDS + (1 if r < runs % ROUNDS else 0)
                for name, _ in (builds if r % 2 == 0 else builds[::-1]):
                    _, seg, _, env, cli = daemons[name]
                    cmd = [cli, "ctx", "search", "-s", seg, "--no-spawn"] + q.split()
                    if idle > 0:  # after an idle round: one search untimed, so the hot ones are hot
                        timed(cmd, env, 1, [])
                        labels[name].append("warm-up")
                    timed(cmd, env, n, times[name])
                    labels[name] += ["hot"] * n
                    if idle > 0:
                        timed(cmd, env, n, idle_times[name], idle)
                        labels[name] += ["idle"] * n
            # rg once per query (the trees are the same): each word a fixed string (the
            # traceback's brackets are not a regex).
            rg = ["rg", "-l", "-i", "-F"]
            for w in q.split(): rg += ["-e", w]
            theirs = []
            timed(rg + [daemons[builds[0][0]][1]], dict(os.environ), runs, theirs)
            theirs = statistics.median(theirs)
            for name, _ in builds:
                ours = statistics.median(times[name])
                searched[name] += len(labels[name])
                inside = daemon_ms(daemons[name][2], searched[name], labels[name], "hot")
                row = {"tree": tree, "build": name, "bench": "search", "query": q[:40], "trifecta_ms": round(ours, 2),
                       "daemon_ms": inside and round(inside, 2), "rg_ms": round(theirs, 2),
                       "ratio": round(ours / theirs, 3)}
                if idle > 0:
                    inside_idle = daemon_ms(daemons[name][2], searched[name], labels[name], "idle")
                    row.update({"idle_s": idle, "idle_ms": round(statistics.median(idle_times[name]), 2),
                                "daemon_idle_ms": inside_idle and round(inside_idle, 2)})
                print(json.dumps(row), flush=True)
        for name, _ in builds:
            # RSS once the searches have run too (their scratch stays): what a daemon in use holds.
            _, seg, _, env, cli = daemons[name]
            rss = status_rss(cli, env)
            print(json.dumps({"tree": tree, "build": name, "bench": "rss_after_searches", "rss_bytes": rss,
                              "rss_over_corpus": round(rss / corpus_bytes(seg), 3)}), flush=True)
    finally:
        for d, *_ in daemons.values():
            d.terminate()
            d.wait()
PY
