// `serve-here export <target>`: the text it prints, its exit codes, and the nginx config run for
// real: Debian's nginx in front of `serve-here --no-watch --workers 2`, the same HTTP checks
// through nginx and to serve-here alone, the same answers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { skip } from './helpers/skip.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest, runCli, BIN } from './helpers/server.js';
import { runExe, spawnExe, type Proc } from './helpers/bin.js';
import { copyFile } from 'node:fs/promises';
import { APPS_DIR, freePort, startWorkerd, workerd } from './helpers/engines.js';
import { NGINX, startNginx } from './helpers/nginx.js';
import { send, type Reply } from './helpers/portable-checks.js';

const cli = suite('serve-here export');

cli('an unknown target exits 2 and lists the targets', async () => {
  const r = await runCli(['export', 'apache']);
  assert.is(r.code, 2);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /Unknown export target "apache"/);
  for (const t of ['nginx', 'systemd', 'deno', 'workers']) assert.match(r.stderr, new RegExp(`\\n {2}${t} `));
});

cli('systemd without --app exits 2; a bad flag exits 2', async () => {
  assert.is((await runCli(['export', 'systemd'])).code, 2);
  assert.is((await runCli(['export', 'nginx', '--nope'])).code, 2);
  assert.is((await runCli(['export', 'nginx', '--port', '0'])).code, 2);
});

const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));

