#!/usr/bin/env python3
"""`trifecta ctx search --explain` as a terminal shows it (tmux), against a real trifectad.

    explain_layout_test.py TRIFECTA TRIFECTAD

A small tree whose query gives a stem group of many variants (a term longer than the term
column), a compound (`→`, three bytes, one column) and signals (`×`). Checks, on the pane tmux
captures at 120 columns: every explain row's share ends in the same column across all hits, no
row is wider than the pane (nothing wraps), the long term is cut with `…` while `--json` keeps it
whole, and the pane shows exactly what the command prints through a pipe. Exit 0 when every
check passes, 1 otherwise (each failure printed), 77 (skip) when tmux is absent.
"""
import json, os, shutil, subprocess, sys, tempfile, time, unicodedata

T, TD = sys.argv[1:3]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def columns(line):
    return sum(0 if unicodedata.combining(c) else (2 if unicodedata.east_asian_width(c) in "WF" else 1)
               for c in line)


tmux = shutil.which("tmux")
if not tmux:
    print("SKIP: tmux is not installed (scripts/setup.sh installs it)")
    sys.exit(77)

MODULE = '''"""Connection pooling: connect, reconnect and disconnect the pool's connections."""


def connect_pool(connections, connecting=None):
    """Connect every connection of the pool; the connected ones are returned."""
    connected = [c for c in connections if c.connect()]
    return connected


class ConnectionPool:
    """A pool of connections that reconnects a disconnected connection."""

    def reconnect(self, connection):
        """Reconnect one connection: connectors retry connecting until it is connected."""
        return connection.connect()


urlpatterns = [connect_pool]
'''

with tempfile.TemporaryDirectory() as tmp:
    run_dir = os.path.join(tmp, "run")
    os.makedirs(run_dir, mode=0o700)
    seg = os.path.join(tmp, "proj")
    os.makedirs(os.path.join(seg, "pkg"))
    with open(os.path.join(seg, "pkg", "__init__.py"), "w") as f:
        f.write("")
    with open(os.path.join(seg, "pkg", "pool.py"), "w") as f:
        f.write(MODULE)
    env = dict(os.environ, XDG_RUNTIME_DIR=run_dir, XDG_STATE_HOME=os.path.join(tmp, "state"),
               TRIFECTA_DAEMON=TD, TRIFECTA_TELEMETRY_DIR=os.path.join(tmp, "tel"))
    env.pop("NO_COLOR", None)
    sock = os.path.join(run_dir, "t.sock")
    # `connect` gathers connect~connection~connections~connecting~connected, longer than the
    # 36-column term column; `url patterns` joins into url+patterns→urlpatterns.
    args = [T, "--socket", sock, "ctx", "search", "-s", seg, "-n", "3", "--explain", "connect pool url patterns"]
    try:
        piped = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        check(piped.returncode == 0, f"ctx search --explain exit {piped.returncode}: {piped.stderr}")
        js = subprocess.run(args + ["--json"], capture_output=True, text=True, env=env, timeout=120)
        terms = [t["term"] for h in json.loads(js.stdout)["result"]["hits"] for t in h.get("explain", [])]
        longest = max(terms, key=len, default="")
        check(len(longest) > 36, f"the query gives a term longer than the column (longest: {longest!r})")
        check(any("\u2192" in t for t in terms), f"the query gives a compound term (→): {terms}")

        width = 120
        sess = os.path.join(tmp, "tmux.sock")
        done = os.path.join(tmp, "done")
        cmd = " ".join(f"'{a}'" for a in args) + f"; touch {done}; sleep 30"
        subprocess.run([tmux, "-S", sess, "new-session", "-d", "-s", "ex", "-x", str(width), "-y", "200",
                        "env", f"XDG_RUNTIME_DIR={run_dir}", f"TRIFECTA_DAEMON={TD}", "LANG=C.UTF-8",
                        "sh", "-c", cmd], check=True)
        for _ in range(200):
            if os.path.exists(done):
                break
            time.sleep(0.05)
        pane = subprocess.run([tmux, "-S", sess, "capture-pane", "-p", "-t", "ex", "-S", "0"],
                              capture_output=True, text=True).stdout
        subprocess.run([tmux, "-S", sess, "kill-server"])
        shown = [l.rstrip() for l in pane.splitlines() if l.strip()]
        printed = [l.rstrip() for l in piped.stdout.splitlines() if l.strip()]
        check(shown == printed, f"the pane shows what the pipe printed ({len(shown)} vs {len(printed)} lines)")
        rows = [l for l in shown if l.startswith("      ") and (" tf=" in l or " signal " in l)]
        check(len(rows) >= 6, f"explain rows shown: {len(rows)}")
        ends = {columns(l) for l in rows}
        check(len(ends) == 1, f"every share ends in one column: {sorted(ends)}")
        check(all(columns(l) <= width for l in shown), "no line wider than the pane")
        check(any("\u2026" in l for l in rows), "the long term is cut with …")
        check(any("\u2192" in l for l in rows) and any("\u00d7" in l for l in rows),
              "rows with → and × line up with the rest")
    finally:
        subprocess.run([T, "--socket", sock, "daemon", "stop"], capture_output=True, env=env)

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("explain layout: all checks passed")
