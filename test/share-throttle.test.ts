// Throttling on a real server: wrong keys and passwords slow guessing, but the right key, the right
// password and a session cookie always pass at once, and other sites cannot lock the owner out.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TOKEN_PARAM } from '../src/share/token-url.js';
import { makeTree, rawRequest, removeTree, startServer, type Running } from './helpers/server.js';
import { holdSocket, parseRaw, rawGet, type HeldSocket } from './helpers/http.js';

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';
const H = { Host: '127.0.0.1' };

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<ReturnType<typeof parseRaw> & { ms: number }> {
  const started = performance.now();
  const r = parseRaw(await rawRequest(port, rawGet(path, { ...H, ...headers }), 10_000));
  return { ...r, ms: performance.now() - started };
}

const throttle = suite('throttling never locks out the key holder');
let dir = '';
throttle.before(async () => {
  dir = await makeTree({ 'f.txt': 'content' });
});
throttle.after(async () => {
  await removeTree(dir);
});

async function withServer(auth: NonNullable<Parameters<typeof startServer>[0]['auth']>, body: (s: Running) => Promise<void>): Promise<void> {
  const s = await startServer({ root: dir, auth });
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

throttle('100 wrong keys from one address, then the right key and Bearer from that address pass at once', () =>
  withServer({ mode: 'token' }, async (s) => {
    const key = s.serveHere.access?.token ?? '';
    for (let i = 0; i < 100; i++) {
      const wrong = await get(s.port, `/f.txt?${TOKEN_PARAM}=guess${i}`);
      assert.is(wrong.status, i < 9 ? 401 : 429, `try ${i}`);
    }
    const nav = await get(s.port, `/f.txt?${TOKEN_PARAM}=${key}`, { Accept: HTML });
    assert.is(nav.status, 303);
    const cookie = (nav.headers['set-cookie'] ?? '').split(';')[0] ?? '';
    assert.is((await get(s.port, `/f.txt?${TOKEN_PARAM}=${key}`)).status, 200);
    assert.is((await get(s.port, '/f.txt', { Authorization: `Bearer ${key}` })).status, 200);
    assert.is((await get(s.port, '/f.txt', { Cookie: cookie })).status, 200);
  }));

throttle('ten cross-site image requests with a wrong key count for nothing', () =>
  withServer({ mode: 'token' }, async (s) => {
    const image = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'image', Accept: 'image/avif,image/*,*/*;q=0.8' };
    for (let i = 0; i < 10; i++) assert.is((await get(s.port, `/f.txt?${TOKEN_PARAM}=wrong${i}`, image)).status, 401);
    // Not counted: the first wrong try of a plain client is a 401, far from the limit.
    assert.is((await get(s.port, `/f.txt?${TOKEN_PARAM}=wrong`)).status, 401);
    const key = s.serveHere.access?.token ?? '';
    assert.is((await get(s.port, `/f.txt?${TOKEN_PARAM}=${key}`)).status, 200);
  }));

throttle('100 wrong passwords from one address, then the right one passes at once and gets the session cookie', () =>
  withServer({ mode: 'basic', user: 'ann', password: 'correct horse' }, async (s) => {
    // Sent together: past the limit each wrong answer is held (a delay, not a block).
    const held: HeldSocket[] = [];
    for (let i = 0; i < 100; i++) held.push(await holdSocket(s.port, rawGet('/f.txt', { ...H, Authorization: basic('ann', `guess${i}`) })));
    try {
      // The first nine answers are immediate 401s; from the tenth on they wait.
      const early = await Promise.all(held.slice(0, 9).map((h) => h.closedWithin(3000)));
      assert.ok(early.every(Boolean));
      assert.not.ok(await held[99]?.closedWithin(300), 'a wrong password past the limit is held');
      const right = await get(s.port, '/f.txt', { Authorization: basic('ann', 'correct horse') });
      assert.is(right.status, 200);
      assert.is(right.body, 'content');
      assert.ok(right.ms < 1000, `answered in ${Math.round(right.ms)} ms`);
      const cookie = (right.headers['set-cookie'] ?? '').split(';')[0] ?? '';
      assert.match(cookie, /^serve_here_\d+=[A-Za-z0-9_-]{43}$/);
      const withCookie = await get(s.port, '/f.txt', { Cookie: cookie });
      assert.is(withCookie.status, 200);
      assert.ok(withCookie.ms < 1000);
      assert.is(withCookie.headers['set-cookie'], undefined, 'the cookie is given once');
    } finally {
      for (const h of held) h.socket.destroy();
    }
  }));

throttle.run();
