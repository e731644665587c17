// End-to-end tests of app hosting (src/app/*, src/reload/*)
// through the CLI: `serve-here --port 0 --app …` in a real temp folder, requested over real sockets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { rename, symlink, writeFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTree, removeTree, spawnCli, type CliProcess } from './helpers/server.js';
import { waitUntil } from './helpers/http.js';

/** The repository's node_modules (hono, express), linked into temp trees that import them. */
const NODE_MODULES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules');
const WAIT_MS = 15_000;
const BANNER = /serving (.+) at http:\/\/127\.0\.0\.1:(\d+)\//;

// ---- helpers ----------------------------------------------------------------------------------

interface Served {
  cli: CliProcess;
  port: number;
}

/** Spawn the CLI on port 0 for `dir` and read the port from the banner. */
async function serve(dir: string, args: string[], env: Record<string, string> = {}): Promise<Served> {
  const cli = spawnCli(['--port', '0', ...args, dir], { cwd: dir, env });
  try {
    const m = await cli.waitFor(BANNER, WAIT_MS);
    return { cli, port: Number(m[2]) };
  } catch (error) {
    await stop(cli);
    throw error;
  }
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
async function stop(cli: CliProcess | undefined): Promise<void> {
  if (cli === undefined) return;
  const timer = setTimeout(() => {
    process.stderr.write(`serve-here did not exit within 5 s of SIGTERM, killing it: ${cli.child.spawnargs.join(' ')}\n`);
    cli.child.kill('SIGKILL');
  }, 5000);
  await cli.stop('SIGTERM');
  clearTimeout(timer);
}

/** Run the CLI to its exit, killing it (and failing) if it is still running after `ms`. */
async function runBounded(args: string[], cwd: string, ms = WAIT_MS): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawnCli(args, { cwd });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const result = await Promise.race([cli.exited, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    await stop(cli);
    throw new Error(`serve-here ${args.join(' ')} was still running after ${ms} ms: stdout=${cli.stdout()} stderr=${cli.stderr()}`);
  }
  return { code: result, stdout: cli.stdout(), stderr: cli.stderr() };
}

interface Mark {
  out: number;
  err: number;
}
const mark = (cli: CliProcess): Mark => ({ out: cli.stdout().length, err: cli.stderr().length });

/** Wait for `re` in what the CLI printed (stdout or stderr) after `m`. */
function waitNew(cli: CliProcess, m: Mark, re: RegExp, ms = WAIT_MS): Promise<RegExpMatchArray> {
  return waitUntil(() => re.exec(cli.stdout().slice(m.out)) ?? re.exec(cli.stderr().slice(m.err)) ?? undefined, ms, `${re} in the output (stdout=${cli.stdout().slice(m.out)} stderr=${cli.stderr().slice(m.err)})`);
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A request with a literal path; fails after `ms` instead of hanging. */
function get(port: number, path: string, opts: { agent?: http.Agent; headers?: Record<string, string>; method?: string; ms?: number } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(opts.ms ?? WAIT_MS, () => req.destroy(new Error(`no answer to ${path} within ${opts.ms ?? WAIT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Request `path` until `accept` says yes (bounded); returns that response. */
async function poll(port: number, path: string, accept: (r: Got) => boolean, what: string, ms = WAIT_MS): Promise<Got> {
  let last: Got | undefined;
  return waitUntil(
    async () => {
      try {
        last = await get(port, path, { ms: 5000 });
      } catch {
        return undefined;
      }
      return accept(last) ? last : undefined;
    },
    ms,
    `${what} (last: ${last === undefined ? 'none' : `${last.status} ${last.text.slice(0, 200)}`})`,
  );
}

/** Make a temp tree (real path) with the repository's node_modules linked in when asked. */
async function tree(files: Record<string, string>, withModules = false): Promise<string> {
  const dir = realpathSync(await makeTree(files));
  if (withModules) await symlink(NODE_MODULES, join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Wrap a `before` hook: uvu swallows errors thrown there, so print them. */
function setup(fn: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (error) {
      console.error('setup failed:', error);
      throw error;
    }
  };
}

// ---- a TypeScript fetch handler beside static files ---------------------------------------------

const appTs = (tag: string): string => `import { value } from './lib.ts';
const tag: string = ${JSON.stringify(tag)};
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/slow') {
      console.log('slow-request-started');
      await new Promise((r) => setTimeout(r, 1500));
      return new Response(\`slow value=\${value}\`);
    }
    return new Response(\`tag=\${tag} value=\${value} path=\${url.pathname}\`, { headers: { 'content-type': 'text/plain' } });
  },
};
`;
const libTs = (v: string): string => `import { deep } from './util/deep.ts';\nexport const value: string = ${JSON.stringify(v)} + '+' + deep;\n`;
const deepTs = (v: string): string => `export const deep: string = ${JSON.stringify(v)};\n`;
const BROKEN_APP = `import { value } from './lib.ts';
export default {
  fetch(request: Request): Response {
    return new Response(\`broken \${value}\`;
  },
};
`;

const fetchApp = suite('serve-here --app app.ts (TypeScript fetch handler)');
let dirA = '';
let a: Served | undefined;

fetchApp.before(
  setup(async () => {
    dirA = await tree({
      'app.ts': appTs('t1'),
      'lib.ts': libTs('v1'),
      'util/deep.ts': deepTs('d1'),
      'index.html': '<h1>static index</h1>',
      'static.txt': 'static beside the app',
      'docs/notes.txt': 'a folder without index.html',
    });
    a = await serve(dirA, ['--app', 'app.ts']);
  }),
);
fetchApp.after(async () => {
  await stop(a?.cli);
  await removeTree(dirA);
});

fetchApp('the banner names the app, its mount and convention', () => {
  assert.match(a?.cli.stdout() ?? '', /app\.ts → \/ \(fetch handler: default export \{ fetch \}\), ready in \d+ ms/);
});

fetchApp('the app answers, compiled from TypeScript with its imports', async () => {
  const port = a?.port ?? 0;
  const res = await get(port, '/hello?x=1');
  assert.is(res.status, 200);
  assert.match(res.text, /^tag=\S+ value=\S+\+\S+ path=\/hello$/);
  assert.is(res.headers['content-type'], 'text/plain');
});

fetchApp('static files win over the app; the app gets the rest', async () => {
  const port = a?.port ?? 0;
  const root = await get(port, '/');
  assert.is(root.status, 200);
  assert.is(root.text, '<h1>static index</h1>');
  const file = await get(port, '/static.txt');
  assert.is(file.text, 'static beside the app');
  const nested = await get(port, '/docs/notes.txt');
  assert.is(nested.text, 'a folder without index.html');
  const rest = await get(port, '/not/a/file');
  assert.match(rest.text, /path=\/not\/a\/file$/);
});

fetchApp('a folder without index.html under the app prefix goes to the app, not a listing', async () => {
  const port = a?.port ?? 0;
  const res = await get(port, '/docs/');
  assert.is(res.status, 200);
  assert.match(res.text, /path=\/docs\/$/);
  assert.not.match(res.text, 'notes.txt');
});

fetchApp("the app's own source files are never served as static files", async () => {
  const port = a?.port ?? 0;
  for (const path of ['/app.ts', '/lib.ts', '/util/deep.ts']) {
    const res = await get(port, path);
    assert.not.match(res.text, 'export', `${path} leaked its source`);
    assert.not.match(res.text, 'import', `${path} leaked its source`);
    assert.match(res.text, new RegExp(`path=${path.replace(/\./g, '\\.')}$`), `${path} is answered by the app`);
  }
});

fetchApp('the log line of an app request carries the mount label "app"', async () => {
  const cli = a?.cli as CliProcess;
  const m = mark(cli);
  await get(a?.port ?? 0, '/label-check');
  await waitNew(cli, m, /200 GET \/label-check .* app$/m);
  const s = mark(cli);
  await get(a?.port ?? 0, '/static.txt');
  const line = await waitNew(cli, s, /200 GET \/static\.txt .*$/m);
  assert.not.match(line[0], / app$/);
});

fetchApp('a change to lib.ts reloads the app', async () => {
  const cli = a?.cli as CliProcess;
  const m = mark(cli);
  await writeFile(join(dirA, 'lib.ts'), libTs('lib-changed'));
  await waitNew(cli, m, /\d\d:\d\d:\d\d ↻ lib\.ts changed → reloaded in \d+ ms/);
  const res = await get(a?.port ?? 0, '/after-lib');
  assert.is(res.status, 200);
  assert.match(res.text, 'value=lib-changed+');
});

fetchApp('a change to a file two imports deep (util/deep.ts) reloads the app', async () => {
  const cli = a?.cli as CliProcess;
  const m = mark(cli);
  await writeFile(join(dirA, 'util/deep.ts'), deepTs('deep-changed'));
  await waitNew(cli, m, /↻ deep\.ts changed → reloaded/);
  const res = await get(a?.port ?? 0, '/after-deep');
  assert.match(res.text, /value=\S+\+deep-changed /);
});

fetchApp('an atomic save (temp file renamed over app.ts) reloads the app', async () => {
  const cli = a?.cli as CliProcess;
  const m = mark(cli);
  const tmp = join(dirA, 'app.ts.tmp');
  await writeFile(tmp, appTs('atomic'));
  await rename(tmp, join(dirA, 'app.ts'));
  await waitNew(cli, m, /↻ app\.ts changed → reloaded/);
  const res = await get(a?.port ?? 0, '/after-atomic');
  assert.match(res.text, /^tag=atomic /);
});

fetchApp('a broken save answers 500 with the error and a code frame; static files still 200; a fixed save recovers', async () => {
  const cli = a?.cli as CliProcess;
  const port = a?.port ?? 0;
  const m = mark(cli);
  await writeFile(join(dirA, 'app.ts'), BROKEN_APP);
  let fixedSaved = false;
  try {
    const logged = await waitNew(cli, m, /✖ Failed to load app\.ts: (.+) \(app\.ts:(\d+):(\d+)\)/);
    assert.is(logged[2], '4', 'the log points at the broken line');
    const res = await get(port, '/broken');
    assert.is(res.status, 500);
    assert.match(res.text, 'Failed to load app.ts');
    assert.match(res.text, logged[1] as string, 'the body carries the error message');
    assert.match(res.text, `app.ts:4:${logged[3] as string}`);
    assert.match(res.text, /> 4 \| {5}return new Response\(`broken \$\{value\}`;/, 'the body has a code frame marking line 4');
    assert.match(res.text, /\|\s+\^/, 'the frame has a caret under the column');
    const html = await get(port, '/broken', { headers: { Accept: 'text/html' } });
    assert.is(html.status, 500);
    assert.match(html.headers['content-type'] ?? '', 'text/html');
    assert.match(html.text, '&gt; 4 |');
    const file = await get(port, '/static.txt');
    assert.is(file.status, 200);
    assert.is(file.text, 'static beside the app');

    const fixed = mark(cli);
    await writeFile(join(dirA, 'app.ts'), appTs('fixed'));
    fixedSaved = true;
    await waitNew(cli, fixed, /\d\d:\d\d:\d\d ✔ app\.ts changed → recovered in \d+ ms/);
    const after = await get(port, '/after-fix');
    assert.is(after.status, 200);
    assert.match(after.text, /^tag=fixed /);
  } finally {
    if (!fixedSaved) {
      // Leave a working app for the next tests even when an assertion above failed.
      const restore = mark(cli);
      await writeFile(join(dirA, 'app.ts'), appTs('restored'));
      await waitNew(cli, restore, /app\.ts changed → (reloaded|recovered)/).catch(() => undefined);
    }
  }
});

fetchApp('a slow request started before a reload completes on the old code; a new one gets the new code', async () => {
  const cli = a?.cli as CliProcess;
  const port = a?.port ?? 0;
  const setOld = mark(cli);
  await writeFile(join(dirA, 'lib.ts'), libTs('before-slow'));
  await waitNew(cli, setOld, /↻ lib\.ts changed → reloaded/);

  const started = mark(cli);
  const slow = get(port, '/slow');
  await waitNew(cli, started, /slow-request-started/);
  const reload = mark(cli);
  await writeFile(join(dirA, 'lib.ts'), libTs('after-slow'));
  await waitNew(cli, reload, /↻ lib\.ts changed → reloaded/);
  const fresh = await get(port, '/fresh');
  assert.is(fresh.status, 200);
  assert.match(fresh.text, 'value=after-slow+');
  const old = await slow;
  assert.is(old.status, 200);
  assert.match(old.text, /^slow value=before-slow\+/);
});

fetchApp('10 reloads under a keep-alive client loop: no failed request, no stale answer after each ↻', async () => {
  const cli = a?.cli as CliProcess;
  const port = a?.port ?? 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const results: Array<{ start: number; status: number; body: string; error?: string }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      try {
        const r = await get(port, '/loop', { agent });
        results.push({ start, status: r.status, body: r.text });
      } catch (error) {
        results.push({ start, status: 0, body: '', error: String(error) });
      }
    }
  })();
  const windows: Array<{ value: string; from: number; to: number }> = [];
  try {
    for (let i = 1; i <= 10; i++) {
      const value = `loop${i}`;
      const m = mark(cli);
      const last = windows[windows.length - 1];
      if (last !== undefined) last.to = performance.now();
      await writeFile(join(dirA, 'lib.ts'), libTs(value));
      await waitNew(cli, m, /↻ lib\.ts changed → reloaded/);
      const seen = performance.now();
      windows.push({ value, from: seen, to: Infinity });
      await waitUntil(() => (results.filter((r) => r.start > seen).length >= 2 ? true : undefined), WAIT_MS, `requests after reload ${i}`);
    }
  } finally {
    running = false;
    await loop;
    agent.destroy();
  }
  const failed = results.filter((r) => r.status !== 200);
  assert.equal(failed, [], 'no request failed');
  assert.ok(results.length >= 20, `the loop made ${results.length} requests`);
  for (const w of windows) {
    const inWindow = results.filter((r) => r.start >= w.from && r.start < w.to);
    assert.ok(inWindow.length >= 2, `requests after the ↻ of ${w.value}`);
    const stale = inWindow.filter((r) => !r.body.includes(`value=${w.value}+`));
    assert.equal(stale, [], `answers after the ↻ of ${w.value} come from the new code`);
  }
});

fetchApp.run();

// ---- Hono ------------------------------------------------------------------------------------

const honoApp = suite('serve-here --app with a Hono app');
let dirB = '';
let b: Served | undefined;

honoApp.before(
  setup(async () => {
    dirB = await tree(
      {
        'app.ts': `import { Hono } from 'hono';
const app = new Hono();
app.get('/', (c) => c.text('hono root'));
app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name'), path: c.req.path }));
export default app;
`,
        'style.css': 'body { color: rebeccapurple }',
      },
      true,
    );
    b = await serve(dirB, ['--app', 'app.ts']);
  }),
);
honoApp.after(async () => {
  await stop(b?.cli);
  await removeTree(dirB);
});

honoApp('a Hono app answers its routes and static files are served beside it', async () => {
  const port = b?.port ?? 0;
  assert.match(b?.cli.stdout() ?? '', 'app.ts → / (fetch handler: default export { fetch })');
  const root = await get(port, '/');
  assert.is(root.status, 200);
  assert.is(root.text, 'hono root');
  const hello = await get(port, '/hello/world');
  assert.is(hello.status, 200);
  assert.equal(JSON.parse(hello.text), { hello: 'world', path: '/hello/world' });
  const css = await get(port, '/style.css');
  assert.is(css.status, 200);
  assert.match(css.headers['content-type'] ?? '', 'text/css');
  assert.is(css.text, 'body { color: rebeccapurple }');
  const missing = await get(port, '/nope');
  assert.is(missing.status, 404);
  assert.is(missing.text, '404 Not Found', "Hono's own 404");
});

honoApp.run();

// ---- Express at /api and a fetch app at /auth -----------------------------------------------------

const twoApps = suite('serve-here --app /api=api.ts (Express) --app /auth=auth.ts');
let dirC = '';
let c: Served | undefined;

twoApps.before(
  setup(async () => {
    dirC = await tree(
      {
        'api.ts': `import express from 'express';
const app = express();
app.get('/users', (req, res) => {
  res.json({ baseUrl: req.baseUrl, originalUrl: req.originalUrl, url: req.url, ip: req.ip });
});
export default app;
`,
        'auth.ts': `export default {
  fetch(request: Request, info: { prefix: string }): Response {
    return new Response(\`auth \${new URL(request.url).pathname} prefix=\${info.prefix} fwd=\${request.headers.get('x-forwarded-prefix')}\`);
  },
};
`,
        'index.html': '<h1>home</h1>',
        'page.txt': 'a static page',
        'api/readme.txt': 'a static file under the /api prefix',
      },
      true,
    );
    c = await serve(dirC, ['--app', '/api=api.ts', '--app', '/auth=auth.ts']);
  }),
);
twoApps.after(async () => {
  await stop(c?.cli);
  await removeTree(dirC);
});

twoApps('the banner lists both mounts', () => {
  const out = c?.cli.stdout() ?? '';
  assert.match(out, 'api.ts → /api (node (req, res): default export Express/Connect app)');
  assert.match(out, 'auth.ts → /auth (fetch handler: default export { fetch })');
});

twoApps('an Express app at /api sees the path below it, with req.baseUrl /api', async () => {
  const res = await get(c?.port ?? 0, '/api/users?x=1');
  assert.is(res.status, 200);
  assert.equal(JSON.parse(res.text), { baseUrl: '/api', originalUrl: '/api/users?x=1', url: '/users?x=1', ip: '127.0.0.1' });
});

twoApps('a fetch app at /auth answers beside it, and static files are served at the root', async () => {
  const port = c?.port ?? 0;
  const auth = await get(port, '/auth/login');
  assert.is(auth.status, 200);
  assert.is(auth.text, 'auth /login prefix=/auth fwd=/auth');
  const home = await get(port, '/');
  assert.is(home.text, '<h1>home</h1>');
  const page = await get(port, '/page.txt');
  assert.is(page.text, 'a static page');
});

twoApps('under /api a static file wins; a folder without index.html goes to the app, not a listing', async () => {
  const port = c?.port ?? 0;
  const file = await get(port, '/api/readme.txt');
  assert.is(file.status, 200);
  assert.is(file.text, 'a static file under the /api prefix');
  const folder = await get(port, '/api/');
  assert.is(folder.status, 404);
  assert.match(folder.text, 'Cannot GET /api/', "Express's own 404");
  assert.not.match(folder.text, 'readme.txt');
  const bare = await get(port, '/api');
  assert.match(bare.text, 'Cannot GET /api', 'no redirect to /api/ and no listing');
});

twoApps('/apix does not match the /api mount', async () => {
  const port = c?.port ?? 0;
  for (const path of ['/apix', '/apix/users']) {
    const res = await get(port, path);
    assert.is(res.status, 404, path);
    assert.not.match(res.text, 'Cannot GET', `${path} reached Express`);
  }
});

twoApps('mount source files outside their prefix are not served (404, no source text)', async () => {
  const port = c?.port ?? 0;
  for (const path of ['/api.ts', '/auth.ts']) {
    const res = await get(port, path);
    assert.is(res.status, 404, path);
    assert.not.match(res.text, 'export default', `${path} leaked its source`);
  }
});

twoApps('the log line of an app request carries its mount label', async () => {
  const cli = c?.cli as CliProcess;
  const m = mark(cli);
  await get(c?.port ?? 0, '/api/users');
  await waitNew(cli, m, /200 GET \/api\/users .* \/api$/m);
  const n = mark(cli);
  await get(c?.port ?? 0, '/auth/x');
  await waitNew(cli, n, /200 GET \/auth\/x .* \/auth$/m);
});

twoApps.run();

// ---- WSGI-style --------------------------------------------------------------------------------

const wsgiApp = suite('serve-here --app with a WSGI-style module');
let dirD = '';
let d: Served | undefined;
const WSGI_TS = `export function wsgi(environ: Record<string, unknown>, startResponse: (status: string, headers: Array<[string, string]>) => unknown): string[] {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [\`wsgi script=\${environ.SCRIPT_NAME} path=\${environ.PATH_INFO} query=\${environ.QUERY_STRING} remote=\${environ.REMOTE_ADDR} mp=\${environ['wsgi.multiprocess']}\`];
}
`;

wsgiApp.before(
  setup(async () => {
    dirD = await tree({ 'wsgi.ts': WSGI_TS, 'static.txt': 'static beside wsgi' });
    d = await serve(dirD, ['--app', '/py=wsgi.ts']);
  }),
);
wsgiApp.after(async () => {
  await stop(d?.cli);
  await removeTree(dirD);
});

wsgiApp('a WSGI-style app answers at its prefix and static files are served beside it', async () => {
  const port = d?.port ?? 0;
  assert.match(d?.cli.stdout() ?? '', 'wsgi.ts → /py (WSGI-style: export function wsgi)');
  const res = await get(port, '/py/some%20where?a=1');
  assert.is(res.status, 200);
  assert.is(res.text, 'wsgi script=/py path=/some where query=a=1 remote=127.0.0.1 mp=false');
  assert.is(res.headers['content-length'], String(Buffer.byteLength(res.text)));
  const file = await get(port, '/static.txt');
  assert.is(file.text, 'static beside wsgi');
});

wsgiApp.run();

// ---- failures: throw, hang, exit -------------------------------------------------------------------

const FAILING_APP = `export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === '/throw') throw new Error('boom from the handler');
    if (pathname === '/hang') return new Promise<Response>(() => {});
    if (pathname === '/exit') process.exit(3);
    return new Response(\`alive pid=\${process.pid}\`);
  },
};
`;

const failures = suite('serve-here --app: handler failures');
let dirE = '';
let e: Served | undefined;

failures.before(
  setup(async () => {
    dirE = await tree({ 'app.ts': FAILING_APP, 'static.txt': 'still here' });
    e = await serve(dirE, ['--app', 'app.ts'], { SERVE_HERE_APP_TIMEOUT_MS: '800' });
  }),
);
failures.after(async () => {
  await stop(e?.cli);
  await removeTree(dirE);
});

failures('a handler that throws answers a 500 error page; the next request is 200', async () => {
  const cli = e?.cli as CliProcess;
  const port = e?.port ?? 0;
  const m = mark(cli);
  const res = await get(port, '/throw', { headers: { Accept: 'text/html' } });
  assert.is(res.status, 500);
  assert.match(res.headers['content-type'] ?? '', 'text/html');
  assert.match(res.text, 'boom from the handler');
  assert.match(res.text, /app\.ts:4:\d+/);
  await waitNew(cli, m, /✖ GET \/throw threw: boom from the handler \(app\.ts:4:\d+\)/);
  const next = await get(port, '/after-throw');
  assert.is(next.status, 200);
  assert.match(next.text, /^alive pid=\d+$/);
});

failures('a handler that never answers gets 504 after SERVE_HERE_APP_TIMEOUT_MS', async () => {
  const port = e?.port ?? 0;
  const started = performance.now();
  const res = await get(port, '/hang');
  const ms = performance.now() - started;
  assert.is(res.status, 504);
  assert.ok(ms >= 700 && ms < 10_000, `answered after ${Math.round(ms)} ms`);
  const next = await get(port, '/after-hang');
  assert.is(next.status, 200);
});

failures('process.exit(3) in a handler: 502 for that request, crash logged, the app restarts', async () => {
  const cli = e?.cli as CliProcess;
  const port = e?.port ?? 0;
  const before = await get(port, '/');
  const pid = /pid=(\d+)/.exec(before.text)?.[1];
  assert.ok(pid !== undefined, before.text);
  const m = mark(cli);
  const res = await get(port, '/exit');
  assert.is(res.status, 502);
  await waitNew(cli, m, /✖ app process crashed: exited with code 3/);
  const again = await poll(port, '/', (r) => r.status === 200, 'the restarted app to answer 200');
  assert.match(again.text, /^alive pid=\d+$/);
  assert.is.not(/pid=(\d+)/.exec(again.text)?.[1], pid, 'a new app process answers');
  const file = await get(port, '/static.txt');
  assert.is(file.text, 'still here');
});

failures.run();

// ---- a blocked event loop ------------------------------------------------------------------------

const blocked = suite('serve-here --app: a busy loop in the app');
let dirE2 = '';
let e2: Served | undefined;

blocked.before(
  setup(async () => {
    dirE2 = await tree({
      'app.ts': `export default {
  fetch(request: Request): Response {
    if (new URL(request.url).pathname === '/busy') {
      console.log('busy-loop-started');
      for (;;) {}
    }
    return new Response(\`alive pid=\${process.pid}\`);
  },
};
`,
      'static.txt': 'static while blocked',
    });
    e2 = await serve(dirE2, ['--app', 'app.ts'], { SERVE_HERE_BLOCKED_MS: '1000' });
  }),
);
blocked.after(async () => {
  await stop(e2?.cli);
  await removeTree(dirE2);
});

blocked('a blocked app is reported and replaced; static files answer meanwhile', async () => {
  const cli = e2?.cli as CliProcess;
  const port = e2?.port ?? 0;
  const first = await get(port, '/');
  const pid = /pid=(\d+)/.exec(first.text)?.[1];
  assert.ok(pid !== undefined, first.text);
  const m = mark(cli);
  let busySettled = false;
  const busy = get(port, '/busy').then(
    (r) => r,
    (error: unknown) => ({ status: 0, headers: {}, text: String(error) }) as Got,
  );
  void busy.then(() => (busySettled = true));
  await waitNew(cli, m, /busy-loop-started/);
  const file = await get(port, '/static.txt');
  assert.is(file.status, 200);
  assert.is(file.text, 'static while blocked');
  assert.is(busySettled, false, 'the static file answered while the app was still blocked');
  await waitNew(cli, m, /⚠ app event loop blocked for [\d.]+ s — starting a new app process/);
  const again = await poll(port, '/', (r) => r.status === 200, 'the replacement app to answer 200');
  assert.is.not(/pid=(\d+)/.exec(again.text)?.[1], pid, 'a new app process answers');
  const busyResult = await busy;
  assert.ok(busyResult.status >= 500, `the blocked request ended with ${busyResult.status} ${busyResult.text.slice(0, 100)}`);
});

blocked.run();

// ---- server-sent events and upgrades ------------------------------------------------------------

const streaming = suite('serve-here --app: server-sent events and upgrades');
let dirF = '';
let f: Served | undefined;
const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const WS_ACCEPT = createHash('sha1').update(`${WS_KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

streaming.before(
  setup(async () => {
    dirF = await tree({
      'app.ts': `import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
let release: () => void = () => {};
export default {
  fetch(request: Request): Response {
    const { pathname } = new URL(request.url);
    if (pathname === '/release') {
      release();
      return new Response('released');
    }
    if (pathname === '/events') {
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode('event: hello\\ndata: first\\n\\n'));
          await new Promise<void>((r) => { release = r; });
          controller.enqueue(encoder.encode('data: second\\n\\n'));
          controller.close();
        },
      });
      return new Response(stream, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
    }
    return new Response('stream app');
  },
};
export function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const key = String(req.headers['sec-websocket-key'] ?? '');
  const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\nX-Upgrade-Url: ' + req.url + '\\r\\n\\r\\n');
  if (head.length > 0) socket.write(head);
  socket.on('data', (d: Buffer) => socket.write(d));
  socket.on('end', () => console.log('upgraded-socket-ended ' + req.url));
}
`,
    });
    f = await serve(dirF, ['--app', 'app.ts']);
  }),
);
streaming.after(async () => {
  await stop(f?.cli);
  await removeTree(dirF);
});

streaming('server-sent events pass through: the first event arrives before the stream ends', async () => {
  const port = f?.port ?? 0;
  const req = http.get({ host: '127.0.0.1', port, path: '/events', agent: false });
  req.setTimeout(WAIT_MS, () => req.destroy(new Error('SSE stalled')));
  try {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    assert.is(res.statusCode, 200);
    assert.match(res.headers['content-type'] ?? '', 'text/event-stream');
    res.setEncoding('utf8');
    let text = '';
    let ended = false;
    const end = new Promise<void>((resolve, reject) => {
      res.on('end', () => {
        ended = true;
        resolve();
      });
      res.on('error', reject);
      req.on('error', reject);
    });
    res.on('data', (chunk: string) => (text += chunk));
    await waitUntil(() => (text.includes('data: first\n\n') ? true : undefined), WAIT_MS, 'the first event');
    assert.is(ended, false, 'the stream is still open');
    assert.is(text, 'event: hello\ndata: first\n\n');
    const released = await get(port, '/release');
    assert.is(released.text, 'released');
    await end;
    assert.is(text, 'event: hello\ndata: first\n\ndata: second\n\n');
  } finally {
    req.destroy();
  }
});

streaming('an upgrade request reaches the app\'s upgrade(req, socket, head) and answers 101', async () => {
  const port = f?.port ?? 0;
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(`GET /ws?room=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await waitUntil(() => (data.includes('\r\n\r\n') ? true : undefined), WAIT_MS, 'the 101 response');
    const head = data.slice(0, data.indexOf('\r\n\r\n'));
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(head, `Sec-WebSocket-Accept: ${WS_ACCEPT}`);
    assert.match(head, 'X-Upgrade-Url: /ws?room=1');
    const before = data.length;
    socket.write('ping over the upgraded socket');
    await waitUntil(() => (data.slice(before).includes('ping over the upgraded socket') ? true : undefined), WAIT_MS, 'the echo');
  } finally {
    socket.destroy();
  }
});

