// Sharing through the one gate (issue 8): without the key every route answers 401 — files,
// listings, JSON, 404 page, SPA fallback, clean URLs, apps, upgrades, uploads, zips, live
// reload — and with it (token → cookie) they answer as usual. Plus the CLI banner: URLs with
// the key and a QR code that a real decoder reads on light and dark themes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppRouter } from '../src/app/contract.js';
import { createServer } from '../src/server.js';
import { createLogger } from '../src/log.js';
import { BIN, Capture, makeTree, rawRequest, removeTree, spawnCli, startServer, type Running } from './helpers/server.js';
import { parseRaw, rawGet, waitUntil } from './helpers/http.js';
import { DARK_THEME, LIGHT_THEME, writeTerminalPng } from './helpers/terminal-image.js';
import { skip } from './helpers/skip.js';

const app: AppRouter = {
  mounts: [{ prefix: '/api', segments: ['api'], label: '/api' }],
  onAppFiles: () => {},
  async handle(_req, res) {
    res.end('from the app');
  },
  upgrade(_req, socket) {
    socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    return true;
  },
  describe: () => [],
  close: async () => {},
};

const matrix = suite('every route behind the key');
let base = '';
let srv: Running;

matrix.before(async () => {
  base = await makeTree({ 'file.txt': 'secret file', 'index.html': '<p>home</p>', 'docs/a.txt': 'a', 'page.html': '<p>page</p>', '404.html': 'custom 404' });
  srv = await startServer({ root: base, app, auth: { mode: 'token' }, upload: { maxBytes: 1024 * 1024 }, live: true, spa: true });
});
matrix.after(async () => {
  await srv.close();
  await removeTree(base);
});

const H = (extra: Record<string, string> = {}): Record<string, string> => ({ Host: '127.0.0.1', ...extra });

const ROUTES: Array<[string, string]> = [
  ['file', rawGet('/file.txt', H())],
  ['index', rawGet('/', H({ Accept: 'text/html' }))],
  ['listing', rawGet('/docs/', H())],
  ['JSON listing', rawGet('/docs/', H({ Accept: 'application/json' }))],
  ['404 page', rawGet('/missing.txt', H())],
  ['SPA fallback', rawGet('/some/route', H({ Accept: 'text/html' }))],
  ['clean URL', rawGet('/page', H())],
  ['app route', rawGet('/api/users', H())],
  ['zip download', rawGet('/docs/?zip', H())],
  ['upload', `PUT /docs/new.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`],
  ['live stream', rawGet('/.well-known/serve-here/events', H())],
  ['live script', rawGet('/.well-known/serve-here/live.js', H())],
  ['upload script', rawGet('/.well-known/serve-here/upload.js', H())],
  ['favicon', rawGet('/favicon.ico', H())],
  ['OPTIONS', rawGet('/file.txt', H(), 'OPTIONS')],
  ['upgrade', `GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n`],
];

matrix('without the key every route answers 401 with a page saying how to get in', async () => {
  for (const [name, req] of ROUTES) {
    const res = parseRaw(await rawRequest(srv.port, req, 1500));
    assert.is(res.status, 401, name);
    assert.not.match(res.body, 'secret file', name);
    assert.not.match(res.body, 'from the app', name);
    if (name !== 'upgrade') assert.match(res.body.toLowerCase(), /key|link|qr/, `${name}: says how to get in`);
  }
  assert.not.ok(existsSync(join(base, 'docs', 'new.txt')), 'the refused upload left nothing');
});

matrix('the tokened URL sets a per-port HttpOnly cookie and redirects without the token; the cookie opens every route', async () => {
  const token = srv.serveHere.access?.token ?? '';
  assert.ok(token.length >= 22, 'a 128-bit key');
  const first = parseRaw(await rawRequest(srv.port, rawGet(`/docs/?sort=name&serve-here-key=${token}`, H({ Accept: 'text/html' }))));
  assert.is(first.status, 303);
  assert.not.match(first.headers.location ?? '', token);
  assert.match(first.headers.location ?? '', 'sort=name');
  const cookie = (first.headers['set-cookie'] ?? '').split(';')[0] ?? '';
  assert.match(first.headers['set-cookie'] ?? '', 'HttpOnly');
  assert.match(cookie, `serve_here_${srv.port}=`);
  const ok = (extra: Record<string, string> = {}): Record<string, string> => H({ Cookie: cookie, ...extra });
  assert.is(parseRaw(await rawRequest(srv.port, rawGet('/file.txt', ok()))).body, 'secret file');
  assert.is(parseRaw(await rawRequest(srv.port, rawGet('/docs/', ok({ Accept: 'application/json' })))).status, 200);
  assert.is(parseRaw(await rawRequest(srv.port, rawGet('/api/users', ok()))).body, 'from the app');
  assert.is(parseRaw(await rawRequest(srv.port, rawGet('/missing.txt', ok()))).body, 'custom 404');
  assert.is(parseRaw(await rawRequest(srv.port, rawGet('/docs/?zip', ok()))).status, 200);
  const put = parseRaw(await rawRequest(srv.port, `PUT /docs/new.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`));
  assert.is(put.status, 201);
  assert.is(await readFile(join(base, 'docs', 'new.txt'), 'utf8'), 'hello');
  const up = parseRaw(await rawRequest(srv.port, `GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n`, 1000));
  assert.is(up.status, 101);
  // The log never shows the key.
  await waitUntil(() => (srv.out.text.includes('serve-here-key') ? true : undefined), 2000, 'the tokened request logged');
  assert.not.match(srv.out.text, token);
});

