// Raw command-line values → one typed, validated Options object. Pure: no I/O, no process.*.
import { UsageError } from './errors.js';
import { parseTrustProxy } from './proxy-trust.js';

export type LogFormat = 'dev' | 'combined' | 'json';
export type AppStyle = 'fetch' | 'node' | 'wsgi';

/** One `--app [prefix=]file` mount. `prefix` is "" for the root, else "/api" (no trailing slash). */
export interface AppMount {
  prefix: string;
  file: string;
}

export interface Options {
  /** Folder to serve, as given (the CLI makes it absolute and checks it). */
  dir: string;
  port: number;
  /** True when the user chose the port; a busy explicit port is an error, a busy default moves on. */
  portExplicit: boolean;
  host: string;
  allowedHosts: string[] | undefined;
  /** --trust-proxy: "loopback", addresses and ranges whose X-Forwarded-* or Forwarded are believed. */
  trustProxy: string[] | undefined;
  cors: boolean;
  spa: boolean;
  dotfiles: boolean;
  listing: boolean;
  quiet: boolean;
  log: LogFormat;
  open: boolean;
  apps: AppMount[];
  appStyle: AppStyle | undefined;
  stripPrefix: boolean;
  envFile: string | undefined;
  watch: boolean;
  workers: number;
  /** --inspect[=[host:]port]: the Node inspector in the app process, at this address. */
  inspect: InspectAddress | undefined;
  /** --live: open pages follow every save. */
  live: boolean;
  /** --poll: watch by polling (network mounts, some containers). */
  poll: boolean;
  /** --share: all interfaces, a key in the URL, a QR code. */
  share: boolean;
  /** --auth user[:password] (basic auth), false for --no-auth, undefined for the default (a key when shared). */
  auth: string | false | undefined;
  /** --upload: PUT and the listing's drop zone store files (never overwriting). */
  upload: boolean;
  /** --max-upload in bytes. */
  maxUpload: number;
  /** --https (also implied by --cert/--key). */
  https: boolean;
  cert: string | undefined;
  key: string | undefined;
}

export const DEFAULT_PORT = 8000;
export const LOOPBACK_HOST = '127.0.0.1';
export const ALL_HOSTS = '::';

/** The flags as commander hands them over (strings, booleans, repeatable lists). */
export interface RawFlags {
  dir?: string | undefined;
  directory?: string | undefined;
  port?: string | undefined;
  host?: string | boolean | undefined;
  bind?: string | undefined;
  allowedHosts?: string | undefined;
  trustProxy?: string | boolean | undefined;
  cors?: boolean | undefined;
  spa?: boolean | undefined;
  dotfiles?: boolean | undefined;
  listing?: boolean | undefined;
  quiet?: boolean | undefined;
  log?: string | undefined;
  open?: boolean | undefined;
  app?: string[] | undefined;
  appStyle?: string | undefined;
  stripPrefix?: boolean | undefined;
  envFile?: string | undefined;
  watch?: boolean | undefined;
  live?: boolean | undefined;
  poll?: boolean | undefined;
  workers?: string | undefined;
  inspect?: string | boolean | undefined;
  share?: boolean | undefined;
  auth?: string | boolean | undefined;
  upload?: boolean | undefined;
  maxUpload?: string | undefined;
  https?: boolean | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

/** Uploads larger than this are refused (413) unless --max-upload says otherwise. */
export const DEFAULT_MAX_UPLOAD = 1024 ** 3;

/** Validate raw flags and fill in defaults; throws UsageError on a bad value. */
export function parseOptions(raw: RawFlags): Options {
  if (raw.dir !== undefined && raw.directory !== undefined && raw.dir !== raw.directory) {
    throw new UsageError(`Two folders given: "${raw.dir}" and --directory "${raw.directory}"`);
  }
  const portExplicit = raw.port !== undefined;
  const port = portExplicit ? parsePort(raw.port ?? '') : DEFAULT_PORT;
  if (raw.host !== undefined && raw.bind !== undefined) {
    throw new UsageError('Use either --host or --bind, not both');
  }
  let host = raw.share === true ? ALL_HOSTS : LOOPBACK_HOST;
  if (raw.host === true) host = ALL_HOSTS;
  else if (typeof raw.host === 'string') host = parseHost(raw.host, '--host');
  else if (raw.bind !== undefined) host = parseHost(raw.bind, '--bind');

  const log = raw.log ?? 'dev';
  if (log !== 'dev' && log !== 'combined' && log !== 'json') {
    throw new UsageError(`Unknown log format "${log}": expected dev, combined or json`);
  }
  const appStyle = raw.appStyle;
  if (appStyle !== undefined && appStyle !== 'fetch' && appStyle !== 'node' && appStyle !== 'wsgi') {
    throw new UsageError(`Unknown app style "${appStyle}": expected fetch, node or wsgi`);
  }
  const apps = (raw.app ?? []).map(parseAppMount);
  const prefixes = new Set<string>();
  for (const app of apps) {
    if (prefixes.has(app.prefix)) throw new UsageError(`Two apps mounted at "${app.prefix || '/'}"`);
    prefixes.add(app.prefix);
  }
  const workers = raw.workers === undefined ? 1 : parseCount(raw.workers, '--workers');
  // Flags that only mean something for apps: say so instead of ignoring them.
  if (raw.workers !== undefined && apps.length === 0) {
    throw new UsageError('--workers needs --app', 'Workers are processes that each run the app: `serve-here --app app.ts --no-watch --workers 4`.');
  }
  if (raw.envFile !== undefined && apps.length === 0) {
    throw new UsageError('--env-file needs --app', 'The variables are for app modules: `serve-here --app app.ts --env-file .env`.');
  }
  const inspect = raw.inspect === undefined || raw.inspect === false ? undefined : parseInspect(raw.inspect);
  if (inspect !== undefined && apps.length === 0) {
    throw new UsageError('--inspect needs --app', 'The inspector opens in the app process: `serve-here --app app.ts --inspect`.');
  }
  if (inspect !== undefined && workers > 1) {
    throw new UsageError('--inspect and --workers do not go together', 'Each worker would need its own inspector port: debug with one process.');
  }
  if (workers > 1 && raw.watch !== false) {
    // Reload mode runs one app process behind this server and swaps it on each save; workers are
    // copies of the whole server (node:cluster) each running the app in process, which cannot reload.
    throw new UsageError(
      '--workers needs --no-watch',
      'Workers are copies of the whole server that run the app in process, and such a process cannot reload the app on save. For throughput: `--no-watch --workers N`; while developing, leave out --workers.',
    );
  }

  return {
    dir: raw.dir ?? raw.directory ?? '.',
    port,
    portExplicit,
    host,
    allowedHosts: raw.allowedHosts === undefined ? undefined : parseHostList(raw.allowedHosts),
    trustProxy: raw.trustProxy === undefined || raw.trustProxy === false ? undefined : parseTrustProxy(raw.trustProxy),
    cors: raw.cors === true,
    spa: raw.spa === true,
    dotfiles: raw.dotfiles === true,
    listing: raw.listing !== false,
    quiet: raw.quiet === true,
    log,
    open: raw.open === true,
    apps,
    appStyle,
    stripPrefix: raw.stripPrefix !== false,
    envFile: raw.envFile,
    watch: raw.watch !== false,
    live: raw.live === true,
    poll: raw.poll === true,
    share: raw.share === true,
    auth: raw.auth === true ? undefined : raw.auth,
    upload: raw.upload === true,
    maxUpload: raw.maxUpload === undefined ? DEFAULT_MAX_UPLOAD : parseSize(raw.maxUpload),
    ...tlsFlags(raw),
    workers,
    inspect,
  };
}

export interface InspectAddress {
  host: string;
  port: number;
}

export const DEFAULT_INSPECT: InspectAddress = { host: '127.0.0.1', port: 9229 };

/** `--inspect`, `--inspect=9230`, `--inspect=0.0.0.0:9229`, `--inspect=[::1]:9229`, as Node reads them. */
export function parseInspect(value: string | true): InspectAddress {
  if (value === true || value === '') return DEFAULT_INSPECT;
  const m = /^(\d+)$/.exec(value) ?? /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(value);
  const port = Number(m === null ? NaN : m.length === 2 ? m[1] : m[3]);
  if (m === null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`Bad --inspect address "${value}"`, 'Give a port or host:port, e.g. --inspect=9230 or --inspect=127.0.0.1:9229.');
  }
  return { host: m.length === 2 ? DEFAULT_INSPECT.host : (m[1] ?? m[2] ?? DEFAULT_INSPECT.host), port };
}