/** Open an upgraded connection to `path` and resolve once the 101 arrived. */
async function openUpgraded(port: number, path: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await waitUntil(() => (data.includes('\r\n\r\n') ? true : undefined), WAIT_MS, `the 101 response for ${path}`);
  assert.match(data, /^HTTP\/1\.1 101 /);
  return socket;
}

streaming('a client leaving an upgraded connection: the app is told and the server closes its side', async () => {
  const cli = f?.cli as CliProcess;
  const m = mark(cli);
  const socket = await openUpgraded(f?.port ?? 0, '/ws-leave');
  let closed = false;
  socket.once('close', () => (closed = true));
  try {
    socket.end(); // a FIN, as when a browser tab goes away
    await waitNew(cli, m, /upgraded-socket-ended \/ws-leave/);
    // The app ignores 'end' (as a naive handler does); serve-here must not keep the client socket half-open.
    await waitUntil(() => (closed ? true : undefined), WAIT_MS, 'serve-here to close the client socket');
  } finally {
    socket.destroy();
  }
});

streaming('SIGTERM stops the server while an upgraded connection is open', async () => {
  const own = await serve(dirF, ['--app', 'app.ts']);
  let socket: net.Socket | undefined;
  try {
    socket = await openUpgraded(own.port, '/ws-open');
    const started = performance.now();
    own.cli.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([own.cli.exited, new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), 10_000)))]);
    clearTimeout(timer);
    assert.is(code, 0, `exit after SIGTERM (${Math.round(performance.now() - started)} ms)`);
  } finally {
    socket?.destroy();
    await stop(own.cli);
  }
});

