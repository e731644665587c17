// The WSGI-style convention (PEP 3333 shapes in JavaScript): call the app with the environ, then
// send the status, headers and body chunks it gives back (start_response, write(), the iterable,
// close()).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StartResponse, WsgiApp } from './detect.js';
import type { RequestMeta } from './meta.js';
import { buildEnviron } from './wsgi-environ.js';
import type { WsgiInput } from './wsgi-input.js';
import { checkStart, excInfoError, type CheckedStart } from './wsgi-start.js';
import { drained, endOrDestroy, writeOrDestroy } from './web.js';

export { buildEnviron } from './wsgi-environ.js';

const encoder = new TextEncoder();
const toBytes = (chunk: unknown): Uint8Array => {
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(`WSGI app yielded ${typeof chunk}; expected a string or Uint8Array`);
};

/** The answer as start_response and write() build it: checked at the call, sent with the first bytes. */
interface Answer {
  startResponse: StartResponse;
  /** Puts the status and headers on `res` (once); throws if startResponse() was never called. */
  sendHeaders(): void;
  /** True once sendHeaders() ran: from then on excInfo re-throws. */
  readonly sent: boolean;
}

function answerTo(res: ServerResponse): Answer {
  let started: CheckedStart | undefined;
  let sent = false;
  const sendHeaders = (): void => {
    if (sent) return;
    if (started === undefined) throw new Error('WSGI app produced a body before calling startResponse()');
    sent = true;
    res.statusCode = started.code;
    if (started.reason !== '') res.statusMessage = started.reason;
    for (const [name, value] of started.headers) res.appendHeader(name, value);
  };
  const write = (chunk: string | Uint8Array): void => {
    sendHeaders();
    writeOrDestroy(res, toBytes(chunk));
  };
  // Everything is checked here, at the call, so the app can catch it; nothing is sent yet.
  const startResponse: StartResponse = (status, headers, excInfo) => {
    const given = excInfoError(excInfo);
    if (given !== undefined) {
      if (sent) throw given.error;
    } else if (started !== undefined) throw new Error('startResponse() called twice without excInfo');
    started = checkStart(status, headers);
    return write;
  };
  return {
    startResponse,
    sendHeaders,
    get sent() {
      return sent;
    },
  };
}

/** Run a WSGI-style app for one request (PEP 3333: startResponse, write(), iterable, close()). */
export async function runWsgi(app: WsgiApp, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  const environ = buildEnviron(req, meta);
  try {
    await respond(app, environ, answerTo(res), req, res, meta);
  } finally {
    // Whatever the app left unread goes, so the connection can carry the next request.
    (environ['wsgi.input'] as WsgiInput).discard();
  }
}

async function respond(app: WsgiApp, environ: Record<string, unknown>, answer: Answer, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  const result = await app(environ, answer.startResponse);
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
    if (Array.isArray(iterable) && iterable.length === 1 && !answer.sent) {
      const only = toBytes(iterable[0]);
      answer.sendHeaders();
      if (!res.hasHeader('content-length')) res.setHeader('Content-Length', only.length);
      endOrDestroy(res, req.method === 'HEAD' ? undefined : only);
      return;
    }
    const head = req.method === 'HEAD';
    for await (const chunk of iterable as AsyncIterable<unknown>) {
      const bytes = toBytes(chunk);
      if (bytes.length === 0) continue;
      answer.sendHeaders();
      if (res.destroyed) return;
      if (!head && !writeOrDestroy(res, bytes)) await drained(res);
    }
    answer.sendHeaders();
    endOrDestroy(res);
  } finally {
    res.off('close', onClose);
    await closeOnce();
  }
}
