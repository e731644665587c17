// The last-resort boundary (src/guard.ts) on a real CLI server: with the test hook on
// (SERVE_HERE_FAULT=1, src/fault.ts), a request makes one stage of serving throw; the server
// answers that request 500 or cuts it, writes one escaped line, and keeps answering everyone else.
// A throw no connection explains stops the process: exit 1, one line.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { makeTree, rawRequest, removeTree, request, spawnCli, startServer, type CliProcess } from './helpers/server.js';
import { parseArgv } from '../src/cli.js';
import { Router, type AppBackend } from '../src/app/router.js';
import { FOLLOWS_ASYNC_WORK } from '../src/guard.js';
import { parseRaw, rawGet, waitUntil } from './helpers/http.js';

const MARK = 'serve-here-fault=';
const LINE = /internal error while serving/g;

const API = `export default function (req, res) {
  if (req.url.includes('channel')) return void res.end('the body carries ${MARK}channel');
  if (req.url.startsWith('/hang')) return; // never answered: the server's app timeout fires
  res.end('app ok');
}
`;

const walk = suite('a throw at each stage ends one connection; the server keeps serving');
let dir = '';
let cli: CliProcess | undefined;
let port = 0;

walk.before(async () => {
  dir = realpathSync(await makeTree({ 'a.txt': 'static ok', 'folder/b.txt': 'b', 'api/api.mjs': API }));
  cli = spawnCli(['--port', '0', '--upload', '--app', `/api=${join(dir, 'api/api.mjs')}`, dir], { cwd: dir, env: { SERVE_HERE_FAULT: '1', SERVE_HERE_APP_TIMEOUT_MS: '1500' } });
  port = Number((await cli.waitFor(/at http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
});
walk.after(async () => {
  await cli?.stop();
  await removeTree(dir);
});

const lines = (): number => (cli?.stderr() ?? '').match(LINE)?.length ?? 0;

async function othersAnswered(): Promise<void> {
  assert.is((await request(port, '/a.txt')).text, 'static ok', `static after the fault; stderr=${cli?.stderr() ?? ''}`);
  // The app may be restarting (the channel stage ends its process): it answers again within seconds.
  await waitUntil(async () => ((await request(port, '/api/x').catch(() => undefined))?.text === 'app ok' ? true : undefined), 10_000, 'the app answering');
  assert.is(cli?.child.exitCode, null, 'the server is still running');
}

/** [stage, raw request, what the faulty request itself gets: a status, or 'any' for an answer then a cut] */
const STAGES: Array<[string, string, number | 'any']> = [
  ['gate', rawGet(`/a.txt?${MARK}gate`), 500],
  ['route', rawGet(`/a.txt?${MARK}route`), 500],
  ['respond', rawGet(`/a.txt?${MARK}respond`), 500],
  ['static', rawGet(`/a.txt?${MARK}static`), 500],
  ['listing', rawGet(`/folder/?${MARK}listing`), 500],
  ['zip', rawGet(`/folder/?zip&${MARK}zip`), 'any'],
  ['upload', `PUT /up.txt?${MARK}upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`, 500],
  ['log', rawGet(`/a.txt?${MARK}log`), 'any'],
  ['relay', rawGet(`/api/x?${MARK}relay`), 500],
  ['channel', rawGet('/api/channel'), 'any'],
  ['timer', rawGet(`/api/hang?${MARK}timer`), 500],
  ['promise', rawGet(`/a.txt?${MARK}promise`), 'any'],
];

for (const [stage, raw, expected] of STAGES) {
  walk(`stage "${stage}"`, async () => {
    if (stage === 'promise' && !FOLLOWS_ASYNC_WORK) {
      console.log(`  skipped: on Node ${process.versions.node} scopes do not follow unawaited promises (src/guard.ts)`);
      return;
    }
    const before = lines();
    const answer = await rawRequest(port, raw, 5000);
    if (expected !== 'any') assert.is(parseRaw(answer).status, expected, `${stage}: ${answer.slice(0, 200)}`);
    await waitUntil(() => (lines() > before ? true : undefined), 5000, `the error line for ${stage}`);
    await othersAnswered();
    assert.is(lines(), before + 1, `one line for ${stage}: ${cli?.stderr() ?? ''}`);
    const line = (cli?.stderr() ?? '').split('\n').filter((l) => l.includes('internal error while serving')).pop() ?? '';
    assert.match(line, stage === 'channel' ? /the channel to app process/ : new RegExp(`${MARK}${stage}|injected fault at stage "${stage}"`));
  });
}

walk('a refused upload leaves no partial file behind', () => {
  assert.not.ok(existsSync(join(dir, 'up.txt')));
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('.')), []);
});

walk.run();

const outside = suite('a throw outside any connection');

outside('exits 1 with one line', async () => {
  const root = await makeTree({ 'a.txt': 'x' });
  const p = spawnCli(['--port', '0', root], { env: { SERVE_HERE_FAULT: '1' } });
  try {
    const at = Number((await p.waitFor(/at http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
    await rawRequest(at, rawGet(`/a.txt?${MARK}outside`), 3000);
    assert.is(await p.exited, 1);
    const said = p.stderr().split('\n').filter((l) => /internal error/.test(l));
    assert.equal(said.length, 1, p.stderr());
    assert.match(said[0] ?? '', /^serve-here: internal error outside any connection: Error: injected fault at stage "outside"/);
  } finally {
    await p.stop('SIGKILL');
    await removeTree(root);
  }
});

outside.run();

const router = suite('AppRouter.handle() never rejects');

router('a backend that throws or rejects: that request gets 500, the server lives', async () => {
  const root = realpathSync(await makeTree({ 'a.txt': 'static ok', 'app.mjs': 'export default () => {}\n' }));
  const opts = parseArgv(['--app', `/x=${join(root, 'app.mjs')}`, root]);
  const backend: AppBackend = {
    handle: async (req) => {
      if (req.url === '/x/sync') throw new Error('a backend bug, thrown');
      await Promise.resolve();
      throw new Error('a backend bug, rejected');
    },
    upgrade: () => false,
    onAppFiles: () => {},
    describe: () => [],
    close: async () => {},
  };
  const srv = await startServer({ root, app: new Router(opts, backend) });
  try {
    for (const path of ['/x/sync', '/x/async']) assert.is((await request(srv.port, path)).status, 500, path);
    assert.is((await request(srv.port, '/a.txt')).text, 'static ok');
    assert.is(srv.err.text.match(/internal error while serving GET \/x\/(sync|async)/g)?.length, 2, srv.err.text);
  } finally {
    await srv.close();
    await removeTree(root);
  }
});

router.run();
