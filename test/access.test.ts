// Tests for src/share/access.ts and its helpers: token URL → cookie, basic auth, rate limits.
import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createAccess, type AccessRequest, type AccessResult } from '../src/share/access.js';
import { credentialsMatcher, parseAuthSpec, parseAuthorization, PASSWORD_ENV, safeEqual, secretMatcher, tokenMatcher } from '../src/share/basic-auth.js';
import { createFailureLimiter } from '../src/share/rate-limit.js';
import { addToken, redactToken, redirectTarget, TOKEN_PARAM, tokenValues, withoutToken } from '../src/share/token-url.js';
import { parseRaw, rawGet } from './helpers/http.js';

const TOKEN = 'AAAAAAAAAAAAAAAAAAAAAA';
const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';

function fake(url: string, headers: IncomingHttpHeaders = {}, remoteAddress = '192.168.1.7', method = 'GET'): AccessRequest {
  return { method, url, headers, socket: { remoteAddress } };
}

function basicHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

function status(r: AccessResult): number {
  return 'status' in r ? r.status : 200;
}

// --- token-url helpers -------------------------------------------------------------------------

const url = suite('token-url');

url('addToken() appends the parameter, keeping query and fragment', () => {
  assert.is(addToken('http://192.168.1.2:8000/', 'abc'), `http://192.168.1.2:8000/?${TOKEN_PARAM}=abc`);
  assert.is(addToken('http://h/x?a=1#f', 'abc'), `http://h/x?a=1&${TOKEN_PARAM}=abc#f`);
});

url('withoutToken() drops only the token, other parameters kept verbatim and in order', () => {
  assert.is(withoutToken(`/a?${TOKEN_PARAM}=t`), '/a');
  assert.is(withoutToken(`/a?x=%2F&${TOKEN_PARAM}=t&y=1+2&y=3`), '/a?x=%2F&y=1+2&y=3');
  assert.is(withoutToken('/a?x=1'), '/a?x=1');
  assert.is(withoutToken(`/a?serve%2Dhere%2Dkey=t&z`), '/a?z');
});

url('tokenValues() finds the parameter, also percent-encoded, and nothing else', () => {
  assert.equal(tokenValues(`/?${TOKEN_PARAM}=abc`), ['abc']);
  assert.equal(tokenValues(`/?serve-here-%6Bey=abc`), ['abc']);
  assert.equal(tokenValues('/?key=abc&serve-here-keyx=1'), []);
  assert.equal(tokenValues('/'), []);
});

url('redactToken() hides the value but shows that a key was sent', () => {
  assert.is(redactToken(`/f.txt?a=1&${TOKEN_PARAM}=secret`), `/f.txt?a=1&${TOKEN_PARAM}=***`);
  assert.is(redactToken('/f.txt?a=1'), '/f.txt?a=1');
  assert.is(redactToken(`/f#${TOKEN_PARAM}=secret`), `/f#${TOKEN_PARAM}=***`);
  assert.is(redactToken(`/f?x#/route?${TOKEN_PARAM}=secret&y=1`), `/f?x#/route?${TOKEN_PARAM}=***&y=1`);
  assert.is(redactToken(`http://h:1/p?serve%2Dhere%2Dkey=secret`), `http://h:1/p?${TOKEN_PARAM}=***`);
  assert.is(redactToken('/a=b/c?d=e#f=g'), '/a=b/c?d=e#f=g');
});

url('redirectTarget() stays on this host (no //host open redirect)', () => {
  assert.is(redirectTarget(`//evil.example/?${TOKEN_PARAM}=t`), '/.//evil.example/');
  assert.is(redirectTarget(`/\\evil.example/?${TOKEN_PARAM}=t`), '/./\\evil.example/');
  assert.is(redirectTarget(`http://h:1/dir/?q=1&${TOKEN_PARAM}=t`), '/dir/?q=1');
  assert.is(new URL(redirectTarget(`//evil.example/?${TOKEN_PARAM}=t`), 'http://me:8000/').host, 'me:8000');
  assert.is(new URL(redirectTarget(`/\\evil.example/?${TOKEN_PARAM}=t`), 'http://me:8000/').host, 'me:8000');
});

url.run();

