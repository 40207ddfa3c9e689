// Shared harness of the MCP tests (tests/mcp/*_test.mjs): the official MCP TypeScript SDK client
// (@modelcontextprotocol/sdk, installed by scripts/setup.sh into third_party/mcp-sdk) driving real
// `trifecta mcp` subprocesses against a private trifectad.
//
// Every test script is run by tests/mcp/run_node_test.sh with
//   --trifecta BIN --trifectad BIN --sdk DIR/node_modules --fixtures DIR
// and exits 0 when every check passed, 1 on any failed check (each one printed with what was
// expected and what came), 2 on a usage error. Nothing here is shared between test processes:
// each owns its temp dir, its daemon and its servers, and kills them on exit.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export function parseArgs(argv) {
  const out = {};
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i];
    if (!key.startsWith('--') || i + 1 >= argv.length) usage(`bad argument ${key}`);
    out[key.slice(2)] = argv[i + 1];
  }
  for (const k of ['trifecta', 'trifectad', 'sdk', 'fixtures']) if (!out[k]) usage(`missing --${k}`);
  // Absolute: the servers and the daemon run in other working directories.
  for (const k of Object.keys(out)) if (out[k].includes('/')) out[k] = path.resolve(out[k]);
  return out;
}

function usage(msg) {
  console.error(`${msg}\nusage: node TEST.mjs --trifecta BIN --trifectad BIN --sdk NODE_MODULES --fixtures DIR`);
  process.exit(2);
}

// The SDK's client classes, and Ajv from the SDK's own dependencies (the validator the SDK uses).
export async function loadSdk(nodeModules) {
  nodeModules = path.resolve(nodeModules);
  const esm = path.join(nodeModules, '@modelcontextprotocol', 'sdk', 'dist', 'esm');
  const imp = (rel) => import(pathToFileURL(path.join(esm, rel)).href);
  const { Client } = await imp('client/index.js');
  const { StdioClientTransport } = await imp('client/stdio.js');
  const types = await imp('types.js');
  const require = createRequire(path.join(nodeModules, 'noop.js'));
  const Ajv2020 = require('ajv/dist/2020').default;
  const AjvDraft7 = require('ajv').default;
  const addFormats = require('ajv-formats').default ?? require('ajv-formats');
  const sdkVersion = JSON.parse(
    fs.readFileSync(path.join(nodeModules, '@modelcontextprotocol', 'sdk', 'package.json'), 'utf8')).version;
  return { Client, StdioClientTransport, types, Ajv2020, AjvDraft7, addFormats, sdkVersion };
}

// ---- checks -------------------------------------------------------------------------------------

