// Turn a request that passed the gate into a Decision. The only I/O is the resolver's lookups;
// nothing here writes a response, so every routing rule can be checked without a socket.
// Order, as nginx's `try_files $uri $uri/ @app`: static file → folder index → clean URL → app
// mount → listing → SPA fallback → 404.
import type { IncomingMessage } from 'node:http';
import type { Stats } from 'node:fs';
import type { AppMount, AppRouter, AppTarget } from './app/contract.js';
import { isCrossSite, plainAddress, type ParsedHost } from './host-check.js';
import { parsePath, type Resolved, type Resolver } from './static/resolve.js';
import { LIVE_BASE, LIVE_EVENTS_PATH, LIVE_SCRIPT_PATH, LIVE_WORKER_PATH } from './live/paths.js';

/** The upload page's script, beside the live-reload assets. */
export const UPLOAD_SCRIPT_PATH = `${LIVE_BASE}upload.js`;

export type Decision =
  | { kind: 'file'; path: string; stat: Stats; status: number }
  | { kind: 'listing'; path: string; stat: Stats; segments: string[]; query: string; json: boolean }
  | { kind: 'redirect'; location: string }
  | { kind: 'app'; target: AppTarget }
  | { kind: 'options' }
  | { kind: 'favicon' }
  | { kind: 'live'; asset: 'script' | 'worker' | 'events' }
  | { kind: 'upload-script' }
  | { kind: 'upload'; segments: string[]; host: string }
  | { kind: 'zip'; path: string; segments: string[] }
  | { kind: 'error'; status: number; detail: string };

export interface RouteContext {
  resolver: Resolver;
  app: AppRouter | undefined;
  listing: boolean;
  spa: boolean;
  /** True with --no-strip-prefix off (the default): apps see the path below their mount. */
  stripPrefix: boolean;
  scheme: 'http' | 'https';
  /** --live: the live-reload script, worker and event stream answer under LIVE_BASE. */
  live: boolean;
  /** --upload: PUT stores files (outside app mounts) and the listing offers a drop zone. */
  upload: boolean;
}

/** Methods the static side answers; anything else is the app's, or 405 with these. */
export const STATIC_METHODS = 'GET, HEAD, OPTIONS';

/** More header lines than this is a 431 (Node would drop the extras silently). */
export const MAX_HEADER_LINES = 100;

/** Decide what answers this request. `host` is the gate's validated Host. */
export async function route(ctx: RouteContext, req: IncomingMessage, host: ParsedHost | undefined): Promise<Decision> {
  if (req.rawHeaders.length / 2 > MAX_HEADER_LINES) return { kind: 'error', status: 431, detail: `More than ${MAX_HEADER_LINES} header lines.` };
  const url = req.url ?? '/';
  if (url.startsWith(LIVE_BASE)) {
    if (ctx.upload && (url === UPLOAD_SCRIPT_PATH || url.startsWith(`${UPLOAD_SCRIPT_PATH}?`))) return { kind: 'upload-script' };
    if (ctx.live) return routeLive(req, url, host);
  }
  const parsed = parsePath(url);
  if (parsed.kind === 'bad') return { kind: 'error', status: 400, detail: parsed.reason };
  const { segments, raw, trailingSlash } = parsed;
  const q = url.indexOf('?');
  const query = q === -1 ? '' : url.slice(q + 1);
  const method = req.method ?? 'GET';
  const readOnly = method === 'GET' || method === 'HEAD';
  const mount = ctx.app === undefined ? undefined : matchMount(ctx.app.mounts, segments);
  const toApp = (m: AppMount): Decision => ({ kind: 'app', target: appTarget(ctx, req, host, { mount: m, raw, trailingSlash, query: q === -1 ? '' : url.slice(q) }) });

  if (method === 'PUT' && ctx.upload && mount === undefined) return { kind: 'upload', segments, host: host?.host ?? fallbackHost(req) };
  let found: Resolved = { kind: 'missing' };
  if (readOnly) found = await lookup(ctx, segments);
  if (found.kind === 'dir' && ctx.listing && new URLSearchParams(query).has('zip')) return { kind: 'zip', path: found.path, segments };
  if (found.kind === 'file') {
    // A file is not a folder (as CPython): `/a.txt/` is a 404.
    if (!trailingSlash) return { kind: 'file', path: found.path, stat: found.stat, status: 200 };
    found = { kind: 'missing' };
  }
  if (found.kind === 'dir') {
    const index = await lookup(ctx, [...segments, 'index.html']);
    if (index.kind === 'file' || mount === undefined) {
      if (!trailingSlash && segments.length > 0) return { kind: 'redirect', location: slashLocation(raw, query) };
      if (index.kind === 'file') return { kind: 'file', path: index.path, stat: index.stat, status: 200 };
    }
  }
  if (found.kind === 'missing' && readOnly && !trailingSlash && mount === undefined) {
    const last = segments[segments.length - 1];
    if (last !== undefined && !last.includes('.')) {
      const clean = await lookup(ctx, [...segments.slice(0, -1), `${last}.html`]);
      if (clean.kind === 'file') return { kind: 'file', path: clean.path, stat: clean.stat, status: 200 };
    }
  }
  if (mount !== undefined) return toApp(mount);
  if (method === 'OPTIONS') return { kind: 'options' };
  if (!readOnly) return { kind: 'error', status: 405, detail: `Method ${method} is not allowed here.` };
  if (found.kind === 'dir' && ctx.listing) {
    const json = (req.headers.accept ?? '').includes('application/json');
    return { kind: 'listing', path: found.path, stat: found.stat, segments, query, json };
  }
  if (ctx.spa && (req.headers.accept ?? '').includes('text/html')) {
    const last = segments[segments.length - 1];
    if (last === undefined || !last.includes('.')) {
      const index = await lookup(ctx, ['index.html']);
      if (index.kind === 'file') return { kind: 'file', path: index.path, stat: index.stat, status: 200 };
    }
  }
  if (segments.length === 1 && segments[0] === 'favicon.ico') return { kind: 'favicon' };
  return notFound(ctx);
}

