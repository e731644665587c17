// Headers and body for one resolved file: type, validators, 304, ranges, compression, HEAD.
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import type { Transform, Writable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import mime from 'mime';
import type { ServeResponse } from '../serve-response.js';
import { acceptedEncodings, compressBuffer, createCompressor, isCompressible, isTextual, MIN_COMPRESS_SIZE, siblingSuffix, type Encoding } from './compress.js';
import { parseRange, type ByteRange } from './range.js';

/** Files up to this size are read with one read (no stream machinery) and kept in memory. */
export const SMALL_FILE = 256 * 1024;
const BODY_CACHE_BYTES = 32 * 1024 * 1024;
/** Files modified more recently than this are read afresh rather than cached. */
const RECENT_MS = 2000;
const STREAM_CHUNK = 256 * 1024;
/** Never open a FIFO or device blocking, even if it replaced the file after the stat. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;


/** `Content-Type` for a file name: mime's guess, `; charset=utf-8` on text, octet-stream otherwise. */
export function contentTypeFor(path: string): string {
  const type = mime.getType(path);
  if (type === null) return 'application/octet-stream';
  return isTextual(type) ? `${type}; charset=utf-8` : type;
}

/** Weak validator from size and modification time (never a content hash: that costs a full read). */
export function etagFor(st: Stats): string {
  return `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

/** RFC 9110 §13.1.2: weak comparison against a list of tags, or `*`. */
export function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  // A compressed response carries the coding inside its tag (`W/"…-gzip"`, see send()); the
  // client revalidates with that tag, so it must match too or compressed files never get a 304.
  const variants = [opaque, `${opaque.slice(0, -1)}-br"`, `${opaque.slice(0, -1)}-gzip"`];
  for (const item of header.split(',')) {
    const tag = item.trim();
    if (variants.includes(tag.startsWith('W/') ? tag.slice(2) : tag)) return true;
  }
  return false;
}

/** True when the request's validators say the client's copy is current (→ 304). */
export function isNotModified(req: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return etagMatches(inm, etag);
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/** If-Range (RFC 9110 §13.1.5): a date must equal Last-Modified; a weak tag never matches. */
function ifRangeHolds(value: string, etag: string, lastModified: string): boolean {
  const v = value.trim();
  if (v.startsWith('"')) return !etag.startsWith('W/') && v === etag;
  if (v.startsWith('W/')) return false;
  return v === lastModified;
}

interface CachedBody {
  mtimeMs: number;
  size: number;
  ino: number;
  body: Buffer;
  encoded: Partial<Record<Encoding, Buffer>>;
}

export interface SendOptions {
  compress: boolean;
}

/** Header values derived from a file's name and stat, computed once per version of the file. */
interface FileMeta {
  mtimeMs: number;
  size: number;
  etag: string;
  lastModified: string;
  type: string;
}

/** Sends files; owns the small-file body cache (validated on every request by the fresh stat). */
export class FileSender {
  #bodies = new Map<string, CachedBody>();
  #meta = new Map<string, FileMeta>();
  #cachedBytes = 0;
  readonly #compress: boolean;

  constructor(opts: SendOptions) {
    this.#compress = opts.compress;
  }

  /** Send `path` (already resolved and stat'ed) as the response; `status` 404 for a 404 page. */
  async send(req: IncomingMessage, res: ServeResponse, path: string, st: Stats, status = 200): Promise<void> {
    const { etag, lastModified, type } = this.#metaFor(path, st);
    const isOk = status === 200;
    res.setHeader('Content-Type', type);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (isOk) {
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('Last-Modified', lastModified);
      res.setHeader('Accept-Ranges', 'bytes');
    }
    const compressible = this.#compress && isCompressible(type) && st.size >= MIN_COMPRESS_SIZE;
    if (compressible) res.setHeader('Vary', 'Accept-Encoding');

    if (isOk && isNotModified(req, etag, st.mtimeMs)) {
      res.setHeader('ETag', etag);
      res.removeHeader('Content-Type');
      res.statusCode = 304;
      res.end();
      return;
    }

    const head = req.method === 'HEAD';
    const rangeHeader = isOk && req.method === 'GET' ? req.headers.range : undefined;
    if (rangeHeader !== undefined) {
      const ifRange = req.headers['if-range'] as string | undefined;
      if (ifRange === undefined || ifRangeHolds(ifRange, etag, lastModified)) {
        const spec = parseRange(rangeHeader, st.size);
        if (spec.kind === 'unsatisfiable') {
          res.setHeader('ETag', etag);
          res.statusCode = 416;
          res.setHeader('Content-Range', `bytes */${st.size}`);
          res.removeHeader('Content-Type');
          res.setHeader('Content-Length', 0);
          res.end();
          return;
        }
        if (spec.kind === 'ok') {
          res.setHeader('ETag', etag);
          const [first] = spec.ranges;
          if (spec.ranges.length === 1 && first !== undefined) return this.#sendRange(res, path, st, first);
          return this.#sendMultipart(res, path, st, spec.ranges, type);
        }
      }
    }

    const encodings = compressible ? acceptedEncodings(req.headers['accept-encoding'] as string | undefined) : [];
    if (encodings.length > 0) {
      for (const enc of encodings) {
        const sibling = await this.#freshSibling(path, st, enc);
        if (sibling !== null) {
          res.setHeader('ETag', `${etag.slice(0, -1)}-${enc}"`);
          res.setHeader('Content-Encoding', enc);
          return this.#sendWhole(res, sibling.path, sibling.stat, status, head);
        }
      }
    }
    const enc = encodings[0];
    if (isOk) res.setHeader('ETag', enc === undefined ? etag : `${etag.slice(0, -1)}-${enc}"`);
    if (enc === undefined) return this.#sendWhole(res, path, st, status, head);

    res.setHeader('Content-Encoding', enc);
    res.statusCode = status;
    if (st.size <= SMALL_FILE) {
      const entry = await this.#smallBody(path, st);
      let encoded = entry.encoded[enc];
      if (encoded === undefined) {
        encoded = await compressBuffer(enc, entry.body);
        entry.encoded[enc] = encoded;
        if (this.#bodies.get(path) === entry) this.#cachedBytes += encoded.length;
      }
      return endWith(res, encoded, head);
    }
    if (head) {
      res.end();
      return;
    }
    const compressor = createCompressor(enc, st.size);
    compressor.on('data', (chunk: Buffer) => {
    });
    return streamFile(res, path, { start: 0, end: st.size - 1 }, compressor);
  }

  async #sendWhole(res: ServeResponse, path: string, st: Stats, status: number, head: boolean): Promise<void> {
    res.statusCode = status;
    if (st.size <= SMALL_FILE) {
      // endWith sets Content-Length from the bytes actually read (a file can shrink after the stat)
      const entry = await this.#smallBody(path, st);
      return endWith(res, entry.body, head);
    }
    res.setHeader('Content-Length', st.size);
    if (head) {
      res.end();
      return;
    }
    // Read no further than the size announced in Content-Length: a file that grows while it is
    // sent (a log, a download in progress) would otherwise overrun the response on a keep-alive
    // connection and corrupt the next one.
    return streamFile(res, path, { start: 0, end: st.size - 1 });
  }

  async #sendRange(res: ServeResponse, path: string, st: Stats, range: ByteRange): Promise<void> {
    const length = range.end - range.start + 1;
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${st.size}`);
    res.setHeader('Content-Length', length);
    return streamFile(res, path, range);
  }

  async #sendMultipart(res: ServeResponse, path: string, st: Stats, ranges: ByteRange[], type: string): Promise<void> {
    const boundary = `serve-here-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const heads = ranges.map(
      (r, i) => `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${st.size}\r\n\r\n`,
    );
    const tail = `\r\n--${boundary}--\r\n`;
    let length = Buffer.byteLength(tail);
    ranges.forEach((r, i) => {
      length += Buffer.byteLength(heads[i] ?? '') + r.end - r.start + 1;
    });
    res.statusCode = 206;
    res.setHeader('Content-Type', `multipart/byteranges; boundary=${boundary}`);
    res.setHeader('Content-Length', length);
    const handle = await open(path, OPEN_FLAGS);
    try {
      for (const [i, r] of ranges.entries()) {
        // The client left or the file shrank: Content-Length cannot be met, so end the connection.
        if (!(await writeAll(res, Buffer.from(heads[i] ?? '')))) return void res.destroy();
        if (!(await copyRange(handle, r, res))) return void res.destroy();
      }
      res.end(tail);
    } catch {
      res.destroy();
    } finally {
      await handle.close();
    }
  }

  #metaFor(path: string, st: Stats): FileMeta {
    let meta = this.#meta.get(path);
    if (meta === undefined || meta.mtimeMs !== st.mtimeMs || meta.size !== st.size) {
      meta = { mtimeMs: st.mtimeMs, size: st.size, etag: etagFor(st), lastModified: st.mtime.toUTCString(), type: contentTypeFor(path) };
      if (this.#meta.size >= 4096) this.#meta.clear();
      this.#meta.set(path, meta);
    }
    return meta;
  }

  /** The whole body of a small file, from the cache while size, mtime and inode are unchanged. */
  async #smallBody(path: string, st: Stats): Promise<CachedBody> {
    const cached = this.#bodies.get(path);
    if (cached !== undefined && cached.mtimeMs === st.mtimeMs && cached.size === st.size && cached.ino === st.ino) {
      return cached;
    }
    const handle = await open(path, OPEN_FLAGS);
    let body: Buffer;
    try {
      body = Buffer.allocUnsafe(st.size);
      let pos = 0;
      while (pos < st.size) {
        const { bytesRead } = await handle.read(body, pos, st.size - pos, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
      }
      if (pos < st.size) body = body.subarray(0, pos);
    } finally {
      await handle.close();
    }
    const entry: CachedBody = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, body, encoded: {} };
    // A same-size rewrite within one timestamp tick would keep the key: do not cache a file
    // modified in the last two seconds (file systems with coarse timestamps tick that slowly).
    if (Date.now() - st.mtimeMs < RECENT_MS) return entry;
    const current = this.#bodies.get(path); // re-read: another request may have replaced it meanwhile
    if (current !== undefined) this.#evict(path, current);
    if (this.#cachedBytes + body.length > BODY_CACHE_BYTES) this.#clear();
    this.#bodies.set(path, entry);
    this.#cachedBytes += body.length;
    return entry;
  }

  #evict(path: string, entry: CachedBody): void {
    this.#bodies.delete(path);
    this.#cachedBytes -= entry.body.length + (entry.encoded.br?.length ?? 0) + (entry.encoded.gzip?.length ?? 0);
  }

  #clear(): void {
    this.#bodies.clear();
    this.#cachedBytes = 0;
  }

  /** A `.br`/`.gz` sibling that is a regular file at least as new as the original. */
  async #freshSibling(path: string, st: Stats, enc: Encoding): Promise<{ path: string; stat: Stats } | null> {
    const sibling = path + siblingSuffix(enc);
    try {
      const sst = await lstat(sibling); // lstat: a sibling symlink could lead out of the root
      if (sst.isFile() && sst.mtimeMs >= st.mtimeMs) return { path: sibling, stat: sst };
    } catch {
      // no sibling: compress on the fly
    }
    return null;
  }
}

