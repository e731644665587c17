// The serve-here process's life outside serving: the signals that stop it, and what a --workers
// worker is told by its primary (src/workers.ts; each worker runs the CLI as usual).
import type { Logger } from './log.js';
import type { ServeHere } from './server.js';

/**
 * Set by the primary for its --workers processes (read once, then removed so apps never see it).
 * Checked instead of importing node:cluster, which costs start-up time in the common case.
 */
export const WORKER_ENV = 'SERVE_HERE_CLUSTER_WORKER';
export const isClusterWorker = process.env[WORKER_ENV] === '1';
delete process.env[WORKER_ENV];

/** The secrets one run shares between its workers (see src/workers.ts). */
export interface RunSecrets {
  /** The key in the shared URL (token access). */
  token: string;
  /** The session cookie's value the key is exchanged for. */
  session: string;
  /** The live-reload stream's server id: the same id on every worker is the same run. */
  liveId: string;
}

/** The primary's RunSecrets (JSON) for its workers; read once and removed, like WORKER_ENV. */
export const RUN_ENV = 'SERVE_HERE_CLUSTER_RUN';
export const clusterRun = readRun(process.env[RUN_ENV]);
delete process.env[RUN_ENV];

function readRun(text: string | undefined): RunSecrets | undefined {
  if (text === undefined || !isClusterWorker) return undefined;
  const run = JSON.parse(text) as Partial<RunSecrets>;
  if (typeof run.token !== 'string' || typeof run.session !== 'string' || typeof run.liveId !== 'string') return undefined;
  return { token: run.token, session: run.session, liveId: run.liveId };
}

/** Ctrl-C, `kill`, and a closed terminal (SIGHUP, e.g. an SSH session that drops) all stop cleanly. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Stop on SIGINT/SIGTERM/SIGHUP: finish in-flight responses (3 s at most), exit 0; a second
 * signal exits at once. Installed before start-up, so a signal sent as soon as the banner
 * appears never meets Node's default action (death by signal, no exit code); a signal during
 * start-up exits 0 at once (app processes are killed on exit).
 */
export function stopMessage(signal: NodeJS.Signals): string {
  return `\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping (press Ctrl-C again to quit now)`;
}

export function handleSignals(log: Logger): { serving(server: ServeHere): void } {
  let server: ServeHere | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    // A worker's "quit now" is its primary's call: the terminal's Ctrl-C reaches this worker too,
    // possibly after the primary's stop message, and must not cut in-flight responses then. The
    // primary kills its workers on a second Ctrl-C; only an orphaned worker quits on its own.
    if (stopping && isClusterWorker && process.connected) return;
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
