// Many app connections over one stream between the server and an app process. Each client
// connection still gets a connection of its own to the app (a VirtualSocket: the same HTTP, the
// same isolation, its own flow control), but their bytes share one socket pair, written once per
// event-loop turn. A socket per client cost each request its own write, read and wake-up of the
// other process; on a virtual machine those system calls and switches were most of the hop's cost
// (bench/README.md, "Profiles behind issue 11"). Frames: u32 payload length, u32 stream id, u8 type.
import { Duplex } from 'node:stream';

const OPEN = 1;
const DATA = 2;
const END = 3;
const CLOSE = 4;
const CREDIT = 5;
const HEADER = 9;
/** Bytes a stream may have in flight, unread by the other side: what bounds memory per connection. */
export const WINDOW = 256 * 1024;

type Transport = Duplex & { cork(): void; uncork(): void; ref?(): unknown; unref?(): unknown };

const gone = (): Error => Object.assign(new Error('The app process closed the connection'), { code: 'ECONNRESET' });

export class Channel {
  readonly #transport: Transport;
  readonly #streams = new Map<number, VirtualSocket>();
  #nextId = 1;
  #out: Buffer[] = [];
  #flushing = false;
  /** The start of a frame not yet complete, and the bytes it needs (at least its header). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #needed = 0;
  #closed = false;
  /** Streams the other side opened (the app process's side): hand them to its HTTP server. */
  onOpen: ((socket: VirtualSocket) => void) | undefined;

  constructor(transport: Transport) {
    this.#transport = transport;
    transport.on('data', (chunk: Buffer) => this.#receive(chunk));
    const lost = (): void => this.#shut(gone());
    transport.on('close', lost);
    transport.on('end', lost);
    transport.on('error', lost);
  }

  /** A new connection to the other side. */
  open(): VirtualSocket {
    const id = this.#nextId++;
    const socket = new VirtualSocket(this, id);
    if (this.#closed) {
      process.nextTick(() => socket.destroy(gone()));
      return socket;
    }
    this.#streams.set(id, socket);
    this.frame(id, OPEN);
    return socket;
  }

  /** Whether the channel keeps this process's event loop alive (an early app process does not until adopted). */
  ref(): void {
    this.#transport.ref?.();
  }

  unref(): void {
    this.#transport.unref?.();
  }

  get streams(): number {
    return this.#streams.size;
  }

  /** Queue a frame; everything queued in one event-loop turn goes out in one write. */
  frame(id: number, type: number, payload?: Buffer): void {
    if (this.#closed) return;
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32BE(payload?.length ?? 0, 0);
    header.writeUInt32BE(id, 4);
    header[8] = type;
    this.#out.push(header);
    if (payload !== undefined && payload.length > 0) this.#out.push(payload);
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => this.#flush());
    }
  }

  credit(id: number, bytes: number): void {
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(bytes, 0);
    this.frame(id, CREDIT, payload);
  }

  forget(id: number): void {
    this.#streams.delete(id);
  }

  /** Close on purpose: the streams end without an error (a request in flight sees its socket close). */
  close(): void {
    this.#shut(undefined);
    this.#transport.destroy();
  }

  /** Write what is queued now, not on the next turn (a process about to exit has no next turn). */
  flush(): void {
    this.#flush();
  }

  #flush(): void {
    this.#flushing = false;
    const out = this.#out;
    this.#out = [];
    if (this.#closed || out.length === 0) return;
    this.#transport.cork();
    for (const buf of out) this.#transport.write(buf);
    this.#transport.uncork();
  }

  #receive(chunk: Buffer): void {
    // A frame that arrives in pieces waits in #pending and is joined once, when it is complete
    // (joining on every piece would copy a large frame over and over).
    if (this.#pendingBytes > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes < this.#needed) return;
      chunk = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    let at = 0;
    while (chunk.length - at >= HEADER) {
      const length = chunk.readUInt32BE(at);
      if (chunk.length - at < HEADER + length) break;
      const id = chunk.readUInt32BE(at + 4);
      const type = chunk[at + 8] as number;
      const payload = chunk.subarray(at + HEADER, at + HEADER + length);
      at += HEADER + length;
      this.#dispatch(id, type, payload);
    }
    if (at === chunk.length) return;
    const rest = chunk.subarray(at);
    this.#pending = [rest];
    this.#pendingBytes = rest.length;
    this.#needed = rest.length >= HEADER ? HEADER + rest.readUInt32BE(0) : HEADER;
  }

  #dispatch(id: number, type: number, payload: Buffer): void {
    if (type === OPEN) {
      const socket = new VirtualSocket(this, id);
      this.#streams.set(id, socket);
      this.onOpen?.(socket);
      return;
    }
    const socket = this.#streams.get(id);
    if (socket === undefined) return; // already closed on this side
    if (type === DATA) socket.received(payload);
    else if (type === END) socket.ended();
    else if (type === CLOSE) socket.closedByPeer();
    else if (type === CREDIT) socket.granted(payload.readUInt32BE(0));
  }

  #shut(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out = [];
    for (const socket of this.#streams.values()) socket.destroy(error);
    this.#streams.clear();
  }
}

/**
 * One connection inside a Channel, used as a socket by node:http on both sides (a client
 * request in the server, a server connection in the app process). What the peer has not read
 * yet is bounded by WINDOW: a writer waits for credit, so a stalled reader stalls only its own
 * connection, never the channel.
 */
export class VirtualSocket extends Duplex {
  readonly id: number;
  readonly #channel: Channel;
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
  // The socket API node:http and http.Agent call; a connection inside a channel has no options.
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  timeout = 0;

  constructor(channel: Channel, id: number) {
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

  received(payload: Buffer): void {
    if (this.timeout > 0) this.#touch();
    this.#unacked += payload.length;
    this.push(payload);
    this.#grant();
  }

  granted(bytes: number): void {
    this.#credit += bytes;
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    this.#waiting = undefined;
    this._write(waiting.chunk, 'binary', waiting.callback);
  }

  ended(): void {
    if (this.#eof) return;
    this.#eof = true;
    this.push(null);
  }

  closedByPeer(): void {
    this.#peerClosed = true;
    // Like a socket whose peer closed after writing: what arrived stays readable, then the stream
    // closes (an app that destroys its connection right after its answer: a paused reader still
    // has that answer's tail in this buffer). With nothing unread, or a write that can now never
    // go out, it closes at once.
    if (this.destroyed || this.readableLength === 0 || this.#waiting !== undefined) return void this.destroy();
    this.once('end', () => this.destroy());
    this.ended();
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

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.timeout > 0) this.#touch();
    if (this.#peerClosed) return callback(Object.assign(new Error('The other side closed the connection'), { code: 'EPIPE' }));
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
    this.#channel.frame(this.id, END);
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