// --- basic-auth helpers ------------------------------------------------------------------------

const basic = suite('basic-auth');

basic('safeEqual() compares whole strings of any length', () => {
  assert.ok(safeEqual('secret', 'secret'));
  assert.not.ok(safeEqual('secret', 'secreT'));
  assert.not.ok(safeEqual('secret', 'secret2'));
  assert.not.ok(safeEqual('', 'x'));
  assert.ok(safeEqual('pässwörd', 'pässwörd'));
});

basic('secretMatcher() and tokenMatcher() accept exactly the secret', () => {
  for (const make of [secretMatcher, tokenMatcher]) {
    const m = make('s3cret-Value_');
    assert.ok(m('s3cret-Value_'));
    for (const wrong of ['s3cret-Value', 's3cret-Value__', 'S3cret-Value_', '', 's3cret-Valué']) assert.not.ok(m(wrong), wrong);
  }
});

basic('credentialsMatcher() needs both parts right', () => {
  const matches = credentialsMatcher({ user: 'ann', password: 'pw' });
  assert.ok(matches({ user: 'ann', password: 'pw' }));
  assert.not.ok(matches({ user: 'bob', password: 'pw' }));
  assert.not.ok(matches({ user: 'ann', password: 'px' }));
});

basic('parseAuthSpec() reads user:password, or the password from SERVE_HERE_PASSWORD', () => {
  assert.equal(parseAuthSpec('ann:pa:ss', {}), { user: 'ann', password: 'pa:ss' });
  assert.equal(parseAuthSpec('ann', { [PASSWORD_ENV]: 'envpw' }), { user: 'ann', password: 'envpw' });
  assert.throws(() => parseAuthSpec('ann', {}), /SERVE_HERE_PASSWORD/);
  assert.throws(() => parseAuthSpec(':pw', {}), RangeError);
  assert.throws(() => parseAuthSpec('ann:', {}), /empty/);
  assert.throws(() => parseAuthSpec('an\nn:pw', {}), /control/);
});

basic('parseAuthorization() reads Basic (UTF-8) and Bearer, and flags junk', () => {
  assert.equal(parseAuthorization(basicHeader('ann', 'pä:ss')), { kind: 'basic', user: 'ann', password: 'pä:ss' });
  assert.equal(parseAuthorization('bearer abc'), { kind: 'bearer', token: 'abc' });
  assert.equal(parseAuthorization(undefined), { kind: 'none' });
  assert.is(parseAuthorization('Basic !!!').kind, 'malformed');
  assert.is(parseAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`).kind, 'malformed');
  assert.is(parseAuthorization('Digest x=1, y=2').kind, 'malformed');
});

basic.run();

// --- rate limiter ------------------------------------------------------------------------------

const limit = suite('rate-limit');

limit('createFailureLimiter() blocks after `limit` failures in a window, then frees', () => {
  let t = 0;
  const l = createFailureLimiter({ limit: 3, windowMs: 1000, blockMs: 5000, now: () => t });
  l.fail('a');
  l.fail('a');
  assert.is(l.blockedFor('a'), 0);
  l.fail('a');
  assert.is(l.blockedFor('a'), 5000);
  assert.is(l.blockedFor('b'), 0);
  t = 5000;
  assert.is(l.blockedFor('a'), 0);
});

limit('createFailureLimiter() forgets failures outside the window', () => {
  let t = 0;
  const l = createFailureLimiter({ limit: 3, windowMs: 1000, now: () => t });
  l.fail('a');
  l.fail('a');
  t = 1500;
  l.fail('a');
  assert.is(l.blockedFor('a'), 0);
});

limit('createFailureLimiter() delays wrong answers once throttled: doubling, capped, renewed by each failure', () => {
  let t = 0;
  const l = createFailureLimiter({ limit: 2, blockMs: 5000, baseDelayMs: 100, maxDelayMs: 350, now: () => t });
  l.fail('a');
  assert.is(l.delayFor('a'), 0);
  l.fail('a');
  assert.is(l.delayFor('a'), 100);
  l.fail('a');
  assert.is(l.delayFor('a'), 200);
  l.fail('a');
  assert.is(l.delayFor('a'), 350);
  t = 4000;
  l.fail('a');
  assert.is(l.blockedFor('a'), 5000, 'each failure renews the throttle');
  t = 9000;
  assert.is(l.delayFor('a'), 0);
  assert.is(l.delayFor('b'), 0);
});

limit('createFailureLimiter() keeps at most maxEntries addresses', () => {
  const l = createFailureLimiter({ maxEntries: 100 });
  for (let i = 0; i < 5000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`);
  assert.is(l.size, 100);
});

