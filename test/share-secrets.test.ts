// serve-here's secrets stay its own: the key never appears in a log line (request target, Referer,
// a raw `#…`), and an app never receives the key, the session cookie or the credentials, in the
// reloading mode (app process) and with --no-watch (in process) alike. Real CLI, real app.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TOKEN_PARAM } from '../src/share/token-url.js';
import { makeTree, rawRequest, removeTree, spawnCli, type CliProcess } from './helpers/server.js';
import { parseRaw, rawGet, waitUntil } from './helpers/http.js';

const ECHO = `export default {
  fetch: (r) => Response.json({ url: r.url, cookie: r.headers.get('cookie'), authorization: r.headers.get('authorization'), referer: r.headers.get('referer') }),
};
`;
const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';

interface Shared {
  cli: CliProcess;
  port: number;
  key: string;
}

async function share(dir: string, args: string[]): Promise<Shared> {
  const cli = spawnCli(['.', '--share', '--port', '0', ...args], { cwd: dir });
  const m = await cli.waitFor(/:(\d+)\/\?serve-here-key=([A-Za-z0-9_-]{22})/);
  return { cli, port: Number(m[1]), key: m[2] ?? '' };
}

async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<ReturnType<typeof parseRaw>> {
  return parseRaw(await rawRequest(port, rawGet(path, { Host: '127.0.0.1', ...headers }), 10_000));
}

/** The session cookie, from the key's redirect. */
async function cookieFor(s: Shared): Promise<string> {
  const r = await get(s.port, `/?${TOKEN_PARAM}=${s.key}`, { Accept: HTML });
  assert.is(r.status, 303);
  return (r.headers['set-cookie'] ?? '').split(';')[0] ?? '';
}

const app = suite('an app never receives the key, the cookie or the Bearer token');
let dir = '';
app.before(async () => {
  dir = await makeTree({ 'echo.mjs': ECHO });
});
app.after(async () => {
  await removeTree(dir);
});

for (const mode of [[], ['--no-watch']]) {
  const label = mode.length === 0 ? 'reloading' : '--no-watch';
  app(`${label}: query, Cookie, Authorization and Referer reach the app without serve-here's secrets`, async () => {
    const s = await share(dir, ['--app', '/api=echo.mjs', ...mode]);
    try {
      const cookie = await cookieFor(s);
      const viaKey = await get(s.port, `/api/x?a=1&${TOKEN_PARAM}=${s.key}&b=2`, { Cookie: `theirs=1; ${cookie}; other=2`, Referer: `http://127.0.0.1:${s.port}/page?${TOKEN_PARAM}=${s.key}` });
      assert.is(viaKey.status, 200, viaKey.body);
      const seen = JSON.parse(viaKey.body) as Record<string, string | null>;
      assert.is(new URL(seen.url ?? '').search, '?a=1&b=2');
      assert.is(seen.cookie, 'theirs=1; other=2');
      assert.is(seen.referer, `http://127.0.0.1:${s.port}/page`);
      const viaBearer = JSON.parse((await get(s.port, '/api/y', { Authorization: `Bearer ${s.key}` })).body) as Record<string, string | null>;
      assert.is(viaBearer.authorization, null);
      const onlyCookie = JSON.parse((await get(s.port, '/api/z', { Cookie: cookie, Authorization: 'Bearer app-own-token' })).body) as Record<string, string | null>;
      assert.is(onlyCookie.cookie, null);
      assert.is(onlyCookie.authorization, 'Bearer app-own-token', "the app's own token is left alone");
    } finally {
      await s.cli.stop();
    }
  });

  app(`${label}: a repeated Authorization or Referer does not carry the key past a clean first one`, async () => {
    const s = await share(dir, ['--app', '/api=echo.mjs', ...mode]);
    try {
      const head = `GET /api/r?${TOKEN_PARAM}=${s.key} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
      const raw = `${head}Authorization: Bearer app-own\r\nAuthorization: Bearer ${s.key}\r\nReferer: http://127.0.0.1/\r\nReferer: http://127.0.0.1/p?${TOKEN_PARAM}=${s.key}\r\n\r\n`;
      const r = parseRaw(await rawRequest(s.port, raw, 10_000));
      assert.is(r.status, 200, r.body);
      assert.not.ok(r.body.includes(s.key), r.body);
      const seen = JSON.parse(r.body) as Record<string, string | null>;
      assert.is(seen.authorization, 'Bearer app-own', "the app's own token is left alone");
    } finally {
      await s.cli.stop();
    }
  });

  app(`${label}: --auth credentials do not reach the app`, async () => {
    const cli = spawnCli(['.', '--host', '127.0.0.1', '--auth', 'ann:pw', '--port', '0', '--app', '/api=echo.mjs', ...mode], { cwd: dir });
    try {
      const port = Number((await cli.waitFor(/127\.0\.0\.1:(\d+)\//))[1]);
      const r = await get(port, '/api/x', { Authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}` });
      assert.is(r.status, 200);
      const seen = JSON.parse(r.body) as Record<string, string | null>;
      assert.is(seen.authorization, null);
      assert.is(seen.cookie, null);
      assert.match(r.headers['set-cookie'] ?? '', /^serve_here_\d+=/);
    } finally {
      await cli.stop();
    }
  });
}

app.run();

const logs = suite('the key in no log format');
logs.before(async () => {
  dir = await makeTree({ 'echo.mjs': ECHO });
});
logs.after(async () => {
  await removeTree(dir);
});

for (const format of ['dev', 'combined', 'json']) {
  logs(`--log ${format}: request target, Referer and a raw # never show the key`, async () => {
    const s = await share(dir, ['--log', format]);
    try {
      const cookie = await cookieFor(s);
      const referer = `http://127.0.0.1:${s.port}/from?${TOKEN_PARAM}=${s.key}`;
      await get(s.port, `/echo.mjs?${TOKEN_PARAM}=${s.key}`, { Referer: referer });
      await get(s.port, `/echo.mjs#${TOKEN_PARAM}=${s.key}`, { Cookie: cookie });
      await get(s.port, `/echo.mjs?x#/y?${TOKEN_PARAM}=${s.key}`, { Cookie: cookie });
      await get(s.port, `/${s.key}`, { Cookie: cookie });
      await get(s.port, '/done-marker', { Cookie: cookie });
      await waitUntil(() => (s.cli.stdout().includes('done-marker') ? true : undefined), 5000, 'the last log line');
      const lines = s.cli.stdout().split('\n').filter((l) => /echo\.mjs|done-marker|\/\*\*\*|GET \//.test(l));
      assert.ok(lines.length >= 5, s.cli.stdout());
      for (const line of lines) assert.not.ok(line.includes(s.key), line);
      assert.match(s.cli.stdout(), `${TOKEN_PARAM}=***`);
    } finally {
      await s.cli.stop();
    }
  });
}

logs.run();
