// The ServerResponse subclass every request gets: when it started, who answered, the one place
// where response body bytes are counted for the log, and (with --live) the one place where the
// live-reload tag enters HTML bodies, whoever wrote them: files, listings, error pages, apps.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { http } from './node-http.js';
import { performance } from 'node:perf_hooks';
import { inject, injectionPoint, liveEtag, TAG_LENGTH } from './live/inject.js';
import { needsSandbox, SANDBOX_POLICY } from './exposure/sandbox.js';
import type { Scope } from './guard.js';

type Chunk = string | Uint8Array;

/** Node's `ServerResponse` with the facts the request log needs (named apart from fetch's `Response`). */
export class ServeResponse extends http.ServerResponse<IncomingMessage> {
  /** When the request arrived (performance.now()). */
  readonly started = performance.now();
  /** Who answered: "static", or the app mount's label. */
  via = 'static';
  /** Set for a browser navigation under --live: an HTML body gets the live-reload tag. */
  liveInject = false;
  /** Set when the response is an HTML file: its 304 carries the injected validator. */
  liveFile = false;
  /** Set for a file while uploads are on: unless its Content-Type is passive, it goes out sandboxed. */
  sandboxByType = false;
  /** This request's last-resort boundary (src/guard.ts), set by the server. */
  boundary: Scope | undefined = undefined;
  #handed = 0;
  #wireStart = -1;
  /** Body chunks held until the injection point is known; undefined when not injecting. */
  #held: Buffer[] | undefined;

  override writeHead(...args: unknown[]): this {
    // A 1xx is never a final answer (interim ones go out through writeContinue/writeEarlyHints): a
    // client given one waits for another, so an in-process app's 101 to a plain request would hang
    // it; 600-999 mean nothing to a client. Refused as node refuses a status outside 100-999, which
    // the app hosts answer with 502.
    if (typeof args[0] === 'number' && (args[0] < 200 || args[0] > 599)) throw Object.assign(new RangeError(`Invalid status code: ${args[0]} (${args[0] < 200 ? 'an interim status cannot be the answer' : 'not a status a client knows'})`), { code: 'ERR_HTTP_INVALID_STATUS_CODE' });
    this.#mark();
    if (this.sandboxByType && !this.headersSent) this.#sandbox(args);
    if (this.liveInject && !this.headersSent) {
      const status = args[0] as number;
      const headers = typeof args[1] === 'object' ? args[1] : args[2];
      if (headers !== undefined && headers !== null) this.#adopt(headers);
      this.#prepare(status);
      const message = typeof args[1] === 'string' ? [args[1]] : [];
      return (super.writeHead as (...a: unknown[]) => this).call(this, status, ...message);
    }
    return (super.writeHead as (...a: unknown[]) => this).apply(this, args);
  }

  override flushHeaders(): void {
    this.#mark();
    super.flushHeaders();
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    if (this.liveInject && !this.headersSent) this.writeHead(this.statusCode);
    if (this.#held !== undefined && isChunk(chunk)) {
      this.#hold(chunk, rest[0]);
      const at = injectionPoint(Buffer.concat(this.#held), false);
      if (at === undefined) return true;
      return this.#release(at, (body) => (super.write as (...a: unknown[]) => boolean).call(this, body, ...rest.filter((r) => typeof r === 'function')));
    }
    this.#count(chunk, rest[0]);
    // The overloads of write() are forwarded unchanged.
    return (super.write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  }

  override end(...args: unknown[]): this {
    if (this.liveInject && !this.headersSent) this.writeHead(this.statusCode);
    if (this.#held !== undefined) {
      if (isChunk(args[0])) this.#hold(args[0], args[1]);
      const body = Buffer.concat(this.#held);
      const callback = args.find((a) => typeof a === 'function');
      this.#release(injectionPoint(body, true) ?? 0, (b) => (super.end as (...a: unknown[]) => this).call(this, b, ...(callback === undefined ? [] : [callback])));
      return this;
    }
    if (typeof args[0] !== 'function') this.#count(args[0], args[1]);
    (super.end as (...a: unknown[]) => this).apply(this, args);
    return this;
  }

  /**
   * Body bytes sent: what was handed to the socket, or, when the client went away first, what
   * the socket actually took beyond the header (an aborted download logs what was sent).
   */
  get bytes(): number {
    if (this.writableFinished || this.#wireStart < 0) return this.#handed;
    const header = (this as unknown as { _header?: string | null })._header; // set once headers are written
    const onWire = this.socket === null ? 0 : this.socket.bytesWritten - this.#wireStart - (header?.length ?? 0);
    return Math.max(0, Math.min(this.#handed, onWire));
  }

  /** The type is read as the headers go out (given to writeHead or set before): whatever sets it, the rule sees it. */
  #sandbox(args: unknown[]): void {
    const given = typeof args[1] === 'object' ? args[1] : args[2];
    let type = this.getHeader('content-type');
    if (given !== null && typeof given === 'object' && !Array.isArray(given)) {
      for (const [name, value] of Object.entries(given as OutgoingHttpHeaders)) if (name.toLowerCase() === 'content-type') type = value;
    } else if (Array.isArray(given)) {
      for (let i = 0; i + 1 < given.length; i += 2) if (String(given[i]).toLowerCase() === 'content-type') type = String(given[i + 1]);
    }
    if (needsSandbox(typeof type === 'string' ? type : undefined)) this.setHeader('Content-Security-Policy', SANDBOX_POLICY);
  }

  /** Headers given to writeHead() join the stored ones, so the injection can adjust them. */
  #adopt(headers: unknown): void {
    if (Array.isArray(headers)) {
      const pairs = Array.isArray(headers[0]) ? (headers as [string, string][]) : [];
      if (pairs.length === 0) for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), String(headers[i + 1])]);
      for (const [name, value] of pairs) this.setHeader(name, value);
    } else {
      for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) if (value !== undefined) this.setHeader(name, value);
    }
  }

  /** Decide, as the headers go out, whether this body gets the tag, and make the headers say so. */
  #prepare(status: number): void {
    const etag = this.getHeader('etag');
    if (status === 304) {
      if (this.liveFile && typeof etag === 'string') this.setHeader('ETag', liveEtag(etag));
      return;
    }
    const type = String(this.getHeader('content-type') ?? '');
    if (status === 204 || status === 206 || status < 200 || !/^text\/html\b/i.test(type) || this.hasHeader('content-encoding')) return;
    const length = this.getHeader('content-length');
    if (length !== undefined) this.setHeader('Content-Length', Number(length) + TAG_LENGTH);
    if (typeof etag === 'string') this.setHeader('ETag', liveEtag(etag));
    this.#held = [];
  }

  #hold(chunk: Chunk, encoding: unknown): void {
    this.#held?.push(typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  #release<T>(at: number, write: (body: Buffer) => T): T {
    const body = inject(Buffer.concat(this.#held ?? []), at);
    this.#held = undefined;
    this.#count(body, undefined);
    return write(body);
  }

  #mark(): void {
    if (this.#wireStart < 0 && this.socket !== null) this.#wireStart = this.socket.bytesWritten;
  }

  #count(chunk: unknown, encoding: unknown): void {
    this.#mark();
    if (chunk === undefined || chunk === null) return;
    // Node drops body bytes of HEAD, 204 and 304 answers: they are never sent.
    if (this.req.method === 'HEAD' || this.statusCode === 204 || this.statusCode === 304) return;
    if (typeof chunk === 'string') this.#handed += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) this.#handed += chunk.byteLength;
  }
}

function isChunk(value: unknown): value is Chunk {
  return typeof value === 'string' || value instanceof Uint8Array;
}

