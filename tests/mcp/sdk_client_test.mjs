// `trifecta mcp` through the official MCP TypeScript SDK client (tests/mcp/lib.mjs): a real
// server subprocess over the SDK's stdio transport, on a copy of tests/fixtures/pyproject_small,
// against a private trifectad (--no-lsp: answers come from the AST, deterministic, no Pyright;
// tests/mcp/shared_daemon_test.mjs covers Pyright).
//
// Checks, in order: the handshake (newest revision, then older ones and an unknown one); the tool
// list (the nine names, each inputSchema/outputSchema a valid JSON Schema object, annotations);
// every tool with good arguments (structuredContent validated against its outputSchema by us,
// with Ajv, not only by the SDK; a text rendering; the backend and index generation named; the
// answers right for the fixture); budgets (a cut answer says so, fits, and continues by its
// cursor; the default keeps a huge outline under 25,000 tokens); resources (templates, a sym://
// URI, a chunk id from search);
// bad arguments (isError results with a readable message, a protocol error for an unknown
// method, the server alive afterwards); older protocol revisions; the client's roots (two roots,
// `root` choosing, roots/list_changed followed); cancellation of the server's debug_sleep tool
// (--debug-tools; the daemon runs with --enable-debug-methods); progress and cancellation of a
// call that waits for the first build of a generated tree (notifications/progress arrive, the
// SDK's AbortSignal sends notifications/cancelled, the server frees the request and stays
// healthy). Exit 0 only when every check passed.
import fs from 'node:fs';
import path from 'node:path';

import {
  Checks, compileSchema, connect, copyFixture, daemonEnv, findKey, generateTree, loadSdk, makeTemp,
  parseArgs, sleep, startDaemon, textOf,
} from './lib.mjs';

const TOOLS = ['search', 'get', 'find_symbol', 'outline', 'map', 'definition', 'hover', 'references', 'calls', 'diagnostics', 'status'];

const args = parseArgs(process.argv);
const sdk = await loadSdk(args.sdk);
const t = new Checks('mcp_sdk');
const tmp = makeTemp('trifecta-mcp-sdk-');
const env = daemonEnv(tmp, args.trifectad);
const proj = copyFixture(args.fixtures, 'pyproject_small', path.join(tmp, 'proj'));
fs.writeFileSync(path.join(proj, 'pkg', 'broken.py'), 'def oops(:\n    pass\n');
// Files for the budget checks: 60 helpers (a few KB) and 3,000 (far over 25,000 tokens outlined).
const helpers = (n) => Array.from({ length: n }, (_, i) =>
  `def helper_${i}(value: int, scale: int = ${i}) -> int:\n    """Helper function number ${i}: scales the value."""\n    return value * scale\n\n`).join('');
fs.writeFileSync(path.join(proj, 'pkg', 'big.py'), helpers(60));
fs.writeFileSync(path.join(proj, 'pkg', 'huge.py'), helpers(3000));
console.log(`# SDK @modelcontextprotocol/sdk ${sdk.sdkVersion}, node ${process.version}, tree ${proj}`);

const daemon = await startDaemon(args.trifectad, env, ['--no-lsp', '--enable-debug-methods']);
const sessions = [];
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
  await daemon.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);

async function open(opts = {}) {
  const s = await connect(sdk, { trifecta: args.trifecta, env, args: ['-s', proj], cwd: proj, ...opts });
  sessions.push(s);
  return s;
}

// Picks the first of `names` that the tool's inputSchema declares (the harness follows the
// schema's spelling where the issue leaves it open, e.g. find_symbol's `name` or `query`).
function pick(tool, names) {
  const props = tool?.inputSchema?.properties ?? {};
  return names.find((n) => n in props);
}