matrix.run();

// --- the banner ---------------------------------------------------------------------------------

const banner = suite('--share banner');
const haveZbar = spawnSync('zbarimg', ['--version'], { encoding: 'utf8' }).status === 0;

banner('--share prints Network URLs with the key and a QR code of the first that decodes on light and dark themes', async () => {
  const dir = await makeTree({ 'a.txt': 'a' });
  const env: Record<string, string | undefined> = { ...process.env, FORCE_COLOR: '1' };
  delete env.NO_COLOR;
  const child = spawn(process.execPath, [BIN, dir, '--share', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await waitUntil(() => (out.split('\n').filter((l) => l.includes('\x1b[38;5;16;48;5;231m')).length > 20 || /serve-here-key=[^\n]*\n[^\x1b]*$/.test(out) && out.length > 4000 ? true : undefined), 15_000, 'the banner with its QR code');
    await new Promise((r) => setTimeout(r, 200)); // the rest of the same write
    const network = /https?:\/\/(?!localhost|127\.0\.0\.1|\[::1\])[^\s\x1b]+serve-here-key=[A-Za-z0-9_-]+/.exec(out)?.[0];
    if (network === undefined) {
      skip('machine', 'no LAN address on this machine, so no Network URL and no QR code to check');
      return;
    }
    const qr = out.split('\n').filter((l) => l.includes('\x1b[38;5;16;48;5;231m'));
    assert.ok(qr.length > 10, 'QR lines with both colours set');
    if (!haveZbar) {
      skip('missing', 'zbarimg not found; QR decode not checked (apt-get install -y zbar-tools)');
      return;
    }
    const tmp = mkdtempSync(join(tmpdir(), 'serve-here-banner-'));
    for (const theme of [LIGHT_THEME, DARK_THEME]) {
      const file = join(tmp, `${theme.name}.png`);
      writeTerminalPng(file, qr.map((l) => l.trim()), theme, { binarize: true });
      const r = spawnSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', file], { encoding: 'utf8' });
      assert.is(r.stdout.trim(), network, `decoded on the ${theme.name} theme`);
    }
    await removeTree(tmp);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'close');
    await removeTree(dir);
  }
});

banner('--share --no-auth warns that anyone can read the folder', async () => {
  const dir = await makeTree({ 'a.txt': 'a' });
  const p = spawnCli([dir, '--share', '--no-auth', '--port', '0']);
  try {
    await p.waitFor(/anyone on your network can read this folder/, 15_000);
    assert.not.match(p.stdout(), 'serve-here-key=');
  } finally {
    await p.stop();
    await removeTree(dir);
  }
});

banner.run();

const sandbox = suite('uploaded active content');

sandbox('with uploads on, HTML and SVG are served sandboxed, shared or only on loopback (--upload --auth behind a tunnel)', async () => {
  const dir = await makeTree({ 'page.html': '<script>alert(1)</script>', 'pic.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>', 'a.txt': 'a' });
  const shared = createServer({ root: dir, host: '::', auth: { mode: 'open' }, upload: { maxBytes: 1024 }, logger: createLogger({ out: new Capture(), err: new Capture(), color: false }) });
  const local = await startServer({ root: dir, upload: { maxBytes: 1024 } });
  try {
    // Bound to all interfaces for a moment: the only way to be "shared"; requests go to loopback only.
    const port = (await shared.listen({ port: 0, host: '::' })).port;
    for (const name of ['page.html', 'pic.svg']) {
      const res = parseRaw(await rawRequest(port, rawGet(`/${name}`)));
      assert.is(res.headers['content-security-policy'], 'sandbox', name);
      const loc = parseRaw(await rawRequest(local.port, rawGet(`/${name}`)));
      assert.is(loc.headers['content-security-policy'], 'sandbox', `${name} on loopback`);
    }
    assert.is(parseRaw(await rawRequest(port, rawGet('/a.txt'))).headers['content-security-policy'], undefined, 'plain text needs no sandbox');
  } finally {
    await shared.close(200);
    await local.close();
    await removeTree(dir);
  }
});

sandbox.run();
