// Folder names are data: in a generated config they are quoted for its format or refused with
// one line. Real folders named with a line break, `$`, `%`, quotes, `;` and braces; the systemd
// unit is read by systemd-analyze, the nginx config is run by nginx.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, link, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runCli } from './helpers/server.js';
import { runExe } from './helpers/bin.js';
import { NGINX, startNginx } from './helpers/nginx.js';
import { send } from './helpers/portable-checks.js';
import { skip } from './helpers/skip.js';

const test = suite('export: values quoted or refused');
const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));

let work = '';

test.before(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), 'serve-here-quoting-')));
});

test.after(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

test('a folder named with a line break cannot inject a directive: refused in one line, exit 2', async () => {
  const name = 'site\nExecStartPre=/bin/sh -c "touch /tmp/pwned"\nlocation / { return 200; }';
  await mkdir(join(work, name, 'api'), { recursive: true });
  await writeFile(join(work, name, 'api', 'api.mjs'), 'export default { fetch: () => new Response("") };\n');
  for (const target of ['systemd', 'nginx']) {
    const r = await runCli(['export', target, name, '--app', `/api=${name}/api/api.mjs`], { cwd: work });
    assert.is(r.code, 2, `${target}: ${r.stdout}`);
    assert.is(r.stdout, '', `${target} writes nothing`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^serve-here: Cannot export: .* contains a line break or control character$/, target);
    assert.match(lines[1] ?? '', /Rename it/);
  }
  // The Deno and Workers entries carry the name as a JS string (JSON): it stays one string.
  for (const target of ['deno', 'workers']) {
    const r = await runCli(['export', target, name, '--app', `/api=${name}/api/api.mjs`], { cwd: work });
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stdout, /^ExecStartPre|^location/m, target);
    await writeFile(join(work, 'entry.mjs'), r.stdout);
    assert.is((await runExe(process.execPath, ['--check', join(work, 'entry.mjs')])).code, 0, target);
  }
});

test('nginx refuses a folder with $ (a variable in nginx paths, with no escape)', async () => {
  await mkdir(join(work, 'we$document_root'), { recursive: true });
  const r = await runCli(['export', 'nginx', 'we$document_root'], { cwd: work });
  assert.is(r.code, 2, r.stdout);
  assert.match(r.stderr, /^serve-here: Cannot export nginx: the folder ".*we\$document_root" contains "\$"\n/);
});

test('systemd: $, %, quotes, backslash, ; and braces in paths are escaped; systemd reads the executable back', async () => {
  // Node itself is linked into an odd folder, so ExecStart's first word is that path: verify then
  // checks that the executable systemd parsed out of the quoting exists. (systemd takes no quote
  // or backslash in an executable's path, and no $ variable there: those are refused/literal.)
  const bin = join(work, 'bin$HOME %h ; {x}');
  const dir = join(work, 'we$HOME %h "q" \\ ; {x} \'s');
  await mkdir(bin, { recursive: true });
  await mkdir(dir, { recursive: true });
  const node = join(bin, 'node');
  await link(process.execPath, node).catch(() => copyFile(process.execPath, node));
  await writeFile(join(dir, 'api.mjs'), 'export default { fetch: () => new Response("") };\n');
  const r = await runExe(node, [BIN, 'export', 'systemd', dir, '--app', `/api=${join(dir, 'api.mjs')}`, '--port', '8123'], { cwd: work });
  assert.is(r.code, 0, r.stderr);
  const exec = /^ExecStart=(.*)$/m.exec(r.stdout)?.[1] ?? '';
  assert.ok(exec.startsWith(`"${work}/bin$HOME %%h ; {x}/node" `), exec);
  // An argument: $ and % doubled, quotes and backslashes escaped, inside double quotes (systemd.exec(5)).
  assert.ok(exec.includes(` "${work}/we$$HOME %%h \\"q\\" \\\\ ; {x} \\'s" `), exec);
  assert.match(r.stdout, /^Description=serve-here apps for .*we\$HOME %%h "q" \\ ; \{x\} 's$/m);
  if (ANALYZE === undefined) return skip('missing', 'systemd-analyze verify: not installed (Debian: apt-get install systemd)');
  await writeFile(join(work, 'serve-here-app.service'), r.stdout);
  const verify = await runExe(ANALYZE, ['verify', join(work, 'serve-here-app.service')]);
  assert.is(verify.code, 0, verify.stderr);
  assert.is(verify.stderr.trim(), '', 'systemd-analyze has no complaint (the executable it parsed exists)');
  // Node under a path systemd cannot take: one line, exit 2.
  const quoted = join(work, 'q"uote');
  await mkdir(quoted);
  await link(process.execPath, join(quoted, 'node')).catch(() => copyFile(process.execPath, join(quoted, 'node')));
  const refused = await runExe(join(quoted, 'node'), [BIN, 'export', 'systemd', dir, '--app', `/api=${join(dir, 'api.mjs')}`], { cwd: work });
  assert.is(refused.code, 2);
  assert.match(refused.stderr, /^serve-here: Cannot export systemd: Node's path ".*" contains a quote or backslash\n/);
});

test('nginx: quotes, ;, braces and % in the folder and an app folder are quoted; nginx runs it and keeps the rules', async () => {
  if (NGINX === undefined) return skip('missing', 'nginx quoting: no nginx binary (apt-get install nginx-light)');
  const root = join(work, 'we "q" ; {x} % \'s');
  const app = join(root, 'srv ;{a}"');
  await mkdir(app, { recursive: true });
  await writeFile(join(root, 'normal.txt'), 'normal\n');
  await writeFile(join(root, '.env'), 'SECRET\n');
  await writeFile(join(app, 'api.mjs'), 'SECRET\n');
  await writeFile(join(app, 'data.txt'), 'data\n');
  const r = await runCli(['export', 'nginx', root, '--app', `/api=${join(app, 'api.mjs')}`, '--port', '8123'], { cwd: work });
  assert.is(r.code, 0, r.stderr);
  const nginx = await startNginx(join(work, 'nginx'), r.stdout);
  try {
    const enc = (p: string): string => p.split('/').map(encodeURIComponent).join('/');
    assert.is((await send(nginx.port, '/normal.txt')).status, 200, await nginx.errorLog());
    assert.is((await send(nginx.port, enc('/srv ;{a}"/data.txt'))).status, 200, 'a plain file in the app folder');
    assert.is((await send(nginx.port, '/.env')).status, 404);
    assert.is((await send(nginx.port, enc('/srv ;{a}"/api.mjs'))).status, 404, 'the app module, by a quoted regex');
  } finally {
    await nginx.stop();
  }
});

test.run();
