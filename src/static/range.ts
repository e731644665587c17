// Range header parsing (RFC 9110 §14): byte ranges, suffix ranges, coalescing, a cap.

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export type RangeSpec =
  | { kind: 'none' }
  | { kind: 'ok'; ranges: ByteRange[] }
  | { kind: 'unsatisfiable' };

/** More ranges than this (after coalescing) are answered with the whole file. */
export const MAX_RANGES = 16;

/**
 * Parse a `Range` header for a representation of `size` bytes. A header that is not a valid
 * `bytes=` set is ignored (`none`, RFC 9110 §14.2), as is one asking for too many pieces.
 * Overlapping and adjacent ranges are merged, so `bytes=0-5,3-9` is one range `0-9`.
 */
export function parseRange(header: string, size: number): RangeSpec {
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'none' };
  const parts = header.slice(eq + 1).split(',');
  if (parts.length > 100) return { kind: 'none' };
  const ranges: ByteRange[] = [];
  let specs = 0;
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') continue;
    specs++;
    const m = /^(\d*)-(\d*)$/.exec(part);
    if (m === null) return { kind: 'none' };
    const [, a = '', b = ''] = m;
    if (a === '' && b === '') return { kind: 'none' };
    let start: number;
    let end: number;
    if (a === '') {
      const suffix = Number(b);
      if (suffix === 0) continue; // "-0" selects nothing
      start = Math.max(0, size - suffix);
      end = size - 1;
    } else {
      start = Number(a);
      end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
      if (b !== '' && Number(b) < start) return { kind: 'none' }; // invalid, not unsatisfiable
    }
    if (start >= size || end < start) continue;
    ranges.push({ start, end });
  }
  // "bytes=" or "bytes=," names no range at all: invalid (range-set is 1#range-spec), not 416.
  if (specs === 0) return { kind: 'none' };
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  ranges.sort((x, y) => x.start - y.start);
  const merged: ByteRange[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  if (merged.length > MAX_RANGES) return { kind: 'none' };
  return { kind: 'ok', ranges: merged };
}
