// --trust-proxy: what a proxy in front (the exported nginx, a tunnel) reports about the client —
// its address, the scheme and the Host it used — believed only from the addresses trusted.
// Anyone else's X-Forwarded-* or Forwarded are dropped before an app sees them (app/forwarded.ts).
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { UsageError } from './errors.js';

/** `--trust-proxy` alone: the proxy runs on this machine (nginx on loopback, cloudflared, ngrok). */
export const LOOPBACK = 'loopback';

/** What a trusted proxy reported; each part only when it sent a well-formed value. */
export interface ProxyReport {
  clientAddress?: string;
  scheme?: 'http' | 'https';
  /** The Host the client used, unchecked: the gate checks it like a Host header. */
  host?: string;
}

export interface ProxyTrust {
  trusts(address: string): boolean;
}

/** `--trust-proxy [list]`: "loopback", addresses and CIDR ranges, comma-separated. */
export function parseTrustProxy(value: string | true): string[] {
  if (value === true) return [LOOPBACK];
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new UsageError('--trust-proxy needs addresses, or nothing for loopback');
  for (const e of entries) {
    if (e !== LOOPBACK && !validEntry(e)) {
      throw new UsageError(`Invalid --trust-proxy address "${e}"`, 'Give the proxy\'s addresses or ranges, e.g. --trust-proxy 10.0.0.5,192.168.1.0/24 (alone: loopback). A folder right after --trust-proxy is read as its value: put the folder first.');
    }
  }
  return entries;
}

function validEntry(entry: string): boolean {
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** The trust for a parsed list (see parseTrustProxy). IPv4-mapped IPv6 peers match IPv4 entries. */
export function proxyTrust(entries: readonly string[]): ProxyTrust {
  const list = new BlockList();
  for (const e of entries) {
    if (e === LOOPBACK) {
      list.addSubnet('127.0.0.0', 8, 'ipv4');
      list.addAddress('::1', 'ipv6');
      continue;
    }
    const [address = '', bits] = e.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return {
    trusts(address) {
      const plain = address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
      const family = isIP(plain);
      return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/** A header's comma-separated values, all its lines together, in order. */
function values(req: IncomingMessage, name: string): string[] {
  const raw = req.headers[name];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return lines.flatMap((l) => l.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** "1.2.3.4", "1.2.3.4:5", "[::1]:5", "::1" → the address; undefined for "unknown", "_hidden" and junk. */
function addressOf(value: string): string | undefined {
  let v = value.trim();
  if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  if (v.startsWith('[')) v = v.slice(1, v.indexOf(']') === -1 ? 1 : v.indexOf(']'));
  else if (isIP(v) === 0 && /^[\d.]+:\d+$/.test(v)) v = v.slice(0, v.indexOf(':'));
  return isIP(v) === 0 ? undefined : v.toLowerCase();
}

/** RFC 7239 `Forwarded`: one map per element (per proxy hop), parameter names lower case. */
function forwardedElements(req: IncomingMessage): Array<Map<string, string>> {
  return values(req, 'forwarded').map((element) => {
    const pairs = new Map<string, string>();
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      let v = pair.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
      pairs.set(pair.slice(0, eq).trim().toLowerCase(), v);
    }
    return pairs;
  });
}

/**
 * The client: walk the hops from the nearest back, past the trusted proxies; the first address
 * not trusted is the client (a client can prepend anything, but not past its own hop).
 */
function client(hops: readonly string[], trust: ProxyTrust): string | undefined {
  let found: string | undefined;
  for (let i = hops.length - 1; i >= 0; i--) {
    const a = addressOf(hops[i] ?? '');
    if (a === undefined) return found;
    found = a;
    if (!trust.trusts(a)) return a;
  }
  return found;
}

function schemeOf(value: string | undefined): 'http' | 'https' | undefined {
  const v = value?.toLowerCase();
  return v === 'http' || v === 'https' ? v : undefined;
}

/**
 * What the peer of `req` reports, when it is trusted; undefined otherwise. X-Forwarded-* win over
 * `Forwarded` fact by fact (nginx sets the former and passes a client's `Forwarded` through). For
 * the scheme and host the nearest hop's value counts: that is the one the trusted proxy wrote.
 */
export function proxyReport(req: IncomingMessage, trust: ProxyTrust): ProxyReport | undefined {
  const peer = req.socket.remoteAddress;
  if (peer === undefined || !trust.trusts(peer)) return undefined;
  const forwarded = forwardedElements(req);
  const xff = values(req, 'x-forwarded-for');
  const report: ProxyReport = {};
  const address = xff.length > 0 ? client(xff, trust) : client(forwarded.map((e) => e.get('for') ?? ''), trust);
  if (address !== undefined) report.clientAddress = address;
  const scheme = schemeOf(values(req, 'x-forwarded-proto').at(-1) ?? forwarded.at(-1)?.get('proto'));
  if (scheme !== undefined) report.scheme = scheme;
  const host = values(req, 'x-forwarded-host').at(-1) ?? forwarded.at(-1)?.get('host');
  if (host !== undefined && host !== '') report.host = host;
  return report;
}
