// Start app hosting for the CLI: in reloading app processes, or in process with --no-watch.
// The backends load lazily so --no-watch never loads the watcher and the process manager.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../log.js';
import type { Options } from '../options.js';
import { ServeHereError } from '../errors.js';
import { isLoopbackAddress } from '../host-check.js';
import type { AppRouter } from './contract.js';
import { readEnvFile } from './env.js';
import { configFiles, Router } from './router.js';

/** The banner line saying why apps run in production mode. */
export const PRODUCTION_LINE = 'apps run with NODE_ENV=production because the server is shared (set NODE_ENV to override)';

/**
 * The apps' environment: this process's, the --env-file's, and NODE_ENV=production when the
 * server is bound beyond loopback and the user set no NODE_ENV (frameworks then hide stacks).
 */
export function appEnv(opts: Options): { env: NodeJS.ProcessEnv; production: boolean } {
  const fromFile = opts.envFile === undefined ? {} : readEnvFile(resolve(opts.envFile));
  const env: NodeJS.ProcessEnv = { ...process.env, ...fromFile };
  const production = !isLoopbackAddress(opts.host) && env.NODE_ENV === undefined;
  if (production) env.NODE_ENV = 'production';
  return { env, production };
}

export async function startAppHost(opts: Options, root: string, log: Logger): Promise<AppRouter> {
  for (const app of opts.apps) {
    let isFile = false;
    try {
      isFile = statSync(app.file).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) throw new ServeHereError(`Cannot mount app "${app.file}": no such file`, { hint: 'Give the module file, e.g. `serve-here --app app.ts` (relative to the current folder).' });
  }
  const { env, production } = appEnv(opts);
  const extra = production ? [PRODUCTION_LINE] : [];
  if (!opts.watch) {
    Object.assign(process.env, env);
    const { startInProcess } = await import('./inprocess.js');
    const backend = await startInProcess(opts, root, log);
    return new Router(opts, { ...backend, describe: () => [...backend.describe(), ...extra] });
  }
  const { ReloadingBackend } = await import('./reloading.js');
  const { timingFromEnv } = await import('../reload/timing.js');
  const backend = new ReloadingBackend({
    opts,
    root,
    log,
    timing: timingFromEnv(),
    configFiles: configFiles(opts, root),
    env: () => ({ ...env }),
  });
  process.once('exit', () => backend.killAll());
  await backend.start();
  const describe = (): string[] => [...backend.describe(), ...extra];
  return new Router(opts, {
    handle: (q, s, t) => backend.handle(q, s, t),
    upgrade: (q, s, h, t) => backend.upgrade(q, s, h, t),
    onAppFiles: (l) => backend.onAppFiles(l),
    onReload: (l) => backend.onReload(l),
    describe,
    afterBanner: () => backend.afterBanner(),
    close: () => backend.close(),
  });
}
