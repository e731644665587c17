// The WSGI-style convention (PEP 3333 shapes in JavaScript): the environ for a request, and the
// status, headers and body chunks the app gives back, checked before they reach the wire.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { StartResponse, WsgiApp } from './detect.js';
import { splitTarget, type RequestMeta } from './meta.js';
import { AppResponseError, checkHeader, checkStatus } from './response-error.js';
import { drained, endOrDestroy, writeOrDestroy } from './web.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailers', 'transfer-encoding', 'upgrade']);

/** "name:port" (IPv6 in brackets) → SERVER_NAME and SERVER_PORT, the scheme's default port when none. */
function splitHost(host: string, scheme: 'http' | 'https'): { name: string; port: string } {
  const close = host.startsWith('[') ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', close);
  if (colon === -1) return { name: host, port: scheme === 'https' ? '443' : '80' };
  return { name: host.slice(0, colon), port: host.slice(colon + 1) };
}

/** The PEP 3333 environ for a request: request data only, nothing from process.env. */
export function buildEnviron(req: IncomingMessage, meta: RequestMeta): Record<string, unknown> {
  const { scriptName, pathInfo, query } = splitTarget(meta);
  let decodedPath: string;
  try {
    decodedPath = decodeURIComponent(pathInfo);
  } catch {
    decodedPath = pathInfo;
  }
  const { name: hostName, port } = splitHost(meta.host, meta.scheme);
  const environ: Record<string, unknown> = {
    REQUEST_METHOD: req.method ?? 'GET',
    SCRIPT_NAME: scriptName,
    PATH_INFO: decodedPath,
    QUERY_STRING: query,
    SERVER_NAME: hostName,
    SERVER_PORT: port,
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
  // The server's validated Host, as SERVER_NAME and SERVER_PORT are, whatever the raw header said.
  environ.HTTP_HOST = meta.host;
  return environ;
}

const encoder = new TextEncoder();
const toBytes = (chunk: unknown): Uint8Array => {
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(`WSGI app yielded ${typeof chunk}; expected a string or Uint8Array`);
};

/** Run a WSGI-style app for one request (PEP 3333: startResponse, write(), iterable, close()). */
export async function runWsgi(app: WsgiApp, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  let status: string | undefined;
  let headers: Array<[string, string]> = [];
  let headersSent = false;
  const sendHeaders = (): void => {
    if (headersSent) return;
    if (status === undefined) throw new Error('WSGI app produced a body before calling startResponse()');
    // Everything is checked before anything is set, so a refused answer leaves `res` untouched.
    const m = /^(\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/.exec(status);
    if (m === null) throw new AppResponseError(`WSGI status ${JSON.stringify(status)} is not like "200 OK"`);
    const code = checkStatus(Number(m[1]), 'The WSGI app');
    for (const pair of headers) {
      const [name, value] = Array.isArray(pair) ? (pair as unknown[]) : [];
      if (typeof name !== 'string' || typeof value !== 'string') throw new AppResponseError('WSGI headers must be [name, value] pairs of strings');
      if (HOP_BY_HOP.has(name.toLowerCase())) throw new AppResponseError(`WSGI app set hop-by-hop header "${name}"`);
      checkHeader(name, value, 'The WSGI app');
    }
    headersSent = true;
    res.statusCode = code;
    if (m[2] !== undefined && m[2] !== '') res.statusMessage = m[2];
    for (const [name, value] of headers) res.appendHeader(name, value);
  };
  const write = (chunk: string | Uint8Array): void => {
    sendHeaders();
    writeOrDestroy(res, toBytes(chunk));
  };
  const startResponse: StartResponse = (s, h, excInfo) => {
    if (status !== undefined && excInfo === undefined) throw new Error('startResponse() called twice without excInfo');
    if (excInfo !== undefined && headersSent) throw excInfo instanceof Error ? excInfo : new Error(String(excInfo));
    if (typeof s !== 'string' || !Array.isArray(h)) throw new TypeError('startResponse(status, headers): status must be a string, headers an array of [name, value]');
    status = s;
    headers = h;
    return write;
  };
  const result = await app(buildEnviron(req, meta), startResponse);
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
      endOrDestroy(res, req.method === 'HEAD' ? undefined : only);
      return;
    }
    const head = req.method === 'HEAD';
    for await (const chunk of iterable as AsyncIterable<unknown>) {
      const bytes = toBytes(chunk);
      if (bytes.length === 0) continue;
      sendHeaders();
      if (res.destroyed) return;
      if (!head && !writeOrDestroy(res, bytes)) await drained(res);
    }
    sendHeaders();
    endOrDestroy(res);
  } finally {
    res.off('close', onClose);
    await closeOnce();
  }
}
