// The ServerResponse subclass every request gets: when it started, who answered, and the one
// place where response body bytes are counted for the log.
import { ServerResponse, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';

/** Node's `ServerResponse` with the facts the request log needs (named apart from fetch's `Response`). */
export class ServeResponse extends ServerResponse<IncomingMessage> {
  /** When the request arrived (performance.now()). */
  readonly started = performance.now();
  /** Who answered: "static", or the app mount's label. */
  via = 'static';
  #handed = 0;
  #wireStart = -1;

  override writeHead(...args: unknown[]): this {
    this.#mark();
    return (super.writeHead as (...a: unknown[]) => this).apply(this, args);
  }

  override flushHeaders(): void {
    this.#mark();
    super.flushHeaders();
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    this.#count(chunk, rest[0]);
    // The overloads of write() are forwarded unchanged.
    return (super.write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  }

  override end(...args: unknown[]): this {
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
