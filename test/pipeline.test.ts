// Tests for the request pipeline (src/server.ts, gate.ts, route.ts, respond/, request-log.ts,
// raw-response.ts): protocol edges, the one gate for requests and upgrades, the route table,
// byte counts in the log, escaped terminal lines.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppRouter, AppMount } from '../src/app/contract.js';
import { route, type Decision, type RouteContext } from '../src/route.js';
import { Resolver } from '../src/static/resolve.js';
import type { IncomingMessage } from 'node:http';
import { makeTree, removeTree, rawRequest, startServer, type Running } from './helpers/server.js';
import { parseRaw, rawGet, waitUntil } from './helpers/http.js';
import { Exposure } from '../src/exposure/policy.js';

const mount = (prefix: string): AppMount => ({ prefix, segments: prefix.split('/').filter((s) => s !== ''), label: prefix === '' ? 'app' : prefix });

/** A router whose apps answer with what they were given, and a few canned answers. */
function echoRouter(mounts: AppMount[]): AppRouter {
  return {
    mounts: [...mounts].sort((a, b) => b.prefix.length - a.prefix.length),
    onAppFiles: () => {},
    handle(req, res, target) {
      if (target.path.startsWith('/see-other')) {
        res.writeHead(303, { Location: '/elsewhere' });
        return void res.end();
      }
      if (target.path.startsWith('/stream')) {
        res.write('abc');
        res.write(Buffer.from('defg'));
        return void res.end('hij');
      }
      if (target.path.startsWith('/throw')) throw new Error('bad JSON: "\x1b]0;pwned\x07\x1b[2J"');
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ ...target, mount: target.mount.prefix, method: req.method }));
    },
    upgrade(_req, socket) {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
      return true;
    },
    describe: () => [],
    close: async () => {},
  };
}

// --- route(): the decision table, no socket -----------------------------------------------------

const table = suite('route()');
let base = '';
let ctx: RouteContext;

table.before(async () => {
  base = await makeTree({ 'a.txt': 'a', 'dir/index.html': '<p>i</p>', 'plain/x.txt': 'x', 'api/readme.txt': 'r', 'page.html': 'p' });
  ctx = { resolver: new Resolver(new Exposure({ root: base, dotfiles: false })), app: echoRouter([mount('/api')]), listing: true, spa: false, stripPrefix: true, scheme: 'http', live: false, upload: false };
});
table.after(() => removeTree(base));

function fakeReq(url: string, method = 'GET', headers: Record<string, string> = {}): IncomingMessage {
  const rawHeaders = Object.entries(headers).flat();
  return { url, method, headers, rawHeaders, socket: { remoteAddress: '::ffff:10.0.0.9', remotePort: 4321 } } as unknown as IncomingMessage;
}

async function decide(url: string, method = 'GET'): Promise<Decision> {
  return route(ctx, fakeReq(url, method), { kind: 'name', name: 'localhost', port: '8000', host: 'localhost:8000' });
}

table('route() decides files, redirects, listings, clean URLs, 404 and 405', async () => {
  assert.is((await decide('/a.txt')).kind, 'file');
  assert.equal(await decide('/plain'), { kind: 'redirect', location: '/plain/' });
  assert.is((await decide('/plain/')).kind, 'listing');
  assert.is((await decide('/page')).kind, 'file');
  const missing = await decide('/nope');
  assert.is(missing.kind === 'error' ? missing.status : 0, 404);
  const post = await decide('/a.txt', 'POST');
  assert.is(post.kind === 'error' ? post.status : 0, 405);
  assert.is((await decide('/a.txt', 'OPTIONS')).kind, 'options');
});

