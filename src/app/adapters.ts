// Run one request through an app of any convention: fetch (Request → Response), node (req, res)
// or WSGI-style (environ, startResponse). Shared by the reload child and the in-process mode.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { DetectedApp, FetchHandler, FetchInfo, NodeHandler, StartResponse, WsgiApp } from './detect.js';
import { lazyRequest, plainParts } from './web.js';

/** What the adapters know about a request beyond the request itself (the server's AppTarget). */
export interface RequestMeta {
  /** Mount prefix: "" or "/api". */
  prefix: string;
  /**
   * The path the app sees, with "?query": below the prefix when `strip` (then "" or "?q" for the
   * mount itself, as PEP 3333's empty PATH_INFO), else the whole path.
   */
  path: string;
  /** True (default): `path` is below the prefix (SCRIPT_NAME = prefix). */
  strip: boolean;
  /** The validated Host the app's URL is built from. */
  host: string;
  clientAddress: string;
  clientPort: number;
  /** Scheme the client used. */
  scheme: 'http' | 'https';
  /** wsgi.multiprocess: true when several processes serve the app (--workers). */
  multiprocess: boolean;
  /** Where wsgi.errors writes. */
  errors: (text: string) => void;
}

/** The app's view of the target: SCRIPT_NAME (the prefix when stripped), PATH_INFO and query. */
export function splitTarget(meta: RequestMeta): { scriptName: string; pathInfo: string; query: string } {
  const q = meta.path.indexOf('?');
  const pathInfo = q === -1 ? meta.path : meta.path.slice(0, q);
  const query = q === -1 ? '' : meta.path.slice(q + 1);
  return { scriptName: meta.strip ? meta.prefix : '', pathInfo, query };
}

/** Transitional: the app's path from a full request URL (the server will hand it over split). */
export function appPath(url: string, prefix: string, strip: boolean): string {
  if (!strip || prefix === '' || !url.startsWith(prefix)) return url;
  return url.slice(prefix.length);
}

/** Call the app for one request; rejects if the app throws before answering. */
export function runApp(app: DetectedApp, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  switch (app.style) {
    case 'fetch':
      return runFetch(app.handler, req, res, meta);
    case 'node':
      return runNode(app.handler, req, res, meta);
    case 'wsgi':
      return runWsgi(app.handler, req, res, meta);
  }
}

// ---- node (req, res) -------------------------------------------------------------------------

async function runNode(handler: NodeHandler, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  const { scriptName } = splitTarget(meta);
  const extra = req as IncomingMessage & { originalUrl?: string; baseUrl?: string };
  if (scriptName !== '') {
    // As Express's app.use('/api', sub): the app sees the rest, originalUrl and baseUrl keep the prefix.
    extra.originalUrl = `${scriptName}${meta.path}`;
    extra.baseUrl = scriptName;
  }
  req.url = meta.path === '' || meta.path[0] === '?' ? `/${meta.path}` : meta.path;
  // Called with exactly (req, res): a third argument means `next` to Express but a parsed URL to polka.
  const result: unknown = handler(req, res);
  if (result instanceof Promise) await result;
}

// ---- fetch (Request → Response) --------------------------------------------------------------

async function runFetch(handler: FetchHandler, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  const { pathInfo, query } = splitTarget(meta);
  const url = `${meta.scheme}://${meta.host}${pathInfo === '' ? '/' : pathInfo}${query === '' ? '' : `?${query}`}`;
  const request = lazyRequest(req, res, url, meta.prefix);
  const info: FetchInfo = { remoteAddr: { transport: 'tcp', hostname: meta.clientAddress, port: meta.clientPort }, prefix: meta.prefix };
  const response = await handler(request, info);
  if (!(response instanceof Response)) {
    throw new TypeError(`The fetch handler returned ${response === undefined ? 'undefined' : typeof response}, not a Response`);
  }
  await writeFetchResponse(response, res, req.method === 'HEAD');
}

/** Copy a web Response onto a node ServerResponse, streaming the body with backpressure. */
export async function writeFetchResponse(response: Response, res: ServerResponse, head: boolean): Promise<void> {
  const plain = plainParts(response);
  if (plain !== undefined) return writePlain(plain, res, head);
  res.statusCode = response.status;
  if (response.statusText !== '') res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  const body = response.body;
  if (body === null || head) {
    if (body !== null) await body.cancel().catch(() => {});
    res.end();
    return;
  }
  const reader = body.getReader();
  const onClose = (): void => {
    reader.cancel().catch(() => {});
  };
  res.once('close', onClose);
  try {
    if (!res.hasHeader('content-length')) res.flushHeaders(); // streams (SSE) start at once
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(value)) await drained(res);
    }
    res.end();
  } finally {
    res.off('close', onClose);
  }
}