async function main() {
  // ---- handshake -------------------------------------------------------------------------------
  const s = await open();
  const { client, tap } = s;
  const initId = tap.requestId('initialize');
  const init = tap.responseTo(initId)?.msg?.result;
  t.eq(init?.protocolVersion, sdk.types.LATEST_PROTOCOL_VERSION, 'initialize: the newest revision the SDK offers is accepted');
  t.ok(init?.capabilities?.tools, 'initialize: server declares the tools capability', init?.capabilities);
  t.ok(init?.capabilities?.resources, 'initialize: server declares the resources capability', init?.capabilities);
  t.ok(typeof init?.serverInfo?.name === 'string' && init.serverInfo.name.length > 0, 'initialize: serverInfo.name', init?.serverInfo);
  t.ok(client.getServerCapabilities()?.tools !== undefined, 'SDK accepted the initialize result');

  // ---- tools/list ------------------------------------------------------------------------------
  const listed = await client.listTools();
  const tools = new Map(listed.tools.map((x) => [x.name, x]));
  t.eq([...tools.keys()].sort().join(','), [...TOOLS].sort().join(','), 'tools/list: exactly the eleven tool names');
  const validators = new Map();
  for (const name of TOOLS) {
    const tool = tools.get(name);
    if (!t.ok(tool, `tools/list: ${name} is listed`)) continue;
    t.ok(typeof tool.description === 'string' && tool.description.length >= 10, `${name}: has a description`, tool.description);
    for (const kind of ['inputSchema', 'outputSchema']) {
      const schema = tool[kind];
      if (!t.ok(schema && typeof schema === 'object' && schema.type === 'object', `${name}: ${kind} is a JSON Schema of type object`, schema)) continue;
      try {
        const v = compileSchema(sdk, schema);
        t.ok(true, `${name}: ${kind} compiles as a valid JSON Schema (Ajv strict, meta-schema checked)`);
        if (kind === 'outputSchema') validators.set(name, v);
      } catch (e) {
        t.ok(false, `${name}: ${kind} compiles as a valid JSON Schema (Ajv strict, meta-schema checked)`, e.message);
      }
    }
    t.eq(tool.annotations?.readOnlyHint, true, `${name}: annotations.readOnlyHint`);
    if (name !== 'status') t.ok('root' in (tool.inputSchema?.properties ?? {}), `${name}: takes an optional root`, tool.inputSchema);
  }

  // ---- every tool with good arguments ------------------------------------------------------------
  const call = async (name, a) => {
    const r = await client.callTool({ name, arguments: a });
    const label = `${name}(${JSON.stringify(a)})`;
    t.ok(!r.isError, `${label}: not an error`, textOf(r).slice(0, 500));
    t.ok(textOf(r).length > 0, `${label}: a text rendering for clients without structured output`);
    const v = validators.get(name);
    if (t.ok(r.structuredContent && typeof r.structuredContent === 'object', `${label}: structuredContent present`)) {
      if (v) t.ok(v(r.structuredContent), `${label}: structuredContent valid against outputSchema (Ajv, explicit)`, v.errors);
      if (name !== 'status') {
        // Navigation answers come from Pyright or the AST; search/get from the lexical index.
        const nav = ['definition', 'hover', 'references', 'calls', 'diagnostics'].includes(name);
        const backend = r.structuredContent.backend;
        const gen = findKey(r.structuredContent, (k, x) => /generation/.test(k) && Number.isInteger(x));
        t.ok(nav ? backend === 'lsp' || backend === 'ast' : typeof backend === 'string' && backend.length > 0,
             `${label}: says which backend answered${nav ? ' (lsp|ast)' : ''}`, backend);
        t.ok(gen, `${label}: says the index generation`, Object.keys(r.structuredContent));
      }
    }
    return r;
  };
  const sc = (r) => r.structuredContent ?? {};
  const json = (r) => JSON.stringify(sc(r));

  const search = await call('search', { query: 'make_user' });
  const hits = findKey(sc(search), (k, x) => k === 'hits' && Array.isArray(x))?.value ?? [];
  t.ok(hits.length > 0 && hits.some((h) => h.path === 'pkg/models.py' || h.file === 'pkg/models.py'),
       'search: make_user is found in pkg/models.py', json(search).slice(0, 600));
  const chunkId = hits.find((h) => typeof h.id === 'string')?.id;
  t.ok(chunkId, 'search: hits carry chunk ids', hits[0]);

  // A misspelt word is searched as the indexed word; the answer says so, in both renderings
  // (`call` validates the structured one against the tool's outputSchema).
  const misspelt = await call('search', { query: 'greetign' });
  t.eq(JSON.stringify(sc(misspelt).corrected), JSON.stringify([{ from: 'greetign', to: 'greeting' }]),
       'search: a misspelt word names its correction', json(misspelt).slice(0, 600));
  t.ok(textOf(misspelt).includes('searched as: greetign → greeting'), 'search: the text names the correction',
       textOf(misspelt).slice(0, 300));

  const pathFilter = pick(tools.get('search'), ['path', 'paths', 'glob']);
  if (t.ok(pathFilter, 'search: takes a path filter', tools.get('search')?.inputSchema)) {
    const filtered = await call('search', { query: 'make_user', [pathFilter]: pathFilter === 'paths' ? ['main.py'] : 'main.py' });
    const fh = findKey(sc(filtered), (k, x) => k === 'hits' && Array.isArray(x))?.value ?? [];
    t.ok(fh.every((h) => (h.path ?? h.file) === 'main.py'), 'search: the path filter keeps only main.py', fh);
  }
  t.ok('kind' in (tools.get('search')?.inputSchema?.properties ?? {}), 'search: takes a kind filter');

  if (chunkId) {
    const got = await call('get', { ids: [chunkId], mode: 'raw' });
    t.ok(/make_user|def |class /.test(json(got)), 'get(ids): the chunk text comes back', json(got).slice(0, 400));
  }
  const bySym = await call('get', { ids: ['sym://python/pkg.models/User.greeting'], mode: 'excerpt' });
  t.ok(json(bySym).includes('greeting'), 'get(sym:// URI in ids): the symbol comes back', json(bySym).slice(0, 400));
  // A pytest node id (as a failing test's report names it) reads its definition.
  const byNode = await call('get', { ids: ['pkg/models.py::User::greeting[case-1]'], mode: 'raw' });
  t.ok((sc(byNode).chunks ?? [])[0]?.id === 'pkg/models.py::User::greeting[case-1]' && json(byNode).includes('def greeting') &&
       (sc(byNode).errors ?? []).length === 0,
       'get(a pytest node id in ids): the definition comes back', json(byNode).slice(0, 400));
  const byFile = await call('get', { ids: ['pkg/models.py'], mode: 'skeleton' });
  const filePieces = sc(byFile).chunks ?? [];
  t.ok(filePieces.length === 1 && filePieces[0].id === 'pkg/models.py' && filePieces[0].start_line === 1 &&
       json(byFile).includes('make_user') && json(byFile).includes('greeting') && (sc(byFile).errors ?? []).length === 0,
       'get(a file path in ids): the whole file comes back', json(byFile).slice(0, 400));
  const symArg = pick(tools.get('find_symbol'), ['name', 'query', 'prefix', 'symbol']);
  if (t.ok(symArg, 'find_symbol: has a name/query argument', tools.get('find_symbol')?.inputSchema)) {
    const fs1 = await call('find_symbol', { [symArg]: 'make_user' });
    t.ok(json(fs1).includes('pkg.models') || json(fs1).includes('pkg/models.py'), 'find_symbol(make_user): found in pkg.models', json(fs1).slice(0, 400));
    const prefixArg = 'match' in (tools.get('find_symbol').inputSchema.properties ?? {}) ? { match: 'prefix' } : {};
    const fs2 = await call('find_symbol', { [symArg]: 'make_', ...prefixArg });
    t.ok(json(fs2).includes('make_user'), 'find_symbol(make_): a name prefix finds make_user', json(fs2).slice(0, 400));
  }

  const outArg = pick(tools.get('outline'), ['path', 'file', 'target', 'module']);
  if (t.ok(outArg, 'outline: has a path/module argument', tools.get('outline')?.inputSchema)) {
    const o = await call('outline', { [outArg]: outArg === 'module' ? 'pkg.models' : 'pkg/models.py' });
    t.ok(json(o).includes('User') && json(o).includes('make_user') && json(o).includes('greeting'),
         'outline(pkg/models.py): User, User.greeting, make_user', json(o).slice(0, 400));
  }

  // map: the most central files first (pkg/models.py is imported by the others), within budget.
  const m = await call('map', { budget: 2000 });
  const mapFiles = sc(m).files ?? [];
  t.ok(mapFiles.length > 0 && mapFiles.some((f) => f.path === 'pkg/models.py') && json(m).includes('make_user'),
       'map: lists pkg/models.py with make_user', json(m).slice(0, 400));
  t.ok(Math.ceil(textOf(m).length / 4) <= 2000 && Math.ceil(json(m).length / 4) <= 2000,
       'map with budget 2000: both renderings within 2000 tokens', [textOf(m).length, json(m).length]);
  // pkg/huge.py's 3,000 helpers do not fit: the map is cut, and its text still takes most of the
  // budget (the structured answer does not repeat it per file, nor each symbol as an object).
  t.ok(textOf(m).includes('more with a larger `budget` or a narrower `path`') && !textOf(m).includes('--budget'),
       'map, cut: says which arguments show more', textOf(m).slice(-400));
  t.ok(sc(m).truncated === true && Math.ceil(textOf(m).length / 4) >= 1400,
       'map with budget 2000, cut: its text takes at least 1,400 tokens', [sc(m).truncated, textOf(m).length, json(m).length]);
  t.ok(mapFiles.every((f) => f.text === undefined && Number.isInteger(f.symbols)) && sc(m).text.includes('make_user'),
       'map: one text, files with a symbol count', JSON.stringify(mapFiles.slice(0, 2)));
  const mPkg = await call('map', { path: 'pkg' });
  t.ok((sc(mPkg).files ?? []).every((f) => f.path.startsWith('pkg/')), 'map(path=pkg): only files under pkg/', json(mPkg).slice(0, 300));

  // Budgets. A result that does not fit is cut, says so, and gives a cursor that continues it;
  // without a budget argument a huge answer still stays under the agents' 25,000-token cap.
  const budgetCut = async (name, a) => {
    const r1 = await call(name, { ...a, budget: 300 });
    const c1 = sc(r1);
    t.ok(c1.truncated === true && typeof c1.next_cursor === 'string' && c1.next_cursor.length > 0,
         `${name} with budget 300: cut, with truncated and next_cursor`, json(r1).slice(0, 300));
    t.ok(Math.ceil(textOf(r1).length / 4) <= 300 && Math.ceil(json(r1).length / 4) <= 300,
         `${name} with budget 300: both renderings within 300 tokens (bytes / 4)`, [textOf(r1).length, json(r1).length]);
    if (typeof c1.next_cursor === 'string') {
      const r2 = await call(name, { ...a, budget: 300, cursor: c1.next_cursor });
      t.ok(json(r2) !== json(r1) && textOf(r2).length > 0, `${name} with the cursor: the next part`, json(r2).slice(0, 300));
    }
  };
  await budgetCut('outline', { [outArg ?? 'path']: 'pkg/big.py' });
  await budgetCut('search', { query: 'helper function', limit: 50 });
  const huge = await call('outline', { [outArg ?? 'path']: 'pkg/huge.py' });
  t.ok(Math.ceil(textOf(huge).length / 4) < 25000 && Math.ceil(json(huge).length / 4) < 25000 && sc(huge).truncated === true,
       'outline of a 3,000-function file with the default budget: cut under 25,000 tokens', [textOf(huge).length, json(huge).length]);

  const pos = { path: 'pkg/service.py', line: 8, column: 12 };
  const def = await call('definition', pos);
  t.ok(/"path":"pkg\/models.py"/.test(json(def)) && /"line":17/.test(json(def)), 'definition(service.py:8:12): pkg/models.py line 17', json(def).slice(0, 400));
  const defUri = await call('definition', { uri: 'sym://python/pkg.models/User.greeting' });
  t.ok(/"line":12/.test(json(defUri)), 'definition(sym:// uri): User.greeting at line 12', json(defUri).slice(0, 400));
  const hover = await call('hover', pos);
  t.ok(json(hover).includes('make_user'), 'hover(service.py:8:12): mentions make_user', json(hover).slice(0, 400));
  const refs = await call('references', { path: 'pkg/models.py', line: 17, column: 5 });
  const locs = findKey(sc(refs), (k, x) => k === 'locations' && Array.isArray(x))?.value ?? [];
  t.ok(locs.length >= 3, 'references(make_user): definition, import and call (>= 3)', json(refs).slice(0, 400));
  const calls = await call('calls', { path: 'pkg/models.py', line: 17, column: 5, direction: 'incoming' });
  const callers = (sc(calls)?.incoming ?? []).map((e) => e.item?.qualname);
  t.ok(callers.length >= 1 && (sc(calls)?.outgoing ?? []).length === 0, 'calls(make_user, incoming): its callers, no callees', json(calls).slice(0, 400));
  const diag = await call('diagnostics', { path: 'pkg/broken.py' });
  t.ok(/"severity":"error"/.test(json(diag)), 'diagnostics(pkg/broken.py): a syntax error', json(diag).slice(0, 400));
  const st = await call('status', {});
  t.ok(json(st).includes(proj), 'status: names the root', json(st).slice(0, 400));
  t.ok(/lsp_state|lsp/.test(json(st)) && /generation|index/.test(json(st)), 'status: daemon, index and LSP state', json(st).slice(0, 400));

  // ---- resources -------------------------------------------------------------------------------
  const templates = await client.listResourceTemplates();
  t.ok(templates.resourceTemplates.some((x) => x.uriTemplate.startsWith('sym://')), 'resources/templates/list: a sym:// template', templates);
  const res = await client.readResource({ uri: 'sym://python/pkg.models/User.greeting' });
  t.ok(res.contents?.[0]?.uri && (res.contents[0].text ?? '').includes('def greeting'),
       'resources/read sym://python/pkg.models/User.greeting: the excerpt', res);
  if (chunkId) {
    // The chunk's URI: as the hit gives it, else by the server's chunk template.
    const chunkTemplate = templates.resourceTemplates.find((x) => !x.uriTemplate.startsWith('sym://'));
    t.ok(chunkTemplate, 'resources/templates/list: a template for chunk ids', templates);
    const uri = hits[0].uri ?? (chunkTemplate ? chunkTemplate.uriTemplate.replace(/\{\+?id\}/, chunkId) : chunkId);
    try {
      const r2 = await client.readResource({ uri });
      t.ok((r2.contents?.[0]?.text ?? '').length > 0, `resources/read of a search hit's chunk (${uri})`, r2);
    } catch (e) {
      t.ok(false, `resources/read of a search hit's chunk (${uri})`, e.message);
    }
  }
  try {
    await client.readResource({ uri: 'sym://python/pkg.models/NoSuchThing' });
    t.ok(false, 'resources/read of an unknown symbol: an error');
  } catch (e) {
    t.ok(/NoSuchThing|not found|unknown|no symbol/i.test(e.message), 'resources/read of an unknown symbol: a JSON-RPC error naming it', e.message);
  }

  // ---- bad arguments ---------------------------------------------------------------------------
  const bad = async (name, a, what, re) => {
    let r;
    try {
      r = await client.callTool({ name, arguments: a });
    } catch (e) {
      t.ok(false, `${what}: a tool result with isError, not a protocol error`, e.message);
      return;
    }
    t.ok(r.isError === true, `${what}: isError`, r);
    t.ok(re.test(textOf(r)), `${what}: readable message`, textOf(r));
  };
  await bad('definition', { path: 'pkg/service.py', line: 'eight', column: 12 }, 'definition with line "eight"', /line/i);
  await bad('search', {}, 'search without query', /query/i);
  await bad('get', { ids: ['sym://python/pkg.models/User'], mode: 'sideways' }, 'get with mode "sideways"', /mode|sideways/i);
  await bad('definition', { path: '../outside.py', line: 1, column: 1 }, 'definition outside the root', /outside|root|segment|\.\./i);
  await bad('outline', { [outArg ?? 'path']: 'no/such/file.py' }, 'outline of a missing file', /no\/such\/file\.py|not found|no such/i);
  await bad('search', { query: 'x', root: '/definitely/not/a/root' }, 'search with an unknown root', /root/i);
  try {
    const r = await client.callTool({ name: 'no_such_tool', arguments: {} });
    t.ok(r.isError === true && /no_such_tool/.test(textOf(r)), 'unknown tool: isError naming it', r);
  } catch (e) {
    t.ok(/no_such_tool/.test(e.message) && e.code === -32602, 'unknown tool: JSON-RPC -32602 naming it', `${e.code} ${e.message}`);
  }
  try {
    await client.request({ method: 'no/such/method', params: {} }, sdk.types.EmptyResultSchema);
    t.ok(false, 'unknown method: a JSON-RPC error');
  } catch (e) {
    t.eq(e.code, -32601, 'unknown method: JSON-RPC -32601 (method not found)');
  }
  const alive = await client.ping().then(() => true, () => false);
  t.ok(alive, 'after the bad input the server still answers ping');
  t.ok(s.clientErrors.length === 0 && tap.errors.length === 0, 'nothing but protocol messages on stdout (no SDK parse/transport errors)',
       [...s.clientErrors, ...tap.errors].map(String));

  // ---- older protocol revisions ----------------------------------------------------------------
  for (const offered of ['2025-06-18', '2025-03-26', '2024-11-05']) {
    const o = await open({ offerProtocolVersion: offered });
    const r = o.tap.responseTo(o.tap.requestId('initialize'))?.msg?.result;
    t.eq(r?.protocolVersion, offered, `initialize offering ${offered}: the server answers with it`);
    const res2 = await o.client.callTool({ name: 'definition', arguments: pos }).catch((e) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
    t.ok(!res2.isError && /pkg\/models\.py/.test(textOf(res2)), `${offered}: a tool call works (text content)`, textOf(res2).slice(0, 300));
    await o.client.close();
  }
  const future = await open({ offerProtocolVersion: '2099-01-01' });
  const fr = future.tap.responseTo(future.tap.requestId('initialize'))?.msg?.result;
  t.ok(sdk.types.SUPPORTED_PROTOCOL_VERSIONS.includes(fr?.protocolVersion),
       'initialize offering an unknown revision: the server answers with one it supports', fr?.protocolVersion);
  await future.client.close();

  await clientRoots();
  await cancelDebugSleep();
  await progressAndCancellation();
}

// Without -s the server asks the client for its roots (roots/list) when the client declares the
// capability: two roots are two segments, `root` picks one; roots/list_changed is followed.
async function clientRoots() {
  const other = path.join(tmp, 'other');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'extra.py'), 'def zanzibar_marker() -> int:\n    """Only in the second root."""\n    return 1\n');
  let roots = [proj, other];
  let asked = 0;
  const c = await connect(sdk, {
    trifecta: args.trifecta, env, cwd: tmp, name: 'roots-client',
    capabilities: { roots: { listChanged: true } },
    setup: (client) => client.setRequestHandler(sdk.types.ListRootsRequestSchema, async () => {
      asked++;
      return { roots: roots.map((r) => ({ uri: `file://${r}`, name: path.basename(r) })) };
    }),
  });
  sessions.push(c);
  const rootsOf = async () => (await c.client.callTool({ name: 'status', arguments: {} })).structuredContent?.roots;
  t.eq(JSON.stringify(await rootsOf()), JSON.stringify([proj, other]), "roots: the client's two roots are the session's roots");
  t.ok(asked >= 1, 'roots: the server asked roots/list');
  const hitsIn = async (root) => {
    const r = await c.client.callTool({ name: 'search', arguments: { query: 'zanzibar_marker', root } });
    return r.isError ? textOf(r) : (r.structuredContent?.hits ?? []).map((h) => h.path);
  };
  t.eq(JSON.stringify(await hitsIn(other)), JSON.stringify(['extra.py']), 'roots: search with root = the second root finds extra.py');
  t.eq(JSON.stringify(await hitsIn(proj)), JSON.stringify([]), 'roots: search with root = the first root does not');
  roots = [other];
  await c.client.sendRootsListChanged();
  let now;
  for (let i = 0; i < 50; i++) {
    now = await rootsOf();
    if (JSON.stringify(now) === JSON.stringify([other])) break;
    await sleep(100);
  }
  t.eq(JSON.stringify(now), JSON.stringify([other]), 'roots: notifications/roots/list_changed is followed');
  const gone = await c.client.callTool({ name: 'search', arguments: { query: 'make_user', root: proj } });
  t.ok(gone.isError && /root/i.test(textOf(gone)), 'roots: a root no longer listed is refused with a readable message', textOf(gone));
  await c.client.close();
}