table('route() splits the app path once: //api/x and /%61pi/x reach /api exactly like /api/x', async () => {
  for (const url of ['/api/x?q=1', '//api/x?q=1', '/%61pi/x?q=1', '/api//x?q=1', '/./api/x?q=1']) {
    const d = await decide(url);
    assert.is(d.kind, 'app', url);
    if (d.kind !== 'app') continue;
    assert.is(d.target.mount.prefix, '/api', url);
    assert.is(d.target.path, '/x?q=1', url);
    assert.is(d.target.host, 'localhost:8000', url);
    assert.is(d.target.clientAddress, '10.0.0.9', url);
  }
  const bare = await decide('/api');
  assert.is(bare.kind === 'app' ? bare.target.path : '?', '');
  const slash = await decide('/api/');
  assert.is(slash.kind === 'app' ? slash.target.path : '?', '/');
  assert.is((await decide('/api/readme.txt')).kind, 'file', 'a file under the prefix still wins');
  assert.is((await decide('/apix')).kind, 'error', '/apix is not under /api');
});

table.run();

// --- protocol edges on a real socket -------------------------------------------------------------

const proto = suite('protocol edges');
let srv: Running;

proto.before(async () => {
  base = await makeTree({ 'a.txt': 'hello world' });
  srv = await startServer({ root: base, app: echoRouter([mount('/api')]) });
});
proto.after(async () => {
  await srv.close();
  await removeTree(base);
});

proto('an unknown but well-formed method is 501; garbage stays 400', async () => {
  for (const method of ['FOO', 'XYZBOGUS']) {
    const res = parseRaw(await rawRequest(srv.port, `${method} /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n`));
    assert.is(res.status, 501, method);
  }
  assert.is(parseRaw(await rawRequest(srv.port, 'HELLO THERE\r\n\r\n')).status, 400);
});

proto('HTTP/9.9 is 505', async () => {
  assert.is(parseRaw(await rawRequest(srv.port, 'GET /a.txt HTTP/9.9\r\nHost: localhost\r\n\r\n')).status, 505);
});

proto('a request line over the limit is 414, oversized headers 431', async () => {
  const long = parseRaw(await rawRequest(srv.port, `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
  assert.is(long.status, 414);
  const big = parseRaw(await rawRequest(srv.port, `GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`));
  assert.is(big.status, 431);
});

proto('more header lines than the limit is 431, not a silently dropped Range', async () => {
  const filler = Array.from({ length: 100 }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
  const res = parseRaw(await rawRequest(srv.port, `GET /a.txt HTTP/1.1\r\nHost: localhost\r\n${filler}Range: bytes=0-1\r\nConnection: close\r\n\r\n`));
  assert.is(res.status, 431);
  const ok = parseRaw(await rawRequest(srv.port, `GET /a.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-1\r\nConnection: close\r\n\r\n`));
  assert.is(ok.status, 206);
});

proto('raw error responses carry a Date header', async () => {
  for (const data of ['FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 'HELLO\r\n\r\n', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\n\r\n`]) {
    const res = parseRaw(await rawRequest(srv.port, data));
    assert.ok(res.headers.date !== undefined && !Number.isNaN(Date.parse(res.headers.date)), `Date on ${res.status}`);
  }
});

proto('the server has an error listener while listening', () => {
  assert.ok(srv.serveHere.server.listenerCount('error') > 0);
});

proto.run();

// --- upgrades pass the same gate and are logged -------------------------------------------------

const upgrades = suite('upgrades');

upgrades.before(async () => {
  base = await makeTree({ 'a.txt': 'a' });
  srv = await startServer({ root: base, app: echoRouter([mount('/ws')]) });
});
upgrades.after(async () => {
  await srv.close();
  await removeTree(base);
});

