// The channel's wire format (channel.ts): u32 payload length, u32 stream id, u8 type, payload.
// The reader trusts nothing: the other end is an app process, and app code can write to the
// channel's descriptor (a bug, a library probing descriptors). A frame that breaks a rule is a
// ProtocolError; the channel then ends that app process's connection, never the server.
export const HEADER = 9;
export const OPEN = 1;
export const DATA = 2;
export const END = 3;
export const CLOSE = 4;
export const CREDIT = 5;
/** Bytes a stream may have in flight, unread by the other side: what bounds memory per connection. */
export const WINDOW = 256 * 1024;
/** The largest payload a frame may carry: a DATA frame never exceeds its stream's window. */
export const MAX_PAYLOAD = WINDOW;

/** The other side broke the channel's rules: its connection cannot be trusted any further. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** The payload length each type must have (DATA: up to MAX_PAYLOAD bytes). */
function checkHeader(length: number, id: number, type: number): void {
  if (id === 0) throw new ProtocolError('a frame for stream 0');
  if (type === DATA) {
    if (length > MAX_PAYLOAD) throw new ProtocolError(`a data frame of ${length} bytes (at most ${MAX_PAYLOAD} allowed)`);
  } else if (type === CREDIT) {
    if (length !== 4) throw new ProtocolError(`a credit frame of ${length} bytes (4 expected)`);
  } else if (type === OPEN || type === END || type === CLOSE) {
    if (length !== 0) throw new ProtocolError(`a frame of type ${type} with a ${length}-byte payload`);
  } else {
    throw new ProtocolError(`a frame of unknown type ${type}`);
  }
}

export function header(length: number, id: number, type: number): Buffer {
  const head = Buffer.allocUnsafe(HEADER);
  head.writeUInt32BE(length, 0);
  head.writeUInt32BE(id, 4);
  head[8] = type;
  return head;
}

/**
 * Cuts a byte stream into frames. A frame that arrives in pieces waits and is joined once, when
 * complete (joining on every piece would copy a large frame over and over); at most one frame's
 * bytes (HEADER + MAX_PAYLOAD) ever wait, whatever a header claims.
 */
export class FrameReader {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #needed = 0;
  readonly #onFrame: (id: number, type: number, payload: Buffer) => void;

  constructor(onFrame: (id: number, type: number, payload: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  /** Bytes waiting for the rest of their frame. */
  get buffered(): number {
    return this.#pendingBytes;
  }

  /** Feed bytes; throws ProtocolError at the first bad frame (the frames before it were delivered). */
  push(chunk: Buffer): void {
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
      const id = chunk.readUInt32BE(at + 4);
      const type = chunk[at + 8] as number;
      checkHeader(length, id, type);
      if (chunk.length - at < HEADER + length) break;
      const payload = chunk.subarray(at + HEADER, at + HEADER + length);
      at += HEADER + length;
      this.#onFrame(id, type, payload);
    }
    if (at === chunk.length) return;
    const rest = chunk.subarray(at);
    this.#pending = [rest];
    this.#pendingBytes = rest.length;
    this.#needed = rest.length >= HEADER ? HEADER + rest.readUInt32BE(0) : HEADER;
  }
}
