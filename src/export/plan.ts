// What a deployment needs to know from the developer's own flags: the folder, the app mounts,
// the static rules (--spa, --dotfiles), the port and worker count of the app server behind.
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { denyRulesFor, type DenyRules } from '../exposure/policy.js';
import type { Options } from '../options.js';
import { LOOPBACK } from '../proxy-trust.js';

export interface DeployMount {
  /** "" for the root, else "/api". */
  prefix: string;
  /** Absolute path of the module. */
  file: string;
  /** The module as a URL path below the served folder ("/api.mjs"), when it lies inside it. */
  servedAs: string | undefined;
}

export interface DeployPlan {
  /** The served folder, absolute. */
  root: string;
  mounts: DeployMount[];
  spa: boolean;
  dotfiles: boolean;
  /** Loopback port of the app server (serve-here) behind the front server. */
  port: number;
  workers: number;
  /** --allowed-hosts: the public names (nginx server_name, and the app server must accept them). */
  hosts: string[];
  stripPrefix: boolean;
  envFile: string | undefined;
  /** Where the command was run: relative paths in entry modules start here. */
  cwd: string;
  /** `node …/bin/serve-here.js` as an absolute command line for ExecStart. */
  command: string[];
  /** What the front server must never serve: the exposure policy's rules for these flags. */
  deny: DenyRules;
  /** --trust-proxy for the app server: the front server on loopback, unless other addresses were given. */
  trustProxy: string[];
}

/** The executable that is running now, so a generated unit starts this very install. */
function selfCommand(): string[] {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'serve-here.js');
  return [process.execPath, bin];
}

/** The URL path of `file` when it lies inside `root` (it must then be hidden by the front server). */
function servedPath(root: string, file: string): string | undefined {
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return `/${rel.split(sep).join('/')}`;
}

export function planFrom(opts: Options, cwd: string): DeployPlan {
  if (opts.port === 0) throw new UsageError('Cannot export with --port 0', 'The front server needs a fixed port for the app server, e.g. --port 8000.');
  const root = resolve(cwd, opts.dir);
  return {
    root,
    mounts: opts.apps.map((m) => {
      const file = resolve(cwd, m.file);
      return { prefix: m.prefix, file, servedAs: servedPath(root, file) };
    }),
    spa: opts.spa,
    dotfiles: opts.dotfiles,
    port: opts.port,
    // --workers given: kept; else one process per CPU, at most 4, as a starting point.
    workers: opts.workers > 1 ? opts.workers : Math.min(4, availableParallelism()),
    hosts: opts.allowedHosts ?? [],
    stripPrefix: opts.stripPrefix,
    envFile: opts.envFile === undefined ? undefined : resolve(cwd, opts.envFile),
    cwd,
    command: selfCommand(),
    deny: denyRulesFor({
      root,
      dotfiles: opts.dotfiles,
      apps: opts.apps.map((m) => resolve(cwd, m.file)),
      envFile: opts.envFile === undefined ? undefined : resolve(cwd, opts.envFile),
      tlsFiles: [opts.cert, opts.key].flatMap((f) => (f === undefined ? [] : [resolve(cwd, f)])),
      appCwd: cwd,
    }),
    trustProxy: opts.trustProxy ?? [LOOPBACK],
  };
}

/** The serve-here command line the app server runs (what systemd starts, what nginx proxies to). */
export function appServerArgs(plan: DeployPlan): string[] {
  return [
    plan.root,
    '--no-watch',
    '--workers',
    String(plan.workers),
    '--port',
    String(plan.port),
    ...plan.mounts.flatMap((m) => ['--app', m.prefix === '' ? m.file : `${m.prefix}=${m.file}`]),
    ...(plan.stripPrefix ? [] : ['--no-strip-prefix']),
    ...(plan.spa ? ['--spa'] : []),
    ...(plan.dotfiles ? ['--dotfiles'] : []),
    ...(plan.hosts.length > 0 ? ['--allowed-hosts', plan.hosts.join(',')] : []),
    ...(plan.envFile === undefined ? [] : ['--env-file', plan.envFile]),
    // The front server says who the client is; believed from it only.
    '--trust-proxy',
    plan.trustProxy.join(','),
    '--log',
    'combined',
  ];
}
