// The few ASN.1 DER encodings an X.509 certificate needs (ITU-T X.690 §8 and §10), nothing more.
// Every function returns the complete TLV (tag, length, value) as a Buffer.

/** Tag, definite length (short form below 128, else long form), value. X.690 §8.1.3. */
export function tlv(tag: number, value: Uint8Array): Buffer {
  const len = value.length;
  let head: number[];
  if (len < 0x80) {
    head = [tag, len];
  } else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    head = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(head), value]);
}

export function sequence(...items: Uint8Array[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

export function set(...items: Uint8Array[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

export function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

/** A non-negative INTEGER from big-endian bytes: leading zeros trimmed, a 0x00 added if the top bit is set. */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = Buffer.from(bytes.subarray(start));
  const first = trimmed[0] ?? 0;
  return tlv(0x02, trimmed.length === 0 ? Buffer.from([0]) : first & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`Cannot encode integer ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Buffer.from(bytes.length === 0 ? [0] : bytes));
}

/** OBJECT IDENTIFIER from dotted text: first two arcs in one byte, the rest base-128. X.690 §8.19. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = arcs;
  const out: number[] = [a * 40 + b];
  for (const arc of rest) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

export function utf8String(s: string): Buffer {
  return tlv(0x0c, Buffer.from(s, 'utf8'));
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(0x04, bytes);
}

/** BIT STRING with no unused bits (a signature, a key) or with `unused` trailing bits (key usage). */
export function bitString(bytes: Uint8Array, unused = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** Context-specific tag [n]; `constructed` for EXPLICIT tagging or an IMPLICIT constructed type. */
export function contextTag(n: number, value: Uint8Array, constructed: boolean): Buffer {
  return tlv(0x80 | (constructed ? 0x20 : 0) | n, value);
}

/**
 * RFC 5280 §4.1.2.5: UTCTime (YYMMDDHHMMSSZ) through 2049, GeneralizedTime (YYYYMMDDHHMMSSZ)
 * from 2050 on; whole seconds, always UTC.
 */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-01T06:45:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1')) : tlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}
