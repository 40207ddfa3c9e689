#!/usr/bin/env python3
"""`trifecta telemetry report|chart|export|health` as a user runs them (real processes).

    telemetry_cli_test.py TRIFECTA TRIFECTAD FIXTURES_DIR DOCS_TELEMETRY_MD

Checks: the CSV export read back by python3's csv module, its header equal to the column table
of docs/telemetry.md, the JSONL export; report --json figures; colour only on a terminal (tmux)
and never with NO_COLOR or through a pipe; chart fitting the terminal width in tmux at 80 and
132 columns; health exit codes, reasons and overrides; --since on fresh events; -s reading
<segment>/_ctx/telemetry; --all through a real trifectad's status. Exit 0 when every check
passes, 1 otherwise (each failure printed), 77 (skip) only when tmux is absent for the terminal
checks — the rest still runs first.
"""
import csv, io, json, os, re, shutil, subprocess, sys, tempfile, time, unicodedata
from datetime import datetime, timedelta, timezone

T, TD, FIX, DOC = sys.argv[1:5]
SAMPLE = os.path.join(FIX, "telemetry")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args, env=None, input=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    if env:
        e.update(env)
    return subprocess.run([T, *args], capture_output=True, text=True, env=e, input=input, timeout=120)


# --- export: CSV read back, columns = the doc's table ------------------------------------------
doc = open(DOC, encoding="utf-8").read()
m = re.search(r"<!-- export-columns -->(.*?)<!-- /export-columns -->", doc, re.S)
check(m is not None, "docs/telemetry.md has an export column table between <!-- export-columns --> markers")
doc_cols = re.findall(r"^\| `([a-z_]+)` \|", m.group(1), re.M) if m else []
r = run("telemetry", "export", "--from", SAMPLE)
check(r.returncode == 0, f"export csv exit {r.returncode}: {r.stderr}")
rows = list(csv.DictReader(io.StringIO(r.stdout, newline="")))
header = next(csv.reader(io.StringIO(r.stdout, newline="")))
check(header == doc_cols, f"CSV header {header} != documented columns {doc_cols}")
events = [json.loads(l) for l in open(os.path.join(SAMPLE, "events.jsonl"), encoding="utf-8")]
check(len(rows) == len(events), f"CSV rows {len(rows)} != events {len(events)}")
for row, ev in zip(rows, events):
    if row["cmd"] != ev["cmd"] or row["ts"] != ev["ts"] or float(row["timing_ms"]) != float(ev["timing_ms"]):
        check(False, f"CSV row differs from its event: {row} vs {ev}")
        break
search = [r_ for r_ in rows if r_["cmd"] == "ctx.search"]
check(search and all(r_["status"] == "ok" for r_ in search), "ctx.search rows carry status ok")
reads = [r_ for r_ in rows if r_["cmd"] == "file.read"]
check(reads and all(r_["mode"] and r_["file"] and int(r_["bytes_read"]) > 0 for r_ in reads),
      "file.read rows carry mode, file and bytes_read")
r = run("telemetry", "export", "--from", SAMPLE, "--format", "jsonl")
lines = [json.loads(l) for l in r.stdout.splitlines()]
check(len(lines) == len(events) and all(list(l) == doc_cols for l in lines),
      "JSONL export: one object per event, keys = the documented columns, in order")
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "e.csv")
    r = run("telemetry", "export", "--from", SAMPLE, "-o", out)
    check(r.returncode == 0 and open(out, newline="").read().count("\r\n") == len(events) + 1,
          "export -o writes the file (CRLF rows, RFC 4180)")
r = run("telemetry", "export", "--from", SAMPLE, "--format", "xml")
check(r.returncode == 2, f"export --format xml is a usage error (exit {r.returncode})")

# --- report ------------------------------------------------------------------------------------
r = run("telemetry", "report", "--from", SAMPLE, "--json")
check(r.returncode == 0, f"report --json exit {r.returncode}: {r.stderr}")
j = json.loads(r.stdout)
check(j["source"]["events"] == len(events), "report --json counts every event")
check(sum(c["count"] for c in j["commands"]) == len(events), "per-command counts add up to the events")
check(j["lsp"]["spawns"] == sum(e["cmd"] == "lsp.spawn" for e in events), "lsp spawns")
r = run("telemetry", "report", "--from", SAMPLE)
check(r.returncode == 0 and "Commands" in r.stdout and "Disclosure" in r.stdout and "LSP" in r.stdout,
      "report prints its tables")
