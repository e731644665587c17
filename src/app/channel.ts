// Many app connections over one stream between the server and an app process. Each client
// connection still gets a connection of its own to the app (a VirtualSocket: the same HTTP, the
// same isolation, its own flow control), but their bytes share one socket pair, written once per
// event-loop turn. A socket per client cost each request its own write, read and wake-up of the
// other process; on a virtual machine those system calls and switches were most of the hop's cost
// (bench/README.md, "Profiles behind issue 11"). Frames: u32 payload length, u32 stream id, u8 type.
import type { Duplex } from 'node:stream';
import { CLOSE, CREDIT, DATA, END, OPEN, VirtualSocket, type Link } from './virtual-socket.js';

export { VirtualSocket, WINDOW } from './virtual-socket.js';

const HEADER = 9;

type Transport = Duplex & { cork(): void; uncork(): void; ref?(): unknown; unref?(): unknown };

const gone = (): Error => Object.assign(new Error('The app process closed the connection'), { code: 'ECONNRESET' });

export class Channel implements Link {
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