/** The fast path: a Response made from a string or bytes, written without a web stream. */
function writePlain(plain: NonNullable<ReturnType<typeof plainParts>>, res: ServerResponse, head: boolean): void {
  res.statusCode = plain.status;
  if (plain.statusText !== '') res.statusMessage = plain.statusText;
  const h = plain.headers;
  if (h instanceof Headers) {
    for (const [name, value] of h) if (name !== 'set-cookie') res.setHeader(name, value);
    const cookies = h.getSetCookie();
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  } else if (Array.isArray(h)) {
    for (const [name, value] of h as Array<[string, string]>) res.appendHeader(name, value);
  } else if (h !== undefined) {
    for (const name of Object.keys(h)) res.setHeader(name, (h as Record<string, string>)[name] as string);
  }
  const body = plain.body;
  if (body === null) {
    res.end();
    return;
  }
  if (typeof body === 'string' && !res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain;charset=UTF-8');
  if (!res.hasHeader('content-length')) res.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  res.end(head ? undefined : body);
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

// ---- WSGI-style (environ, startResponse) ------------------------------------------------------

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailers', 'transfer-encoding', 'upgrade']);

/** The PEP 3333 environ for a request: request data only, nothing from process.env. */
export function buildEnviron(req: IncomingMessage, meta: RequestMeta, serverPort: number): Record<string, unknown> {
  const { scriptName, pathInfo, query } = splitTarget(meta);
  let decodedPath: string;
  try {
    decodedPath = decodeURIComponent(pathInfo);
  } catch {
    decodedPath = pathInfo;
  }
  const host = meta.host;
  const hostName = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? host);
  const environ: Record<string, unknown> = {
    REQUEST_METHOD: req.method ?? 'GET',
    SCRIPT_NAME: scriptName,
    PATH_INFO: decodedPath,
    QUERY_STRING: query,
    SERVER_NAME: hostName,
    SERVER_PORT: String(serverPort),
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REMOTE_ADDR: meta.clientAddress,
    REMOTE_PORT: String(meta.clientPort),
    'wsgi.version': [1, 0],
    'wsgi.url_scheme': meta.scheme,
    'wsgi.input': req,
    'wsgi.errors': new Writable({
      write(chunk: Buffer, _enc, cb) {
        meta.errors(chunk.toString());
        cb();
      },
    }),
    'wsgi.multithread': false,
    'wsgi.multiprocess': meta.multiprocess,
    'wsgi.run_once': false,
  };
  if (req.headers['content-type'] !== undefined) environ.CONTENT_TYPE = req.headers['content-type'];
  if (req.headers['content-length'] !== undefined) environ.CONTENT_LENGTH = req.headers['content-length'];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toUpperCase().replace(/-/g, '_');
    if (name === 'CONTENT_TYPE' || name === 'CONTENT_LENGTH') continue;
    const key = `HTTP_${name}`;
    const value = raw[i + 1] as string;
    environ[key] = key in environ ? `${String(environ[key])},${value}` : value;
  }
  return environ;
}

const encoder = new TextEncoder();
const toBytes = (chunk: unknown): Uint8Array => {
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(`WSGI app yielded ${typeof chunk}; expected a string or Uint8Array`);
};

async function runWsgi(app: WsgiApp, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  let status: string | undefined;
  let headers: Array<[string, string]> = [];
  let headersSent = false;
  const sendHeaders = (): void => {
    if (headersSent) return;
    if (status === undefined) throw new Error('WSGI app produced a body before calling startResponse()');
    headersSent = true;
    const m = /^(\d{3})(?: (.*))?$/.exec(status);
    if (m === null) throw new Error(`WSGI status "${status}" is not like "200 OK"`);
    res.statusCode = Number(m[1]);
    if (m[2] !== undefined && m[2] !== '') res.statusMessage = m[2];
    for (const [name, value] of headers) {
      if (HOP_BY_HOP.has(name.toLowerCase())) throw new Error(`WSGI app set hop-by-hop header "${name}"`);
      res.appendHeader(name, value);
    }
  };
  const write = (chunk: string | Uint8Array): void => {
    sendHeaders();
    res.write(toBytes(chunk));
  };
  const startResponse: StartResponse = (s, h, excInfo) => {
    if (status !== undefined && excInfo === undefined) throw new Error('startResponse() called twice without excInfo');
    if (excInfo !== undefined && headersSent) throw excInfo instanceof Error ? excInfo : new Error(String(excInfo));
    if (typeof s !== 'string' || !Array.isArray(h)) throw new TypeError('startResponse(status, headers): status must be a string, headers an array of [name, value]');
    status = s;
    headers = h;
    return write;
  };
  const result = await app(buildEnviron(req, meta, req.socket.localPort ?? 0), startResponse);
  const iterable = result as (Iterable<unknown> & { close?: () => unknown }) | (AsyncIterable<unknown> & { close?: () => unknown }) | null;
  if (iterable === null || typeof iterable !== 'object') throw new TypeError('WSGI app must return an iterable of chunks');
  const close = (iterable as { close?: unknown }).close;
  let closed = false;
  const closeOnce = async (): Promise<void> => {
    if (closed || typeof close !== 'function') return;
    closed = true;
    await (close as () => unknown).call(iterable);
  };
  // PEP 3333: close() also on an early disconnect, even while the iterable waits for its next chunk.
  const onClose = (): void => {
    if (res.writableFinished) return;
    closeOnce().catch((error: unknown) => meta.errors(`WSGI close() threw: ${error instanceof Error ? error.message : String(error)}\n`));
  };
  res.once('close', onClose);
  try {
    // A one-element array lets the server send Content-Length (PEP 3333 "len(iterable) == 1").
    if (Array.isArray(iterable) && iterable.length === 1 && !headersSent) {
      const only = toBytes(iterable[0]);
      sendHeaders();
      if (!res.hasHeader('content-length')) res.setHeader('Content-Length', only.length);
      res.end(req.method === 'HEAD' ? undefined : only);
      return;
    }
    const head = req.method === 'HEAD';
    for await (const chunk of iterable as AsyncIterable<unknown>) {
      const bytes = toBytes(chunk);
      if (bytes.length === 0) continue;
      sendHeaders();
      if (res.destroyed) return;
      if (!head && !res.write(bytes)) await drained(res);
    }
    sendHeaders();
    res.end();
  } finally {
    res.off('close', onClose);
    await closeOnce();
  }
}
