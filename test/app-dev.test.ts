// Developing an app through the real CLI: what the terminal says (banner first, one line per
// load failure, `recovered`), error answers as JSON, user files only in frames and stacks, and
// a missing package named with its install command.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { makeTree, removeTree, runCli } from './helpers/server.js';
import type { Proc } from './helpers/bin.js';
import { get, serveMerged, type Got } from './helpers/dev.js';
import { skip } from './helpers/skip.js';

const WAIT_MS = 15_000;
const BANNER = /serving (.+) at http:\/\/[^/]+:(\d+)\//;

const BROKEN = 'export default {\n  fetch() {\n    return new Response("x"\n  },\n};\n';
const GOOD = (tag: string): string => `export default { fetch() { return new Response(${JSON.stringify(tag)}) } };\n`;

const dev = suite('app development: terminal lines');

dev('a broken app at start: the banner first, then one line for the app; a fixed save says recovered', async () => {
  const dir = await makeTree({ 'app.ts': BROKEN });
  const cli = serveMerged(dir, ['--app', '/api=app.ts']);
  try {
    await cli.waitFor(/failed to load/, WAIT_MS);
    await cli.waitFor(/static files are still served/, WAIT_MS);
    const out = cli.stdout();
    const banner = out.search(BANNER);
    const failed = out.indexOf('App /api  failed to load: app.ts:4:3 Expected ")" but found "}"');
    assert.ok(banner >= 0 && failed > banner, `banner first, then the failure line:\n${out}`);
    assert.not.match(out.slice(0, banner), /✖|failed/, 'nothing about the app above the banner');
    const port = Number(BANNER.exec(out)?.[2]);
    await writeFile(join(dir, 'app.ts'), GOOD('one'));
    await cli.waitFor(/\d\d:\d\d:\d\d ✔ app\.ts changed → recovered in \d+ ms/, WAIT_MS);
    assert.is((await get(port, '/api/')).text, 'one');
    await writeFile(join(dir, 'app.ts'), GOOD('two'));
    await cli.waitFor(/\d\d:\d\d:\d\d ↻ app\.ts changed → reloaded in \d+ ms/, WAIT_MS);
    assert.is((await get(port, '/api/')).text, 'two');
    assert.is(cli.stdout().match(/recovered/g)?.length, 1, 'only the first good save after a broken one says recovered');
  } finally {
    await cli.stop();
    await removeTree(dir);
  }
});

const errors = suite('app development: error answers');

/** Serve `files` with `--app` for each of `apps`, run `body`, always stop. */
async function withServer(files: Record<string, string>, args: string[], body: (port: number, cli: Proc) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const dir = await makeTree(files);
  const cli = serveMerged(dir, args, env);
  try {
    const port = Number((await cli.waitFor(BANNER, WAIT_MS))[2]);
    await body(port, cli);
  } finally {
    await cli.stop();
    await removeTree(dir);
  }
}

type JsonError = { error: Record<string, unknown> };

errors('a module with no handler points at the user module, never at serve-here; JSON when asked', async () => {
  await withServer({ 'noh.ts': 'export const config = 1;\n' }, ['--app', '/noh=noh.ts'], async (port, cli) => {
    await cli.waitFor(/static files are still served/, WAIT_MS);
    assert.match(cli.stdout(), /App \/noh  failed to load: noh\.ts has no request handler \(found exports "config"\)/);
    assert.not.match(cli.stdout(), /detect\.(ts|js)/);
    const json = await get(port, '/noh/', { Accept: 'application/json' });
    assert.is(json.status, 500);
    assert.match(json.type, 'application/json');
    const body = JSON.parse(json.text) as JsonError;
    assert.equal(Object.keys(body.error), ['status', 'title', 'message', 'file', 'line', 'column']);
    assert.is(body.error.status, 500);
    assert.is(body.error.title, 'Failed to load noh.ts');
    assert.is(body.error.file, 'noh.ts');
    assert.match(String(body.error.message), 'has no request handler (found exports "config")');
    const text = await get(port, '/noh/');
    assert.not.match(text.text, /detect\.|[\\/](src|dist)[\\/]app/);
  });
});

