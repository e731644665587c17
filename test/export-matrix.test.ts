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
import { skip } from './helpers/skip.js';

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
  'symlink to a folder out of the root': '/etc-link/passwd',
  dotfile: '/.hidden',
  '.git/config': '/.git/config',
};
/** Found on the disk, not by a rule: no other letter case to ask about. */
const LINKS = new Set(['/passwd', '/etc-link/passwd']);

/** The flags exported with, and what they protect. */
interface Config {
  name: string;
  flags: string[];
  env: Record<string, string>;
  kinds: Record<string, string>;
  /** Served in this configuration besides NORMAL. */
  served: string[];
}
const { dotfile: _served, ...KINDS_WITH_DOTFILES } = KINDS;
const CONFIGS = (): Config[] => [
  { name: 'default', flags: [], env: {}, kinds: KINDS, served: [] },
  {
    // The folder is HOME: serve-here's generated certificate folder lies inside, and --dotfiles
    // lets dot names through, but never that folder, .git, or env files beside an app.
    name: '--dotfiles, HOME served',
    flags: ['--dotfiles'],
    env: { HOME: join(work, 'public'), XDG_CONFIG_HOME: '' },
    kinds: { ...KINDS_WITH_DOTFILES, 'generated key under a served HOME (--dotfiles)': '/.config/serve-here/https-key.pem' },
    served: ['/.hidden'],
  },
];
/** Served by every target: the check that the denials are not a blanket 404. */
const NORMAL = ['/normal.txt', '/sub/page.html'];
// (With --dotfiles, /.hidden is served too: the second configuration's kinds leave it out.)

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
const stops: Array<() => Promise<unknown>> = [];

/** One export: its text, the app server's port and the folder for the target's own files. */
interface Export {
  text: string;
  port: number;
  dir: string;
  env: Record<string, string>;
}

let exports = 0;
async function exported(target: string, config: Config): Promise<Export> {
  const port = await freePort();
  const flags = ['public', '--app', '/api=public/server/api.mjs', '--env-file', 'public/secrets.env', '--cert', 'public/cert.pem', '--key', 'public/key.pem', '--port', String(port), ...config.flags];
  const r = await runCli(['export', target, ...flags], { cwd: work, env: config.env });
  assert.is(r.code, 0, `export ${target}: ${r.stderr}`);
  const dir = join(work, `${target}-${++exports}`);
  await mkdir(dir);
  return { text: r.stdout, port, dir, env: config.env };
}

const ROWS: Record<string, (e: Export) => Promise<Row | undefined>> = {
  async nginx(e) {
    if (NGINX === undefined) {
      skip('missing', 'export matrix, nginx: no nginx binary (apt-get install nginx-light)');
      return undefined;
    }
    const nginx: RunningNginx = await startNginx(e.dir, e.text);
    stops.push(() => nginx.stop());
    return { served: async (path) => (await send(nginx.port, path)).status === 200 };
  },
  async systemd(e) {
    // The unit's ExecStart, run as it is (minus node and the script): serve-here's own policy.
    const exec = /^ExecStart=(.*)$/m.exec(e.text)?.[1] ?? '';
    const args = exec.split(' ').slice(2);
    const proc: Proc = spawnExe(process.execPath, [BIN, ...args], { cwd: work, env: e.env });
    stops.push(() => proc.stop());
    await proc.waitFor(/http:\/\/127\.0\.0\.1:\d+/, 20_000);
    return {
      served: async (path) => (await send(e.port, path)).status === 200,
      na: { 'TLS key inside the root (--key)': 'the unit serves plain HTTP on loopback; TLS and its key are nginx\'s, so serve-here is not told of them' },
    };
  },
  async deno(e) {
    // The entry's check, cut out at its markers, run with Deno.realPath as Node's realpath.
    const entry = e.text;
    const code = entry.slice(entry.indexOf(DENY_BEGIN), entry.indexOf(DENY_END));
    assert.ok(code.length > 0, 'the Deno entry has its deny section');
    const shim = `import { realpath } from "node:fs/promises";\nimport { resolve } from "node:path";\nconst Deno = { realPath: (p) => realpath(resolve(${JSON.stringify(work)}, p)) };\n`;
    const file = join(e.dir, 'deno-check.mjs');
    await writeFile(file, `${shim}${code}\nexport { allowed };\n`);
    const mod = (await import(pathToFileURL(file).href)) as { allowed(path: string): Promise<boolean> };
    return { served: (path) => mod.allowed(path), rulesOnly: true };
  },
  async workers(e) {
    // .assetsignore has .gitignore's syntax: git itself says what it matches.
    const out = e.text;
    const lines = out.slice(out.indexOf('.assetsignore <==')).split('\n').slice(1).filter((l) => l.startsWith('// ')).map((l) => l.slice(3));
    const repo = e.dir;
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
  await symlink('/etc', join(root, 'etc-link'));
  await mkdir(join(root, '.config', 'serve-here'), { recursive: true });
  await writeFile(join(root, '.config', 'serve-here', 'https-key.pem'), '-----BEGIN PRIVATE KEY----- SECRET\n');
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
    for (const config of CONFIGS()) {
      const row = await ROWS[target]?.(await exported(target, config));
      if (row === undefined) return;
      const leaks: string[] = [];
      for (const [kind, path] of Object.entries(config.kinds)) {
        if (row.na?.[kind] !== undefined) continue;
        if (await row.served(path)) leaks.push(`${kind} (${path})`);
        if (row.rulesOnly === true && !LINKS.has(path) && (await row.served(path.toUpperCase()))) leaks.push(`${kind} in upper case (${path.toUpperCase()})`);
      }
      assert.equal(leaks, [], `export ${target} (${config.name}) serves: ${leaks.join(', ')}`);
      for (const path of [...NORMAL, ...config.served]) assert.ok(await row.served(path), `export ${target} (${config.name}) must still serve ${path}`);
    }
    // Sanity: the fixture really holds what is probed.
    assert.match(await readFile(resolve(work, 'public', 'key.pem'), 'utf8'), /SECRET/);
  });
}

test.run();
