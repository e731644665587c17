// Headers and body for one resolved file: type, validators, 304, ranges, compression, HEAD.
import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { ServeResponse } from '../serve-response.js';
import { BodyCache, SMALL_FILE } from './body-cache.js';
import { acceptedEncodings, compressBuffer, createCompressor, isCompressible, MIN_COMPRESS_SIZE, siblingSuffix, type Encoding } from './compress.js';
import { encodedEtag, ifRangeHolds, isNotModified, MetaCache } from './conditional.js';
import { toFsPath } from './file-names.js';
import { openChecked } from './open-file.js';
import { parseRange, type ByteRange } from './range.js';
import { multipartLayout, streamBody, streamParts } from './stream-file.js';
import { faultAt } from '../fault.js';

export { COMMON_TYPES, contentTypeFor, etagFor, etagMatches, isNotModified, loadTypes } from './conditional.js';
export { SMALL_FILE } from './body-cache.js';

/** Larger files are not compressed on the fly (identity, or a fresh precompressed sibling). */
export const MAX_LIVE_COMPRESS_SIZE = 8 * 1024 * 1024;
/** At most this many on-the-fly compressions at once; further requests get identity. */
export const MAX_LIVE_COMPRESSIONS = 4;

export interface SendOptions {
  compress: boolean;
  /** Bytes; files above it are never compressed on the fly (default MAX_LIVE_COMPRESS_SIZE). */
  maxCompressSize?: number;
  /** Concurrent on-the-fly compressions (default MAX_LIVE_COMPRESSIONS). */
  maxCompressions?: number;
  /** Byte budget of the small-file body cache (default 32 MiB). */
  cacheBytes?: number;
}

/** Sends files; owns the header and small-body caches (validated on every request by the fresh stat). */
export class FileSender {
  readonly bodies: BodyCache;
  #meta = new MetaCache();
  #compressing = 0;
  readonly #compress: boolean;
  readonly #maxCompressSize: number;
  readonly #maxCompressions: number;

  constructor(opts: SendOptions) {
    this.#compress = opts.compress;
    this.#maxCompressSize = opts.maxCompressSize ?? MAX_LIVE_COMPRESS_SIZE;
    this.#maxCompressions = opts.maxCompressions ?? MAX_LIVE_COMPRESSIONS;
    this.bodies = new BodyCache(opts.cacheBytes);
  }

  /** On-the-fly compressions running now. */
  get compressing(): number {
    return this.#compressing;
  }

  /** Send `path` (already resolved and stat'ed) as the response; `status` 404 for a 404 page. */
  async send(req: IncomingMessage, res: ServeResponse, path: string, st: Stats, status = 200): Promise<void> {
    const { etag, lastModified, type } = await this.#meta.settle(path, st);
    faultAt('static', req);
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
          return this.#sendRanges(res, path, st, spec.ranges, type);
        }
      }
    }

    const encodings = compressible ? acceptedEncodings(req.headers['accept-encoding'] as string | undefined) : [];
    for (const enc of encodings) {
      const sibling = await freshSibling(path, st, enc);
      if (sibling !== null) {
        res.setHeader('ETag', encodedEtag(etag, enc));
        res.setHeader('Content-Encoding', enc);
        return this.#sendWhole(res, sibling.path, sibling.stat, status, head);
      }
    }
    // Bounded work per request: no live compression of big files, nor beyond the concurrency cap.
    const live = st.size <= this.#maxCompressSize && this.#compressing < this.#maxCompressions;
    const enc = live ? encodings[0] : undefined;
    if (isOk) res.setHeader('ETag', enc === undefined ? etag : encodedEtag(etag, enc));
    if (enc === undefined) return this.#sendWhole(res, path, st, status, head);

    res.setHeader('Content-Encoding', enc);
    res.statusCode = status;
    if (st.size <= SMALL_FILE) {
      const entry = await this.bodies.get(path, st);
      let encoded = entry.encoded[enc];
      if (encoded === undefined) {
        this.#compressing++;
        try {
          encoded = await compressBuffer(enc, entry.body);
        } finally {
          this.#compressing--;
        }
        this.bodies.addEncoded(path, entry, enc, encoded);
      }
      return endWith(res, encoded, head);
    }
    const handle = await openChecked(path, st);
    if (head) {
      await handle.close();
      return void res.end();
    }
    this.#compressing++;
    try {
      await streamBody(res, handle, { start: 0, end: st.size - 1 }, createCompressor(enc, st.size));
    } finally {
      this.#compressing--;
    }
  }

  async #sendWhole(res: ServeResponse, path: string, st: Stats, status: number, head: boolean): Promise<void> {
    res.statusCode = status;
    if (st.size <= SMALL_FILE) {
      // endWith sets Content-Length from the bytes actually read (a file can shrink after the stat)
      const entry = await this.bodies.get(path, st);
      return endWith(res, entry.body, head);
    }
    const handle = await openChecked(path, st); // before any header leaves: a swapped file is a 404
    res.setHeader('Content-Length', st.size);
    if (head) {
      await handle.close();
      return void res.end();
    }
    return streamBody(res, handle, { start: 0, end: st.size - 1 });
  }

  async #sendRanges(res: ServeResponse, path: string, st: Stats, ranges: ByteRange[], type: string): Promise<void> {
    const handle = await openChecked(path, st);
    res.statusCode = 206;
    const [first] = ranges;
    if (ranges.length === 1 && first !== undefined) {
      res.setHeader('Content-Range', `bytes ${first.start}-${first.end}/${st.size}`);
      res.setHeader('Content-Length', first.end - first.start + 1);
      return streamBody(res, handle, first);
    }
    const boundary = `serve-here-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const layout = multipartLayout(ranges, st.size, type, boundary);
    res.setHeader('Content-Type', `multipart/byteranges; boundary=${boundary}`);
    res.setHeader('Content-Length', layout.length);
    return streamParts(res, handle, ranges, layout);
  }
}

/** A `.br`/`.gz` sibling that is a regular file at least as new as the original. */
async function freshSibling(path: string, st: Stats, enc: Encoding): Promise<{ path: string; stat: Stats } | null> {
  const sibling = path + siblingSuffix(enc);
  try {
    // lstat: a sibling symlink could lead out of the root; the later open checks this inode.
    const sst = await lstat(toFsPath(sibling));
    if (sst.isFile() && sst.mtimeMs >= st.mtimeMs) return { path: sibling, stat: sst };
  } catch {
    // no sibling: compress on the fly
  }
  return null;
}

function endWith(res: ServeResponse, body: Buffer, head: boolean): void {
  if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', body.length);
  res.end(head ? undefined : body);
}
