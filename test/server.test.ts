// Tests for src/server.ts: the request pipeline (methods, CORS, folders, 404, clean URLs, SPA),
// error handling, and the lifecycle (listen with port fallback, graceful close).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { createServer } from '../src/server.js';
import type { AppRouter } from '../src/app/contract.js';
import { createLogger } from '../src/log.js';
import { ServeHereError } from '../src/errors.js';
import { Capture, makeTree, removeTree, request, startServer, type Running } from './helpers/server.js';
import { waitUntil } from './helpers/http.js';

const ALLOW = 'GET, HEAD, OPTIONS';
const LARGE = randomBytes(5 * 1024 * 1024);

let base = '';

async function tree(extra: Record<string, string | Buffer> = {}): Promise<string> {
  return realpathSync(
    await makeTree({
      'index.html': '<h1>home</h1>',
      'about.html': '<h1>about</h1>',
      'file.txt': 'a file',
      'sub/index.html': '<h1>sub</h1>',
      'plain/f.txt': 'f',
      'docs/guide.html': '<h1>guide</h1>',
      '.private/notes.html': 'PRIVATE NOTES',
      '.private/index.html': 'PRIVATE INDEX',
      ...extra,
    }),
  );
}

// --- methods and CORS --------------------------------------------------------------------------

const methods = suite('methods and CORS');
let plain: Running;
let cors: Running;

methods.before(async () => {
  base = await tree();
  plain = await startServer({ root: base });
  cors = await startServer({ root: base, cors: true });
});
methods.after(async () => {
  await plain.close();
  await cors.close();
  await removeTree(base);
});

methods('POST, PUT and DELETE answer 405 with Allow', async () => {
  for (const [method, path] of [['POST', '/file.txt'], ['PUT', '/new.txt'], ['DELETE', '/sub/'], ['PATCH', '/']]) {
    const res = await request(plain.port, path ?? '/', { method: method ?? 'POST' });
    assert.is(res.status, 405, `${method} ${path}`);
    assert.is(res.headers.allow, ALLOW);
  }
});

methods('OPTIONS answers 204 with Allow and no body', async () => {
  const res = await request(plain.port, '/file.txt', { method: 'OPTIONS' });
  assert.is(res.status, 204);
  assert.is(res.headers.allow, ALLOW);
  assert.is(res.body.length, 0);
});

methods('without cors there is no Access-Control-Allow-Origin', async () => {
  const res = await request(plain.port, '/file.txt', { headers: { Origin: 'http://other.example' } });
  assert.is(res.status, 200);
  assert.is(res.headers['access-control-allow-origin'], undefined);
  const pre = await request(plain.port, '/file.txt', { method: 'OPTIONS', headers: { Origin: 'http://other.example', 'Access-Control-Request-Method': 'GET' } });
  assert.is(pre.headers['access-control-allow-origin'], undefined);
  assert.is(pre.headers['access-control-allow-methods'], undefined);
});

methods('with cors, responses carry ACAO * and never Allow-Credentials', async () => {
  for (const path of ['/file.txt', '/nope', '/plain/', '/sub']) {
    const res = await request(cors.port, path, { headers: { Origin: 'http://other.example', Cookie: 'a=b' } });
    assert.is(res.headers['access-control-allow-origin'], '*', path);
    assert.is(res.headers['access-control-allow-credentials'], undefined, path);
  }
});

methods('with cors, a preflight is answered', async () => {
  const res = await request(cors.port, '/file.txt', {
    method: 'OPTIONS',
    headers: { Origin: 'http://other.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-custom, content-type' },
  });
  assert.is(res.status, 204);
  assert.is(res.headers['access-control-allow-origin'], '*');
  assert.is(res.headers['access-control-allow-methods'], ALLOW);
  assert.is(res.headers['access-control-allow-headers'], 'x-custom, content-type');
  assert.ok(Number(res.headers['access-control-max-age']) > 0);
  assert.is(res.headers['access-control-allow-credentials'], undefined);
});

methods.run();

// --- folders, 404 and clean URLs ---------------------------------------------------------------

const paths = suite('folders, 404 and clean URLs');
let with404: Running;
let without404: Running;
let base404 = '';

paths.before(async () => {
  base = await tree();
  base404 = await tree({ '404.html': '<h1>custom not found</h1>' });
  with404 = await startServer({ root: base404 });
  without404 = await startServer({ root: base });
});
paths.after(async () => {
  await with404.close();
  await without404.close();
  await removeTree(base);
  await removeTree(base404);
});

