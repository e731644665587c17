// What an app process writes on its socket is relayed to the client, or answered 502 within a
// second (src/app/proxy.ts): a reason phrase with control characters, a 101 to a plain request, an
// interim 1xx other than 100/103, garbage. Each through the CLI, and the server answers after each.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { realpathSync } from 'node:fs';
import { makeTree, rawRequest, removeTree, request, spawnCli, type CliProcess } from './helpers/server.js';
import { parseRaw, rawGet } from './helpers/http.js';

const APP = `export default function (req, res) {
  const raw = {
    '/esc-reason': 'HTTP/1.1 200 \\x1b[2JCleared\\x07\\r\\nContent-Length: 2\\r\\nX-Kept: yes\\r\\n\\r\\nok',
    '/switch': 'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: x\\r\\nConnection: Upgrade\\r\\n\\r\\n',
    '/processing': 'HTTP/1.1 102 Processing\\r\\n\\r\\n',
    '/made-up': 'HTTP/1.1 150 Whatever\\r\\n\\r\\n',
    '/hint': 'HTTP/1.1 103 Early Hints\\r\\nLink: </a.css>; rel=preload\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nhinted',
    '/garbage': 'garbage\\r\\n\\r\\n',
    '/nine-nine-nine': 'HTTP/1.1 999 X\\r\\nContent-Length: 0\\r\\n\\r\\n',
  }[req.url];
  if (raw !== undefined) return void req.socket.write(raw);
  res.end('alive');
}
`;

const relay = suite('relay what the app sends, or 502');
let dir = '';
let cli: CliProcess | undefined;
let port = 0;

relay.before(async () => {
  dir = realpathSync(await makeTree({ 'app.mjs': APP }));
  cli = spawnCli(['--port', '0', '--app', join(dir, 'app.mjs'), dir], { cwd: dir });
  port = Number((await cli.waitFor(/at http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
});
relay.after(async () => {
  await cli?.stop();
  await removeTree(dir);
});

async function alive(): Promise<void> {
  const res = await request(port, '/other');
  assert.is(res.text, 'alive', `server gone? stderr=${cli?.stderr() ?? ''}`);
}

relay('a reason phrase with control characters: the status and body go through, the phrase does not', async () => {
  const raw = await rawRequest(port, rawGet('/esc-reason'), 3000);
  const res = parseRaw(raw);
  assert.is(res.status, 200, raw);
  assert.is(res.body, 'ok');
  assert.is(res.headers['x-kept'], 'yes');
  assert.not.match(raw, /\x1b|\x07/);
  await alive();
  assert.is(cli?.child.exitCode, null);
});

for (const [path, what] of [['/switch', '101 to a plain request'], ['/processing', '102'], ['/made-up', '150'], ['/garbage', 'garbage'], ['/nine-nine-nine', '999 (no status a client knows)']] as const) {
  relay(`${what}: 502 within a second`, async () => {
    const started = performance.now();
    const res = parseRaw(await rawRequest(port, rawGet(path), 3000));
    const ms = performance.now() - started;
    assert.is(res.status, 502, `${path} after ${Math.round(ms)} ms`);
    assert.ok(ms < 1000, `${path}: ${Math.round(ms)} ms`);
    await alive();
  });
}

relay('a 103 before the answer: the answer goes through', async () => {
  const res = parseRaw(await rawRequest(port, rawGet('/hint'), 3000).then((r) => r.replace(/^HTTP\/1\.1 103[^]*?\r\n\r\n/, '')));
  assert.is(res.status, 200);
  assert.is(res.body, 'hinted');
});

relay.run();

const inProcess = suite('--no-watch: an interim or unknown status is never the answer');
let dir2 = '';
let cli2: CliProcess | undefined;
let port2 = 0;

inProcess.before(async () => {
  dir2 = realpathSync(await makeTree({ 'app.mjs': `export default function (req, res) {
  const status = Number(req.url.slice(1));
  if (status > 0) { res.writeHead(status, { Upgrade: 'x', Connection: 'Upgrade' }); return void res.end(); }
  res.end('alive');
}
` }));
  cli2 = spawnCli(['--port', '0', '--no-watch', '--app', join(dir2, 'app.mjs'), dir2], { cwd: dir2 });
  port2 = Number((await cli2.waitFor(/at http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
});
inProcess.after(async () => {
  await cli2?.stop();
  await removeTree(dir2);
});

for (const status of [101, 102, 150, 999]) {
  inProcess(`an in-process app answering ${status} to a plain request: 502 within a second`, async () => {
    const started = performance.now();
    const res = parseRaw(await rawRequest(port2, rawGet(`/${status}`), 3000));
    const ms = performance.now() - started;
    assert.is(res.status, 502, `${status} after ${Math.round(ms)} ms`);
    assert.ok(ms < 1000, `${Math.round(ms)} ms`);
    assert.is((await request(port2, '/other')).text, 'alive');
  });
}

inProcess.run();

const down = suite('an upgrade while no app process answers');

down('a broken app: a WebSocket upgrade gets 503 (try again), not 404 (no such endpoint)', async () => {
  const d = realpathSync(await makeTree({ 'app.mjs': "throw new Error('broken at load');\n" }));
  const c = spawnCli(['--port', '0', '--app', join(d, 'app.mjs'), d], { cwd: d });
  try {
    const p = Number((await c.waitFor(/at http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
    const raw = await rawRequest(p, 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 3000);
    assert.match(raw, /^HTTP\/1\.1 503 /, raw);
  } finally {
    await c.stop();
    await removeTree(d);
  }
});

down.run();