errors('a thrown handler: JSON with the user file and line; the stack holds no serve-here frame', async () => {
  const files = {
    'app.ts': 'import { fail } from "./lib.ts";\nexport default { async fetch(request: Request) {\n  const p = new URL(request.url).pathname;\n  if (p === "/throw") fail();\n  if (p === "/slow") await new Promise((r) => setTimeout(r, 5000));\n  return new Response("ok");\n} };\n',
    'lib.ts': 'export function fail(): never {\n  throw new Error("boom from lib");\n}\n',
  };
  await withServer(files, ['--app', '/api=app.ts'], async (port) => {
    const json = await get(port, '/api/throw', { Accept: 'application/json' });
    assert.is(json.status, 500);
    const body = JSON.parse(json.text) as JsonError;
    assert.is(body.error.message, 'boom from lib');
    assert.is(body.error.file, 'lib.ts');
    assert.is(body.error.line, 2);
    assert.is(typeof body.error.column, 'number');
    const html = await get(port, '/api/throw', { Accept: 'text/html' });
    assert.match(html.text, 'lib.ts:2:');
    assert.match(html.text, 'app.ts:4:', 'the stack has the user frames');
    assert.not.match(html.text, /[\\/](src|dist)[\\/]app[\\/]|adapters\.|child\./, 'and none of serve-here\'s');
    const timeout = await get(port, '/api/slow', { Accept: 'application/json' });
    assert.is(timeout.status, 504);
    const t = JSON.parse(timeout.text) as JsonError;
    assert.is(t.error.status, 504);
    assert.match(String(t.error.message), 'did not respond');
    // A browser still gets the page, not JSON.
    const both = await get(port, '/api/throw', { Accept: 'text/html,application/json' });
    assert.match(both.type, 'text/html');
  }, { SERVE_HERE_APP_TIMEOUT_MS: '700' });
});

errors('non-loopback clients get status and title only in JSON', async () => {
  // The server listens on all interfaces; this machine's LAN address is not loopback.
  const { networkInterfaces } = await import('node:os');
  const lan = Object.values(networkInterfaces()).flat().find((n) => n !== undefined && !n.internal && n.family === 'IPv4')?.address;
  if (lan === undefined) return skip('machine', 'no LAN IPv4 address');
  await withServer({ 'app.ts': 'export default () => { throw new Error("secret detail") };\n' }, ['--host', '--no-auth', '--app', 'app.ts'], async (port) => {
    const res = await new Promise<Got>((resolve, reject) => {
      const req = http.request({ host: lan, port, path: '/x', headers: { Accept: 'application/json' }, agent: false }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.is(res.status, 500);
    assert.equal(JSON.parse(res.text), { error: { status: 500, title: 'Internal Server Error' } });
  });
});

errors('a missing package: the line names it and how to install it; the page and JSON too', async () => {
  await withServer({ 'app.ts': 'import pad from "left-pad-xyz";\nexport default () => new Response(pad("a", 3));\n' }, ['--app', 'app.ts'], async (port, cli) => {
    await cli.waitFor(/static files are still served/, WAIT_MS);
    assert.match(cli.stdout(), /App \/  failed to load: app\.ts:1:17 the package "left-pad-xyz" is not installed\n {4}→ install it: npm install left-pad-xyz\n/);
    const json = JSON.parse((await get(port, '/', { Accept: 'application/json' })).text) as JsonError;
    assert.is(json.error.hint, 'install it: npm install left-pad-xyz');
    assert.is(json.error.line, 1);
    const text = await get(port, '/');
    assert.match(text.text, 'npm install left-pad-xyz');
  });
  // --no-watch: the same line and hint, then exit 1.
  const dir = await makeTree({ 'app.ts': 'import pad from "left-pad-xyz";\nexport default () => new Response(pad("a", 3));\n' });
  try {
    const r = await runCli(['--port', '0', '--app', 'app.ts', '--no-watch', dir], { cwd: dir });
    assert.is(r.code, 1);
    assert.match(r.stderr, /^serve-here: the package "left-pad-xyz" is not installed \(app\.ts:1:17\)\ninstall it: npm install left-pad-xyz\n/);
  } finally {
    await removeTree(dir);
  }
});

dev.run();
errors.run();
