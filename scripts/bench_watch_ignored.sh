#!/usr/bin/env bash
# What a tool writing into a git-ignored directory inside the tree costs the daemon (issue 12,
# the background apply): the daemon's CPU time and inotify watches while a build-like writer
# creates files in `out/` (listed in .gitignore), two builds side by side, each on its own git
# copy of the tree. Both daemons (no Pyright) are started, the tree built cold and left to settle;
# then, per build in turn, WAVES waves of FILES files each are written into
# `out/wave<k>/pkg<j>/m.py` (a new directory per file, as a compiler's output tree), 0.1 s apart,
# and after 1.5 s of quiet the daemon's CPU time (utime + stime from /proc) since the first wave
# is read, with its inotify watches (from /proc/PID/fdinfo) before and after. Then `.gitignore`
# stops ignoring `out/` and a search is timed: that request re-lists the tree (the generated files
# come in: the hits under out/ and the files indexed after it are printed). One JSON line per build.
#
# Usage: scripts/bench_watch_ignored.sh TREE COPIES label=BUILD_DIR label=BUILD_DIR
#   TREE: a source tree or `demo`; COPIES: 1 or 4. WAVES (default 20), FILES (default 50).
# Needs git. Private sockets, state and trees under a temp dir; both daemons are stopped at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/bench_common.sh
source "$ROOT/scripts/bench_common.sh"
usage="usage: bench_watch_ignored.sh TREE COPIES label=BUILD label=BUILD"
TREE="${1:?$usage}"
COPIES="${2:?$usage}"
shift 2
[[ $# -eq 2 ]] || { echo "$usage" >&2; exit 2; }
command -v git >/dev/null || { echo "bench_watch_ignored.sh: git is not installed" >&2; exit 1; }
bench_trees "$TREE" "$COPIES" "$@"  # sets TMP and builds, prints the machine line
for arg in "$@"; do
  seg="$TMP/${arg%%=*}/seg"
  printf 'out/\n__pycache__/\n' > "$seg/.gitignore"
  git -C "$seg" init -q
done
WAVES="${WAVES:-20}" FILES="${FILES:-50}" python3 - "$TMP" "${builds[@]}" <<'PY'
import json, os, sys, time
from bench_daemon import Daemon
tmp = sys.argv[1]
builds = [a.split("=", 1) for a in sys.argv[2:]]
waves, files = int(os.environ["WAVES"]), int(os.environ["FILES"])
daemons = []


def call(d, method, params):
    return d["daemon"].call(method, params)


def watches(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                n += sum(1 for line in f if line.startswith("inotify wd:"))
        except OSError:
            pass
    return n


try:
    for label, b in builds:
        dm = Daemon(label, b, f"{tmp}/{label}")
        d = {"label": label, "daemon": dm, "p": dm.proc, "seg": dm.seg}
        daemons.append(d)
        dm.build_segment()
        dm.connect("bench_watch_ignored")
        call(d, "ctx.search", {"segment": dm.seg, "query": "generatedmarker"})
    time.sleep(2.0)  # both settled
    for d in daemons:
        pid = d["p"].pid
        w0, c0 = watches(pid), d["daemon"].cpu_ms()
        for k in range(waves):
            for j in range(files):
                path = f"{d['seg']}/out/wave{k}/pkg{j}"
                os.makedirs(path, exist_ok=True)
                with open(path + "/m.py", "w") as f:
                    f.write(f"def generatedmarker_{k}_{j}():\n    return {k * files + j}\n")
            time.sleep(0.1)
        time.sleep(1.5)
        c1, w1 = d["daemon"].cpu_ms(), watches(pid)
        st = call(d, "ctx.search", {"segment": d["seg"], "query": "generatedmarker"})
        hidden = sum(1 for h in st["hits"] if h["path"].startswith("out/"))
        with open(d["seg"] + "/.gitignore", "w") as f:
            f.write("__pycache__/\n")
        time.sleep(0.05)
        t0 = time.perf_counter()
        r = call(d, "ctx.search", {"segment": d["seg"], "query": "generatedmarker", "limit": 5})
        relist_ms = (time.perf_counter() - t0) * 1000
        time.sleep(1.0)
        r = call(d, "ctx.search", {"segment": d["seg"], "query": "generatedmarker", "limit": 5})
        st = call(d, "ctx.status", {"segment": d["seg"]})
        print(json.dumps({"bench": "watch_ignored", "build": d["label"], "waves": waves, "files_per_wave": files,
                          "daemon_cpu_ms_during_writes": round(c1 - c0, 1), "inotify_watches_before": w0,
                          "inotify_watches_after": w1, "out_hits_while_ignored": hidden,
                          "search_after_gitignore_edit_ms": round(relist_ms, 2),
                          "out_hits_after_gitignore_edit": sum(1 for h in r["hits"] if h["path"].startswith("out/")),
                          "files_indexed_after": st["status"]["files_indexed"], "rescans": st["status"]["rescans"]}), flush=True)
finally:
    for d in daemons:
        d["daemon"].stop()
PY
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
