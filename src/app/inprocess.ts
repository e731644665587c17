// --no-watch: the apps run in the serve-here process itself, with no forwarding hop and no
// reload (and, with --workers N, in each of N preforked processes sharing the port).
import type { IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import cluster from 'node:cluster';
import type { Logger } from '../log.js';
import type { Options } from '../options.js';
import type { AppMountHandler, AppRouter } from '../server.js';
import type { Response } from '../response.js';
import { ServeHereError } from '../errors.js';
import { appPath, runApp, type RequestMeta } from './adapters.js';
import { describeError, errorLine, relativeToRoot, sendAppError, shortLocation } from './error-info.js';
import { importedFiles, loadMounts, matchMount, type LoadedMount } from './load.js';
import { readEnvFile } from './env.js';

export async function startInProcess(opts: Options, root: string, log: Logger): Promise<{ router: AppRouter; describe(): string[] }> {
  if (opts.envFile !== undefined) Object.assign(process.env, readEnvFile(resolve(opts.envFile)));
  const started = performance.now();
  let loaded: LoadedMount[];
  try {
    loaded = await loadMounts(
      opts.apps.map((a) => ({ prefix: a.prefix, file: resolve(a.file) })),
      opts.appStyle,
    );
  } catch (error) {
    const info = describeError(error, 'Cannot load the app');
    const loc = shortLocation(info, root);
    throw new ServeHereError(`${info.message}${loc === '' ? '' : ` (${loc})`}`, { hint: info.frame });
  }
  const ms = Math.round(performance.now() - started);
  const multiprocess = opts.workers > 1 || cluster.isWorker;
  const handlers = new Map<string, AppMountHandler>();
  for (const m of loaded) {
    const label = m.prefix === '' ? 'app' : m.prefix;
    handlers.set(m.prefix, {
      prefix: m.prefix,
      label,
      handle: (req: IncomingMessage, res: Response) => {
        const meta: RequestMeta = {
          prefix: m.prefix,
          path: appPath(req.url ?? '/', m.prefix, opts.stripPrefix),
          strip: opts.stripPrefix,
          host: req.headers.host ?? 'localhost',
          clientAddress: req.socket.remoteAddress ?? '',
          clientPort: req.socket.remotePort ?? 0,
          scheme: 'http',
          multiprocess,
          errors: (text) => process.stderr.write(text),
        };
        runApp(m.app, req, res, meta).catch((error: unknown) => {
          const info = describeError(error, `${req.method ?? 'GET'} ${req.url ?? '/'} threw`);
          log.error(errorLine(info, root));
          if (res.headersSent) return void res.destroy();
          sendAppError(req, res, { status: 500, info, note: 'The request handler threw.', root });
        });
      },
    });
  }
  const router: AppRouter = {
    match: (path) => {
      const m = matchMount(loaded, path);
      return m === undefined ? undefined : handlers.get(m.prefix);
    },
    isSource: (realPath) => importedFiles.has(realPath),
    upgrade: (req, socket, head) => {
      const m = matchMount(loaded, (req.url ?? '/').split('?')[0] ?? '/');
      if (m?.upgrade === undefined) return false;
      m.upgrade(req, socket, head);
      return true;
    },
  };
  return {
    router,
    describe: () => loaded.map((m) => `${relativeToRoot(m.file, root)} → ${m.prefix || '/'} (${m.app.description}), in process, loaded in ${ms} ms`),
  };
}