streaming.run();

// ---- --env-file --------------------------------------------------------------------------------

const envFile = suite('serve-here --app --env-file');
let dirG = '';
let g: Served | undefined;

envFile.before(
  setup(async () => {
    dirG = await tree({
      'app.ts': `export default { fetch: () => Response.json({ fromFile: process.env.FROM_ENV_FILE ?? null, fromProcess: process.env.FROM_PROCESS_ENV ?? null }) };\n`,
      '.env': 'FROM_ENV_FILE=file-value\n',
    });
    g = await serve(dirG, ['--app', 'app.ts', '--env-file', join(dirG, '.env')], { FROM_PROCESS_ENV: 'process-value' });
  }),
);
envFile.after(async () => {
  await stop(g?.cli);
  await removeTree(dirG);
});

envFile('variables from --env-file and from the process environment both reach the app', async () => {
  const res = await get(g?.port ?? 0, '/');
  assert.equal(JSON.parse(res.text), { fromFile: 'file-value', fromProcess: 'process-value' });
});

envFile('a change to the env file reloads the app with the new value', async () => {
  const cli = g?.cli as CliProcess;
  const m = mark(cli);
  await writeFile(join(dirG, '.env'), 'FROM_ENV_FILE=changed-value\n');
  await waitNew(cli, m, /↻ \.env changed → reloaded/);
  const res = await get(g?.port ?? 0, '/');
  assert.equal(JSON.parse(res.text), { fromFile: 'changed-value', fromProcess: 'process-value' });
});

