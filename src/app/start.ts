// Start app hosting for the CLI: in reloading app processes, or in process with --no-watch.
// Kept apart from host.ts so --no-watch never loads the watcher and the process manager.
import { statSync } from 'node:fs';
import type { Logger } from '../log.js';
import type { Options } from '../options.js';
import type { AppRouter } from '../server.js';
import { ServeHereError } from '../errors.js';

export async function startAppHost(opts: Options, root: string, log: Logger): Promise<{ router: AppRouter; describe(): string[] }> {
  for (const app of opts.apps) {
    let isFile = false;
    try {
      isFile = statSync(app.file).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) throw new ServeHereError(`Cannot mount app "${app.file}": no such file`, { hint: 'Give the module file, e.g. `serve-here --app app.ts` (relative to the current folder).' });
  }
  if (!opts.watch) {
    const { startInProcess } = await import('./inprocess.js');
    return startInProcess(opts, root, log);
  }
  const { AppHost, settingsFromEnv } = await import('./host.js');
  const host = new AppHost(opts, root, log, settingsFromEnv());
  process.once('exit', () => host.killAll());
  await host.start();
  return { router: host, describe: () => host.describe() };
}
