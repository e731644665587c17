// Upload names: which names an upload may take, the next free "name (n).ext", the temp name,
// and the same-origin check. Pure functions, no I/O, so every rule has a table test.
//
// Entry points (used by src/share/upload.ts; the server may reuse them):
//   checkUploadSegments(segments, dotfiles) → null | { status, reason }
//   numberedName(name, n)                  → "name (n).ext"
//   tempNameFor(name, random)              → ".name.upload-<random>"

/** A refusal: status code and a short sentence for the response body. */
export interface Refusal {
  status: number;
  reason: string;
}

// C0 controls, DEL and C1 controls: a name holding them can forge terminal output and log lines.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// With the u flag, a surrogate range only matches a lone (unpaired) surrogate: the route's stand-in
// for a non-UTF-8 byte. Writing it back would need the original bytes, so such names are refused.
const LONE_SURROGATE = /[\ud800-\udfff]/u;
/** Most file systems cap a name at 255 bytes; refusing early beats a 500 from ENAMETOOLONG. */
const MAX_NAME_BYTES = 255;

/**
 * Check the decoded segments of an upload target (folders, then the file name). The route has
 * already refused `..`, NUL and backslashes; this refuses what an upload must never create.
 */
export function checkUploadSegments(segments: readonly string[], dotfiles: boolean): Refusal | null {
  if (segments.length === 0) return { status: 409, reason: 'An upload needs a file name after the folder' };
  for (const seg of segments) {
    if (seg === '' || seg === '.' || seg === '..') return { status: 400, reason: 'Empty or relative segment in the upload path' };
    if (seg.includes('/') || seg.includes('\\') || seg.includes('\0')) return { status: 400, reason: 'Separator in an upload name' };
    if (CONTROL.test(seg)) return { status: 400, reason: 'Control character in an upload name' };
    if (LONE_SURROGATE.test(seg)) return { status: 400, reason: 'Upload names must be valid UTF-8' };
    if (Buffer.byteLength(seg) > MAX_NAME_BYTES) return { status: 400, reason: 'Upload name longer than 255 bytes' };
    // `.git` is refused even with --dotfiles (any case: case-insensitive file systems exist).
    if (seg.toLowerCase() === '.git') return { status: 403, reason: 'Uploads into .git are not allowed' };
    if (seg.startsWith('.') && !dotfiles) return { status: 403, reason: 'Hidden (dot) names cannot be uploaded' };
  }
  return null;
}

/**
 * The n-th alternative for a taken name: `photo.jpg` → `photo (1).jpg`, `notes` → `notes (1)`,
 * `archive.tar.gz` → `archive (1).tar.gz` (the whole multi-part extension is kept, as browsers do
 * for downloads). A leading dot is part of the stem, so `.env` → `.env (1)`.
 */
export function numberedName(name: string, n: number): string {
  const dot = extensionStart(name);
  return dot === -1 ? `${name} (${n})` : `${name.slice(0, dot)} (${n})${name.slice(dot)}`;
}

function extensionStart(name: string): number {
  const last = name.lastIndexOf('.');
  if (last <= 0) return -1;
  const before = name.lastIndexOf('.', last - 1);
  // Keep `.tar.gz`-style pairs together when the inner part is a short alphabetic extension.
  if (before > 0 && /^\.[a-z0-9]{1,4}$/i.test(name.slice(before, last)) && /^\.(gz|bz2|xz|zst|br)$/i.test(name.slice(last))) return before;
  return last;
}

/** Hidden temp name in the target folder; hidden because dotfiles are never listed or served by default. */
export function tempNameFor(name: string, random: string): string {
  // Keep the temp name within 255 bytes even for a long upload name.
  const stem = Buffer.byteLength(name) > 200 ? 'upload' : name;
  return `.${stem}.upload-${random}`;
}

/** A temp file of an upload under way (tempNameFor with a 6-byte hex random): never a page's file. */
export function isUploadTemp(path: string): boolean {
  return /(^|[\\/])\.[^\\/]*\.upload-[0-9a-f]{12}$/.test(path);
}

/** Kept here for callers of this module; the check lives beside the Host check. */
export { isCrossSite } from '../host-check.js';