// With --debug-tools the server adds `debug_sleep` (the daemon's debug.sleep): a call that is
// slow for sure. Another call is answered while it runs; cancelling it answers nothing for it.
async function cancelDebugSleep() {
  const d = await open({ args: ['-s', proj, '--debug-tools'] });
  const names = (await d.client.listTools()).tools.map((x) => x.name);
  if (!t.ok(names.includes('debug_sleep'), 'with --debug-tools the server lists debug_sleep', names)) return;
  const started = Date.now();
  let sleptAt = null;
  const sleeping = d.client.callTool({ name: 'debug_sleep', arguments: { ms: 4000 } }).then(() => { sleptAt = Date.now() - started; });
  const st = await d.client.callTool({ name: 'status', arguments: {} });
  const stAt = Date.now() - started;
  t.ok(!st.isError && sleptAt === null, `a status call is answered while debug_sleep(4000) runs (after ${stAt} ms)`);
  await sleeping;
  t.ok(sleptAt >= 3900, `debug_sleep(4000) answered after ${sleptAt} ms`);

  const ac = new AbortController();
  const t0 = Date.now();
  let outcome = null;
  const cancelled = d.client.callTool({ name: 'debug_sleep', arguments: { ms: 3000 } }, undefined, { signal: ac.signal })
    .then(() => { outcome = 'answered'; }, (e) => { outcome = e; });
  await sleep(300);
  const id = d.tap.sent.filter((m) => m.msg.method === 'tools/call').at(-1).msg.id;
  ac.abort('test cancels debug_sleep');
  await cancelled;
  t.ok(outcome instanceof Error && Date.now() - t0 < 2000, `the aborted debug_sleep(3000) rejects at once in the client (${Date.now() - t0} ms)`, String(outcome));
  const after = await d.client.callTool({ name: 'status', arguments: {} });
  t.ok(!after.isError, 'the server answers after the cancel');
  await sleep(3300 - (Date.now() - t0));
  t.ok(!d.tap.received.some((r) => r.msg.id === id && !('method' in r.msg)),
       'no response for the cancelled debug_sleep, even after its 3 s are over');
  t.ok(d.clientErrors.length === 0, 'no protocol errors on the debug session', d.clientErrors.map(String));
  await d.client.close();
}

