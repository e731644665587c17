// Which Host headers a server accepts: the DNS-rebinding defence for loopback binds.
import { isIP } from 'node:net';

export type HostPolicy = { kind: 'loopback' } | { kind: 'any' } | { kind: 'list'; hosts: string[] };

/** Loopback-only binds check Host; shared binds accept any unless narrowed with a list. */
export function hostPolicyFor(bindHost: string, allowed: string[] | undefined): HostPolicy {
  if (allowed !== undefined) return { kind: 'list', hosts: allowed };
  return isLoopbackAddress(bindHost) ? { kind: 'loopback' } : { kind: 'any' };
}

export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  return a === 'localhost' || a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** The host name of a Host header value, lower-cased, without port or IPv6 brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    return close === -1 ? h : h.slice(1, close);
  }
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/** True when a request with this Host header may be answered. No Host (HTTP/1.0) is allowed. */
export function isHostAllowed(policy: HostPolicy, header: string | undefined): boolean {
  if (policy.kind === 'any' || header === undefined) return true;
  const name = hostName(header);
  if (isLoopbackName(name)) return true;
  return policy.kind === 'list' && policy.hosts.some((h) => h === name || (h.startsWith('.') && name.endsWith(h)));
}