limit('createFailureLimiter() stays at 10,000 addresses by default, each of them throttled or not', () => {
  const l = createFailureLimiter();
  for (let i = 0; i < 50_000; i++) {
    const address = `2001:db8::${i.toString(16)}`;
    for (let k = 0; k < (i % 3 === 0 ? 12 : 1); k++) l.fail(address);
  }
  assert.is(l.size, 10_000);
  assert.ok(l.blockedFor('2001:db8::c34e') > 0, 'a recent throttled address is still remembered');
  assert.is(l.blockedFor('2001:db8::0'), 0, 'the oldest went first');
});

limit.run();

// --- check() with fake requests ------------------------------------------------------------------

const unit = suite('check');

unit('createAccess() makes a 128-bit base64url token per run', () => {
  const a = createAccess({ mode: 'token', port: 8000, secure: false });
  const b = createAccess({ mode: 'token', port: 8000, secure: false });
  assert.match(a.token ?? '', /^[A-Za-z0-9_-]{22}$/);
  assert.is.not(a.token, b.token);
  assert.is(a.urlWithToken('http://10.0.0.2:8000/'), `http://10.0.0.2:8000/?${TOKEN_PARAM}=${a.token}`);
  assert.is(a.redactUrl(`/?${TOKEN_PARAM}=${a.token}`), `/?${TOKEN_PARAM}=***`);
});

unit('check() refuses a request without credentials, from loopback too', () => {
  const a = createAccess({ mode: 'token', port: 8000, secure: false, token: TOKEN });
  for (const addr of ['192.168.1.7', '127.0.0.1', '::1', '::ffff:127.0.0.1']) {
    const r = a.check(fake('/file.txt', { accept: HTML }, addr));
    assert.is(status(r), 401, addr);
    assert.ok(!r.ok && /scan the QR code/.test(r.body));
    assert.ok(!r.ok && r.headers['Cache-Control'] === 'no-store');
  }
});

unit('check() turns a tokened navigation into 303 + cookie, query kept, token gone', () => {
  const a = createAccess({ mode: 'token', port: 8123, secure: false, token: TOKEN });
  const r = a.check(fake(`/dir/?sort=name&${TOKEN_PARAM}=${TOKEN}&x=%20`, { accept: HTML }));
  assert.ok(r.ok && 'redirect' in r);
  if (!('redirect' in r)) return;
  assert.is(r.redirect, '/dir/?sort=name&x=%20');
  assert.is(r.headers['Location'], r.redirect);
  assert.match(r.setCookie, /^serve_here_8123=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Lax; Path=\/$/);
  assert.not.match(r.setCookie, new RegExp(TOKEN));
  const cookie = r.setCookie.split(';')[0] ?? '';
  assert.equal(a.check(fake('/dir/', { cookie: `other=1; ${cookie}` })), { ok: true });
});

unit('check() refuses the cookie of another port or an earlier run', () => {
  const a = createAccess({ mode: 'token', port: 8000, secure: false, token: TOKEN });
  const other = createAccess({ mode: 'token', port: 8001, secure: false, token: TOKEN });
  const earlier = createAccess({ mode: 'token', port: 8000, secure: false, token: TOKEN });
  const cookieOf = (x: typeof a): string => {
    const r = x.check(fake(`/?${TOKEN_PARAM}=${TOKEN}`, { accept: HTML }));
    return 'setCookie' in r ? r.setCookie.split(';')[0] ?? '' : '';
  };
  assert.is(status(a.check(fake('/', { cookie: cookieOf(other) }))), 401, 'other port');
  assert.is(status(a.check(fake('/', { cookie: cookieOf(earlier) }))), 401, 'earlier run, same port and token');
  assert.is(status(a.check(fake('/', { cookie: cookieOf(a) }))), 200);
});

