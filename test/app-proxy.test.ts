// Security of the app hop (src/app/proxy.ts, router.ts, forwarded.ts, child.ts) through the CLI on
// real sockets: what is never served, where apps run, app connections pinned to client
// connections, proxy headers, the server's path split, and garbage from an app.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, realpathSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { makeTree, removeTree, spawnCli, type CliProcess } from './helpers/server.js';
import { holdSocket, waitUntil, type HeldSocket } from './helpers/http.js';

const WAIT_MS = 15_000;
const BANNER = /serving (.+) at http:\/\/127\.0\.0\.1:(\d+)\//;

const API = `import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { word } from './lib.ts';
const open = new Set<Socket>();
const recorded: string[] = [];
const seen = (req: IncomingMessage): string => JSON.stringify({
  xff: req.headers['x-forwarded-for'], xfh: req.headers['x-forwarded-host'], xfp: req.headers['x-forwarded-proto'],
  prefix: req.headers['x-forwarded-prefix'] ?? null, forwarded: req.headers.forwarded ?? null, real: req.headers['x-real-ip'] ?? null,
});
export default async function (req: IncomingMessage, res: ServerResponse): Promise<void> {
  const socket = req.socket;
  if (!open.has(socket)) {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  }
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/early') return void res.end('early');
  if (path === '/conns') return void res.end(String(open.size));
  if (path === '/over') {
    res.writeHead(200, { 'content-length': '2' });
    try {
      res.end('okHTTP/1.1 200 OK\\r\\nContent-Length: 8\\r\\n\\r\\npoisoned');
    } catch {
      res.end('ok');
    }
    // Then bytes straight on the socket, after the answer: the next answer on this connection.
    setTimeout(() => req.socket.write('HTTP/1.1 200 OK\\r\\nContent-Length: 8\\r\\n\\r\\npoisoned'), 20);
    return;
  }
  if (path === '/victim') return void res.end(word);
  if (path === '/who') {
    const port = String(req.socket.remotePort);
    res.end(port);
    await new Promise((r) => setTimeout(r, 400));
    recorded.push(\`\${port}->\${req.socket.remotePort}\`);
    return;
  }
  if (path === '/recorded') return void res.end(recorded.join(','));
  if (path === '/headers') return void res.end(seen(req));
  if (path === '/cwd') {
    writeFileSync('written-by-app.txt', 'x');
    return void res.end(process.cwd());
  }
  if (path === '/env') return void res.end(String(process.env.NODE_ENV));
  if (path === '/bad-status') {
    res.writeHead(1000);
    return void res.end();
  }
  if (path === '/bad-header') {
    res.setHeader('x-bad', 'a\\nb');
    return void res.end('x');
  }
  if (path === '/garbage') return void req.socket.end('garbage\\r\\n\\r\\n');
  res.end(\`api saw \${req.url}\`);
}
export function upgrade(req: IncomingMessage, socket: Duplex): void {
  socket.end(\`HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nX-Seen: \${seen(req)}\\r\\n\\r\\n\`);
}
`;

interface Served {
  cli: CliProcess;
  port: number;
}