/** The live-reload assets; the event stream only for pages of this origin. */
function routeLive(req: IncomingMessage, url: string, host: ParsedHost | undefined): Decision {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'error', status: 405, detail: `Method ${method} is not allowed here.` };
  if (path === LIVE_SCRIPT_PATH) return { kind: 'live', asset: 'script' };
  if (path === LIVE_WORKER_PATH) return { kind: 'live', asset: 'worker' };
  if (path !== LIVE_EVENTS_PATH) return { kind: 'error', status: 404, detail: 'Nothing here.' };
  // EventSource requests from another site's page carry its Origin (and Sec-Fetch-Site): refuse them.
  if (host === undefined || isCrossSite(req.headers, host.host)) {
    return { kind: 'error', status: 403, detail: 'The live-reload stream is only for pages of this server.' };
  }
  return { kind: 'live', asset: 'events' };
}

/** The folder's own 404.html when there is one, else the built-in page. */
export async function notFound(ctx: RouteContext): Promise<Decision> {
  const page = await lookup(ctx, ['404.html']);
  if (page.kind === 'file') return { kind: 'file', path: page.path, stat: page.stat, status: 404 };
  return { kind: 'error', status: 404, detail: 'Nothing here.' };
}

/** Route an upgrade (WebSocket): only an app mount takes one. */
export function routeUpgrade(ctx: RouteContext, req: IncomingMessage, host: ParsedHost | undefined): Decision {
  if (req.rawHeaders.length / 2 > MAX_HEADER_LINES) return { kind: 'error', status: 431, detail: `More than ${MAX_HEADER_LINES} header lines.` };
  const url = req.url ?? '/';
  const parsed = parsePath(url);
  if (parsed.kind === 'bad') return { kind: 'error', status: 400, detail: parsed.reason };
  const mount = ctx.app === undefined ? undefined : matchMount(ctx.app.mounts, parsed.segments);
  if (mount === undefined) return { kind: 'error', status: 404, detail: 'Nothing here takes an upgrade.' };
  const q = url.indexOf('?');
  return { kind: 'app', target: appTarget(ctx, req, host, { mount, raw: parsed.raw, trailingSlash: parsed.trailingSlash, query: q === -1 ? '' : url.slice(q) }) };
}

/** Resolve; what the exposure policy denies (the apps' own files among it) is missing. */
function lookup(ctx: RouteContext, segments: readonly string[]): Promise<Resolved> {
  return ctx.resolver.resolve(segments);
}

/** The mount owning these decoded segments (mounts come longest first; segment boundaries only). */
export function matchMount(mounts: readonly AppMount[], segments: readonly string[]): AppMount | undefined {
  outer: for (const m of mounts) {
    if (m.segments.length > segments.length) continue;
    for (let i = 0; i < m.segments.length; i++) if (m.segments[i] !== segments[i]) continue outer;
    return m;
  }
  return undefined;
}

interface Split {
  mount: AppMount;
  raw: readonly string[];
  trailingSlash: boolean;
  /** "" or "?..." as sent. */
  query: string;
}

/** The split into mount and rest, done once here: the app side never re-parses the request line. */
function appTarget(ctx: RouteContext, req: IncomingMessage, host: ParsedHost | undefined, s: Split): AppTarget {
  const rest = ctx.stripPrefix ? s.raw.slice(s.mount.segments.length) : s.raw;
  let path = rest.length === 0 ? '' : `/${rest.join('/')}`;
  if (s.trailingSlash || (rest.length === 0 && (!ctx.stripPrefix || s.mount.segments.length === 0))) path += '/';
  const address = req.socket.remoteAddress ?? '';
  return {
    mount: s.mount,
    path: `${path}${s.query}`,
    host: host?.host ?? fallbackHost(req),
    scheme: ctx.scheme,
    clientAddress: plainAddress(address),
    clientPort: req.socket.remotePort ?? 0,
  };
}

/** HTTP/1.0 without Host: the address the client connected to. */
function fallbackHost(req: IncomingMessage): string {
  const a = req.socket.localAddress ?? '127.0.0.1';
  const name = plainAddress(a);
  return `${name.includes(':') ? `[${name}]` : name}:${req.socket.localPort ?? 80}`;
}

/** Built from the cleaned segments: one leading slash, so never `//host` (CVE-2021-28861). */
function slashLocation(raw: readonly string[], query: string): string {
  return `/${raw.join('/')}/${query === '' ? '' : `?${query}`}`;
}