check("\x1b[" not in r.stdout, "report through a pipe has no colour")
r = run("telemetry", "report", "--from", os.path.join(SAMPLE, "nope"))
check(r.returncode == 1 and "no events file" in r.stderr, f"a missing file is exit 1 with a reason: {r.stderr}")
r = run("telemetry", "report", "--from", SAMPLE, "--since", "soon")
check(r.returncode == 2 and "--since" in r.stderr, "a bad --since is a usage error")

with tempfile.TemporaryDirectory() as tmp:
    # -s SEGMENT reads <segment>/_ctx/telemetry.
    seg = os.path.join(tmp, "seg")
    os.makedirs(os.path.join(seg, "_ctx"))
    shutil.copytree(SAMPLE, os.path.join(seg, "_ctx", "telemetry"))
    r = run("telemetry", "report", "-s", seg, "--json", env={"TRIFECTA_TELEMETRY_DIR": ""})
    check(r.returncode == 0 and json.loads(r.stdout)["source"]["events"] == len(events),
          f"-s SEGMENT reads its _ctx/telemetry: {r.stderr}")
    # --since: fresh events only.
    now = datetime.now(timezone.utc)
    fresh = os.path.join(tmp, "fresh.jsonl")
    with open(fresh, "w") as f:
        for age_min, ms in ((120, 5.0), (90, 6.0), (5, 7.0), (1, 8.0)):
            ts = (now - timedelta(minutes=age_min)).isoformat(timespec="microseconds")
            f.write(json.dumps({"ts": ts, "run_id": "r", "segment_id": "s", "cmd": "ping", "args": {},
                                "result": {"status": "ok"}, "timing_ms": ms, "tokens": {"in": 1, "out": 1},
                                "warnings": [], "x": {}}) + "\n")
    r = run("telemetry", "report", "--from", fresh, "--since", "30m", "--json")
    jj = json.loads(r.stdout)
    check(jj["source"]["events"] == 2 and jj["source"]["before_since"] == 2 and jj["commands"][0]["max_ms"] == 8.0,
          f"--since 30m keeps the two fresh events: {jj['source']}")
    r = run("telemetry", "export", "--from", fresh, "--since", "1h")
    check(len(list(csv.DictReader(io.StringIO(r.stdout, newline="")))) == 2, "export --since 1h")

# --- health ------------------------------------------------------------------------------------
# The sample's --wait'd definition took 10.9 s: above the 10 s default p95 ceiling.
r = run("telemetry", "health", "--from", SAMPLE)
check(r.returncode == 1 and r.stdout.startswith("FAIL p95:lsp.definition: lsp.definition p95 "),
      f"the sample fails the default p95 ceiling of lsp.definition: {r.stdout}")
r = run("telemetry", "health", "--from", SAMPLE, "--p95", "lsp.definition=15000")
check(r.returncode == 0 and r.stdout.startswith("healthy:"), f"healthy with lsp.definition's own ceiling: {r.stdout}")
r = run("telemetry", "health", "--from", SAMPLE, "--p95", "lsp.definition=15000", "--max-error-rate", "0.001",
        "--p95", "ctx.search=0.5")
out = r.stdout.splitlines()
check(r.returncode == 1, f"health with tight thresholds exits 1 (got {r.returncode})")
check(any(l.startswith("FAIL error_rate: error rate ") for l in out), f"error_rate reason line: {out}")
check(any(l.startswith("FAIL p95:ctx.search: ctx.search p95 ") for l in out), f"p95 reason line: {out}")
check(len(out) == 2, f"one line per failure: {out}")
r = run("telemetry", "health", "--from", SAMPLE, "--max-p95-ms", "1", "--json")
jj = json.loads(r.stdout)
check(r.returncode == 1 and not jj["healthy"] and all(f["check"].startswith("p95:") for f in jj["failures"]),
      "health --json lists the failures")
r = run("telemetry", "health", "--from", SAMPLE, "--p95", "nonsense")
check(r.returncode == 2, "a malformed --p95 is a usage error")

