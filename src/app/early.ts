// The first app process, spawned by bin/serve-here.js before serve-here's own modules load, so
// that its boot (node, then the TypeScript loader: most of the time to the first answer) runs
// beside theirs instead of after. The supervisor adopts it for the first load only when it was
// spawned exactly as the supervisor would spawn one (the same environment, the same folder);
// otherwise (an --env-file, NODE_ENV=production for a shared server) it is killed unused.
import { AppProcess } from './process.js';

let early: { proc: AppProcess; env: NodeJS.ProcessEnv; cwd: string } | undefined;

/**
 * Whether a command line runs app processes (--app, watch mode) with serve-here's own
 * environment. A quick look at argv, before the real parse: a wrong guess only costs a process
 * that is killed unused. An --env-file, or a --host that may make the server shared (apps then get
 * NODE_ENV=production), changes the apps' environment: no early process then.
 */
export function runsAppProcesses(argv: string[]): boolean {
  if (argv[0] === 'export') return false;
  let app = false;
  for (const arg of argv) {
    if (arg === '--') break;
    if (arg === '--app' || arg.startsWith('--app=')) app = true;
    else if (['--no-watch', '--workers', '--env-file', '--host', '-h', '--help', '-v', '--version'].includes(arg) || /^--(workers|env-file|host)=/.test(arg)) return false;
  }
  return app;
}

/** Spawn the first app process now, if argv asks for app processes. */
export function spawnEarly(argv: string[]): void {
  if (!runsAppProcesses(argv)) return;
  const env = { ...process.env };
  const cwd = process.cwd();
  const proc = new AppProcess({ id: 0, env, cwd });
  // Until adopted, it keeps nothing running: a usage error still exits at once, and the process
  // ends with serve-here's IPC channel, as every app process does.
  proc.keepAlive(false);
  early = { proc, env, cwd };
}

/** The early process, if it was spawned with exactly this environment in this folder; asked once. */
export function takeEarly(env: NodeJS.ProcessEnv, cwd: string): AppProcess | undefined {
  const found = early;
  early = undefined;
  if (found === undefined) return undefined;
  if (found.proc.state === 'dead' || found.cwd !== cwd || !sameEnv(found.env, env)) {
    found.proc.kill('it was spawned with another environment');
    return undefined;
  }
  found.proc.keepAlive(true);
  return found.proc;
}

function sameEnv(a: NodeJS.ProcessEnv, b: NodeJS.ProcessEnv): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}