unit('check() under HTTPS uses a Secure __Host- cookie', () => {
  const a = createAccess({ mode: 'token', port: 8443, secure: true, token: TOKEN });
  const r = a.check(fake(`/?${TOKEN_PARAM}=${TOKEN}`, { accept: HTML }));
  assert.ok('setCookie' in r && /^__Host-serve_here_8443=[^;]+; HttpOnly; SameSite=Lax; Path=\/; Secure$/.test(r.setCookie));
});

unit('check() lets a non-browser client with the right token pass without a redirect', () => {
  const a = createAccess({ mode: 'token', port: 8000, secure: false, token: TOKEN });
  assert.equal(a.check(fake(`/up/f.bin?${TOKEN_PARAM}=${TOKEN}`, { accept: '*/*' }, '10.0.0.9', 'PUT')), { ok: true });
  assert.equal(a.check(fake('/f.bin', { authorization: `Bearer ${TOKEN}` })), { ok: true });
  assert.is(status(a.check(fake('/f.bin', { authorization: 'Bearer nope' }))), 401);
});

unit('check() never redirects an upgrade; without credentials it is refused like any request', () => {
  const a = createAccess({ mode: 'token', port: 8000, secure: false, token: TOKEN });
  const ws = { upgrade: 'websocket', connection: 'Upgrade', accept: HTML };
  assert.equal(a.check(fake(`/live?${TOKEN_PARAM}=${TOKEN}`, ws)), { ok: true });
  assert.is(status(a.check(fake('/live', ws))), 401);
});

unit('check() answers a wrong token or stale cookie with 401', () => {
  const a = createAccess({ mode: 'token', port: 8000, secure: false, token: TOKEN });
  const r = a.check(fake(`/?${TOKEN_PARAM}=${TOKEN.slice(1)}x`, { accept: HTML }));
  assert.is(status(r), 401);
  assert.ok(!r.ok && /not valid/.test(r.body));
  assert.is(status(a.check(fake('/', { cookie: 'serve_here_8000=stale' }))), 401);
  assert.is(status(a.check(fake(`/?${TOKEN_PARAM}=${TOKEN}&${TOKEN_PARAM}=x`, { accept: HTML }))), 401);
});

unit('check() throttles wrong tokens per address; the right key, Bearer and cookie always pass', () => {
  const a = createAccess({ mode: 'token', port: 8000, secure: false, token: TOKEN });
  const ok = a.check(fake(`/?${TOKEN_PARAM}=${TOKEN}`, { accept: HTML }, '10.0.0.1'));
  const cookie = 'setCookie' in ok ? ok.setCookie.split(';')[0] ?? '' : '';
  for (let i = 0; i < 100; i++) assert.is(status(a.check(fake(`/?${TOKEN_PARAM}=guess${i}`, {}, '10.0.0.1'))), i < 9 ? 401 : 429);
  const r = a.check(fake(`/?${TOKEN_PARAM}=wrong`, { accept: HTML }, '10.0.0.1'));
  assert.is(status(r), 429);
  assert.ok(!r.ok && Number(r.headers['Retry-After']) > 0 && Number(r.headers['Retry-After']) <= 60);
  assert.is(status(a.check(fake(`/?${TOKEN_PARAM}=${TOKEN}`, { accept: HTML }, '10.0.0.1'))), 303, 'the right key passes, throttled or not');
  assert.equal(a.check(fake('/', { authorization: `Bearer ${TOKEN}` }, '10.0.0.1')), { ok: true });
  assert.equal(a.check(fake('/', { cookie }, '10.0.0.1')), { ok: true });
  assert.is(status(a.check(fake(`/?${TOKEN_PARAM}=wrong`, {}, '10.0.0.2'))), 401, 'other addresses unaffected');
});