# --- --all through a real daemon -----------------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    run_dir = os.path.join(tmp, "run")
    os.makedirs(run_dir, mode=0o700)
    seg = os.path.join(tmp, "proj")
    shutil.copytree(os.path.join(FIX, "pyproject_small"), seg)
    env = {"XDG_RUNTIME_DIR": run_dir, "XDG_STATE_HOME": os.path.join(tmp, "state"),
           "TRIFECTA_DAEMON": TD, "TRIFECTA_TELEMETRY_DIR": os.path.join(tmp, "tel")}
    sock = os.path.join(run_dir, "t.sock")
    try:
        r = run("--socket", sock, "ctx", "status", "-s", seg, env=env)
        check(r.returncode == 0, f"ctx status on a fresh daemon: {r.stderr}")
        run("--socket", sock, "ctx", "search", "-s", seg, "anything", env=env)
        got = None
        # The writer flushes on its own thread: wait until the search's own event is written,
        # not just any two (the build's and the status's can be flushed before it, under load).
        for _ in range(50):
            r = run("--socket", sock, "telemetry", "report", "--all", "--json", env=env)
            if r.returncode == 0:
                got = json.loads(r.stdout)
                if any(c["cmd"] == "ctx.search" for c in got["commands"]):
                    break
            time.sleep(0.1)
        check(got is not None and got["source"]["events"] >= 2
              and any(c["cmd"] == "ctx.search" for c in got["commands"]),
              f"--all reads the open segment's telemetry: {r.stdout[:300]} {r.stderr}")
    finally:
        run("--socket", sock, "daemon", "stop", env=env)

# --- terminal: colour and width (tmux) -----------------------------------------------------------
tmux = shutil.which("tmux")
if not tmux:
    print("SKIP terminal checks: tmux is not installed")
else:
    def width_of(line):
        return sum(0 if unicodedata.combining(c) else 1 for c in line)

    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "tmux.sock")
        for width in (80, 132):
            name = f"tel{width}"
            done = os.path.join(tmp, f"done{width}")
            cmd = f"{T} telemetry chart --from {SAMPLE}; touch {done}; sleep 30"
            subprocess.run([tmux, "-S", sock, "new-session", "-d", "-s", name, "-x", str(width), "-y", "400",
                            "env", "-u", "NO_COLOR", "-u", "COLUMNS", "sh", "-c", cmd], check=True)
            for _ in range(100):
                if os.path.exists(done):
                    break
                time.sleep(0.05)
            cap = subprocess.run([tmux, "-S", sock, "capture-pane", "-p", "-e", "-t", name, "-S", "0"],
                                 capture_output=True, text=True).stdout
            plain = subprocess.run([tmux, "-S", sock, "capture-pane", "-p", "-t", name, "-S", "0"],
                                   capture_output=True, text=True).stdout
            subprocess.run([tmux, "-S", sock, "kill-session", "-t", name])
            lines = [l.rstrip() for l in plain.splitlines() if l.strip()]
            expected = run("telemetry", "chart", "--from", SAMPLE, "--width", str(width)).stdout
            exp_lines = [l.rstrip() for l in expected.splitlines() if l.strip()]
            check("\x1b[" in cap, f"chart on a {width}-column terminal is coloured")
            check(lines == exp_lines,
                  f"chart in a {width}-column tmux pane = --width {width} (no wrapped line): "
                  f"{len(lines)} vs {len(exp_lines)} lines")
            widest = max(width_of(l) for l in lines)
            check(widest <= width, f"chart fits {width} columns (widest line {widest})")
            check(widest >= width - 12, f"chart uses the {width} columns (widest line {widest})")
            bars = [l for l in lines if "█" in l and " ms " in l]
            check(bars, "histogram bars drawn")
        # NO_COLOR on a terminal: plain.
        done = os.path.join(tmp, "done-nc")
        subprocess.run([tmux, "-S", sock, "new-session", "-d", "-s", "nc", "-x", "100", "-y", "100",
                        "env", "NO_COLOR=1", "sh", "-c",
                        f"{T} telemetry report --from {SAMPLE}; touch {done}; sleep 30"], check=True)
        for _ in range(100):
            if os.path.exists(done):
                break
            time.sleep(0.05)
        cap = subprocess.run([tmux, "-S", sock, "capture-pane", "-p", "-e", "-t", "nc", "-S", "0"],
                             capture_output=True, text=True).stdout
        subprocess.run([tmux, "-S", sock, "kill-server"])
        check("Commands" in cap and "\x1b[1m" not in cap and "\x1b[3" not in cap,
              "NO_COLOR=1 on a terminal: no colour")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("telemetry CLI: all checks passed")