cli('systemd: serve-here --no-watch --workers N on loopback, the same mounts and flags, restarted', async () => {
  const r = await runCli(['export', 'systemd', 'site', '--app', '/api=api.ts', '--workers', '3', '--spa', '--port', '8123']);
  assert.is(r.code, 0, r.stderr);
  const exec = /^ExecStart=(.*)$/m.exec(r.stdout)?.[1] ?? '';
  assert.match(exec, / --no-watch --workers 3 --port 8123 --app \/api=\/\S*\/api\.ts --spa --trust-proxy loopback /);
  assert.ok(exec.includes(BIN), 'starts this very install');
  assert.not.match(exec, /--host|--share|0\.0\.0\.0/);
  assert.match(r.stdout, /^\[Service\]$/m);
  assert.match(r.stdout, /^Restart=always$/m, 'a dead service is started again');
  assert.match(r.stdout, /^StartLimitIntervalSec=0$/m, 'and never given up on');
  if (ANALYZE === undefined) return skip('missing', 'systemd-analyze verify: not installed (Debian: apt-get install systemd)');
  const dir = await mkdtemp(join(tmpdir(), 'serve-here-unit-'));
  try {
    await writeFile(join(dir, 'serve-here-app.service'), r.stdout);
    const verify = await runExe(ANALYZE, ['verify', join(dir, 'serve-here-app.service')]);
    assert.is(verify.code, 0, verify.stderr);
    assert.is(verify.stderr.trim(), '', 'systemd-analyze has no complaint');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

cli('systemd: the unit\'s sandbox scores at most 4.0 in systemd-analyze security (0 safe, 10 exposed)', async () => {
  if (ANALYZE === undefined) return skip('missing', 'systemd-analyze security: not installed (Debian: apt-get install systemd)');
  const r = await runCli(['export', 'systemd', 'site', '--app', '/api=api.ts', '--port', '8123']);
  assert.is(r.code, 0, r.stderr);
  const dir = await mkdtemp(join(tmpdir(), 'serve-here-unit-'));
  try {
    await writeFile(join(dir, 'serve-here-app.service'), r.stdout);
    // --offline: judge the file itself, no running systemd needed (systemd 250 and later).
    const sec = await runExe(ANALYZE, ['security', '--offline=yes', join(dir, 'serve-here-app.service')]);
    const score = Number(/Overall exposure level for serve-here-app\.service: ([\d.]+)/.exec(sec.stdout + sec.stderr)?.[1] ?? NaN);
    assert.ok(score <= 4.0, `exposure ${score}: ${sec.stdout}${sec.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

cli('nginx without apps: no upstream; the static rules, nosniff, no links, unknown names dropped', async () => {
  const r = await runCli(['export', 'nginx', '.', '--dotfiles']);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout, /upstream|proxy_pass/);
  assert.match(r.stdout, /^ {4}location ~\* "\/\\\\\.git\(\/\|\$\)" \{ return 404; \}$/m, '.git always');
  assert.not.match(r.stdout, /location ~\* "\/\\\\\." \{/, '--dotfiles: no blanket dotfile rule');
  assert.match(r.stdout, /^ {4}add_header X-Content-Type-Options nosniff always;$/m);
  assert.match(r.stdout, /^ {4}disable_symlinks on from=\$document_root;$/m);
  assert.match(r.stdout, /listen 80 default_server;\n {4}server_name _;\n {4}return 444;/);
});

cli('deno and workers: an entry importing each fetch handler, prefix split as serve-here does', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'serve-here-entry-'));
  try {
    await mkdir(join(dir, 'public'));
    for (const target of ['deno', 'workers']) {
      const r = await runCli(['export', target, 'public', '--app', '/api=api.ts', '--app', 'main.mjs'], { cwd: dir });
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stdout, /import app0 from "\.\/api\.ts";/);
      assert.match(r.stdout, /import app1 from "\.\/main\.mjs";/);
      assert.ok(r.stdout.indexOf('prefix: "/api"') < r.stdout.indexOf('prefix: ""'), 'longest prefix first');
      // The entry parses as an ES module (the deno one imports jsr:, so it is not run offline).
      await writeFile(join(dir, 'entry.mjs'), r.stdout);
      const check = await runExe(process.execPath, ['--check', join(dir, 'entry.mjs')]);
      assert.is(check.code, 0, check.stderr);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

cli('nginx, deno, workers: an app in the served folder itself is refused in one line (its modules cannot be told from the site\'s)', async () => {
  for (const target of ['nginx', 'deno', 'workers']) {
    const r = await runCli(['export', target, '.', '--app', '/api=api.mjs']);
    assert.is(r.code, 2, `${target}: ${r.stdout}`);
    assert.is(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^serve-here: Cannot export ${target}: the app \\(.*api\\.mjs\\) lies in the served folder itself`));
    assert.match(r.stderr, /Serve a subfolder/);
  }
});

cli.run();

// ---------------------------------------------------------------------------------------------

const e2e = suite('nginx in front of serve-here --workers 2');

interface Check {
  name: string;
  run(port: number): Promise<Reply>;
  /** The part of the answer that must match (and match on both sides). */
  pick(r: Reply, port: number): unknown;
  expected(port: number): unknown;
}

const type = (r: Reply): string => String(r.headers['content-type'] ?? '').split(';')[0] ?? '';
const html = { accept: 'text/html,*/*;q=0.8' };
const CHECKS: Check[] = [
  { name: 'static file', run: (p) => send(p, '/style.css'), pick: (r) => [r.status, type(r), r.body], expected: () => [200, 'text/css', 'body{}\n'] },
  { name: 'index.html at /', run: (p) => send(p, '/', { headers: html }), pick: (r) => [r.status, r.body], expected: () => [200, '<h1>home</h1>\n'] },
  { name: 'clean URL /about', run: (p) => send(p, '/about', { headers: html }), pick: (r) => [r.status, r.body], expected: () => [200, 'about\n'] },
  { name: 'dotfile 404', run: (p) => send(p, '/.env'), pick: (r) => [r.status, r.body.includes('SECRET')], expected: () => [404, false] },
  { name: '.git 404', run: (p) => send(p, '/.git/config'), pick: (r) => [r.status, r.body.includes('SECRET')], expected: () => [404, false] },
  { name: 'nested dotfile 404', run: (p) => send(p, '/sub/.hidden'), pick: (r) => r.status, expected: () => 404 },
  { name: 'SPA fallback', run: (p) => send(p, '/deep/route', { headers: html }), pick: (r) => [r.status, r.body], expected: () => [200, '<h1>home</h1>\n'] },
  { name: 'no SPA for .js', run: (p) => send(p, '/missing.js', { headers: html }), pick: (r) => r.status, expected: () => 404 },
  { name: 'no SPA for JSON', run: (p) => send(p, '/deep/route', { headers: { accept: 'application/json' } }), pick: (r) => r.status, expected: () => 404 },
  { name: 'POST to a file 405', run: (p) => send(p, '/style.css', { method: 'POST', body: 'x' }), pick: (r) => r.status, expected: () => 405 },
  {
    name: 'app at /api: JSON body echo',
    run: (p) => send(p, '/api/echo?q=1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,"é"]}' }),
    pick: (r) => [r.status, type(r), JSON.parse(r.body) as unknown],
    expected: () => [200, 'application/json', { path: '/echo', q: '1', received: { a: [1, 'é'] } }],
  },
  { name: 'app at /api: GET 405 + Allow', run: (p) => send(p, '/api/echo'), pick: (r) => [r.status, r.headers.allow], expected: () => [405, 'POST'] },
  { name: 'dotfile under /api → the app', run: (p) => send(p, '/api/.env'), pick: (r) => [r.status, r.headers.allow], expected: () => [405, 'POST'] },
  {
    name: 'app at /who: URL and Host as the client sent them',
    run: (p) => send(p, '/who/x?y=1'),
    pick: (r) => {
      const b = JSON.parse(r.body) as Record<string, unknown>;
      return [r.status, b.path, b.search, b.host];
    },
    expected: (p) => [200, '/x', '?y=1', `127.0.0.1:${p}`],
  },
  { name: 'app at /stream: streamed', run: (p) => send(p, '/stream/'), pick: (r) => [r.status, r.body, r.spread >= 200], expected: () => [200, 'chunk 1\nchunk 2\nchunk 3\n', true] },
];

let work = '';
let direct: Proc | undefined;
let directPort = 0;
let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;

e2e.before(async () => {
  if (NGINX === undefined) return;
  work = await mkdtemp(join(tmpdir(), 'serve-here-export-'));
  const site = join(work, 'site');
  await mkdir(join(site, 'sub'), { recursive: true });
  await mkdir(join(site, '.git'), { recursive: true });
  await writeFile(join(site, 'index.html'), '<h1>home</h1>\n');
  await writeFile(join(site, 'about.html'), 'about\n');
  await writeFile(join(site, 'style.css'), 'body{}\n');
  await writeFile(join(site, '.env'), 'SECRET=1\n');
  await writeFile(join(site, '.git', 'config'), 'SECRET\n');
  await writeFile(join(site, 'sub', '.hidden'), 'SECRET\n');
  directPort = await freePort();
  const flags = [site, '--spa', '--workers', '2', '--port', String(directPort), '--app', `/api=${join(APPS_DIR, 'json-api.mjs')}`, '--app', `/who=${join(APPS_DIR, 'client-info.mjs')}`, '--app', `/stream=${join(APPS_DIR, 'stream.mjs')}`];
  const exported = await runCli(['export', 'nginx', ...flags], { cwd: work });
  assert.is(exported.code, 0, exported.stderr);
  // The app server runs exactly the command the config names (and the systemd unit starts).
  const line = /^# {3}serve-here (.*)$/m.exec(exported.stdout)?.[1];
  assert.ok(line !== undefined, 'the config names the serve-here command');
  direct = spawnExe(process.execPath, [BIN, ...line.split(' ')], { cwd: work });
  await direct.waitFor(/http:\/\/127\.0\.0\.1:\d+/, 20_000);
  nginx = await startNginx(join(work, 'nginx'), exported.stdout);
});

e2e.after(async () => {
  await nginx?.stop();
  await direct?.stop();
  if (work !== '') await rm(work, { recursive: true, force: true });
});

// The Workers entry, run by workerd, gives the apps what serve-here gives them (prefix split).
const WORKER_CHECKS = CHECKS.filter((c) => c.name.startsWith('app at /api') || c.name.startsWith('app at /who'));
e2e('export workers: the entry on workerd answers the app checks as serve-here alone', async () => {
  if (workerd.missing !== undefined || direct === undefined) {
    skip('missing', `export workers on workerd: ${workerd.missing ?? 'no serve-here to compare with'}`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'serve-here-workers-'));
  let server;
  try {
    await copyFile(join(APPS_DIR, 'json-api.mjs'), join(dir, 'api.mjs'));
    await copyFile(join(APPS_DIR, 'client-info.mjs'), join(dir, 'who.mjs'));
    // The files in their own folder: apps beside the served files' root cannot be exported.
    await mkdir(join(dir, 'public'));
    const r = await runCli(['export', 'workers', 'public', '--app', '/api=api.mjs', '--app', '/who=who.mjs'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    await writeFile(join(dir, 'worker.mjs'), r.stdout.slice(0, r.stdout.indexOf('// ==> wrangler.jsonc')));
    server = await startWorkerd(join(dir, 'worker.mjs'));
    for (const check of WORKER_CHECKS) {
      assert.equal(check.pick(await check.run(server.port), server.port), check.expected(server.port), `workerd: ${check.name}`);
      assert.equal(check.pick(await check.run(directPort), directPort), check.expected(directPort), `serve-here: ${check.name}`);
    }
    assert.is((await send(server.port, '/nope')).status, 404);
  } finally {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

if (NGINX === undefined) {
  e2e('nginx end-to-end', () => skip('missing', 'nginx end-to-end: no nginx binary (apt-get install nginx-light; .ci/run does)'));
} else {
  e2e('the app sees the client nginx saw, not what the client claims (--trust-proxy in the command line)', async () => {
    // From 127.0.0.2, a second loopback address: nginx's $remote_addr, not nginx's own 127.0.0.1.
    const port = nginx?.port ?? 0;
    const raw = await rawRequest(port, `GET /who/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nConnection: close\r\n\r\n`, 5000, { from: '127.0.0.2' });
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { address: string; host: string };
    assert.equal([body.address, body.host], ['127.0.0.2', `127.0.0.1:${port}`], raw);
  });

  for (const check of CHECKS) {
    e2e(`${check.name}: the same through nginx and from serve-here alone`, async () => {
      const port = nginx?.port ?? 0;
      const viaNginx = check.pick(await check.run(port), port);
      const alone = check.pick(await check.run(directPort), directPort);
      assert.equal(viaNginx, check.expected(port), `through nginx${nginx === undefined ? '' : `\n${await nginx.errorLog()}`}`);
      assert.equal(alone, check.expected(directPort), 'serve-here alone');
    });
  }
}

e2e.run();