unit('check() does not count cross-site subresources or page loads with an earlier run\'s key', () => {
  const a = createAccess({ mode: 'token', port: 8000, secure: false, token: TOKEN });
  const image = { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'image', accept: 'image/*' };
  const sameSite = { 'sec-fetch-site': 'same-site', 'sec-fetch-dest': 'script' };
  const stale = `BBBBBBBBBBBBBBBBBBBBBB`;
  for (let i = 0; i < 20; i++) {
    assert.is(status(a.check(fake(`/x.png?${TOKEN_PARAM}=guess${i}`, image))), 401);
    assert.is(status(a.check(fake(`/x.js?${TOKEN_PARAM}=guess${i}`, sameSite))), 401);
    assert.is(status(a.check(fake(`/?${TOKEN_PARAM}=${stale}`, { accept: HTML }))), 401);
    assert.is(status(a.check(fake('/', { authorization: 'Bearer nope', ...image }))), 401);
  }
  // Still counted: a same-origin request, a cross-site page load, a client without Fetch Metadata.
  const counted = [
    fake(`/?${TOKEN_PARAM}=w`, { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'empty' }),
    fake(`/?${TOKEN_PARAM}=w`, { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'document', accept: HTML }),
    fake(`/?${TOKEN_PARAM}=short`, { accept: HTML }),
    fake(`/?${TOKEN_PARAM}=${stale}`, { accept: '*/*' }),
  ];
  for (let i = 0; i < 9; i++) assert.is(status(a.check(counted[i % counted.length] as AccessRequest)), 401);
  assert.is(status(a.check(counted[0] as AccessRequest)), 429);
});

unit('check() in basic mode: challenge, right and wrong credentials, a delay (not a block) past the limit', () => {
  const a = createAccess({ mode: 'basic', port: 8000, secure: false, user: 'ann', password: 'pw' });
  const none = a.check(fake('/'));
  assert.is(status(none), 401);
  assert.ok(!none.ok && none.headers['WWW-Authenticate'] === 'Basic realm="serve-here", charset="UTF-8"');
  const right = a.check(fake('/', { authorization: basicHeader('ann', 'pw') }));
  assert.ok(right.ok && 'setCookie' in right && /^serve_here_8000=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Lax; Path=\/$/.test(right.setCookie ?? ''), 'a session cookie on the first success');
  const cookie = 'setCookie' in right ? (right.setCookie ?? '').split(';')[0] ?? '' : '';
  for (let i = 0; i < 100; i++) {
    const wrong = a.check(fake('/', { authorization: basicHeader('ann', `x${i}`) }));
    assert.is(status(wrong), 401);
    assert.is(!wrong.ok && wrong.delayMs !== undefined, i >= 9, `delay from the 10th failure on (${i})`);
  }
  const late = a.check(fake('/', { authorization: basicHeader('ann', 'x') }));
  assert.ok(!late.ok && late.delayMs === 30_000, 'capped at 30 s');
  assert.ok(a.check(fake('/', { authorization: basicHeader('ann', 'pw') })).ok, 'the right password passes at once');
  assert.equal(a.check(fake('/', { cookie, authorization: basicHeader('ann', 'x') })), { ok: true }, 'the cookie passes before credentials are read');
  assert.ok(a.check(fake('/', { authorization: basicHeader('ann', 'pw') }, '192.168.1.8')).ok);
  assert.throws(() => createAccess({ mode: 'basic', port: 1, secure: false }), RangeError);
});

unit('check() in open mode passes everything', () => {
  const a = createAccess({ mode: 'open', port: 8000, secure: false });
  assert.equal(a.check(fake('/')), { ok: true });
  assert.is(a.token, undefined);
  assert.is(a.urlWithToken('http://h/'), 'http://h/');
});

unit.run();

// --- check() on a real socket, called first as the gate will ---------------------------------------

const real = suite('check on a socket');

interface Ctx {
  server: http.Server;
  port: number;
  token: string;
  basicServer: http.Server;
  basicPort: number;
}
const ctx = {} as Ctx;

function serve(access: ReturnType<typeof createAccess>): http.Server {
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const r = access.check(req);
    if (!r.ok) {
      res.writeHead(r.status, r.headers).end(r.body);
      return;
    }
    if ('redirect' in r) {
      res.writeHead(303, r.headers).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`content of ${access.redactUrl(req.url ?? '')}`);
  };
  return http.createServer(handle);
}

async function listen(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('Expected a TCP address');
  return addr.port;
}

