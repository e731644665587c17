// File names that are not valid UTF-8, carried as strings: Python's "surrogateescape" (PEP 383).
//
// A name's bytes are decoded as UTF-8; each byte that is not part of a valid sequence becomes the
// lone surrogate U+DC80+byte. Valid UTF-8 never decodes to a lone surrogate, so the mapping is
// one-to-one and the exact bytes come back at the file system calls (`toFsPath`). A name from
// `readdir` (as bytes) and a request segment (percent-escapes decoded to bytes) meet as the same
// string, so lookups, caches and the listing work on strings throughout.

// A low surrogate in U+DC80–DCFF that is not the second half of a pair (U+10080 is D800 DC80).
const ESCAPED = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;
const ESCAPED_ALL = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g;

/** True when the string carries escaped bytes (it came from a name that is not valid UTF-8). */
export function hasEscapedBytes(name: string): boolean {
  return ESCAPED.test(name);
}

/** Decode bytes as UTF-8, escaping each invalid byte as U+DC80+byte. */
export function decodeBytes(bytes: Uint8Array): string {
  // Fast path: valid UTF-8 round-trips through the built-in decoder (a literal U+FFFD in the
  // name also goes the slow way, which handles it correctly).
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const len = sequenceLength(bytes, i);
    if (len === 0) {
      out += String.fromCharCode(0xdc00 + b);
      i += 1;
      continue;
    }
    out += Buffer.from(bytes.buffer, bytes.byteOffset + i, len).toString('utf8');
    i += len;
  }
  return out;
}

/**
 * Length of the valid UTF-8 sequence starting at `i`, or 0 when it is not one: overlong forms,
 * surrogates (U+D800–DFFF) and code points above U+10FFFF are invalid (RFC 3629 §4).
 */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const v = b[i + k];
    return v !== undefined && v >= lo && v <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** The bytes a (possibly escaped) name stands for. */
export function encodeBytes(name: string): Buffer {
  if (!hasEscapedBytes(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 0xdc80 && code <= 0xdcff && !isLowOfPair(name, i)) {
      if (run !== '') parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.of(code - 0xdc00));
    } else {
      run += name[i];
    }
  }
  if (run !== '') parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

function isLowOfPair(s: string, i: number): boolean {
  const prev = s.charCodeAt(i - 1);
  return i > 0 && prev >= 0xd800 && prev <= 0xdbff;
}

/** The argument for an fs call: the string itself, or its exact bytes when it carries escapes. */
export function toFsPath(path: string): string | Buffer {
  return hasEscapedBytes(path) ? encodeBytes(path) : path;
}

/** A name as shown to people: each escaped byte becomes U+FFFD, as a browser shows bad UTF-8. */
export function displayName(name: string): string {
  return hasEscapedBytes(name) ? name.replace(ESCAPED_ALL, '\uFFFD') : name;
}

// The characters encodeURIComponent leaves alone: a ":" left bare could turn a relative link
// into a scheme ("a:b" → scheme "a").
const UNRESERVED = /^[A-Za-z0-9\-_.!~*'()]$/;

/** A name percent-encoded for a URL path segment, byte for byte (so escaped bytes survive). */
export function encodeName(name: string): string {
  if (!hasEscapedBytes(name)) return encodeURIComponent(name);
  let out = '';
  for (const byte of encodeBytes(name)) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const ESCAPE = /%([0-9A-Fa-f]{2})/g;

/**
 * Decode the percent-escapes of one raw path segment, or null when an escape is malformed.
 * Bytes that are not valid UTF-8 come back escaped (see the header of this file).
 */
export function decodeSegment(raw: string): string | null {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // malformed escape, or bytes that are not UTF-8: decide below
  }
  if (raw.replace(ESCAPE, '').includes('%')) return null;
  const bytes: number[] = [];
  let i = 0;
  while (i < raw.length) {
    if (raw[i] === '%') {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    const cp = raw.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    bytes.push(...Buffer.from(ch, 'utf8'));
    i += ch.length;
  }
  return decodeBytes(Uint8Array.from(bytes));
}

/**
 * True for an overlong UTF-8 form of a character below U+0800 (`%C0%AE` is "." in disguise, a
 * classic traversal trick). Such a segment never names a file honestly, so it is refused (400)
 * rather than escaped.
 */
export function hasOverlong(raw: string): boolean {
  return /%C[01]%[89AB][0-9A-F]|%E0%[89][0-9A-F]%[89AB][0-9A-F]/i.test(raw);
}