envFile.run();

// ---- --no-watch and --workers --------------------------------------------------------------------

const PID_APP = `export default { fetch: () => Response.json({ pid: process.pid }) };\n`;
const inProcess = suite('serve-here --app --no-watch [--workers 2]');
let dirH = '';

inProcess.before(
  setup(async () => {
    dirH = await tree({ 'app.ts': PID_APP, 'wsgi.ts': WSGI_TS, 'static.txt': 'static in process' });
  }),
);
inProcess.after(async () => {
  await removeTree(dirH);
});

inProcess('--no-watch serves the app in the serve-here process itself', async () => {
  let h: Served | undefined;
  try {
    h = await serve(dirH, ['--app', 'app.ts', '--app', '/py=wsgi.ts', '--no-watch']);
    assert.match(h.cli.stdout(), /app\.ts → \/ \(fetch handler: default export \{ fetch \}\), in process, loaded in \d+ ms/);
    const res = await get(h.port, '/');
    assert.equal(JSON.parse(res.text), { pid: h.cli.child.pid });
    const wsgi = await get(h.port, '/py/x');
    assert.match(wsgi.text, 'mp=false');
    const file = await get(h.port, '/static.txt');
    assert.is(file.text, 'static in process');
  } finally {
    await stop(h?.cli);
  }
});