async function raw(port: number, data: string): Promise<ReturnType<typeof parseRaw>> {
  const socket = net.connect(port, '127.0.0.1');
  let out = '';
  socket.on('data', (c: Buffer) => {
    out += c.toString('latin1');
  });
  socket.write(data);
  await once(socket, 'close');
  return parseRaw(out);
}

real.before(async () => {
  const access = createAccess({ mode: 'token', port: 0, secure: false });
  ctx.token = access.token ?? '';
  ctx.server = serve(access);
  ctx.port = await listen(ctx.server);
  ctx.basicServer = serve(createAccess({ mode: 'basic', port: 0, secure: false, user: 'ann', password: 'correct horse' }));
  ctx.basicPort = await listen(ctx.basicServer);
});

real.after(() => {
  for (const s of [ctx.server, ctx.basicServer]) {
    s.closeAllConnections();
    s.close();
  }
});

real('no credentials → 401 on every path and method', async () => {
  for (const [path, method] of [['/', 'GET'], ['/file.txt', 'GET'], ['/dir/?json', 'GET'], ['/missing', 'HEAD'], ['/up/x', 'PUT'], ['/api/x', 'POST'], ['/a?zip', 'GET']] as const) {
    const r = await raw(ctx.port, rawGet(path, { Host: '127.0.0.1', Accept: HTML }, method));
    assert.is(r.status, 401, `${method} ${path}`);
    assert.is(r.headers['www-authenticate'], 'Bearer realm="serve-here"');
  }
});

real('token URL → 303 + HttpOnly per-port cookie, Location without the token; cookie → 200', async () => {
  const r = await raw(ctx.port, rawGet(`/docs/?sort=size&${TOKEN_PARAM}=${ctx.token}`, { Host: '127.0.0.1', Accept: HTML }));
  assert.is(r.status, 303);
  assert.is(r.headers['location'], '/docs/?sort=size');
  assert.not.ok((r.headers['location'] ?? '').includes(ctx.token));
  const setCookie = r.headers['set-cookie'] ?? '';
  assert.match(setCookie, /HttpOnly/);
  assert.ok(setCookie.startsWith(`serve_here_0=`), setCookie);
  assert.not.ok(setCookie.includes(ctx.token));
  const cookie = setCookie.split(';')[0] ?? '';
  const page = await raw(ctx.port, rawGet('/docs/?sort=size', { Host: '127.0.0.1', Cookie: cookie }));
  assert.is(page.status, 200);
  assert.match(page.body, 'content of /docs/?sort=size');
});

real('wrong token → 401; ten of them → 429 with Retry-After; the right key still passes', async () => {
  const r = await raw(ctx.port, rawGet(`/?${TOKEN_PARAM}=wrong`, { Host: '127.0.0.1', Accept: HTML }));
  assert.is(r.status, 401);
  assert.match(r.body, /not valid/);
  for (let i = 0; i < 9; i++) await raw(ctx.port, rawGet(`/?${TOKEN_PARAM}=wrong${i}`));
  const blocked = await raw(ctx.port, rawGet(`/?${TOKEN_PARAM}=wrong`));
  assert.is(blocked.status, 429);
  assert.ok(Number(blocked.headers['retry-after']) > 0);
  assert.is((await raw(ctx.port, rawGet(`/?${TOKEN_PARAM}=${ctx.token}`, { Host: '127.0.0.1', Accept: HTML }))).status, 303);
});

real('basic auth over the socket: challenge, right, wrong; the right password still passes', async () => {
  const none = await raw(ctx.basicPort, rawGet('/'));
  assert.is(none.status, 401);
  assert.is(none.headers['www-authenticate'], 'Basic realm="serve-here", charset="UTF-8"');
  const right = await raw(ctx.basicPort, rawGet('/f', { Host: '127.0.0.1', Authorization: basicHeader('ann', 'correct horse') }));
  assert.is(right.status, 200);
  for (let i = 0; i < 10; i++) {
    const wrong = await raw(ctx.basicPort, rawGet('/f', { Host: '127.0.0.1', Authorization: basicHeader('ann', `guess${i}`) }));
    assert.is(wrong.status, 401);
  }
  const after = await raw(ctx.basicPort, rawGet('/f', { Host: '127.0.0.1', Authorization: basicHeader('ann', 'correct horse') }));
  assert.is(after.status, 200);
});

real.run();
