// Every export target × every protected kind: what serve-here never serves must not be served by
// the deployment an export describes. nginx is run for real; the Workers .assetsignore is read by
// git (the same gitignore syntax); the Deno entry's own check runs under Node with Deno.realPath
// shimmed; systemd's unit runs serve-here itself, probed with the unit's exact command line.
// A target in EXPORT_TARGETS without a row here fails the first test.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXPORT_TARGETS } from '../src/export/command.js';
import { DENY_BEGIN, DENY_END } from '../src/export/entry.js';
import { BIN, runCli } from './helpers/server.js';
import { runExe, spawnExe, type Proc } from './helpers/bin.js';
import { freePort } from './helpers/engines.js';
import { NGINX, startNginx, type RunningNginx } from './helpers/nginx.js';
import { send } from './helpers/portable-checks.js';
import { skipOrFail } from './helpers/skip.js';

const test = suite('export matrix: every target denies every protected kind');

/** The protected kinds, as URL paths below the served folder (public/). */
const KINDS: Record<string, string> = {
  'env file (--env-file inside the root)': '/secrets.env',
  '.env (never, whatever --dotfiles)': '/.env',
  'app entry module': '/server/api.mjs',
  'app source it imports': '/server/lib/helper.mjs',
  'app package.json': '/server/package.json',
  'root package.json (app config)': '/package.json',
  'TLS key inside the root (--key)': '/key.pem',
  'symlink to /etc/passwd': '/passwd',
  dotfile: '/.hidden',
  '.git/config': '/.git/config',
};
/** Served by every target: the check that the denials are not a blanket 404. */
const NORMAL = ['/normal.txt', '/sub/page.html'];

/** How a target answers "is this path served?"; `na` lists kinds that do not apply, with the reason. */
interface Row {
  served(path: string): Promise<boolean>;
  na?: Record<string, string>;
  /**
   * The row asks the rules, not the disk: /KEY.PEM must be denied too (a case-insensitive disk
   * serves key.pem under it; on this one such a probe of a real server cannot fail, so it is not made).
   */
  rulesOnly?: boolean;
}

let work = '';
let port = 0;
const flags = (): string[] => ['public', '--app', '/api=public/server/api.mjs', '--env-file', 'public/secrets.env', '--cert', 'public/cert.pem', '--key', 'public/key.pem', '--port', String(port)];
const stops: Array<() => Promise<unknown>> = [];

async function exported(target: string): Promise<string> {
  const r = await runCli(['export', target, ...flags()], { cwd: work });
  assert.is(r.code, 0, `export ${target}: ${r.stderr}`);
  return r.stdout;
}