paths('/ and a folder with a slash serve their index.html', async () => {
  const root = await request(without404.port, '/');
  assert.is(root.status, 200);
  assert.is(root.text, '<h1>home</h1>');
  const sub = await request(without404.port, '/sub/');
  assert.is(sub.status, 200);
  assert.is(sub.text, '<h1>sub</h1>');
  const head = await request(without404.port, '/sub/', { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.body.length, 0);
});

paths('a folder without its slash answers 301 to the slash form, query kept', async () => {
  const res = await request(without404.port, '/sub');
  assert.is(res.status, 301);
  assert.is(res.headers.location, '/sub/');
  const q = await request(without404.port, '/sub?x=1&y=%2F');
  assert.is(q.status, 301);
  assert.is(q.headers.location, '/sub/?x=1&y=%2F');
  const noIndex = await request(without404.port, '/plain');
  assert.is(noIndex.status, 301);
  assert.is(noIndex.headers.location, '/plain/');
});

paths('a file with a trailing slash answers 404', async () => {
  const res = await request(without404.port, '/file.txt/');
  assert.is(res.status, 404);
  assert.not.ok(res.text.includes('a file'));
});

paths('404.html in the root is the 404 page, with status 404', async () => {
  const res = await request(with404.port, '/nope/missing.txt');
  assert.is(res.status, 404);
  assert.is(res.text, '<h1>custom not found</h1>');
  assert.is(res.headers['content-type'], 'text/html; charset=utf-8');
  const head = await request(with404.port, '/nope', { method: 'HEAD' });
  assert.is(head.status, 404);
  assert.is(head.body.length, 0);
  // a 404 page never answers 304 or a range: it is not the resource asked for
  const ranged = await request(with404.port, '/nope', { headers: { Range: 'bytes=0-3', 'If-None-Match': '*' } });
  assert.is(ranged.status, 404);
  assert.is(ranged.text, '<h1>custom not found</h1>');
});

paths('without 404.html the built-in 404 page answers', async () => {
  const res = await request(without404.port, '/nope');
  assert.is(res.status, 404);
  assert.ok(res.text.includes('404 Not Found'));
  assert.is(res.headers['content-type'], 'text/html; charset=utf-8');
});

paths('a clean URL serves the .html file without a redirect', async () => {
  const res = await request(without404.port, '/about');
  assert.is(res.status, 200);
  assert.is(res.text, '<h1>about</h1>');
  assert.is(res.headers.location, undefined);
  const nested = await request(without404.port, '/docs/guide?x=1');
  assert.is(nested.status, 200);
  assert.is(nested.text, '<h1>guide</h1>');
  const slash = await request(without404.port, '/about/');
  assert.is(slash.status, 404);
});

paths('a clean URL does not reach a hidden folder', async () => {
  for (const path of ['/.private/notes', '/.private/', '/.private', '/.private/index']) {
    const res = await request(without404.port, path);
    assert.is(res.status, 404, path);
    assert.not.ok(res.text.includes('PRIVATE'), path);
  }
});

paths('a bad path answers 400', async () => {
  const res = await request(without404.port, '/%zz');
  assert.is(res.status, 400);
});

paths.run();

// --- SPA ---------------------------------------------------------------------------------------

const spa = suite('spa');
let spaSrv: Running;

spa.before(async () => {
  base = await tree();
  spaSrv = await startServer({ root: base, spa: true });
});
spa.after(async () => {
  await spaSrv.close();
  await removeTree(base);
});

spa('spa serves index.html with 200 for an unknown route that accepts HTML', async () => {
  const res = await request(spaSrv.port, '/some/route', { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  assert.is(res.status, 200);
  assert.is(res.text, '<h1>home</h1>');
});

spa('spa answers 404 for a missing file with an extension', async () => {
  const res = await request(spaSrv.port, '/missing.js', { headers: { Accept: 'text/html' } });
  assert.is(res.status, 404);
  assert.not.ok(res.text.includes('home'));
});

spa('spa answers 404 when the client does not accept HTML', async () => {
  for (const accept of [undefined, 'application/json', '*/*']) {
    const res = await request(spaSrv.port, '/some/route', { headers: accept === undefined ? {} : { Accept: accept } });
    assert.is(res.status, 404, String(accept));
  }
});

spa('spa still serves existing files and clean URLs first', async () => {
  assert.is((await request(spaSrv.port, '/file.txt', { headers: { Accept: 'text/html' } })).text, 'a file');
  assert.is((await request(spaSrv.port, '/about', { headers: { Accept: 'text/html' } })).text, '<h1>about</h1>');
});

spa.run();

// --- errors --------------------------------------------------------------------------------------

const errors = suite('errors');
let errSrv: Running;

errors.before(async () => {
  base = await tree();
  const router: AppRouter = {
    mounts: [{ prefix: '/boom', segments: ['boom'], label: 'boom' }],
    handle(_req, res) {
      // headers of a representation, then a failure before the body
      res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('ETag', 'W/"x"');
      res.setHeader('Content-Range', 'bytes 0-1/2');
      throw new Error('kaboom');
    },
    upgrade: () => false,
    onAppFiles: () => {},
    describe: () => [],
    close: async () => {},
  };
  errSrv = await startServer({ root: base, app: router });
});
errors.after(async () => {
  await errSrv.close();
  await removeTree(base);
});

errors('a handler that throws answers 500 without the headers it had set, and is logged', async () => {
  const res = await request(errSrv.port, '/boom');
  assert.is(res.status, 500);
  assert.is(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.is(res.headers['content-encoding'], undefined);
  assert.is(res.headers['content-range'], undefined);
  assert.is(res.headers.etag, undefined);
  assert.ok(res.text.includes('500'));
  assert.not.ok(res.text.includes('kaboom'), 'the error message is not shown to the client');
  await waitUntil(() => (errSrv.err.text.includes('kaboom') ? true : undefined), 2000, 'the error line');
});

errors('the server keeps serving after a handler error', async () => {
  await request(errSrv.port, '/boom');
  const res = await request(errSrv.port, '/file.txt');
  assert.is(res.status, 200);
  assert.is(res.text, 'a file');
});

errors('createServer() refuses a missing folder and a file', async () => {
  assert.throws(() => createServer({ root: join(base, 'does-not-exist') }), (e: unknown) => e instanceof ServeHereError && /no such directory/.test(e.message));
  assert.throws(() => createServer({ root: join(base, 'file.txt') }), (e: unknown) => e instanceof ServeHereError && /not a directory/.test(e.message));
});

errors.run();

// --- lifecycle ----------------------------------------------------------------------------------

const lifecycle = suite('lifecycle');

lifecycle.before(async () => {
  base = await tree({ 'large.bin': LARGE });
});
lifecycle.after(async () => {
  await removeTree(base);
});

const quietLogger = (): ReturnType<typeof createLogger> => createLogger({ out: new Capture(), err: new Capture(), color: false });

lifecycle('listen() with portFallback moves past a busy port', async () => {
  const blocker = net.createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const busy = (blocker.address() as net.AddressInfo).port;
  const serveHere = createServer({ root: base, logger: quietLogger() });
  try {
    const address = await serveHere.listen({ port: busy, host: '127.0.0.1', portFallback: 10 });
    assert.ok(address.port > busy && address.port <= busy + 10, `moved from ${busy} to ${address.port}`);
    const res = await request(address.port, '/file.txt');
    assert.is(res.text, 'a file');
  } finally {
    await serveHere.close(500);
    blocker.close();
  }
});

lifecycle('listen() without portFallback rejects a busy port with EADDRINUSE', async () => {
  const blocker = net.createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const busy = (blocker.address() as net.AddressInfo).port;
  const serveHere = createServer({ root: base, logger: quietLogger() });
  try {
    let code: unknown;
    try {
      await serveHere.listen({ port: busy, host: '127.0.0.1' });
    } catch (error) {
      code = (error as { code?: unknown }).code;
    }
    assert.is(code, 'EADDRINUSE');
    assert.not.ok(serveHere.server.listening);
  } finally {
    await serveHere.close(500);
    blocker.close();
  }
});

lifecycle('listen() on port 0 resolves to the real port', async () => {
  const serveHere = createServer({ root: base, logger: quietLogger() });
  try {
    const address = await serveHere.listen({ port: 0, host: '127.0.0.1' });
    assert.ok(address.port > 0);
    assert.is(address.address, '127.0.0.1');
  } finally {
    await serveHere.close(500);
  }
});

lifecycle('close() lets an in-flight response finish, then resolves', async () => {
  const serveHere = createServer({ root: base, logger: quietLogger() });
  const { port } = await serveHere.listen({ port: 0, host: '127.0.0.1' });
  const req = http.get({ host: '127.0.0.1', port, path: '/large.bin', agent: false });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.pause(); // a slow reader: the server is stuck mid-body
  let closed = false;
  const closing = serveHere.close(10_000).then(() => {
    closed = true;
  });
  // new connections are refused once close() has been called
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
  assert.ok(refused, 'a new connection was accepted after close()');
  assert.not.ok(closed, 'close() resolved before the in-flight response finished');
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.resume();
  await once(res, 'end');
  await closing;
  assert.is(Buffer.concat(chunks).length, LARGE.length);
  assert.ok(Buffer.concat(chunks).equals(LARGE));
});

lifecycle('close() cuts a stalled response after the grace period', async () => {
  const serveHere = createServer({ root: base, logger: quietLogger() });
  const { port } = await serveHere.listen({ port: 0, host: '127.0.0.1' });
  const req = http.get({ host: '127.0.0.1', port, path: '/large.bin', agent: false });
  req.on('error', () => {});
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.on('error', () => {});
  res.pause(); // never read again
  const started = Date.now();
  await serveHere.close(300);
  assert.ok(Date.now() - started < 3000, 'close() waited far past its grace period');
  res.destroy();
});

lifecycle('close() on a server that never listened resolves', async () => {
  const serveHere = createServer({ root: base, logger: quietLogger() });
  await serveHere.close();
  assert.not.ok(serveHere.server.listening);
});

lifecycle.run();