inProcess('--workers 2 --no-watch answers from two processes, and wsgi.multiprocess is true', async () => {
  let h: Served | undefined;
  try {
    h = await serve(dirH, ['--app', 'app.ts', '--app', '/py=wsgi.ts', '--no-watch', '--workers', '2']);
    assert.match(h.cli.stdout(), '2 worker processes share the port');
    const port = h.port;
    const pids = new Set<number>();
    await waitUntil(
      async () => {
        const res = await get(port, '/', { ms: 5000 }).catch(() => undefined);
        if (res?.status === 200) pids.add((JSON.parse(res.text) as { pid: number }).pid);
        return pids.size >= 2 ? true : undefined;
      },
      WAIT_MS,
      'answers from two worker processes',
    );
    assert.not.ok(pids.has(h.cli.child.pid ?? -1), 'the primary does not answer itself');
    const wsgi = await get(port, '/py/x');
    assert.match(wsgi.text, 'mp=true');
  } finally {
    await stop(h?.cli);
  }
});

inProcess.run();

// ---- modules without a handler, bad flags ------------------------------------------------------------

const noHandler = suite('serve-here --app: a module with no handler');
let dirI = '';

noHandler.before(
  setup(async () => {
    dirI = await tree({ 'app.ts': 'export const config = { port: 1 };\nexport function helper(): number { return 1; }\n', 'static.txt': 'static without an app' });
  }),
);
noHandler.after(async () => {
  await removeTree(dirI);
});

