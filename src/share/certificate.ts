// A self-signed X.509 v3 server certificate, encoded by hand in DER (RFC 5280) and signed with an
// ECDSA P-256 key from node:crypto: no openssl binary, no package, a few milliseconds.
//
// Entry point: createSelfSigned({ names, addresses, days?, now? }) → { key, cert } (PEM)
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { bitString, boolean, contextTag, octetString, oid, sequence, set, smallInteger, time, unsignedInteger, utf8String } from './der.js';

export interface SelfSignedOptions {
  /** DNS names for subjectAltName (IDNs are converted to punycode; invalid ones are dropped). */
  names: readonly string[];
  /** IP addresses (v4 or v6) for subjectAltName. */
  addresses: readonly string[];
  /** Validity in days. Default 365, under the 398 days browsers accept for any server certificate. */
  days?: number;
  now?: Date;
}

export interface KeyAndCert {
  key: string;
  cert: string;
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2')); // RFC 5758 §3.2: parameters absent
const SUBJECT = sequence(set(sequence(oid('2.5.4.3'), utf8String('serve-here')))); // CN=serve-here

/** A fresh key pair and a self-signed certificate for `names` and `addresses`. */
export function createSelfSigned(opts: SelfSignedOptions): KeyAndCert {
  const now = opts.now ?? new Date();
  const days = opts.days ?? 365;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01; // positive and non-zero, at most 20 octets (RFC 5280 §4.1.2.2)
  // An hour back: a phone whose clock runs a little behind must not see "not yet valid".
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  const tbs = sequence(
    contextTag(0, smallInteger(2), true), // version v3
    unsignedInteger(serial),
    ECDSA_WITH_SHA256,
    SUBJECT, // issuer: self-signed
    sequence(time(notBefore), time(notAfter)),
    SUBJECT,
    spki,
    contextTag(3, sequence(...extensions(opts.names, opts.addresses)), true),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value, as X.509 wants it
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: toPem(der, 'CERTIFICATE'),
  };
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

function extensions(names: readonly string[], addresses: readonly string[]): Buffer[] {
  const general: Buffer[] = [];
  for (const name of dnsNames(names)) general.push(contextTag(2, Buffer.from(name, 'latin1'), false)); // dNSName [2] IA5String
  for (const ip of new Set(addresses)) {
    const bytes = ipBytes(ip);
    if (bytes !== undefined) general.push(contextTag(7, bytes, false)); // iPAddress [7] OCTET STRING
  }
  return [
    extension('2.5.29.19', true, sequence()), // basicConstraints: cA FALSE (the default, so empty)
    extension('2.5.29.15', true, bitString(Buffer.from([0x80]), 7)), // keyUsage: digitalSignature
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.17', false, sequence(...general)), // subjectAltName
  ];
}

/** Lower-case ASCII (punycode) DNS names, deduplicated; anything not a valid host name is dropped. */
export function dnsNames(names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of names) {
    const name = domainToASCII(raw.trim().replace(/\.$/, '')).toLowerCase();
    if (name !== '' && /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name) && name.length <= 253) out.add(name);
  }
  return [...out];
}

/** 4 or 16 bytes for an IP literal (zone id like %eth0 ignored), undefined for anything else. */
export function ipBytes(ip: string): Buffer | undefined {
  const address = ip.replace(/%.*$/, '');
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) return undefined;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes its two hex groups (::ffff:102:304).
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`);
  const [head = '', rest] = text.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const zeros = rest === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...new Array<number>(Math.max(0, zeros)).fill(0), ...right];
  if (groups.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
