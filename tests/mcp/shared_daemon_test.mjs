// Two agent sessions, one daemon, one Pyright: two `trifecta mcp` servers (two SDK clients) start
// at the same time on one copy of tests/fixtures/pyproject_small, with no daemon running on their
// private socket. They auto-start it (one wins the race), both get definitions and hovers from
// Pyright (backend lsp), and then:
//  * both servers' `status` tool and `trifecta status --json` name the same daemon pid, with
//    exactly one segment (the tree) whose LSP is READY;
//  * /proc shows exactly one Pyright process tree, below the daemon, and it is the pid that
//    `trifecta lsp status` reports; neither server has any child process;
//  * after one session ends, the other still gets Pyright's answers from the same Pyright pid.
// The daemon (and so Pyright) is stopped at the end. Skipped (77) when Pyright is not installed.
import fs from 'node:fs';
import path from 'node:path';

import {
  Checks, allProcs, cli, connect, copyFixture, daemonEnv, descendants, isPyright, loadSdk, makeTemp,
  parseArgs, procInfo, sleep, textOf,
} from './lib.mjs';

const args = parseArgs(process.argv);
const pyright = process.env.TRIFECTA_PYRIGHT || args.pyright;  // the daemon's own discovery order
if (!pyright || !fs.existsSync(pyright)) {
  console.log(`skipped: Pyright is not installed (${pyright ?? 'no --pyright given'}); run scripts/setup.sh`);
  process.exit(77);
}
const sdk = await loadSdk(args.sdk);
const t = new Checks('mcp_shared_daemon');
const tmp = makeTemp('trifecta-mcp-shared-');
const env = daemonEnv(tmp, args.trifectad);
const proj = copyFixture(args.fixtures, 'pyproject_small', path.join(tmp, 'proj'));
const sessions = [];
let daemonPid = null;
let exitCode = 1;
try {
  await main();
  exitCode = t.finish();
} catch (e) {
  t.ok(false, 'no unexpected exception', e?.stack ?? String(e));
  for (const s of sessions) if (s.stderr()) console.log(`--- server stderr (pid ${s.pid}) ---\n${s.stderr().slice(-4000)}`);
  t.finish();
  exitCode = 1;
} finally {
  for (const s of sessions) await s.client.close().catch(() => {});
  await stopDaemon();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);

// The daemon was started by a server (detached): find it by its socket's status, SIGTERM it, and
// make sure its Pyright is gone too.
async function stopDaemon() {
  if (daemonPid === null) {
    const r = cli(args.trifecta, env, ['--json', '--no-spawn', 'status']);
    try { daemonPid = JSON.parse(r.out).result.pid; } catch { /* no daemon */ }
  }
  // Also any daemon on our private socket that the status did not name (one started late).
  const ours = allProcs().filter((p) => p.cmdline.includes(env.TRIFECTA_SOCKET)).map((p) => p.pid);
  const pids = [...new Set([...(daemonPid === null ? [] : [daemonPid]), ...ours])];
  const below = pids.flatMap((p) => descendants(p));
  for (const p of pids) {
    try { process.kill(p, 'SIGTERM'); } catch { /* gone */ }
  }
  for (let i = 0; i < 300 && pids.some((p) => procInfo(p)); i++) await sleep(50);
  for (const p of [...pids, ...below.map((x) => x.pid)]) {
    try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  }
}

function statusJson() {
  const r = cli(args.trifecta, env, ['--json', 'status']);
  if (r.code !== 0) throw new Error(`trifecta status failed: ${r.out}${r.err}`);
  return JSON.parse(r.out).result;
}

async function lspAnswer(s, name) {
  const tool = (await s.client.listTools()).tools.find((x) => x.name === name);
  const a = { path: 'pkg/service.py', line: 8, column: 12 };
  if ('wait_ready_ms' in (tool?.inputSchema?.properties ?? {})) a.wait_ready_ms = 60000;
  // Without a wait argument: ask until Pyright answers (it is READY within seconds).
  for (let i = 0; i < 240; i++) {
    const r = await s.client.callTool({ name, arguments: a }, undefined, { timeout: 120000 });
    if (r.isError) return r;
    if (r.structuredContent?.backend === 'lsp') return r;
    await sleep(250);
  }
  return s.client.callTool({ name, arguments: a });
}