noHandler('with --no-watch the CLI exits 1 with one line naming the three shapes', async () => {
  const r = await runBounded(['--port', '0', '--app', 'app.ts', '--no-watch', dirI], dirI);
  assert.is(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0] as string, /^serve-here: .*app\.ts has no request handler \(found exports .*"config".*\)/);
  assert.match(lines[0] as string, 'a fetch handler');
  assert.match(lines[0] as string, 'a Node listener');
  assert.match(lines[0] as string, 'WSGI-style');
  assert.not.match(r.stdout, 'serving');
});

noHandler('in watch mode the server stays up; app routes answer 500 with the message; static files 200', async () => {
  let h: Served | undefined;
  try {
    h = await serve(dirI, ['--app', 'app.ts']);
    await h.cli.waitFor(/App \/  failed to load: app\.ts has no request handler/, WAIT_MS);
    const res = await get(h.port, '/anything');
    assert.is(res.status, 500);
    assert.match(res.text, 'has no request handler');
    assert.match(res.text, '"config"');
    assert.match(res.text, 'WSGI-style');
    const file = await get(h.port, '/static.txt');
    assert.is(file.status, 200);
    assert.is(file.text, 'static without an app');
    assert.is(h.cli.child.exitCode, null, 'still running');
  } finally {
    await stop(h?.cli);
  }
});

noHandler('an unknown --app-style exits 2', async () => {
  const r = await runBounded(['--port', '0', '--app', 'app.ts', '--app-style', 'rack', dirI], dirI);
  assert.is(r.code, 2);
  assert.match(r.stderr, 'rack');
  assert.not.match(r.stdout, 'serving');
});

noHandler.run();
