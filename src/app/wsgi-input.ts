// wsgi.input: PEP 3333's file interface over the request body (read, readline, readlines,
// iteration by lines), each call a Promise of bytes because JavaScript cannot block on a socket.
import type { Readable } from 'node:stream';

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;

/** A size argument as Python reads it: undefined, null or negative mean "no limit". */
function limitOf(size: unknown, what: string): number {
  if (size === undefined || size === null) return Infinity;
  if (typeof size !== 'number' || Number.isNaN(size)) throw new TypeError(`wsgi.input.${what}() takes a number of bytes, not ${typeof size}`);
  return size < 0 ? Infinity : Math.floor(size);
}

/**
 * The body as a file. Nothing is read before the app asks: a body of any size streams through
 * `read(n)` in steps of n bytes. Calls run in the order they were made, even when the app does
 * not await one before the next. The end is empty bytes, never null. A client that leaves before
 * its body is complete makes the pending call reject.
 */
export class WsgiInput implements AsyncIterable<Buffer> {
  readonly #body: Readable;
  /** Bytes received and not yet returned, in order. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Leading bytes of #chunks known to hold no newline (readline does not scan them again). */
  #scanned = 0;
  #ended = false;
  #error: Error | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(body: Readable) {
    this.#body = body;
    // Recorded for the next call: an 'error' with no listener would be an uncaught exception.
    body.on('error', (error: Error) => {
      this.#error ??= error;
    });
  }

  /** Up to `size` bytes (fewer only at the end of the body); everything left without `size`. */
  read(size?: number | null): Promise<Buffer> {
    return this.#serial(async () => {
      const limit = limitOf(size, 'read');
      while (this.#buffered < limit && (await this.#more()));
      return this.#take(Math.min(limit, this.#buffered));
    });
  }

  /** One line with its "\n" (the last one may have none), at most `limit` bytes; empty at the end. */
  readline(limit?: number | null): Promise<Buffer> {
    return this.#serial(() => this.#line(limitOf(limit, 'readline')));
  }

  /** The remaining lines; with `hint`, stops after the line that brings the total to `hint` bytes. */
  readlines(hint?: number | null): Promise<Buffer[]> {
    return this.#serial(async () => {
      const stop = limitOf(hint, 'readlines') || Infinity;
      const lines: Buffer[] = [];
      for (let total = 0; total < stop; ) {
        const line = await this.#line(Infinity);
        if (line.length === 0) break;
        lines.push(line);
        total += line.length;
      }
      return lines;
    });
  }

  /** `for await (const line of environ['wsgi.input'])`: the body line by line, as bytes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  /**
   * The response is over: what the app left unread is read and dropped, so a keep-alive
   * connection can carry the next request (node does this itself only for a body never touched).
   */
  discard(): void {
    this.#chunks = [];
    this.#buffered = 0;
    if (!this.#ended && !this.#body.destroyed) this.#body.resume();
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step, step);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #line(limit: number): Promise<Buffer> {
    for (;;) {
      const newline = this.#findNewline();
      if (newline !== -1 && newline < limit) return this.#take(newline + 1);
      if (this.#buffered >= limit) return this.#take(limit);
      if (!(await this.#more())) return this.#take(this.#buffered);
    }
  }

  /** Offset of the first "\n" in the buffered bytes, or -1. */
  #findNewline(): number {
    let offset = 0;
    for (const chunk of this.#chunks) {
      if (offset + chunk.length > this.#scanned) {
        const at = chunk.indexOf(NEWLINE, Math.max(0, this.#scanned - offset));
        if (at !== -1) return offset + at;
      }
      offset += chunk.length;
    }
    this.#scanned = offset;
    return -1;
  }

  #take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.#chunks[0] as Buffer;
    let out: Buffer;
    if (first.length > n) {
      out = first.subarray(0, n);
      this.#chunks[0] = first.subarray(n);
    } else if (first.length === n) {
      out = first;
      this.#chunks.shift();
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.#chunks[0] as Buffer;
        const part = Math.min(chunk.length, n - filled);
        chunk.copy(out, filled, 0, part);
        filled += part;
        if (part === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(part);
      }
    }
    this.#buffered -= n;
    this.#scanned = Math.max(0, this.#scanned - n);
    return out;
  }

  /** One more chunk of the body into the buffer; false at its end. */
  async #more(): Promise<boolean> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return false;
      const chunk = this.#body.read() as Buffer | null;
      if (chunk !== null) {
        this.#chunks.push(chunk);
        this.#buffered += chunk.length;
        return true;
      }
      if (this.#body.readableEnded) {
        this.#ended = true;
        return false;
      }
      if (this.#body.destroyed) {
        this.#error = new Error('The client closed the connection before the request body was complete');
        continue;
      }
      await this.#wait();
    }
  }

  /** Until the body has more bytes, ends, fails or is cut off. */
  #wait(): Promise<void> {
    const body = this.#body;
    return new Promise((resolve) => {
      const done = (): void => {
        body.off('readable', done);
        body.off('end', done);
        body.off('close', done);
        body.off('error', done);
        resolve();
      };
      body.on('readable', done);
      body.on('end', done);
      body.on('close', done);
      body.on('error', done);
    });
  }
}
