// Many app connections over one stream between the server and an app process. Each client
// connection still gets a connection of its own to the app (a VirtualSocket: the same HTTP, the
// same isolation, its own flow control), but their bytes share one socket pair, written once per
// event-loop turn. A socket per client cost each request its own write, read and wake-up of the
// other process; on a virtual machine those system calls and switches were most of the hop's cost
// (bench/README.md, "Profiles behind issue 11"). Frames: u32 payload length, u32 stream id, u8 type.
import type { Duplex } from 'node:stream';
import { CLOSE, CREDIT, DATA, END, FrameReader, header, OPEN, ProtocolError } from './frames.js';
import { VirtualSocket, type Link } from './virtual-socket.js';

export { VirtualSocket } from './virtual-socket.js';
export { WINDOW, MAX_PAYLOAD, ProtocolError } from './frames.js';

type Transport = Duplex & { cork(): void; uncork(): void; ref?(): unknown; unref?(): unknown };

const gone = (): Error => Object.assign(new Error('The app process closed the connection'), { code: 'ECONNRESET' });

export class Channel implements Link {
  readonly #transport: Transport;
  readonly #streams = new Map<number, VirtualSocket>();
  #nextId = 1;
  /** The newest stream the other side opened: its next one must be exactly one more. */
  #peerId = 0;
  #out: Buffer[] = [];
  #flushing = false;
  readonly #reader = new FrameReader((id, type, payload) => this.#dispatch(id, type, payload));
  #closed = false;
  /** Streams the other side opened (the app process's side): hand them to its HTTP server. */
  onOpen: ((socket: VirtualSocket) => void) | undefined;
  /**
   * The other side broke the channel's rules (see frames.ts): the channel is already shut and its
   * streams reset; the owner ends that process (the server treats it as crashed).
   */
  onBroken: ((reason: string) => void) | undefined;

  constructor(transport: Transport) {
    this.#transport = transport;
    transport.on('data', (chunk: Buffer) => this.#receive(chunk));
    const lost = (): void => this.#shut(undefined, true);
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
    this.#out.push(header(payload?.length ?? 0, id, type));
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
    this.#shut(undefined, false);
    this.#transport.destroy();
  }

  /** The other side is gone (its process exited): what streams received stays readable, as on a socket. */
  lose(): void {
    this.#shut(undefined, true);
    this.#transport.destroy();
  }

  /** Bytes held for frames not yet complete (never more than one frame's worth). */
  get buffered(): number {
    return this.#reader.buffered;
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
    if (this.#closed) return;
    try {
      this.#reader.push(chunk);
    } catch (error) {
      // Whatever went wrong decoding this side's input (a bad frame, or a throw while handling a
      // good one) ends this channel only: a `data` handler that throws would end the process.
      const reason = error instanceof ProtocolError ? error.message : `a frame that could not be handled (${String(error)})`;
      this.#shut(Object.assign(new Error(`The app process broke its connection: ${reason}`), { code: 'ECONNRESET' }), false);
      this.#transport.destroy();
      this.onBroken?.(reason);
    }
  }

  #dispatch(id: number, type: number, payload: Buffer): void {
    if (this.#closed) return;
    if (type === OPEN) {
      if (this.onOpen === undefined) throw new ProtocolError(`stream ${id} opened from the side that cannot open streams`);
      if (id !== this.#peerId + 1) throw new ProtocolError(`stream ${id} opened out of order (after ${this.#peerId})`);
      this.#peerId = id;
      const socket = new VirtualSocket(this, id);
      this.#streams.set(id, socket);
      this.onOpen?.(socket);
      return;
    }
    const socket = this.#streams.get(id);
    if (socket === undefined) {
      // A stream already closed on this side may still get the peer's last frames; one never opened may not.
      if (id >= this.#nextId && id > this.#peerId) throw new ProtocolError(`a frame for stream ${id}, never opened`);
      return;
    }
    if (type === DATA) socket.received(payload);
    else if (type === END) socket.ended();
    else if (type === CLOSE) socket.closedByPeer();
    else if (type === CREDIT) socket.granted(payload.readUInt32BE(0));
  }

  /**
   * No more frames either way. `peerGone`: the other side went away (its process exited), which
   * each stream sees as a socket sees its peer close: what it received stays readable (an answer
   * complete but still going out to a slow client), then it closes, without an error of its own.
   * Otherwise (a close on purpose, a broken channel) every stream is destroyed with `error`.
   */
  #shut(error: Error | undefined, peerGone: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out = [];
    for (const socket of this.#streams.values()) {
      if (peerGone) socket.lost();
      else socket.destroy(error);
    }
    this.#streams.clear();
  }
}
