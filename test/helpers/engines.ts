// Start an example app (test/engines/apps/*.mjs) on one engine: serve-here itself, or the
// engines installed by `cd test/engines && npm install` (Deno, Bun, workerd, srvx on Node).
// Every server binds 127.0.0.1 on a free port and is stopped by its PID.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnExe, type Proc } from './bin.js';
import { BIN } from './server.js';
import { waitUntil } from './http.js';

export const REPO = join(BIN, '..', '..');
export const ENGINES_DIR = join(REPO, 'test', 'engines');
export const APPS_DIR = join(ENGINES_DIR, 'apps');
const BINS = join(ENGINES_DIR, 'node_modules', '.bin');

export interface Started {
  port: number;
  stop(): Promise<void>;
}

export interface Engine {
  name: string;
  /** Undefined when it can run here, else why not (shown as a SKIP note). */
  missing: string | undefined;
  start(app: string): Promise<Started>;
}

const URL_RE = /http:\/\/127\.0\.0\.1:(\d+)/;

async function fromOutput(proc: Proc, dir?: string): Promise<Started> {
  const stop = async (): Promise<void> => {
    await proc.stop('SIGTERM');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  };
  try {
    const m = await proc.waitFor(URL_RE, 20_000);
    return { port: Number(m[1]), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function notInstalled(bin: string): string | undefined {
  return existsSync(join(BINS, bin)) ? undefined : `${bin} is not installed (cd test/engines && npm install)`;
}

/** serve-here on an empty folder with the app at /, reloading (default) or in process. */
function serveHere(noWatch: boolean): Engine {
  return {
    name: noWatch ? 'serve-here --no-watch' : 'serve-here',
    missing: undefined,
    async start(app) {
      const dir = await mkdtemp(join(tmpdir(), 'serve-here-portable-'));
      const args = [dir, '--app', join(APPS_DIR, app), '--port', '0', ...(noWatch ? ['--no-watch'] : [])];
      return fromOutput(spawnExe(process.execPath, [BIN, ...args], { cwd: ENGINES_DIR }), dir);
    },
  };
}

const deno: Engine = {
  name: 'deno serve',
  missing: notInstalled('deno'),
  start: async (app) => fromOutput(spawnExe(join(BINS, 'deno'), ['serve', '--host', '127.0.0.1', '--port', '0', join(APPS_DIR, app)], { cwd: ENGINES_DIR, env: { DENO_NO_UPDATE_CHECK: '1' } })),
};

const bun: Engine = {
  name: 'bun',
  missing: notInstalled('bun'),
  start: async (app) => fromOutput(spawnExe(join(BINS, 'bun'), [join(ENGINES_DIR, 'run', 'bun.mjs'), join(APPS_DIR, app)], { cwd: ENGINES_DIR })),
};

const srvx: Engine = {
  name: 'srvx (node)',
  missing: existsSync(join(ENGINES_DIR, 'node_modules', 'srvx')) ? undefined : 'srvx is not installed (cd test/engines && npm install)',
  start: async (app) => fromOutput(spawnExe(process.execPath, [join(ENGINES_DIR, 'run', 'srvx.mjs'), join(APPS_DIR, app)], { cwd: ENGINES_DIR })),
};

interface Esbuild {
  build(opts: { entryPoints: string[]; bundle: true; format: 'esm'; platform: 'neutral'; outfile: string; logLevel: 'error'; mainFields: string[] }): Promise<unknown>;
}

/** workerd: the app bundled by esbuild, one capnp config. */
export const workerd: Engine = {
  name: 'workerd',
  missing: notInstalled('workerd') ?? (existsSync(join(ENGINES_DIR, 'node_modules', 'esbuild')) ? undefined : 'esbuild is not installed (cd test/engines && npm install)'),
  start: async (app) => startWorkerd(join(APPS_DIR, app)),
};

/** Bundle `entry` with esbuild (as wrangler does: workerd resolves no npm packages) and serve it with workerd. */
export async function startWorkerd(entry: string): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 'serve-here-workerd-'));
  const require = createRequire(join(ENGINES_DIR, 'package.json'));
  const esbuild = (await import(pathToFileURL(require.resolve('esbuild')).href)) as Esbuild;
  await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', mainFields: ['module', 'main'], outfile: join(dir, 'worker.mjs'), logLevel: 'error' });
  const port = await freePort();
  await writeFile(join(dir, 'config.capnp'), workerdConfig(port, 'worker.mjs'));
  const proc = spawnExe(join(BINS, 'workerd'), ['serve', join(dir, 'config.capnp')], { cwd: dir });
  const stop = async (): Promise<void> => {
    await proc.stop('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // workerd prints nothing when it listens: poll the port (and notice an early exit).
    await waitUntil(async () => {
      if (proc.child.exitCode !== null) throw new Error(`workerd exited: ${proc.stderr()}`);
      return (await canConnect(port)) ? true : undefined;
    }, 20_000, `workerd on port ${port}`);
    return { port, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The smallest workerd config: one ES module worker behind one HTTP socket on loopback. */
export function workerdConfig(port: number, module: string): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .app)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const app :Workerd.Worker = (
  modules = [(name = "${basename(module)}", esModule = embed "${module}")],
  compatibilityDate = "2025-01-01",
);
`;
}

/** A port free right now (for engines that take no port 0 and print nothing). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (addr === null || typeof addr === 'string') throw new Error('Expected a TCP address');
  return addr.port;
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function allEngines(): Engine[] {
  return [serveHere(false), serveHere(true), deno, bun, workerd, srvx];
}

