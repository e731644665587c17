// --no-watch: the apps run in the serve-here process itself, with no forwarding hop and no
// reload (and, with --workers N, in each of N preforked processes sharing the port).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { resolve } from 'node:path';
import cluster from 'node:cluster';
import type { Logger } from '../log.js';
import type { InspectAddress, Options } from '../options.js';
import type { ServeResponse } from '../serve-response.js';
import { ServeHereError } from '../errors.js';
import type { AppTarget } from './contract.js';
import { runApp, type RequestMeta } from './adapters.js';
import { describeError, errorLine, failureStatus, relativeToRoot, sendAppError, shortLocation } from './error-info.js';
import { collectRequired, importedFiles, loadMounts, onImported, type LoadedMount } from './load.js';
import type { AppBackend } from './router.js';

export async function startInProcess(opts: Options, root: string, log: Logger): Promise<AppBackend> {
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
    const hint = [info.hint, info.frame].filter((h) => h !== undefined).join('\n');
    throw new ServeHereError(`${info.message}${loc === '' ? '' : ` (${loc})`}`, { hint: hint === '' ? undefined : hint });
  }
  const ms = Math.round(performance.now() - started);
  const debug = opts.inspect === undefined ? [] : [await openInspectorHere(opts.inspect)];
  const multiprocess = opts.workers > 1 || cluster.isWorker;
  const byPrefix = new Map(loaded.map((m) => [m.prefix, m]));

  const handle = (req: IncomingMessage, res: ServeResponse, target: AppTarget): void => {
    const m = byPrefix.get(target.mount.prefix);
    if (m === undefined) return void res.writeHead(404, { 'content-length': 0 }).end();
    const meta: RequestMeta = {
      prefix: m.prefix,
      path: target.path,
      strip: opts.stripPrefix,
      host: target.host,
      clientAddress: target.clientAddress,
      clientPort: target.clientPort,
      scheme: target.scheme,
      multiprocess,
      errors: (text) => process.stderr.write(text),
    };
    res.strictContentLength = true; // a body past Content-Length is an error, not the next answer's bytes
    runApp(m.app, req, res, meta).catch((error: unknown) => {
      const info = describeError(error, `${req.method ?? 'GET'} ${req.url ?? '/'} threw`);
      log.error(errorLine(info, root));
      if (res.headersSent) return void res.destroy();
      // Whatever the app set for its own answer goes: the error page is the server's.
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      const status = failureStatus(error);
      sendAppError(req, res, { status, info, note: status === 502 ? 'The app returned something that is not a valid HTTP answer.' : 'The request handler threw.', root });
    });
  };

  return {
    handle,
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, target: AppTarget) => {
      const m = byPrefix.get(target.mount.prefix);
      if (m?.upgrade === undefined) return false;
      m.upgrade(req, socket, head);
      return true;
    },
    onAppFiles: (listener) => {
      listener([...importedFiles]);
      onImported((file) => listener([file]));
      // ESM imports are reported as they happen; a lazy require() is found here.
      setInterval(collectRequired, 250).unref();
    },
    describe: () => [...loaded.map((m) => `${relativeToRoot(m.file, root)} → ${m.prefix || '/'} (${m.app.description}), in process, loaded in ${ms} ms`), ...debug],
    close: async () => {},
  };
}

/** --inspect with --no-watch: the inspector in this process (the app runs here). */
async function openInspectorHere(at: InspectAddress): Promise<string> {
  const inspector = await import('node:inspector');
  inspector.open(at.port, at.host);
  const url = inspector.url();
  return url === undefined ? `debugger: could not listen on ${at.host}:${at.port} (in use by another program?)` : `debugger: ${url} (or open chrome://inspect)`;
}
