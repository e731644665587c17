// The README's "Install" section, proved: `npm pack` the built tree, install the tarball
// globally into a temp prefix (from a local registry, no network), then run the installed
// command from another folder, directly and through npx.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, makeTree, removeTree, request } from './helpers/server.js';
import { pathWithNode, runExe, spawnExe, type Proc } from './helpers/bin.js';
import { startRegistry, type LocalRegistry } from './helpers/registry.js';
import { skip } from './helpers/skip.js';

const REPO = join(BIN, '..', '..');
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const URL_RE = /http:\/\/127\.0\.0\.1:(\d+)\//;
const exec = promisify(execFile);

const test = suite('install from a tarball');
let tmp = '';
let registry: LocalRegistry | undefined;
let npmVersion: string | undefined;
const running = new Set<Proc>();

test.before(async () => {
  // Under `npm test` or `npx -p node@24`, the outer npm leaves its settings in the environment
  // (npm_config_package=node@24 makes the inner npx look for a package "node"): start clean.
  for (const key of Object.keys(process.env)) if (/^npm_config_/i.test(key)) delete process.env[key];
  tmp = realpathSync(await makeTree({
      'elsewhere/hello.txt': 'hello from elsewhere',
      'elsewhere/app.ts': 'const greet = (path: string): string => `typed ${path}`;\nexport default { fetch: (req: Request) => new Response(greet(new URL(req.url).pathname)) };\n',
    }));
  try {
    npmVersion = (await exec('npm', ['--version'])).stdout.trim();
  } catch {
    npmVersion = undefined;
  }
});

test.after(async () => {
  for (const p of running) await p.stop('SIGKILL');
  await registry?.close();
  await removeTree(tmp);
});

/** npm with no way to reach the public registry: our registry, a temp cache, no update check. */
function npmEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    npm_config_registry: registry?.url ?? 'http://127.0.0.1:9/',
    npm_config_cache: join(tmp, 'cache'),
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    ...extra,
  };
}

test('npm pack, npm install -g <tarball>, then serve-here runs from another folder', async () => {
  if (npmVersion === undefined) {
    skip('missing', 'npm is not available, so the install from a tarball was not tried');
    return;
  }
  // 1. Pack the built tree. --ignore-scripts: `prepare` would run tsc again, and the tests
  //    already run on a fresh build.
  const packed = JSON.parse((await exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: REPO, env: { ...process.env, ...npmEnv() } })).stdout) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tgz = join(tmp, packed[0]?.filename ?? '');
  const files = (packed[0]?.files ?? []).map((f) => f.path);
  assert.ok(files.includes('bin/serve-here.js'), files.join(' '));
  assert.ok(files.includes('dist/src/cli.js'), 'the tarball carries the compiled code: no build step at install');
  assert.equal(files.filter((f) => f.startsWith('src/') || f.startsWith('dist/test/') || f.startsWith('test/')), [], 'sources and tests stay out');

  // 2. Install it globally into a temp prefix, dependencies from a local registry.
  registry = await startRegistry({ nodeModules: join(REPO, 'node_modules'), roots: Object.keys(PKG.dependencies), workDir: join(tmp, 'registry') });
  const prefix = join(tmp, 'prefix');
  const install = await runExe('npm', ['install', '-g', '--prefix', prefix, tgz], { cwd: tmp, env: npmEnv() });
  assert.is(install.code, 0, `npm install -g failed:\n${install.stdout}\n${install.stderr}`);
  const installed = join(prefix, 'lib', 'node_modules', 'serve-here');
  const deps = readdirSync(join(installed, 'node_modules'));
  for (const dev of Object.keys(PKG.devDependencies)) {
    assert.not.ok(deps.includes(dev.split('/')[0] ?? dev) && dev !== '@types/node', `dev dependency ${dev} installed`);
    assert.not.ok(registry.requests.some((r) => r === dev || r.startsWith(`${dev}/`)), `npm asked the registry for dev dependency ${dev}`);
  }
  assert.not.ok(existsSync(join(installed, 'node_modules', 'typescript')), 'typescript installed: the tarball must not need a build');

  // 3. The installed command, run as the shell would, from another folder.
  const bin = join(prefix, 'bin', 'serve-here');
  const elsewhere = join(tmp, 'elsewhere');
  const version = await runExe(bin, ['--version'], { cwd: elsewhere });
  assert.is(version.code, 0, version.stderr);
  assert.is(version.stdout.trim(), PKG.version);

  const server = spawnExe(bin, ['--port', '0'], { cwd: elsewhere });
  running.add(server);
  const port = Number((await server.waitFor(URL_RE))[1]);
  assert.ok(server.stdout().includes(elsewhere), 'the banner names the folder it was started in');
  const res = await request(port, '/hello.txt');
  assert.is(res.status, 200);
  assert.is(res.text, 'hello from elsewhere');
  assert.is(await server.stop('SIGTERM'), 0);

  // A TypeScript app runs from the installed copy too (tsx and esbuild came with it).
  const app = spawnExe(bin, ['--port', '0', '--app', 'app.ts'], { cwd: elsewhere });
  running.add(app);
  const appPort = Number((await app.waitFor(URL_RE, 30_000))[1]);
  const fromApp = await request(appPort, '/typed');
  assert.is(fromApp.status, 200, fromApp.text);
  assert.is(fromApp.text, 'typed /typed');
  assert.is(await app.stop('SIGTERM'), 0);

  // 4. npx in that folder: once installed (the global prefix holds it), npx runs ours, not
  //    the unrelated "serve-here" on the public registry. Offline, so it cannot fetch that one.
  const npxEnv = npmEnv({ PATH: pathWithNode(join(prefix, 'bin')), npm_config_prefix: prefix, npm_config_offline: 'true' });
  for (const args of [['--no-install', 'serve-here', '--version'], ['serve-here', '--version']]) {
    const npx = await runExe('npx', args, { cwd: elsewhere, env: npxEnv });
    assert.is(npx.code, 0, `npx ${args.join(' ')}: ${npx.stderr}`);
    assert.is(npx.stdout.trim(), PKG.version, `npx ${args.join(' ')}`);
  }
});

test.run();
