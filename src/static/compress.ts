// Content negotiation for gzip/brotli, and the compressors used on the fly.
import { constants, createBrotliCompress, createGzip, brotliCompress, gzip } from 'node:zlib';
import type { Transform } from 'node:stream';
import { promisify } from 'node:util';

export type Encoding = 'br' | 'gzip';

/** Files smaller than this gain too little from compression to be worth the CPU. */
export const MIN_COMPRESS_SIZE = 1024;

const TEXTUAL = /^(text\/|application\/(javascript|json|xml|ld\+json|manifest\+json|x-sh)|image\/svg\+xml)/;

/** Text types: sent with `; charset=utf-8`, and compressed. */
export function isTextual(contentType: string): boolean {
  return TEXTUAL.test(contentType);
}

/** Text compresses well, and so does WebAssembly. */
export function isCompressible(contentType: string): boolean {
  return TEXTUAL.test(contentType) || contentType.startsWith('application/wasm');
}

/**
 * The encodings an `Accept-Encoding` value allows, best first (brotli, then gzip), skipping any
 * the client gave `q=0`; empty for identity only.
 */
export function acceptedEncodings(header: string | undefined): Encoding[] {
  if (header === undefined || header === '') return [];
  let br: boolean | undefined;
  let gz: boolean | undefined;
  let star: boolean | undefined;
  for (const item of header.split(',')) {
    const [name = '', ...params] = item.trim().toLowerCase().split(';');
    const q = params.find((p) => p.trim().startsWith('q='));
    const ok = q === undefined || Number(q.trim().slice(2)) !== 0;
    if (name === 'br') br = ok;
    else if (name === 'gzip' || name === 'x-gzip') gz = ok;
    else if (name === '*') star = ok;
  }
  // `*` covers only the codings not named (RFC 9110 §12.5.3): "br;q=0, *" still refuses br.
  br ??= star ?? false;
  gz ??= star ?? false;
  return br && gz ? ['br', 'gzip'] : br ? ['br'] : gz ? ['gzip'] : [];
}

/** Brotli quality 4 compresses about as well as gzip -6 at similar speed; 11 is far too slow live. */
const BROTLI_OPTIONS = { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } };

export function createCompressor(encoding: Encoding, size: number): Transform {
  if (encoding === 'br') {
    return createBrotliCompress({
      params: { ...BROTLI_OPTIONS.params, [constants.BROTLI_PARAM_SIZE_HINT]: size },
    });
  }
  return createGzip({ level: 6 });
}

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Compress a small body held in memory (off the main thread, in the zlib thread pool). */
export function compressBuffer(encoding: Encoding, body: Buffer): Promise<Buffer> {
  return encoding === 'br' ? brotliAsync(body, BROTLI_OPTIONS) : gzipAsync(body, { level: 6 });
}

/** Suffix of the precompressed sibling file for an encoding. */
export function siblingSuffix(encoding: Encoding): string {
  return encoding === 'br' ? '.br' : '.gz';
}