async function serve(dir: string, cwd: string, args: string[], env: Record<string, string> = {}): Promise<Served> {
  const cli = spawnCli(['--port', '0', ...args, dir], { cwd, env });
  try {
    const m = await cli.waitFor(/serving (.+) at http:\/\/[^:]+:(\d+)\//, WAIT_MS);
    return { cli, port: Number(m[2]) };
  } catch (error) {
    await cli.stop('SIGKILL');
    throw error;
  }
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(WAIT_MS, () => req.destroy(new Error(`no answer to ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

function files(): Record<string, string> {
  return {
    'api/api.ts': API,
    'api/lib.ts': `export const word: string = 'victim';\n`,
    'api/package.json': '{"name":"secret-api"}',
    'api/tsconfig.json': '{"compilerOptions":{"strict":true}}',
    'package.json': '{"name":"secret-root"}',
    'app.env': 'SECRET=from-env-file\n',
    'root.ts': `export default { fetch: (r: Request) => new Response('root app ' + new URL(r.url).pathname) };\n`,
    'index.html': 'static index',
  };
}

// ---- watch mode (forwarding) ----------------------------------------------------------------------

const hop = suite('the app hop (watch mode)');
let dir = '';
let cwd = '';
let s: Served | undefined;

hop.before(async () => {
  dir = realpathSync(await makeTree(files()));
  cwd = realpathSync(await makeTree({}));
  s = await serve(dir, cwd, ['--app', join(dir, 'root.ts'), '--app', `/api=${join(dir, 'api/api.ts')}`, '--env-file', join(dir, 'app.env')]);
});
hop.after(async () => {
  await s?.cli.stop();
  await removeTree(dir);
  await removeTree(cwd);
});

hop('the env file, module-graph files and package.json/tsconfig.json next to an app are never served', async () => {
  const port = s?.port ?? 0;
  for (const path of ['/app.env', '/api/lib.ts', '/api/api.ts', '/root.ts', '/api/package.json', '/api/tsconfig.json', '/package.json']) {
    const res = await get(port, path);
    assert.not.match(res.text, /secret|SECRET|export /, `${path} leaked: ${res.status} ${res.text.slice(0, 80)}`);
  }
  assert.is((await get(port, '/')).text, 'static index');
});

hop('app processes run in the folder serve-here was started from, not the served folder', async () => {
  const res = await get(s?.port ?? 0, '/api/cwd');
  assert.is(res.text, cwd);
  assert.ok(existsSync(join(cwd, 'written-by-app.txt')));
  assert.not.ok(existsSync(join(dir, 'written-by-app.txt')), 'the app wrote into the served folder');
});

hop('//api/x and /%61pi/x reach the /api app as /x, exactly like /api/x', async () => {
  const port = s?.port ?? 0;
  assert.is((await get(port, '/api/x?q=1')).text, 'api saw /x?q=1');
  assert.is((await get(port, '//api/x?q=1')).text, 'api saw /x?q=1');
  assert.is((await get(port, '/%61pi/x?q=1')).text, 'api saw /x?q=1');
});

hop('client-sent Forwarded and X-Forwarded-* never reach the app; the server sets its own', async () => {
  const port = s?.port ?? 0;
  const lies = { Forwarded: 'for=6.6.6.6', 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Prefix': '/evil', 'X-Real-IP': '6.6.6.6' };
  const seen = JSON.parse((await get(port, '/api/headers', lies)).text) as Record<string, string | null>;
  assert.equal(seen, { xff: '127.0.0.1', xfh: `127.0.0.1:${port}`, xfp: 'http', prefix: '/api', forwarded: null, real: null });
});

hop('client-sent X-Forwarded-* never reach the app through an upgrade either', async () => {
  const port = s?.port ?? 0;
  const socket = net.connect(port, '127.0.0.1');
  let out = '';
  socket.on('data', (c: Buffer) => (out += c.toString()));
  socket.write(`GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n\r\n`);
  try {
    const line = await waitUntil(() => /X-Seen: (.*)\r\n/.exec(out)?.[1], 5000, 'the 101 answer');
    const seen = JSON.parse(line) as Record<string, string | null>;
    assert.is(seen.xff, '127.0.0.1');
    assert.is(seen.forwarded, null);
  } finally {
    socket.destroy();
  }
});

hop('a client that stops sending its body after an early answer frees its app connection at once', async () => {
  const port = s?.port ?? 0;
  const held: HeldSocket[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const h = await holdSocket(port, `POST /api/early HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 100000\r\n\r\nabc`);
      held.push(h);
      await waitUntil(() => (h.data().includes('early') ? true : undefined), 5000, 'the early answer');
    }
    // Only this request's own app connection remains open.
    await waitUntil(async () => ((await get(port, '/api/conns')).text === '1' ? true : undefined), 3000, 'one open app connection');
  } finally {
    for (const h of held) h.socket.destroy();
  }
});

hop('an app writing past its Content-Length does not poison the next client', async () => {
  const port = s?.port ?? 0;
  for (let i = 0; i < 3; i++) {
    await get(port, '/api/over').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 60)); // the app's stray bytes arrive meanwhile
    const victim = await get(port, '/api/victim');
    assert.is(victim.status, 200);
    assert.is(victim.text, 'victim');
  }
});

hop("req.socket.remotePort in a node app is still this request's client after an await", async () => {
  const port = s?.port ?? 0;
  const mine = (await get(port, '/api/who')).text;
  for (let i = 0; i < 3; i++) await get(port, '/api/victim');
  const recorded = await waitUntil(async () => {
    const r = (await get(port, '/api/recorded')).text;
    return r === '' ? undefined : r;
  }, 3000, 'the recorded port');
  assert.is(recorded, `${mine}->${mine}`);
});

hop('an invalid status, a bad header value or garbage from the app: 502 and a log line, the server lives', async () => {
  const port = s?.port ?? 0;
  for (const path of ['/api/bad-status', '/api/bad-header', '/api/garbage']) {
    const res = await get(port, path);
    assert.is(res.status, 502, `${path}: ${res.status} ${res.text.slice(0, 100)}`);
  }
  await waitUntil(() => (/bad-status/.test(s?.cli.stderr() ?? '') ? true : undefined), 3000, 'a log line');
  assert.is((await get(port, '/api/victim')).text, 'victim');
});

hop('apps on a loopback-only server keep NODE_ENV unset', async () => {
  assert.is((await get(s?.port ?? 0, '/api/env')).text, 'undefined');
});

hop.run();

// ---- --no-watch (in process) ------------------------------------------------------------------------

const inProcess = suite('the app hop (--no-watch)');
let dir2 = '';
let s2: Served | undefined;

inProcess.before(async () => {
  dir2 = realpathSync(await makeTree(files()));
  s2 = await serve(dir2, dir2, ['--no-watch', '--app', `/api=${join(dir2, 'api/api.ts')}`, '--env-file', join(dir2, 'app.env')]);
});
inProcess.after(async () => {
  await s2?.cli.stop();
  await removeTree(dir2);
});

inProcess('client-sent Forwarded and X-Forwarded-* never reach an in-process app', async () => {
  const port = s2?.port ?? 0;
  const seen = JSON.parse((await get(port, '/api/headers', { Forwarded: 'for=6.6.6.6', 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https' })).text) as Record<string, string | null>;
  assert.equal(seen, { xff: '127.0.0.1', xfh: `127.0.0.1:${port}`, xfp: 'http', prefix: '/api', forwarded: null, real: null });
});

inProcess('//api/x reaches the in-process /api app as /x', async () => {
  assert.is((await get(s2?.port ?? 0, '//api/x')).text, 'api saw /x');
});

inProcess('an invalid status or header value: 502, and the server keeps serving', async () => {
  const port = s2?.port ?? 0;
  assert.is((await get(port, '/api/bad-status')).status, 502);
  assert.is((await get(port, '/api/bad-header')).status, 502);
  assert.is((await get(port, '/api/victim')).text, 'victim');
});

inProcess('the env file and package.json next to the app are never served', async () => {
  const port = s2?.port ?? 0;
  for (const path of ['/app.env', '/api/package.json', '/api/lib.ts']) assert.not.match((await get(port, path)).text, /secret|SECRET|export /, path);
});

inProcess.run();

// ---- shared beyond loopback ---------------------------------------------------------------------------

const shared = suite('serve-here --host 0.0.0.0 --app');

shared('apps get NODE_ENV=production, and the banner says why', async () => {
  const d = realpathSync(await makeTree(files()));
  let served: Served | undefined;
  try {
    served = await serve(d, d, ['--host', '0.0.0.0', '--no-auth', '--app', `/api=${join(d, 'api/api.ts')}`]);
    assert.match(served.cli.stdout(), /apps run with NODE_ENV=production because the server is shared/);
    assert.is((await get(served.port, '/api/env')).text, 'production');
  } finally {
    await served?.cli.stop();
    await removeTree(d);
  }
});

shared.run();
