// Validators and conditional requests: ETag, Last-Modified, 304 and If-Range (RFC 9110 §13).
import type { Stats } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { open } from 'node:fs/promises';
import { toFsPath } from './file-names.js';
import { isTextual } from './compress.js';
import { LruMap } from './lru.js';

/**
 * The types of the files a web folder is mostly made of, as mime names them (a test keeps the
 * two equal). mime's full table takes about 13 ms to load, a tenth of the start-up: it is loaded
 * only when a file of another type is first sent (see `canType` / `loadTypes`).
 */
export const COMMON_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  json: 'application/json',
  map: 'application/json',
  txt: 'text/plain',
  md: 'text/markdown',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/vnd.microsoft.icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
  wasm: 'application/wasm',
};

let mime: { getType(path: string): string | null } | undefined;
let loading: Promise<void> | undefined;

/** Load mime's full table (once). */
export function loadTypes(): Promise<void> {
  loading ??= import('mime').then((m) => {
    mime = m.default;
  });
  return loading;
}

function extensionOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot === -1 || path.indexOf('/', dot) !== -1 ? '' : path.slice(dot + 1).toLowerCase();
}

/** True when contentTypeFor can answer for `path` now (a common type, or mime loaded). */
export function canType(path: string): boolean {
  return mime !== undefined || TS_SOURCE.test(path) || COMMON_TYPES[extensionOf(path)] !== undefined;
}

/** `Content-Type` for a file name: mime's guess, `; charset=utf-8` on text, octet-stream otherwise. Needs canType(path), or loadTypes() first. */
export function contentTypeFor(path: string): string {
  // TypeScript sources are text to read, not video/mp2t downloads; a real MPEG-TS segment
  // named .ts is told apart by its content (see sniffMpegTs).
  if (TS_SOURCE.test(path)) return TEXT_SOURCE;
  const type = COMMON_TYPES[extensionOf(path)] ?? (mime === undefined ? notLoaded(path) : mime.getType(path));
  if (type === null) return 'application/octet-stream';
  return isTextual(type) ? `${type}; charset=utf-8` : type;
}

function notLoaded(path: string): never {
  throw new Error(`contentTypeFor(${JSON.stringify(path)}) before loadTypes()`);
}

const TS_SOURCE = /\.(ts|tsx|mts|cts)$/i;
/** What a TypeScript source is served as: shown in the browser, like any source text. */
export const TEXT_SOURCE = 'text/plain; charset=utf-8';
const TS_PACKET = 188;
const SYNC_BYTE = 0x47;

/**
 * A `.ts` file that is an MPEG transport stream (HLS segments are named .ts): a sync byte at the
 * start of each of its first packets. TypeScript source never starts "G" three packets in a row.
 */
export async function sniffMpegTs(path: string, size: number): Promise<boolean> {
  if (size < TS_PACKET) return false;
  const handle = await open(toFsPath(path), 'r').catch(() => undefined);
  if (handle === undefined) return false;
  try {
    const head = Buffer.alloc(Math.min(size, TS_PACKET * 3));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    for (let at = 0; at < bytesRead; at += TS_PACKET) if (head[at] !== SYNC_BYTE) return false;
    return bytesRead > 0;
  } finally {
    await handle.close();
  }
}

/**
 * Weak validator from size, modification time and change time (never a content hash: that costs
 * a full read). The change time catches a same-size edit whose mtime was put back (rsync -t, a
 * restore, utimes), which would otherwise revalidate to a stale 304.
 */
export function etagFor(st: Stats): string {
  // Shape kept as `W/"<size>-<hex>"`; the hex is mtime followed by a fixed-width ctime.
  return `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}${Math.floor(st.ctimeMs).toString(16).padStart(12, '0')}"`;
}

/** The tag of a compressed representation: the coding inside the quotes (`W/"…-gzip"`). */
export function encodedEtag(etag: string, encoding: string): string {
  return `${etag.slice(0, -1)}-${encoding}"`;
}

/** RFC 9110 §13.1.2: weak comparison against a list of tags, or `*`. */
export function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  // A compressed response carries the coding inside its tag (see encodedEtag); the client
  // revalidates with that tag, so it must match too or compressed files never get a 304.
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
export function ifRangeHolds(value: string, etag: string, lastModified: string): boolean {
  const v = value.trim();
  if (v.startsWith('"')) return !etag.startsWith('W/') && v === etag;
  if (v.startsWith('W/')) return false;
  return v === lastModified;
}

/** Header values derived from a file's name and stat. */
export interface FileMeta {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  etag: string;
  lastModified: string;
  type: string;
  /** A `.ts` file's content was looked at to tell a video segment from a source. */
  sniffed?: boolean;
}

/**
 * Header values per path, computed once per version of the file (formatting a date and asking
 * mime cost more than the rest of a cached 1 KiB answer). Keyed by the stat that every request
 * takes afresh, so a changed file gets new values on its next request.
 */
export class MetaCache {
  #meta = new LruMap<string, FileMeta>(4096);

  /** As get(), with a `.ts` file's type settled by its content (a video segment or a source). */
  async settle(path: string, st: Stats): Promise<FileMeta> {
    if (!canType(path)) await loadTypes();
    const meta = this.get(path, st);
    if (meta.sniffed !== true && meta.type === TEXT_SOURCE && /\.m?ts$/i.test(path)) {
      meta.sniffed = true; // once per version of the file
      if (await sniffMpegTs(path, st.size)) meta.type = 'video/mp2t';
    }
    return meta;
  }

  get(path: string, st: Stats): FileMeta {
    let meta = this.#meta.get(path);
    if (meta === undefined || meta.mtimeMs !== st.mtimeMs || meta.ctimeMs !== st.ctimeMs || meta.size !== st.size) {
      meta = { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, size: st.size, etag: etagFor(st), lastModified: st.mtime.toUTCString(), type: contentTypeFor(path) };
      this.#meta.set(path, meta);
    }
    return meta;
  }
}