async function main() {
  t.ok(!fs.existsSync(env.TRIFECTA_SOCKET), 'no daemon on the private socket before the sessions start');
  const [a, b] = await Promise.all([1, 2].map((i) =>
    connect(sdk, { trifecta: args.trifecta, env, args: ['-s', proj], cwd: proj, name: `session-${i}` })));
  sessions.push(a, b);
  t.ok(a.pid !== b.pid, `two server processes (pids ${a.pid}, ${b.pid})`);

  const [defA, defB] = await Promise.all([lspAnswer(a, 'definition'), lspAnswer(b, 'definition')]);
  for (const [who, r] of [['session 1', defA], ['session 2', defB]]) {
    t.ok(r.structuredContent?.backend === 'lsp', `${who}: definition answered by Pyright (backend lsp)`, textOf(r).slice(0, 400));
    t.ok(/pkg\/models\.py/.test(JSON.stringify(r.structuredContent)), `${who}: definition is pkg/models.py`, textOf(r).slice(0, 300));
  }
  const hovB = await lspAnswer(b, 'hover');
  t.ok(hovB.structuredContent?.backend === 'lsp', 'session 2: hover answered by Pyright', textOf(hovB).slice(0, 400));

  // One daemon, one segment, one LSP, as the daemon says.
  const daemon = statusJson();
  daemonPid = daemon.pid;
  t.ok(Number.isInteger(daemonPid) && procInfo(daemonPid), `the daemon runs (pid ${daemonPid})`);
  t.eq(daemon.segments.length, 1, 'trifecta status: exactly one segment open');
  t.eq(daemon.segments[0]?.root, proj, 'trifecta status: the segment is the tree of both sessions');
  t.eq(daemon.segments[0]?.lsp_state, 'READY', 'trifecta status: its LSP is READY');
  const [stA, stB] = await Promise.all([a, b].map((s) => s.client.callTool({ name: 'status', arguments: {} })));
  for (const [who, r] of [['session 1', stA], ['session 2', stB]]) {
    const text = JSON.stringify(r.structuredContent ?? {});
    t.ok(!r.isError && text.includes(`"pid":${daemonPid}`), `${who}: status tool names daemon pid ${daemonPid}`, text.slice(0, 400));
    t.ok(text.includes(proj) && text.includes('READY'), `${who}: status tool shows the segment with LSP READY`, text.slice(0, 400));
  }
  const lsp = JSON.parse(cli(args.trifecta, env, ['--json', 'lsp', 'status', '-s', proj]).out).result;
  t.eq(lsp.state, 'READY', 'trifecta lsp status: READY');

  // One Pyright, by pid, from /proc.
  const procs = allProcs();
  const underDaemon = descendants(daemonPid, procs).filter(isPyright);
  const pyPids = new Set(underDaemon.map((p) => p.pid));
  const roots = underDaemon.filter((p) => !pyPids.has(p.ppid));
  t.eq(roots.length, 1, `exactly one Pyright process tree below the daemon (${underDaemon.length} processes: ${underDaemon.map((p) => p.pid).join(',')})`);
  t.ok(pyPids.has(lsp.pid), `the daemon's LSP pid ${lsp.pid} is that Pyright`, [...pyPids]);
  for (const [who, s] of [['session 1', a], ['session 2', b]]) {
    const kids = descendants(s.pid, procs);
    t.eq(kids.length, 0, `${who}: the server (pid ${s.pid}) has no child process (no Pyright of its own)`);
    t.ok(!descendants(s.pid, procs).some((p) => p.pid === daemonPid), `${who}: the daemon is not a child of the server`);
  }

  // One session ends; the other keeps the same warm Pyright.
  await a.client.close();
  await sleep(200);
  t.ok(procInfo(a.pid) === null || procInfo(a.pid).cmdline.length === 0, 'session 1 ended: its server exited');
  const after = await lspAnswer(b, 'references');
  t.ok(after.structuredContent?.backend === 'lsp', 'session 2 after session 1 ended: Pyright still answers', textOf(after).slice(0, 400));
  const lsp2 = JSON.parse(cli(args.trifecta, env, ['--json', 'lsp', 'status', '-s', proj]).out).result;
  t.eq(lsp2.pid, lsp.pid, 'the same Pyright process (same pid) serves on');
  t.eq(statusJson().pid, daemonPid, 'the same daemon serves on');
}
