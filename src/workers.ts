// --workers N, the primary: forks the workers, hands them this run's shared secrets, prints the
// banner once, restarts a worker that dies, and gives up (exit 1) only on a crash loop.
import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:cluster';
import type { Logger } from './log.js';
import { stamp } from './log.js';
import type { Options } from './options.js';
import { checkApps, checkDir, checkEnvFile } from './preflight.js';
import { localUrl, openBrowser, printBanner, type BannerInfo } from './banner.js';
import { RUN_ENV, STOP_SIGNALS, WORKER_ENV, stopMessage, type RunSecrets } from './lifecycle.js';
import { Backoff, formatDelay } from './reload/backoff.js';

/** A worker slot that dies this many times in a row, each before running HEALTHY_MS, is a crash loop. */
export const GIVE_UP_AFTER = 5;

/**
 * One set of secrets for the whole run, made here and given to every worker: the key a visitor
 * got from one worker must open the others, and a live-reload stream that reconnects to another
 * worker must see the same run (else its pages reload as if the server had restarted).
 */
function runSecrets(): RunSecrets {
  return { token: randomBytes(16).toString('base64url'), session: randomBytes(32).toString('base64url'), liveId: randomBytes(8).toString('hex') };
}

export async function runPrimary(opts: Options, log: Logger): Promise<void> {
  const { default: cluster } = await import('node:cluster');
  checkDir(opts.dir);
  checkApps(opts);
  checkEnvFile(opts);
  const env = { [WORKER_ENV]: '1', [RUN_ENV]: JSON.stringify(runSecrets()) };
  let printed = false;
  let stopping = false;
  let signalled = false;
  /** Slot of each live worker, so a restart takes the dead one's place and backoff. */
  const slots = new Map<Worker, number>();
  const backoffs = Array.from({ length: opts.workers }, () => new Backoff());
  const fork = (slot: number): void => void slots.set(cluster.fork(env), slot);
  for (let i = 0; i < opts.workers; i++) fork(i);

  // An app file one worker learns (a module imported lazily, at a request) is protected in every
  // worker, and in a worker started later: the primary keeps them all and passes each one on.
  // A worker still booting may not listen for them yet: each one gets the whole set once it says
  // it is listening (its server, and so its listener, exists by then).
  const appFiles = new Set<string>();
  cluster.on('message', (worker, msg: { type?: string; banner?: BannerInfo; files?: string[] }) => {
    if (msg.type === 'serve-here:app-files' && Array.isArray(msg.files)) {
      const fresh = msg.files.filter((f) => typeof f === 'string' && !appFiles.has(f));
      for (const f of fresh) appFiles.add(f);
      if (fresh.length > 0) for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'serve-here:app-files', files: fresh }, () => {});
      return;
    }
    if (msg.type === 'serve-here:listening' && appFiles.size > 0) worker.send({ type: 'serve-here:app-files', files: [...appFiles] }, () => {});
    if (msg.type !== 'serve-here:listening' || msg.banner === undefined || printed) return;
    printed = true;
    const banner = { ...msg.banner, tty: process.stdout.isTTY === true };
    banner.apps = [...banner.apps, `${opts.workers} worker processes share the port`];
    printBanner(log, banner);
    if (opts.open) openBrowser(localUrl(banner.address), log);
  });

  const stopAll = (): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
  };
  let exitCode = 0;
  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.get(worker) ?? 0;
    slots.delete(worker);
    if (!stopping) {
      const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      const backoff = backoffs[slot] as Backoff;
      const delay = backoff.next();
      // Before any worker listened the start itself failed (port in use, app error): the worker
      // said why, and a restart would say it again.
      if (!printed || backoff.attempts >= GIVE_UP_AFTER) {
        stopping = true;
        exitCode = code === 0 || code === null ? 1 : code;
        const why = printed ? `; it died ${GIVE_UP_AFTER} times in a row, giving up` : '';
        log.error(`${stamp(log)} ✖ worker ${worker.process.pid ?? '?'} ${how}${why}; stopping`);
        stopAll();
      } else {
        log.error(`${stamp(log)} ✖ worker ${worker.process.pid ?? '?'} ${how} — restarting it in ${formatDelay(delay)}`);
        setTimeout(() => (stopping ? undefined : fork(slot)), delay);
      }
    }
    if (Object.keys(cluster.workers ?? {}).length === 0 && stopping) process.exit(signalled ? 0 : exitCode);
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (signalled) {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(130);
    }
    stopping = true;
    signalled = true;
    // The one stop message: workers stop quietly (a terminal's Ctrl-C reaches them too). A
    // message, not a signal: a worker that already got the terminal's SIGINT would take a second
    // signal as "quit now" and cut its in-flight responses.
    log.info(log.colors.dim(stopMessage(signal)));
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'serve-here:stop' }, () => {});
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
}