const upgradeReq = (path: string, host: string): string => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n`;

upgrades('an upgrade with a foreign Host is refused by the gate (403) and logged', async () => {
  const res = parseRaw(await rawRequest(srv.port, upgradeReq('/ws', 'evil.example')));
  assert.is(res.status, 403);
  await waitUntil(() => (/403 GET \/ws/.test(srv.out.text) ? true : undefined), 2000, 'a log line for the refused upgrade');
});

upgrades('an upgrade outside any mount is 404 and logged; one at a mount reaches the app and is logged as 101', async () => {
  const res = parseRaw(await rawRequest(srv.port, upgradeReq('/a.txt', 'localhost')));
  assert.is(res.status, 404);
  const ok = parseRaw(await rawRequest(srv.port, upgradeReq('/%77s/chat', 'localhost')));
  assert.is(ok.status, 101);
  await waitUntil(() => (/404 GET \/a\.txt/.test(srv.out.text) && /101 GET \/%77s\/chat/.test(srv.out.text) ? true : undefined), 2000, 'log lines for both upgrades');
});

upgrades.run();

// --- byte counts in the log, escaped terminal lines ---------------------------------------------

const bytes = suite('log byte counts');

bytes.before(async () => {
  base = await makeTree({ 'small.txt': 'hello' });
  await writeFile(join(base, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 7));
  srv = await startServer({ root: base, app: echoRouter([mount('/app')]), compress: false });
});
bytes.after(async () => {
  await srv.close();
  await removeTree(base);
});

const logLine = (re: RegExp): Promise<string> => waitUntil(() => re.exec(srv.out.text)?.[0], 3000, `a log line ${re}`);

bytes('a bodyless 303 logs 0 B; an app body written in pieces logs its size', async () => {
  await rawRequest(srv.port, rawGet('/app/see-other'));
  assert.match(await logLine(/303 GET \/app\/see-other .*/), 'see-other 0 B');
  await rawRequest(srv.port, rawGet('/app/stream'));
  assert.match(await logLine(/200 GET \/app\/stream .*/), 'stream 10 B');
});

bytes('an aborted download logs what was sent, not the file size', async () => {
  const socket = net.connect(srv.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(rawGet('/big.bin'));
  let got = 0;
  await new Promise<void>((resolve) => {
    socket.on('data', (c: Buffer) => {
      got += c.length;
      if (got > 256 * 1024) {
        socket.pause();
        resolve();
      }
    });
  });
  socket.destroy();
  const line = await logLine(/200 GET \/big\.bin .*\(aborted\)/);
  const m = /big\.bin ([\d.]+) (B|KiB|MiB)/.exec(line);
  assert.ok(m !== null, line);
  const n = Number(m?.[1]) * (m?.[2] === 'MiB' ? 1024 * 1024 : m?.[2] === 'KiB' ? 1024 : 1);
  assert.ok(n < 24 * 1024 * 1024, `logged ${line} for an abort after ~${got} bytes of 32 MiB`);
  assert.match(line, '(aborted)');
});

bytes('an app error with control characters is escaped on the terminal', async () => {
  const res = await new Promise<number>((resolve) => http.get({ port: srv.port, host: '127.0.0.1', path: '/app/throw' }, (r) => {
    r.resume();
    resolve(r.statusCode ?? 0);
  }));
  assert.is(res, 500);
  const err = await waitUntil(() => (srv.err.text.includes('pwned') ? srv.err.text : undefined), 2000, 'the error line');
  assert.not.ok(err.includes('\x1b'), 'no raw ESC reaches the terminal');
  assert.not.ok(err.includes('\x07'), 'no raw BEL reaches the terminal');
  assert.match(err, '\\x1b]0;pwned\\x07');
});

bytes.run();

// --- connection caps ------------------------------------------------------------------------------

const caps = suite('connection caps');

caps('a client over its connection cap is cut off; others are still served', async () => {
  base = await makeTree({ 'a.txt': 'a' });
  srv = await startServer({ root: base, connectionsPerClient: 3 });
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const s = net.connect(srv.port, '127.0.0.1');
      await once(s, 'connect');
      held.push(s);
    }
    const extra = net.connect(srv.port, '127.0.0.1');
    extra.on('error', () => {});
    extra.write(rawGet('/a.txt'));
    let got = '';
    extra.on('data', (c: Buffer) => (got += c.toString()));
    await once(extra, 'close');
    assert.is(got, '', 'the fourth connection gets nothing');
    held[0]?.destroy();
    await waitUntil(async () => (parseRaw(await rawRequest(srv.port, rawGet('/a.txt'))).status === 200 ? true : undefined), 3000, 'served again once a slot frees');
  } finally {
    for (const s of held) s.destroy();
    await srv.close();
    await removeTree(base);
  }
});

caps.run();

// --- long responses are not cut; stalled readers are ----------------------------------------------

const idle = suite('idle limit');

idle('a quiet server-sent-events response outlives the idle limit; a reader that stopped is cut', async () => {
  base = await makeTree({});
  await writeFile(join(base, 'big.bin'), Buffer.alloc(64 * 1024 * 1024, 1));
  const router: AppRouter = {
    ...echoRouter([mount('/events')]),
    handle(_req, res) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: one\n\n');
      setTimeout(() => res.end('data: two\n\n'), 900);
    },
  };
  srv = await startServer({ root: base, app: router, idleTimeout: 300, compress: false });
  try {
    const text = await new Promise<string>((resolve, reject) => {
      http.get({ port: srv.port, host: '127.0.0.1', path: '/events' }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (body += c));
        r.on('end', () => resolve(body));
        r.on('error', reject);
      }).on('error', reject);
    });
    assert.is(text, 'data: one\n\ndata: two\n\n', 'quiet for 3× the idle limit, not cut');
    const socket = net.connect(srv.port, '127.0.0.1');
    socket.write(rawGet('/big.bin'));
    socket.pause(); // never read: the server's writes back up
    const cut = await waitUntil(() => (/200 GET \/big\.bin .*\(aborted\)/.test(srv.out.text) ? true : undefined), 5000, 'the stalled download cut and logged as aborted');
    assert.ok(cut);
    socket.destroy();
  } finally {
    await srv.close();
    await removeTree(base);
  }
});

idle.run();

const icon = suite('favicon');

icon('a folder without favicon.ico gets the built-in icon (no 404 line); its own icon wins', async () => {
  base = await makeTree({ 'a.txt': 'a' });
  srv = await startServer({ root: base });
  try {
    const built = await new Promise<{ status: number; type: string | undefined; body: Buffer }>((resolve, reject) => {
      http.get({ port: srv.port, host: '127.0.0.1', path: '/favicon.ico' }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, type: r.headers['content-type'], body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
    assert.is(built.status, 200);
    assert.is(built.type, 'image/png');
    assert.is(built.body.subarray(1, 4).toString(), 'PNG');
    await writeFile(join(base, 'favicon.ico'), 'own icon');
    const own = parseRaw(await rawRequest(srv.port, rawGet('/favicon.ico')));
    assert.is(own.body, 'own icon');
  } finally {
    await srv.close();
    await removeTree(base);
  }
});

icon.run();

const nolive = suite('without --live');

nolive('without --live nothing is injected and the live-reload paths are plain 404s', async () => {
  base = await makeTree({ 'index.html': '<!doctype html><html><head></head><body>x</body></html>' });
  srv = await startServer({ root: base });
  try {
    const page = parseRaw(await rawRequest(srv.port, rawGet('/', { Host: '127.0.0.1', Accept: 'text/html', 'Sec-Fetch-Dest': 'document' })));
    assert.is(page.status, 200);
    assert.not.match(page.body, 'serve-here/live.js');
    assert.is(parseRaw(await rawRequest(srv.port, rawGet('/.well-known/serve-here/live.js'))).status, 404);
    assert.is(srv.serveHere.liveStreams(), 0);
  } finally {
    await srv.close();
    await removeTree(base);
  }
});

nolive.run();

const withlive = suite('with --live: injection rules');

withlive('only browser navigations get the tag; ranges, downloads and curl get the raw file with its own validators', async () => {
  const html = '<!doctype html><html><head><title>t</title></head><body>x</body></html>';
  base = await makeTree({ 'index.html': html });
  srv = await startServer({ root: base, live: true });
  try {
    const nav = parseRaw(await rawRequest(srv.port, rawGet('/', { Host: '127.0.0.1', 'Sec-Fetch-Dest': 'document' })));
    assert.match(nav.body, '<head><script src="/.well-known/serve-here/live.js" defer></script><title>');
    assert.is(Number(nav.headers['content-length']), Buffer.byteLength(nav.body));
    assert.match(nav.headers.etag ?? '', /-live"$/);
    const again = parseRaw(await rawRequest(srv.port, rawGet('/', { Host: '127.0.0.1', 'Sec-Fetch-Dest': 'document', 'If-None-Match': nav.headers.etag ?? '' })));
    assert.is(again.status, 304);
    const curl = parseRaw(await rawRequest(srv.port, rawGet('/', { Host: '127.0.0.1', Accept: '*/*' })));
    assert.is(curl.body, html);
    assert.not.match(curl.headers.etag ?? '', /-live/);
    const range = parseRaw(await rawRequest(srv.port, rawGet('/', { Host: '127.0.0.1', 'Sec-Fetch-Dest': 'document', Range: 'bytes=0-14' })));
    assert.is(range.status, 206);
    assert.is(range.body, html.slice(0, 15));
    const download = parseRaw(await rawRequest(srv.port, rawGet('/index.html?download', { Host: '127.0.0.1', 'Sec-Fetch-Dest': 'document' })));
    assert.is(download.body, html);
    const events = parseRaw(await rawRequest(srv.port, rawGet('/.well-known/serve-here/events', { Host: '127.0.0.1', Origin: 'http://evil.example' })));
    assert.is(events.status, 403, 'another site cannot open the stream');
  } finally {
    await srv.close();
    await removeTree(base);
  }
});

withlive.run();

const tstypes = suite('TypeScript sources');

tstypes('.ts/.tsx/.mts/.cts sources are shown as text; a real MPEG-TS segment keeps video/mp2t', async () => {
  const packet = Buffer.alloc(188, 0xff);
  packet[0] = 0x47;
  base = await makeTree({ 'app.ts': 'export const x: number = 1;\n', 'c.tsx': 'export {}', 'm.mts': 'export {}', 'k.cts': 'export {}', 'seg.ts': Buffer.concat([packet, packet, packet, packet]) });
  srv = await startServer({ root: base });
  try {
    for (const name of ['app.ts', 'c.tsx', 'm.mts', 'k.cts']) {
      const res = parseRaw(await rawRequest(srv.port, rawGet(`/${name}`)));
      assert.is(res.headers['content-type'], 'text/plain; charset=utf-8', name);
    }
    const seg = parseRaw(await rawRequest(srv.port, rawGet('/seg.ts')));
    assert.is(seg.headers['content-type'], 'video/mp2t');
  } finally {
    await srv.close();
    await removeTree(base);
  }
});

tstypes.run();

const polling = suite('--live --poll');

polling('with polling, a save reaches the event stream as one change event', async () => {
  base = await makeTree({ 'index.html': '<p>1</p>', 'style.css': 'a{}' });
  srv = await startServer({ root: base, live: true, poll: true });
  try {
    let text = '';
    const req = http.get({ port: srv.port, host: '127.0.0.1', path: '/.well-known/serve-here/events' });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    assert.is(res.headers['content-type'], 'text/event-stream; charset=utf-8');
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    await waitUntil(() => (text.includes('event: hello') ? true : undefined), 3000, 'hello');
    await writeFile(join(base, 'style.css'), 'a{color:red}');
    const css = await waitUntil(() => /event: change\ndata: (.*)\n/.exec(text)?.[1], 5000, 'a change event');
    assert.equal(JSON.parse(css), { type: 'css', paths: ['/style.css'] });
    req.destroy();
  } finally {
    await srv.close();
    await removeTree(base);
  }
});

polling.run();

const hiddenList = suite('app files never listed');

hiddenList('files an app owns are neither served nor listed (HTML and JSON)', async () => {
  base = await makeTree({ 'app.ts': 'export default {}', 'dev.env': 'SECRET=1', 'notes.txt': 'n' });
  const own = new Set([join(base, 'app.ts'), join(base, 'dev.env')]);
  srv = await startServer({ root: base, app: { ...echoRouter([mount('/api')]), onAppFiles: (l) => l([...own]) } });
  try {
    const html = parseRaw(await rawRequest(srv.port, rawGet('/')));
    assert.match(html.body, 'notes.txt');
    assert.not.match(html.body, 'app.ts');
    assert.not.match(html.body, 'dev.env');
    const json = parseRaw(await rawRequest(srv.port, rawGet('/', { Host: '127.0.0.1', Accept: 'application/json' })));
    assert.not.match(json.body, 'dev.env');
    assert.is(parseRaw(await rawRequest(srv.port, rawGet('/dev.env'))).status, 404);
  } finally {
    await srv.close();
    await removeTree(base);
  }
});

hiddenList.run();
