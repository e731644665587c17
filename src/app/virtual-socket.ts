// One connection inside a Channel (channel.ts): a Duplex that node:http uses as a socket on both
// sides, with per-connection flow control. Frame types are shared with the channel.
import { Duplex } from 'node:stream';
import { CLOSE, DATA, END, ProtocolError, WINDOW } from './frames.js';

/** What a VirtualSocket asks of its channel. */
export interface Link {
  frame(id: number, type: number, payload?: Buffer): void;
  credit(id: number, bytes: number): void;
  forget(id: number): void;
}

/**
 * One connection inside a Channel, used as a socket by node:http on both sides (a client
 * request in the server, a server connection in the app process). What the peer has not read
 * yet is bounded by WINDOW: a writer waits for credit, so a stalled reader stalls only its own
 * connection, never the channel.
 */
export class VirtualSocket extends Duplex {
  readonly id: number;
  readonly #channel: Link;
  /** Bytes this side may still send. */
  #credit = WINDOW;
  /** A write waiting for credit. */
  #waiting: { chunk: Buffer; callback: (error?: Error | null) => void } | undefined;
  /** Bytes received and not yet granted back to the sender (some may still be buffered, unread). */
  #unacked = 0;
  #peerClosed = false;
  /** The peer will send nothing more (END or CLOSE seen): the readable side has its end pushed. */
  #eof = false;
  #idle: NodeJS.Timeout | undefined;
  #bytesRead = 0;
  /** Bytes passed to _write so far, and the length of the one in _write now (both in bytesWritten). */
  #dispatched = 0;
  #inWrite = 0;
  // The socket API node:http and http.Agent call; a connection inside a channel has no options.
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  timeout = 0;

  constructor(channel: Link, id: number) {
    super({ allowHalfOpen: false });
    this.#channel = channel;
    this.id = id;
  }

  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  /** An idle timeout, as net.Socket has one: 'timeout' after `ms` without a read or a write. */
  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms;
    if (callback !== undefined) {
      if (ms === 0) this.off('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#touch();
    return this;
  }

  #touch(): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
    if (this.timeout > 0 && !this.destroyed) {
      this.#idle = setTimeout(() => this.emit('timeout'), this.timeout);
      this.#idle.unref();
    }
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  address(): Record<string, never> {
    return {};
  }

  // From the channel's reader; each throws ProtocolError for what a well-behaved peer never sends.
  received(payload: Buffer): void {
    if (this.#eof) throw new ProtocolError(`data on stream ${this.id} after its end`);
    // The peer may have at most WINDOW bytes unacknowledged: more means it ignores flow control.
    if (this.#unacked + payload.length > WINDOW) throw new ProtocolError(`more data on stream ${this.id} than its window`);
    if (this.timeout > 0) this.#touch();
    this.#bytesRead += payload.length;
    this.#unacked += payload.length;
    this.push(payload);
    this.#grant();
  }

  granted(bytes: number): void {
    if (this.#peerClosed || this.#credit + bytes > WINDOW) throw new ProtocolError(`credit on stream ${this.id} for bytes it never sent`);
    this.#credit += bytes;
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    this.#waiting = undefined;
    this.#send(waiting.chunk, 'binary', waiting.callback);
  }

  ended(): void {
    if (this.#eof) throw new ProtocolError(`a second end of stream ${this.id}`);
    this.#end();
  }

  #end(): void {
    if (this.#eof) return;
    this.#eof = true;
    this.push(null);
  }

  closedByPeer(): void {
    if (this.#peerClosed) throw new ProtocolError(`a second close of stream ${this.id}`);
    this.#peerClosed = true;
    // As a socket whose peer closed: what arrived stays readable, then 'end', then 'close' (an app
    // that destroys its connection right after its answer: a paused reader still has that
    // answer's tail in this buffer). A write that can now never go out closes it at once.
    if (this.destroyed || this.#waiting !== undefined) return void this.destroy();
    this.once('end', () => this.destroy());
    this.#end();
  }

  /** The channel is gone (the other process exited): as a close by the peer, without its checks. */
  lost(): void {
    if (!this.#peerClosed) this.closedByPeer();
  }

  /** Give back credit for what the reader took (pushed and no longer buffered): never for unread bytes. */
  #grant(): void {
    const consumed = this.#unacked - this.readableLength;
    if (consumed <= 0 || this.destroyed) return;
    this.#channel.credit(this.id, consumed);
    this.#unacked -= consumed;
  }

  override _read(): void {
    this.#grant();
  }

  // _read alone cannot grant: Readable calls it before it takes the chunk out of the buffer, and not
  // again until the next push, so the last bytes read before a stall would never be granted back
  // and a writer waiting for that credit would wait forever. Every read takes bytes out: grant them.
  override read(size?: number): unknown {
    const chunk: unknown = super.read(size);
    this.#grant();
    return chunk;
  }

  /** Bytes written, as net.Socket counts them: handed to the channel, or still queued. */
  get bytesWritten(): number {
    return this.#dispatched + this.writableLength - this.#inWrite;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#dispatched += chunk.length;
    this.#inWrite = chunk.length;
    this.#send(chunk, encoding, (error) => {
      this.#inWrite = 0;
      callback(error);
    });
  }

  #send(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.timeout > 0) this.#touch();
    if (this.#peerClosed) return callback(Object.assign(new Error('The other side closed the connection'), { code: 'EPIPE' }));
    if (chunk.length === 0) return callback();
    if (this.#credit >= chunk.length) {
      this.#credit -= chunk.length;
      this.#channel.frame(this.id, DATA, chunk);
      return callback();
    }
    if (this.#credit > 0) {
      const now = chunk.subarray(0, this.#credit);
      this.#channel.frame(this.id, DATA, now);
      chunk = chunk.subarray(this.#credit);
      this.#credit = 0;
    }
    this.#waiting = { chunk, callback };
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#peerClosed) this.#channel.frame(this.id, END);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    if (!this.#peerClosed) this.#channel.frame(this.id, CLOSE);
    this.#channel.forget(this.id);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.callback(error ?? new Error('closed'));
    callback(error);
  }
}
