// The fetch convention on node:http, with the platform's own Request and Response (nothing global
// is replaced, so an app behaves here as where it deploys): a Request for a node request, and a
// Response written back onto a node ServerResponse.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { AppResponseError, asResponseError, checkHeader } from './response-error.js';

/**
 * The platform `Request` for a node request. Its `signal`, aborted when the client goes away
 * before the response is finished, is made on first read: handing an outside signal to Node
 * 20's Request constructor costs about 70 µs, several times everything else in the request.
 */
export function toRequest(req: IncomingMessage, res: ServerResponse, url: string): Request {
  const method = req.method ?? 'GET';
  const raw = req.rawHeaders;
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) headers.push([raw[i] as string, raw[i + 1] as string]);
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  const request = new Request(url, init);
  let signal: AbortSignal | undefined;
  Object.defineProperty(request, 'signal', {
    get(): AbortSignal {
      if (signal === undefined) {
        const controller = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) controller.abort();
        });
        signal = controller.signal;
      }
      return signal;
    },
    configurable: true,
  });
  return request;
}

const PENDING = Symbol('pending');
type Read = ReadableStreamReadResult<Uint8Array>;

/**
 * `next`'s result when it settles within a few microtasks, else PENDING (the read stays in
 * `next`). A body made from a string, bytes or JSON does (1-2 microtasks on Node 20 and 24), a
 * stream that waits for anything outside does not: that is how a plain body is told apart from
 * a live stream without reaching into the platform's internals.
 */
async function soon(next: Promise<Read>): Promise<Read | typeof PENDING> {
  let settled = false;
  const mark = (): void => {
    settled = true;
  };
  next.then(mark, mark);
  for (let i = 0; i < 8 && !settled; i++) await null;
  return settled ? next : PENDING;
}

/** Most a body is buffered to send it with a Content-Length; beyond that it is streamed. */
const COLLECT_LIMIT = 1024 * 1024;

/**
 * Copy a platform Response onto a node ServerResponse. A body that is complete at once (a
 * string, bytes, JSON) is sent in one write with a Content-Length; any other body is streamed
 * with backpressure, its headers sent first (server-sent events start at once). Rejects with
 * AppResponseError, before anything is written, for an answer node cannot send or a body that
 * fails before its first byte; a body that fails later destroys `res`.
 */
export async function writeFetchResponse(response: Response, res: ServerResponse, head: boolean): Promise<void> {
  if (response.type === 'error') throw new AppResponseError('The fetch handler returned Response.error()');
  const who = 'The fetch handler';
  const pairs: Array<[string, string]> = [];
  let declared = false;
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue;
    checkHeader(name, value, who);
    if (name === 'content-length') declared = true;
    pairs.push([name, value]);
  }
  const cookies = response.headers.getSetCookie();
  for (const cookie of cookies) checkHeader('set-cookie', cookie, who);
  const start = (): void => {
    res.statusCode = response.status;
    if (response.statusText !== '') res.statusMessage = response.statusText;
    for (const [name, value] of pairs) res.setHeader(name, value);
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  };
  const body = response.body;
  if (response.bodyUsed || body?.locked === true) throw new AppResponseError('The fetch handler returned a Response whose body was already read');
  if (body === null || (head && declared)) {
    if (body !== null) await body.cancel().catch(() => {});
    start();
    res.end();
    return;
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let next: Promise<Read> = reader.read();
  // Collect what is there at once; the app's own Content-Length means it wants the body streamed as is.
  while (!declared && size <= COLLECT_LIMIT) {
    let result: Read | typeof PENDING;
    try {
      result = await soon(next);
    } catch (error) {
      throw new AppResponseError(`The fetch handler's response body failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (result === PENDING) break;
    if (result.done) {
      start();
      res.setHeader('content-length', size);
      // HEAD gets the Content-Length the same GET would have, and no body.
      endOrDestroy(res, head ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
      return;
    }
    chunks.push(result.value);
    size += result.value.byteLength;
    next = reader.read();
  }
  start();
  if (head) {
    await reader.cancel().catch(() => {});
    res.end();
    return;
  }
  await pump(reader, next, chunks, res);
}

/** Stream the rest of a body: what was collected, then every chunk as it comes, with backpressure. */
async function pump(reader: ReadableStreamDefaultReader<Uint8Array>, first: Promise<Read>, collected: Uint8Array[], res: ServerResponse): Promise<void> {
  const onClose = (): void => {
    reader.cancel().catch(() => {});
  };
  res.once('close', onClose);
  try {
    if (!res.hasHeader('content-length')) res.flushHeaders();
    for (const chunk of collected) writeOrDestroy(res, chunk);
    let next: Promise<Read> | undefined = first;
    for (;;) {
      let result: Read;
      try {
        result = await (next ?? reader.read());
      } catch (error) {
        res.destroy();
        throw new AppResponseError(`The fetch handler's response body failed after its headers were sent: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      next = undefined;
      if (result.done) break;
      if (res.destroyed) return;
      if (!writeOrDestroy(res, result.value)) await drained(res);
    }
    endOrDestroy(res);
  } finally {
    res.off('close', onClose);
  }
}

/**
 * `res.write(chunk)`, destroying `res` when node refuses it: with strictContentLength, more bytes
 * than the app's Content-Length throw rather than corrupt the next response on the connection.
 */
export function writeOrDestroy(res: ServerResponse, chunk: Uint8Array): boolean {
  try {
    return res.write(chunk);
  } catch (error) {
    res.destroy();
    throw asResponseError(error);
  }
}

/** `res.end(chunk)`, destroying `res` when node refuses it (fewer or more bytes than declared). */
export function endOrDestroy(res: ServerResponse, chunk?: Uint8Array): void {
  try {
    if (chunk === undefined) res.end();
    else res.end(chunk);
  } catch (error) {
    res.destroy();
    throw asResponseError(error);
  }
}

/** Resolves when `res` can take more, or is gone. */
export function drained(res: ServerResponse): Promise<void> {
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
