// Which Host headers the server answers: the DNS-rebinding defence, on in every mode.
// A rebinding page reaches us under a DNS name it controls, never under an IP literal, so IP
// literals are safe to accept once the server is shared; names must be ours or allowed.
import { BlockList, isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';

export interface HostPolicy {
  /** Bound to loopback only: just localhost names, loopback IPs and the allowed names. */
  readonly loopback: boolean;
  /** Exact names (lower case) accepted besides localhost: --allowed-hosts, and when shared this machine's name. */
  readonly names: ReadonlySet<string>;
  /** ".example.com" entries of --allowed-hosts: any subdomain. */
  readonly suffixes: readonly string[];
}

/** A Host header split into validated parts. `host` is what an app's URL is built from. */
export interface ParsedHost {
  kind: 'name' | 'ipv4' | 'ipv6';
  /** Lower case, IPv6 without brackets. */
  name: string;
  port: string;
  /** name[:port], IPv6 in brackets: safe to put in a URL. */
  host: string;
}

export type HostCheck = { ok: true; host: ParsedHost | undefined } | { ok: false; status: 400 | 403; reason: string };

const loopbackBlock = new BlockList();
loopbackBlock.addSubnet('127.0.0.0', 8, 'ipv4');
loopbackBlock.addAddress('::1', 'ipv6');

/** True for 127.0.0.0/8, ::1 in any spelling (0:0:0:0:0:0:0:1) and IPv4-mapped ::ffff:127.x. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  if (a === 'localhost') return true;
  const family = isIP(a);
  return family !== 0 && loopbackBlock.check(a, family === 6 ? 'ipv6' : 'ipv4');
}

/** The policy for a server bound to `bindAddress` (the real bound address, normalised here). */
export function hostPolicyFor(bindAddress: string, allowed: readonly string[] | undefined, machineName = osHostname()): HostPolicy {
  const loopback = isLoopbackAddress(bindAddress);
  const names = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of allowed ?? []) {
    const h = entry.trim().toLowerCase();
    if (h === '') continue;
    if (h.startsWith('.')) suffixes.push(h);
    else names.add(h);
  }
  if (!loopback) {
    const name = machineName.toLowerCase();
    const short = name.split('.')[0] ?? name;
    for (const n of [name, short, `${short}.local`, `${name}.local`]) if (n !== '' && n !== '.local') names.add(n);
  }
  return { loopback, names, suffixes };
}

const REG_NAME = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?$/;
const PORT = /^[0-9]{1,5}$/;

/** Split and validate a Host value (RFC 9110 §7.2: uri-host [":" port]); undefined when malformed. */
export function parseHost(header: string): ParsedHost | undefined {
  const h = header.trim().toLowerCase();
  let name: string;
  let rest: string;
  let kind: ParsedHost['kind'];
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    if (close === -1) return undefined;
    name = h.slice(1, close);
    rest = h.slice(close + 1);
    if (isIP(name) !== 6) return undefined;
    kind = 'ipv6';
  } else {
    const colon = h.indexOf(':');
    name = colon === -1 ? h : h.slice(0, colon);
    rest = colon === -1 ? '' : h.slice(colon);
    kind = isIP(name) === 4 ? 'ipv4' : 'name';
    if (kind === 'name' && (name.length > 253 || !REG_NAME.test(name) || /^[0-9.]+$/.test(name))) return undefined;
  }
  let port = '';
  if (rest !== '') {
    if (rest[0] !== ':') return undefined;
    port = rest.slice(1);
    if (port !== '' && (!PORT.test(port) || Number(port) > 65535)) return undefined;
  }
  const shown = kind === 'ipv6' ? `[${name}]` : name;
  return { kind, name, port, host: port === '' ? shown : `${shown}:${port}` };
}

function isLocalName(p: ParsedHost): boolean {
  if (p.kind === 'name') return p.name === 'localhost' || p.name === 'localhost.' || p.name.endsWith('.localhost') || p.name.endsWith('.localhost.');
  return isLoopbackAddress(p.name);
}

/**
 * Decide on a request's Host header. No Host at all is an HTTP/1.0 request (browsers always
 * send one; Node itself refuses HTTP/1.1 without it), answered as before.
 */
export function checkHost(policy: HostPolicy, header: string | undefined): HostCheck {
  if (header === undefined) return { ok: true, host: undefined };
  const parsed = parseHost(header);
  if (parsed === undefined) return { ok: false, status: 400, reason: 'Malformed Host header.' };
  if (isLocalName(parsed)) return { ok: true, host: parsed };
  if (!policy.loopback && parsed.kind !== 'name') return { ok: true, host: parsed };
  const name = parsed.name.endsWith('.') ? parsed.name.slice(0, -1) : parsed.name;
  if (policy.names.has(name) || policy.suffixes.some((s) => name.endsWith(s))) return { ok: true, host: parsed };
  const why = policy.loopback
    ? 'This server only answers requests addressed to localhost.'
    : `This server does not answer requests addressed to "${parsed.name}".`;
  return { ok: false, status: 403, reason: `${why} Start it with --allowed-hosts ${parsed.name} to allow this name (DNS-rebinding protection).` };
}

/** True when a request with this Host header may be answered. */
export function isHostAllowed(policy: HostPolicy, header: string | undefined): boolean {
  return checkHost(policy, header).ok;
}

/** The host name of a Host header value, lower-cased, without port or IPv6 brackets. */
export function hostName(header: string): string {
  return parseHost(header)?.name ?? header.trim().toLowerCase();
}

/**
 * True when the request comes from a page of another origin: an `Origin` header whose host is not
 * this server's (`null` included), or `Sec-Fetch-Site` saying `cross-site`/`same-site` (another
 * port on localhost is "same-site" but a different origin). curl sends neither and is allowed.
 * The scheme is not compared: the host (with port) already names this server.
 */
export function isCrossSite(headers: { origin?: string | undefined; 'sec-fetch-site'?: string | string[] | undefined }, selfHost: string): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && (site === 'cross-site' || site === 'same-site')) return true;
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return true;
    // Parse our own Host with the same scheme so default ports compare equal ("h:80" = "h").
    return url.host !== new URL(`${url.protocol}//${selfHost}`).host;
  } catch {
    return true; // "null" (sandboxed frames, file: pages) and garbage
  }
}

/** A client or bound address without the IPv4-mapped prefix: `::ffff:1.2.3.4` → `1.2.3.4`. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
