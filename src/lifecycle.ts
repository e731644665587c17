// The serve-here process's life outside serving: the signals that stop it, and the primary of
// --workers, which only forks and watches its workers (each worker runs the CLI as usual).
import type { Logger } from './log.js';
import type { Options } from './options.js';
import type { ServeHere } from './server.js';
import { checkApps, checkDir, checkEnvFile } from './preflight.js';
import { localUrl, openBrowser, printBanner, type BannerInfo } from './banner.js';

/**
 * Set by the primary for its --workers processes (read once, then removed so apps never see it).
 * Checked instead of importing node:cluster, which costs start-up time in the common case.
 */
export const WORKER_ENV = 'SERVE_HERE_CLUSTER_WORKER';
export const isClusterWorker = process.env[WORKER_ENV] === '1';
delete process.env[WORKER_ENV];

/** Ctrl-C, `kill`, and a closed terminal (SIGHUP, e.g. an SSH session that drops) all stop cleanly. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * --workers N: the primary forks N processes that each run the whole server (static files and
 * the app in process) and share the listening socket through node:cluster.
 */
export async function runPrimary(opts: Options, log: Logger): Promise<void> {
  const { default: cluster } = await import('node:cluster');
  checkDir(opts.dir);
  checkApps(opts);
  checkEnvFile(opts);
  let printed = false;
  let stopping = false;
  for (let i = 0; i < opts.workers; i++) cluster.fork({ [WORKER_ENV]: '1' });
  cluster.on('message', (_worker, msg: { type?: string; banner?: BannerInfo }) => {
    if (msg.type !== 'serve-here:listening' || msg.banner === undefined || printed) return;
    printed = true;
    const banner = { ...msg.banner, tty: process.stdout.isTTY === true };
    banner.apps = [...banner.apps, `${opts.workers} worker processes share the port`];
    printBanner(log, banner);
    if (opts.open) openBrowser(localUrl(banner.address), log);
  });
  let signalled = false;
  cluster.on('exit', (worker, code) => {
    if (!stopping) {
      stopping = true;
      log.error(`serve-here: worker ${worker.process.pid ?? '?'} exited with code ${code}; stopping`);
      for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(signalled || code === 0 ? 0 : 1);
  });
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    signalled = true;
    // The one stop message: workers stop quietly (a terminal's Ctrl-C reaches them too). A
    // message, not a signal: a worker that already got the terminal's SIGINT would take a second
    // signal as "quit now" and cut its in-flight responses.
    log.info(log.colors.dim(stopMessage(signal)));
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'serve-here:stop' }, () => {});
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
}

/**
 * Stop on SIGINT/SIGTERM/SIGHUP: finish in-flight responses (3 s at most), exit 0; a second
 * signal exits at once. Installed before start-up, so a signal sent as soon as the banner
 * appears never meets Node's default action (death by signal, no exit code); a signal during
 * start-up exits 0 at once (app processes are killed on exit).
 */
function stopMessage(signal: NodeJS.Signals): string {
  return `\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping (press Ctrl-C again to quit now)`;
}

export function handleSignals(log: Logger): { serving(server: ServeHere): void } {
  let server: ServeHere | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping || server === undefined) {
      log.flush();
      process.exit(stopping ? 130 : 0);
    }
    stopping = true;
    if (!isClusterWorker) log.info(log.colors.dim(stopMessage(signal)));
    server.close(3000).then(
      () => {
        log.flush();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  if (isClusterWorker) {
    process.on('message', (msg: { type?: string } | null) => {
      if (msg?.type === 'serve-here:stop' && !stopping) stop('SIGTERM');
    });
    // The primary is gone (killed): nothing would stop this worker otherwise.
    process.on('disconnect', () => (stopping ? undefined : stop('SIGTERM')));
  }
  return {
    serving(s) {
      server = s;
    },
  };
}