// A call that waits for the first index build of a generated tree (several seconds here):
// progress arrives for its token; aborting it sends notifications/cancelled; the server answers
// other calls at once, never answers the cancelled request, and a new call completes.
async function progressAndCancellation() {
  const big = path.join(tmp, 'big');
  generateTree(big, 2500);
  const b = await connect(sdk, { trifecta: args.trifecta, env, args: ['-s', big], cwd: big });
  sessions.push(b);
  const progress = [];
  const ac = new AbortController();
  const started = Date.now();
  let settled = null;
  const slow = b.client.callTool({ name: 'search', arguments: { query: 'frobnicates gizmo' } }, undefined, {
    signal: ac.signal,
    onprogress: (p) => progress.push({ ...p, at: Date.now() - started }),
    timeout: 300000,
  }).then((r) => { settled = { ok: r }; }, (e) => { settled = { err: e }; });
  // Cancel at the first progress notification, or after 1.5 s without one.
  while (!settled && progress.length === 0 && Date.now() - started < 1500) await sleep(10);
  const wasPending = settled === null;
  const slowId = b.tap.sent.filter((m) => m.msg.method === 'tools/call').at(-1)?.msg.id;
  ac.abort('test cancels');
  await slow;
  t.ok(wasPending, `the search that waits for the first build of 2,500 files was still running when cancelled (${Date.now() - started} ms)`);
  t.ok(progress.length > 0, 'notifications/progress arrived for the progress token while waiting for the build', progress);
  const toks = b.tap.received.filter((r) => r.msg.method === 'notifications/progress').map((r) => r.msg.params);
  t.ok(toks.every((p) => p.progressToken === slowId), 'progress notifications carry the request\'s progressToken', toks.slice(0, 3));
  t.ok(toks.every((p, i) => i === 0 || p.progress > toks[i - 1].progress), 'progress increases with each notification', toks.map((p) => p.progress));
  t.ok(b.tap.sent.some((m) => m.msg.method === 'notifications/cancelled' && m.msg.params.requestId === slowId),
       'the SDK sent notifications/cancelled for the request');
  const t0 = Date.now();
  const st = await b.client.callTool({ name: 'status', arguments: {} }, undefined, { timeout: 10000 }).catch((e) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
  t.ok(!st.isError, `after the cancel the server answers status at once (${Date.now() - t0} ms)`, textOf(st).slice(0, 300));
  // The build goes on in the daemon; a new call waits for it and completes.
  const done = await b.client.callTool({ name: 'search', arguments: { query: 'frobnicates gizmo' } }, undefined, { timeout: 300000 });
  t.ok(!done.isError && (findKey(done.structuredContent, (k, x) => k === 'hits' && Array.isArray(x))?.value ?? []).length > 0,
       `a new search after the build completes with hits (${Date.now() - started} ms after the first)`);
  await sleep(300);
  t.ok(!b.tap.received.some((r) => r.msg.id === slowId && !('method' in r.msg)),
       'the cancelled request got no response (the server freed it)');
  // Progress already on its way when the cancel was sent may still arrive (the SDK then reports
  // an unknown token); none may come a second after it.
  const cancelAt = b.tap.sent.find((m) => m.msg.method === 'notifications/cancelled')?.at ?? 0;
  const late = b.tap.received.filter((r) => r.msg.method === 'notifications/progress' && r.at > cancelAt + 1000);
  t.ok(late.length === 0, 'no progress for the cancelled request a second after the cancel', late.map((r) => r.msg));
  const other = b.clientErrors.filter((e) => !/progress notification for an unknown token/.test(String(e)));
  t.ok(other.length === 0, 'no protocol errors on the cancelling session', other.map(String));
}