export class Checks {
  constructor(name) {
    this.name = name;
    this.failures = [];
    this.passed = 0;
  }
  ok(cond, what, detail) {
    if (cond) {
      this.passed++;
      console.log(`ok   ${what}`);
    } else {
      const d = detail === undefined ? '' : `\n       ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`;
      this.failures.push(what);
      console.log(`FAIL ${what}${d}`);
    }
    return !!cond;
  }
  eq(actual, expected, what) {
    return this.ok(actual === expected, what,
                   `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
  finish() {
    console.log(`\n${this.name}: ${this.passed} checks passed, ${this.failures.length} failed`);
    for (const f of this.failures) console.log(`  failed: ${f}`);
    return this.failures.length === 0 ? 0 : 1;
  }
}

// ---- processes ----------------------------------------------------------------------------------

export function makeTemp(prefix) {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

export function copyFixture(fixtures, name, dest) {
  fs.cpSync(path.join(fixtures, name), dest, { recursive: true });
  return fs.realpathSync(dest);
}

// The environment that points every trifecta process at the daemon of `tmp` (and nothing of the
// user's: state, runtime dir, telemetry and socket all live under tmp).
export function daemonEnv(tmp, trifectad) {
  return {
    ...process.env,
    XDG_STATE_HOME: path.join(tmp, 'state'),
    XDG_RUNTIME_DIR: path.join(tmp, 'xdg'),
    TRIFECTA_SOCKET: path.join(tmp, 'run', 'd.sock'),
    TRIFECTA_TELEMETRY_DIR: path.join(tmp, 'telemetry'),
    TRIFECTA_DAEMON: trifectad,
  };
}

export function canConnect(socket) {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A trifectad in the foreground on the private socket of `env`; killed by stop() (and on exit).
export async function startDaemon(trifectad, env, extraArgs = []) {
  const socket = env.TRIFECTA_SOCKET;
  // The socket's directory is the daemon's own (it makes it 0700, and refuses a directory
  // holding other files): the log goes beside it.
  fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o700 });
  const log = fs.openSync(path.join(path.dirname(path.dirname(socket)), 'daemon.stderr'), 'a');
  const child = spawn(trifectad, ['--foreground', '--socket', socket, '--log-level', 'warn', ...extraArgs],
                      { env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  killOnExit(child.pid);
  const deadline = Date.now() + 15000;
  while (!(await canConnect(socket))) {
    if (child.exitCode !== null) throw new Error(`trifectad exited with ${child.exitCode} before serving`);
    if (Date.now() > deadline) throw new Error(`trifectad did not come up on ${socket}`);
    await sleep(10);
  }
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15000);
      await done;
      clearTimeout(t);
    },
  };
}

const toKill = new Set();
export function killOnExit(pid) { toKill.add(pid); }
process.on('exit', () => {
  for (const pid of toKill) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

// `trifecta ARGS` against the daemon of `env`; returns {code, out, err}.
export function cli(trifecta, env, args) {
  const r = spawnSync(trifecta, args, { env, encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

// ---- /proc --------------------------------------------------------------------------------------

export function procInfo(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return { pid, ppid: Number(rest[1]), cmdline, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
  } catch {
    return null;
  }
}

export function allProcs() {
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = procInfo(Number(e));
    if (p) out.push(p);
  }
  return out;
}

// Every process below `root` (not `root` itself).
export function descendants(root, procs = allProcs()) {
  const kids = new Map();
  for (const p of procs) {
    if (!kids.has(p.ppid)) kids.set(p.ppid, []);
    kids.get(p.ppid).push(p);
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    for (const c of kids.get(stack.pop()) ?? []) {
      out.push(c);
      stack.push(c.pid);
    }
  }
  return out;
}

export const isPyright = (p) => p.cmdline.some((a) => /pyright/i.test(a));

// ---- MCP ----------------------------------------------------------------------------------------

// A transport around the SDK's StdioClientTransport that records every message both ways, and can
// rewrite the protocolVersion of the client's `initialize` (the SDK always offers its newest; an
// older client is simulated by offering an older revision on the wire).
export class TapTransport {
  constructor(inner, { offerProtocolVersion } = {}) {
    this.inner = inner;
    this.offer = offerProtocolVersion;
    this.sent = [];
    this.received = [];
    this.errors = [];
  }
  async start() {
    this.inner.onmessage = (m, extra) => {
      this.received.push({ at: Date.now(), msg: m });
      this.onmessage?.(m, extra);
    };
    this.inner.onerror = (e) => {
      this.errors.push(e);
      this.onerror?.(e);
    };
    this.inner.onclose = () => this.onclose?.();
    return this.inner.start();
  }
  async send(message, options) {
    if (this.offer && message.method === 'initialize') {
      message = { ...message, params: { ...message.params, protocolVersion: this.offer } };
    }
    this.sent.push({ at: Date.now(), msg: message });
    return this.inner.send(message, options);
  }
  async close() { return this.inner.close(); }
  get pid() { return this.inner.pid; }
  get stderr() { return this.inner.stderr; }
  responseTo(id) { return this.received.find((r) => r.msg.id === id && !('method' in r.msg)); }
  requestId(method) { return this.sent.find((s) => s.msg.method === method)?.msg.id; }
}

// One `trifecta mcp` server and an SDK client connected to it. `stderr` of the server is kept.
// `capabilities`: the client's (e.g. roots); `setup(client)` runs before connecting (handlers).
export async function connect(sdk, { trifecta, env, args = [], cwd, offerProtocolVersion, name = 'trifecta-mcp-test',
                                     capabilities = {}, setup }) {
  const inner = new sdk.StdioClientTransport({
    command: trifecta, args: ['mcp', ...args], env, cwd, stderr: 'pipe',
  });
  const tap = new TapTransport(inner, { offerProtocolVersion });
  let stderr = '';
  inner.stderr?.on('data', (d) => { stderr += d.toString(); });
  const client = new sdk.Client({ name, version: '1.0.0' }, { capabilities });
  setup?.(client);
  const clientErrors = [];
  client.onerror = (e) => clientErrors.push(e);
  try {
    await client.connect(tap);
  } catch (e) {
    await sleep(100);  // let the server's last stderr lines arrive
    throw new Error(`trifecta mcp ${args.join(' ')}: initialize failed: ${e.message}\n--- server stderr ---\n${stderr.slice(-4000)}`);
  }
  if (tap.pid) killOnExit(tap.pid);
  return { client, tap, clientErrors, stderr: () => stderr, pid: tap.pid };
}

// JSON Schema validators: the dialect the schema names, 2020-12 when it names none (the MCP
// default). strict: unknown keywords, `required` naming undefined properties and the like fail.
export function makeAjv(sdk, dialect) {
  const opts = { strict: true, strictTypes: false, allowUnionTypes: true, allErrors: true, validateSchema: true };
  const ajv = dialect === 'draft-07' ? new sdk.AjvDraft7(opts) : new sdk.Ajv2020(opts);
  sdk.addFormats(ajv);
  return ajv;
}

export function compileSchema(sdk, schema) {
  const dialect = typeof schema?.$schema === 'string' && schema.$schema.includes('draft-07') ? 'draft-07' : '2020-12';
  const ajv = makeAjv(sdk, dialect);
  if (!ajv.validateSchema(schema)) throw new Error(`not a valid JSON Schema (${dialect}): ${ajv.errorsText(ajv.errors)}`);
  return ajv.compile(schema);
}

export function textOf(result) {
  return (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

// Depth-first search for a key anywhere in a JSON value.
export function findKey(value, pred) {
  if (value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (pred(k, v)) return { key: k, value: v };
    const sub = findKey(v, pred);
    if (sub) return sub;
  }
  return undefined;
}

// A tree big enough that its first index build takes seconds on this machine: `files` modules of
// ~6 KB, each with classes, functions and docstrings (deterministic).
export function generateTree(root, files) {
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `pkg${i % 40}`);
    fs.mkdirSync(dir, { recursive: true });
    let s = `"""Generated module ${i} for the MCP cancellation test."""\nimport os\n\n`;
    for (let c = 0; c < 6; c++) {
      s += `class Widget${i}_${c}:\n    """A widget number ${c} of module ${i}: frobnicates the gizmo."""\n\n`;
      s += `    def __init__(self, size: int = ${c}) -> None:\n        self.size = size\n\n`;
      for (let m = 0; m < 4; m++) {
        s += `    def method_${m}(self, value: int) -> int:\n        """Return value scaled by ${m}."""\n`;
        s += `        total = value * ${m} + self.size\n        return os.getpid() + total\n\n`;
      }
    }
    fs.writeFileSync(path.join(dir, `mod${i}.py`), s);
  }
}
