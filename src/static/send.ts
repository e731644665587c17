// Headers and body for one resolved file: type, validators, 304, ranges, compression, HEAD.
import { lstat, open } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream';
import mime from 'mime';
import type { Response } from '../response.js';
import { acceptedEncodings, compressBuffer, createCompressor, isCompressible, MIN_COMPRESS_SIZE, siblingSuffix, type Encoding } from './compress.js';
import { parseRange, type ByteRange } from './range.js';

/** Files up to this size are read in one go (the size of one stream chunk) and kept in memory. */
export const SMALL_FILE = 64 * 1024;
const BODY_CACHE_BYTES = 32 * 1024 * 1024;
const STREAM_CHUNK = 256 * 1024;
/** Never open a FIFO or device blocking, even if it replaced the file after the stat. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

const TEXTUAL = /^(text\/|application\/(javascript|json|xml|ld\+json|manifest\+json|x-sh)|image\/svg\+xml)/;

/** `Content-Type` for a file name: mime's guess, `; charset=utf-8` on text, octet-stream otherwise. */
export function contentTypeFor(path: string): string {
  const type = mime.getType(path);
  if (type === null) return 'application/octet-stream';
  return TEXTUAL.test(type) ? `${type}; charset=utf-8` : type;
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

/** Sends files; owns the small-file body cache (validated on every request by the fresh stat). */
export class FileSender {
  #bodies = new Map<string, CachedBody>();
  #cachedBytes = 0;
  readonly #compress: boolean;

  constructor(opts: SendOptions) {
    this.#compress = opts.compress;
  }

  /** Send `path` (already resolved and stat'ed) as the response; `status` 404 for a 404 page. */
  async send(req: IncomingMessage, res: Response, path: string, st: Stats, status = 200): Promise<void> {
    const etag = etagFor(st);
    const lastModified = st.mtime.toUTCString();
    const type = contentTypeFor(path);
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
        this.#cachedBytes += encoded.length;
      }
      return endWith(res, encoded, head);
    }
    if (head) {
      res.end();
      return;
    }
    const source = await openStream(path, { start: 0, end: st.size - 1 });
    const compressor = createCompressor(enc, st.size);
    compressor.on('data', (chunk: Buffer) => {
      res.bytes += chunk.length;
    });
    pipeline(source, compressor, res, ignoreClosed);
  }

  async #sendWhole(res: Response, path: string, st: Stats, status: number, head: boolean): Promise<void> {
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
    res.bytes = st.size;
    // Read no further than the size announced in Content-Length: a file that grows while it is
    // sent (a log, a download in progress) would otherwise overrun the response on a keep-alive
    // connection and corrupt the next one.
    pipeline(await openStream(path, { start: 0, end: st.size - 1 }), res, ignoreClosed);
  }

  async #sendRange(res: Response, path: string, st: Stats, range: ByteRange): Promise<void> {
    const length = range.end - range.start + 1;
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${st.size}`);
    res.setHeader('Content-Length', length);
    res.bytes = length;
    pipeline(await openStream(path, range), res, ignoreClosed);
  }

  async #sendMultipart(res: Response, path: string, st: Stats, ranges: ByteRange[], type: string): Promise<void> {
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
    res.bytes = length;
    const handle = await open(path, OPEN_FLAGS);
    try {
      for (const [i, r] of ranges.entries()) {
        if (res.destroyed) return;
        res.write(heads[i] ?? '');
        let pos = r.start;
        while (pos <= r.end) {
          const n = Math.min(STREAM_CHUNK, r.end - pos + 1);
          const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(n), 0, n, pos);
          if (bytesRead === 0) throw new Error('File shrank while sending ranges');
          if (!res.write(buffer.subarray(0, bytesRead))) await drained(res);
          pos += bytesRead;
        }
      }
      res.end(tail);
    } catch {
      res.destroy();
    } finally {
      await handle.close();
    }
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
    if (cached !== undefined) this.#evict(path, cached);
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

/** A read stream over a file opened without blocking (a FIFO swapped in after the stat errors, not hangs). */
async function openStream(path: string, range?: ByteRange): Promise<Readable> {
  const handle = await open(path, OPEN_FLAGS);
  return handle.createReadStream({ highWaterMark: STREAM_CHUNK, ...(range === undefined ? {} : { start: range.start, end: range.end }) });
}

function endWith(res: Response, body: Buffer, head: boolean): void {
  if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', body.length);
  if (head) {
    res.end();
    return;
  }
  res.bytes = body.length;
  res.end(body);
}

function drained(res: Response): Promise<void> {
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

/** A client that goes away mid-body is normal; the stream is already torn down by pipeline. */
function ignoreClosed(): void {}
