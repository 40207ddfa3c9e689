#!/usr/bin/env python3
"""Merged navigation (issue 13): is the first definition location right more often when Pyright's
and the AST's answers are merged than with either alone? And references recall/precision.

Usage: navmerge_eval.py --trifectad BIN --work DIR [--positions TSV] [--refs TSV] [--json OUT]

For each corpus named in the position set (django: /usr/lib/python3/dist-packages/django,
pyflakes: /usr/lib/python3/dist-packages/pyflakes) a copy is made under DIR/<corpus>/<package>
(the segment root is DIR/<corpus>, so `import django...` resolves as on an installed system).
Two daemons run on private sockets: one with Pyright (waits for READY, then asks lsp.definition:
the merged answer), one with --no-lsp (the AST alone). "Pyright alone" is the merged answer's
locations whose `source` is `lsp`, in their order (Pyright's own answer: the merge never drops
or reorders Pyright's in-tree locations among themselves). A position is right when the first
location's file and line are one of the expected targets (file:line, '|'-separated).

References (--refs): for each name, the merged lsp.references answer; "expected" is the set of
file:line lines found by rg and read by hand (tests/navigation/navmerge_refs.tsv). Recall and
precision are computed for Pyright's confirmed set alone and for confirmed + candidates.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

CORPORA = {
    "django": ("/usr/lib/python3/dist-packages/django", "django"),
    "pyflakes": ("/usr/lib/python3/dist-packages/pyflakes", "pyflakes"),
}


class Daemon:
    def __init__(self, binary, workdir, name, extra):
        # One private runtime/state directory per daemon (one daemon per runtime directory).
        home = os.path.join(workdir, "daemon-" + name)
        os.makedirs(home, exist_ok=True)
        self.sock_path = os.path.join(home, "run", "d.sock")
        env = dict(os.environ)
        env["XDG_RUNTIME_DIR"] = home
        env["XDG_STATE_HOME"] = os.path.join(home, "state")
        env["XDG_CACHE_HOME"] = os.path.join(home, "cache")
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen(
            [binary, "--foreground", "--socket", self.sock_path, "--idle-timeout", "0",
             "--lsp-ready-timeout", "900", "--lsp-request-timeout", "60000"] + extra,
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        for _ in range(300):
            if os.path.exists(self.sock_path):
                break
            time.sleep(0.1)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.sock_path)
        self.buf = b""
        self.next_id = 1

    def call(self, method, params):
        rid = self.next_id
        self.next_id += 1
        self.sock.sendall((json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                       "params": params}) + "\n").encode())
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("daemon closed the connection")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            msg = json.loads(line)
            if msg.get("id") == rid:
                return msg

    def stop(self):
        try:
            self.call("shutdown", {})
        except Exception:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def read_tsv(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            rows.append(line.split("\t"))
    return rows


def loc_key(l):
    return "%s:%d" % (l["path"], l["line"])


def right(locs, expected):
    if not locs:
        return False
    if "EXTERNAL" in expected:  # a builtin/typeshed method: any location outside the tree
        return bool(locs[0].get("external"))
    return loc_key(locs[0]) in expected


def wait_ready(d, seg, timeout_s=1200):
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        r = d.call("lsp.status", {"segment": seg})
        st = r.get("result", {}).get("state")
        if st == "READY":
            return time.time() - t0
        if st in ("FAILED", "UNAVAILABLE"):
            raise RuntimeError("Pyright %s: %s" % (st, r))
        time.sleep(2)
    raise RuntimeError("Pyright not READY after %d s" % timeout_s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trifectad", required=True)
    ap.add_argument("--work", default="")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--positions", default=os.path.join(here, "navmerge_definitions.tsv"))
    ap.add_argument("--refs", default=os.path.join(here, "navmerge_refs.tsv"))
    ap.add_argument("--json", default="")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="navmerge-")
    os.makedirs(work, exist_ok=True)

    positions = read_tsv(a.positions)
    refs = read_tsv(a.refs) if os.path.exists(a.refs) else []
    segs = {}
    for corpus in sorted({p[0] for p in positions} | {r[0] for r in refs}):
        src, pkg = CORPORA[corpus]
        root = os.path.join(work, corpus)
        if not os.path.isdir(os.path.join(root, pkg)):
            os.makedirs(root, exist_ok=True)
            shutil.copytree(src, os.path.join(root, pkg),
                            ignore=shutil.ignore_patterns("__pycache__", "locale", "*.pyc"))
        segs[corpus] = root

    merged_d = Daemon(a.trifectad, work, "merged", [])
    try:
        ast_d = Daemon(a.trifectad, work, "ast", ["--no-lsp"])
    except Exception:
        merged_d.stop()
        raise
    out = {"positions": [], "refs": [], "ready_s": {}}
    try:
        for corpus, root in segs.items():
            ast_d.call("ctx.build", {"segment": root})
            merged_d.call("ctx.build", {"segment": root})
            out["ready_s"][corpus] = round(wait_ready(merged_d, root), 1)
        counts = {"pyright": 0, "ast": 0, "merged": 0}
        per_corpus = {}
        for row in positions:
            corpus, path, line, col, expected = row[:5]
            exp = set(expected.split("|"))
            params = {"segment": segs[corpus], "path": path, "line": int(line), "column": int(col)}
            m = merged_d.call("lsp.definition", params).get("result", {})
            x = ast_d.call("lsp.definition", params).get("result", {})
            mlocs = m.get("locations", [])
            plocs = [l for l in mlocs if l.get("source") == "lsp"] if m.get("backend") != "ast" else []
            alocs = x.get("locations", [])
            r = {"corpus": corpus, "position": "%s:%s:%s" % (path, line, col),
                 "pyright": right(plocs, exp), "ast": right(alocs, exp),
                 "merged": right(mlocs, exp), "backend": m.get("backend"),
                 "merge_reason": m.get("merge_reason"),
                 "first": loc_key(mlocs[0]) if mlocs else None,
                 "pyright_first": loc_key(plocs[0]) if plocs else None,
                 "ast_first": loc_key(alocs[0]) if alocs else None}
            out["positions"].append(r)
            c = per_corpus.setdefault(corpus, {"n": 0, "pyright": 0, "ast": 0, "merged": 0})
            c["n"] += 1
            for k in ("pyright", "ast", "merged"):
                counts[k] += r[k]
                c[k] += r[k]
            if a.verbose:
                print(json.dumps(r), file=sys.stderr)
        out["definition"] = {"n": len(positions), **counts, "per_corpus": per_corpus}

        for row in refs:
            corpus, path, line, col, name = row[:5]
            expected = set(row[5].split("|"))
            params = {"segment": segs[corpus], "path": path, "line": int(line), "column": int(col)}
            m = merged_d.call("lsp.references", params).get("result", {})
            locs = m.get("locations", [])
            conf = {loc_key(l) for l in locs if l.get("status") == "confirmed"}
            allk = {loc_key(l) for l in locs}

            def rp(got):
                tp = len(got & expected)
                return (tp / len(expected) if expected else 1.0, tp / len(got) if got else 1.0)

            (rc, pc), (rm, pm) = rp(conf), rp(allk)
            out["refs"].append({"corpus": corpus, "name": name, "expected": len(expected),
                                "confirmed": len(conf), "merged": len(allk),
                                "filtered": m.get("filtered", 0),
                                "recall_pyright": round(rc, 3), "precision_pyright": round(pc, 3),
                                "recall_merged": round(rm, 3), "precision_merged": round(pm, 3),
                                "missed": sorted(expected - allk),
                                "extra": sorted(allk - expected)})
    finally:
        merged_d.stop()
        ast_d.stop()
    text = json.dumps(out, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    print(text)
    d = out["definition"]
    return 0 if d["merged"] > d["pyright"] and d["merged"] > d["ast"] else 1


if __name__ == "__main__":
    sys.exit(main())