/** Read buffers for large files, reused so big downloads do not churn the memory allocator. */
const bufferPool: Buffer[] = [];
const takeBuffer = (): Buffer => bufferPool.pop() ?? Buffer.allocUnsafeSlow(STREAM_CHUNK);
const giveBuffer = (b: Buffer): void => {
  if (bufferPool.length < 16) bufferPool.push(b);
};

/** Write a chunk and resolve once it has left for the socket (true), or false if the response died. */
function writeAll(out: Writable, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    if (out.destroyed) return resolve(false);
    const onClose = (): void => resolve(false);
    out.once('close', onClose);
    out.write(chunk, (error) => {
      out.off('close', onClose);
      resolve(error === null || error === undefined);
    });
  });
}

/**
 * Copy a byte range of an open file to `out`, reading the next chunk while the previous one is
 * being written (two pooled buffers, each reused only after its write completed). Stops at the
 * range end even if the file grew; false if the file shrank or `out` went away.
 */
async function copyRange(handle: FileHandle, range: ByteRange, out: Writable): Promise<boolean> {
  const buffers = [takeBuffer(), takeBuffer()] as const;
  let writing: Promise<boolean> = Promise.resolve(true);
  let pos = range.start;
  let turn = 0;
  try {
    while (pos <= range.end) {
      const buf = buffers[turn] as Buffer;
      const n = Math.min(buf.length, range.end - pos + 1);
      const { bytesRead } = await handle.read(buf, 0, n, pos);
      if (!(await writing) || bytesRead === 0) return false;
      writing = writeAll(out, buf.subarray(0, bytesRead));
      pos += bytesRead;
      turn ^= 1;
    }
    return await writing;
  } finally {
    await writing;
    giveBuffer(buffers[0]);
    giveBuffer(buffers[1]);
  }
}

/** Stream a file (or a range of it) into the response, optionally through a compressor. */
async function streamFile(res: ServeResponse, path: string, range: ByteRange, via?: Transform): Promise<void> {
  const handle = await open(path, OPEN_FLAGS);
  try {
    if (via !== undefined) {
      via.on('error', () => res.destroy());
      // A client that leaves unpipes the compressor, whose pending writes would then never finish.
      res.once('close', () => via.destroy());
      via.pipe(res);
    }
    const ok = await copyRange(handle, range, via ?? res);
    if (!ok) res.destroy(); // the client left, or the file shrank: Content-Length cannot be met
    else if (via !== undefined) via.end();
    else res.end();
  } finally {
    await handle.close();
  }
}

function endWith(res: ServeResponse, body: Buffer, head: boolean): void {
  if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', body.length);
  if (head) {
    res.end();
    return;
  }
  res.end(body);
}