function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`Invalid port "${value}": expected a number from 0 to 65535`);
  }
  return Number(value);
}

function parseCount(value: string, flag: string): number {
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 256) {
    throw new UsageError(`Invalid ${flag} "${value}": expected a number from 1 to 256`);
  }
  return Number(value);
}

function parseHost(value: string, flag: string): string {
  const host = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (host === '' || /[\s/]/.test(host)) throw new UsageError(`Invalid ${flag} address "${value}"`);
  return host;
}

function parseHostList(value: string): string[] {
  const hosts = value.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  if (hosts.length === 0) throw new UsageError('--allowed-hosts needs at least one host name');
  return hosts;
}

/** `app.ts` mounts at the root, `/api=api.ts` at /api. */
export function parseAppMount(value: string): AppMount {
  const eq = value.indexOf('=');
  if (eq === -1 || !value.startsWith('/')) {
    if (value === '') throw new UsageError('--app needs a module file');
    return { prefix: '', file: value };
  }
  const file = value.slice(eq + 1);
  let prefix = value.slice(0, eq).replace(/\/+$/, '');
  if (file === '') throw new UsageError(`--app "${value}" names no module file`);
  if (/\/\/|\/\.\.?(\/|$)|[?#%\\\s]/.test(prefix)) {
    throw new UsageError(`Invalid --app prefix "${value.slice(0, eq)}": expected a plain path such as /api`);
  }
  if (prefix === '/') prefix = '';
  return { prefix, file };
}

/** "500M", "2G", "1.5GiB", "1048576" → bytes. */
export function parseSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i.exec(value);
  if (m === null) throw new UsageError(`Invalid size "${value}"`, 'Give a number of bytes or a size like 500M or 2G.');
  const unit = (m[2] ?? 'b').toLowerCase()[0] ?? 'b';
  const scale = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit] ?? 1;
  const bytes = Math.floor(Number(m[1]) * scale);
  if (bytes <= 0) throw new UsageError(`Invalid size "${value}"`, 'The upload limit must be more than 0 bytes.');
  return bytes;
}

function tlsFlags(raw: RawFlags): { https: boolean; cert: string | undefined; key: string | undefined } {
  if ((raw.cert === undefined) !== (raw.key === undefined)) {
    throw new UsageError(`${raw.cert === undefined ? '--key' : '--cert'} needs ${raw.cert === undefined ? '--cert' : '--key'} too`, 'Give both files: --cert cert.pem --key key.pem (mkcert makes such a pair).');
  }
  return { https: raw.https === true || raw.cert !== undefined, cert: raw.cert, key: raw.key };
}
