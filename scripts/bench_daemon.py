"""The daemon plumbing the benchmark drivers share (scripts/bench_search_ab.sh,
bench_search_edit.sh, bench_search_edit_ab.sh, bench_watch_ignored.sh; their inline Python
imports it: bench_common.sh puts scripts/ on PYTHONPATH; bench_signal_ab.py imports it too).

A `Daemon` is one build's trifectad (no Pyright) on a private socket, state and telemetry
directory under `workdir`, serving the segment `workdir/seg`: `build_segment()` builds it cold
through that build's CLI, `connect()` opens one persistent JSON-RPC connection (after `hello`),
`call()` sends a request on it and returns the reply's result (a reply with an error ends the
benchmark: SystemExit naming the build). `cpu_ms()` and `rss_mb()` read /proc; `stop()`
terminates the daemon and waits for it. Not thread-safe: one caller per Daemon.
"""
import json
import os
import socket
import subprocess
import time


class Daemon:
    def __init__(self, label, build, workdir, seg=None):
        self.label = label
        self.build = build
        self.seg = seg or workdir + "/seg"
        self.sock_path = workdir + "/run/d.sock"
        os.makedirs(workdir + "/run", mode=0o700, exist_ok=True)
        self.env = dict(os.environ, XDG_STATE_HOME=workdir + "/state", TRIFECTA_SOCKET=self.sock_path,
                        TRIFECTA_TELEMETRY_DIR=workdir + "/tel")
        self.proc = subprocess.Popen(
            [build + "/daemon/trifectad", "--socket", self.sock_path, "--no-lsp", "-f", "--log-level", "err"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.io = None
        self.n = 0
        for _ in range(200):
            if os.path.exists(self.sock_path):
                break
            time.sleep(0.05)

    @property
    def pid(self):
        return self.proc.pid

    def build_segment(self, timeout_s=900):
        """A cold `ctx build` of the segment through this build's CLI (its reply discarded)."""
        subprocess.run([self.build + "/client/trifecta", "--json", "ctx", "build", "-s", self.seg, "--no-spawn",
                        "--timeout", str(timeout_s)], env=self.env, stdout=subprocess.DEVNULL, check=True)

    def connect(self, client_name):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.sock_path)
        self.io = s.makefile("rwb")
        self.call("hello", {"client_name": client_name, "client_version": "0", "protocol": "1.0"})

    def call(self, method, params):
        """One request on the persistent connection; its result (notifications are skipped)."""
        self.n += 1
        self.io.write((json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method, "params": params}) + "\n")
                      .encode())
        self.io.flush()
        while True:
            r = json.loads(self.io.readline())
            if r.get("id") == self.n:
                if "error" in r:
                    raise SystemExit(f"{self.label}: {r['error']}")
                return r["result"]

    def cpu_ms(self):
        """The daemon's user + system CPU time so far (clock ticks: 10 ms steps)."""
        with open(f"/proc/{self.pid}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")

    def rss_mb(self):
        with open(f"/proc/{self.pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
        return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