const ROWS: Record<string, () => Promise<Row | undefined>> = {
  async nginx() {
    if (NGINX === undefined) {
      skipOrFail('export matrix, nginx: no nginx binary (apt-get install nginx-light)');
      return undefined;
    }
    const nginx: RunningNginx = await startNginx(join(work, 'nginx'), await exported('nginx'));
    stops.push(() => nginx.stop());
    return { served: async (path) => (await send(nginx.port, path)).status === 200 };
  },
  async systemd() {
    // The unit's ExecStart, run as it is (minus node and the script): serve-here's own policy.
    const unit = await exported('systemd');
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    const args = exec.split(' ').slice(2);
    const proc: Proc = spawnExe(process.execPath, [BIN, ...args], { cwd: work });
    stops.push(() => proc.stop());
    await proc.waitFor(/http:\/\/127\.0\.0\.1:\d+/, 20_000);
    return {
      served: async (path) => (await send(port, path)).status === 200,
      na: { 'TLS key inside the root (--key)': 'the unit serves plain HTTP on loopback; TLS and its key are nginx\'s, so serve-here is not told of them' },
    };
  },
  async deno() {
    // The entry's check, cut out at its markers, run with Deno.realPath as Node's realpath.
    const entry = await exported('deno');
    const code = entry.slice(entry.indexOf(DENY_BEGIN), entry.indexOf(DENY_END));
    assert.ok(code.length > 0, 'the Deno entry has its deny section');
    const shim = `import { realpath } from "node:fs/promises";\nimport { resolve } from "node:path";\nconst Deno = { realPath: (p) => realpath(resolve(${JSON.stringify(work)}, p)) };\n`;
    const file = join(work, 'deno-check.mjs');
    await writeFile(file, `${shim}${code}\nexport { allowed };\n`);
    const mod = (await import(pathToFileURL(file).href)) as { allowed(path: string): Promise<boolean> };
    return { served: (path) => mod.allowed(path), rulesOnly: true };
  },
  async workers() {
    // .assetsignore has .gitignore's syntax: git itself says what it matches.
    const out = await exported('workers');
    const lines = out.slice(out.indexOf('.assetsignore <==')).split('\n').slice(1).filter((l) => l.startsWith('// ')).map((l) => l.slice(3));
    const repo = join(work, 'ignore-check');
    await mkdir(repo, { recursive: true });
    assert.is((await runExe('git', ['init', '-q', repo])).code, 0);
    await writeFile(join(repo, '.gitignore'), `${lines.join('\n')}\n`);
    return {
      async served(path) {
        const r = await runExe('git', ['-C', repo, 'check-ignore', '--no-index', '-q', path.slice(1)]);
        assert.ok(r.code === 0 || r.code === 1, r.stderr);
        return r.code === 1;
      },
    };
  },
};

test.before(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), 'serve-here-export-matrix-')));
  const root = join(work, 'public');
  await mkdir(join(root, 'server', 'lib'), { recursive: true });
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(join(root, '.git'), { recursive: true });
  const files: Record<string, string> = {
    'index.html': '<h1>home</h1>\n',
    'normal.txt': 'normal\n',
    'sub/page.html': 'page\n',
    'secrets.env': 'SECRET=1\n',
    '.env': 'SECRET=2\n',
    '.hidden': 'SECRET\n',
    '.git/config': 'SECRET\n',
    'server/api.mjs': 'import { greet } from "./lib/helper.mjs";\nexport default { fetch: () => new Response(greet()) };\n',
    'server/lib/helper.mjs': 'export const greet = () => "SECRET source";\n',
    'server/package.json': '{"name":"SECRET"}\n',
    'package.json': '{"name":"SECRET"}\n',
    'cert.pem': '-----BEGIN CERTIFICATE-----\n',
    'key.pem': '-----BEGIN PRIVATE KEY----- SECRET\n',
  };
  for (const [name, body] of Object.entries(files)) await writeFile(join(root, name), body);
  await symlink('/etc/passwd', join(root, 'passwd'));
  port = await freePort();
});

test.after(async () => {
  for (const stop of stops.reverse()) await stop();
  if (work !== '') await rm(work, { recursive: true, force: true });
});

test('every export target has a row (a new exporter must be added here)', () => {
  assert.equal(Object.keys(ROWS).sort(), [...EXPORT_TARGETS].sort());
});

for (const target of Object.keys(ROWS)) {
  test(`export ${target}: no protected kind is served, normal files are`, async () => {
    const row = await ROWS[target]?.();
    if (row === undefined) return;
    const leaks: string[] = [];
    for (const [kind, path] of Object.entries(KINDS)) {
      if (row.na?.[kind] !== undefined) continue;
      if (await row.served(path)) leaks.push(`${kind} (${path})`);
      // (The link is found on the disk, not by a rule: no other letter case to ask about.)
      if (row.rulesOnly === true && path !== '/passwd' && (await row.served(path.toUpperCase()))) leaks.push(`${kind} in upper case (${path.toUpperCase()})`);
    }
    assert.equal(leaks, [], `export ${target} serves: ${leaks.join(', ')}`);
    for (const path of NORMAL) assert.ok(await row.served(path), `export ${target} must still serve ${path}`);
    // Sanity: the fixture really holds what is probed.
    assert.match(await readFile(resolve(work, 'public', 'key.pem'), 'utf8'), /SECRET/);
  });
}

test.run();
