// The proxy headers an app sees are the server's, never the client's: X-Forwarded-For/Host/Proto
// (and X-Forwarded-Prefix for a stripped mount) come from the socket and the mount; a client's
// own `Forwarded`/`X-Forwarded-*` are dropped, so an app that trusts them cannot be lied to.
// Applied to the request itself, so in-process apps, forwarded requests and upgrades all get it.
import type { IncomingMessage } from 'node:http';
import type { AppTarget } from './contract.js';
import { TARGET_HEADER } from './protocol.js';

const DROPPED = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-prefix', 'x-forwarded-port', 'x-real-ip', TARGET_HEADER]);

/** Rewrite `req.headers` and `req.rawHeaders` in place with the server's proxy headers. */
export function setForwardedHeaders(req: IncomingMessage, target: AppTarget, strip: boolean): void {
  const set: Array<[string, string]> = [
    ['X-Forwarded-For', target.clientAddress],
    ['X-Forwarded-Host', target.host],
    ['X-Forwarded-Proto', target.scheme],
  ];
  if (strip && target.mount.prefix !== '') set.push(['X-Forwarded-Prefix', target.mount.prefix]);
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    if (!DROPPED.has(name.toLowerCase())) raw.push(name, req.rawHeaders[i + 1] ?? '');
  }
  for (const [name, value] of set) raw.push(name, value);
  req.rawHeaders = raw;
  // req.headers is computed once from rawHeaders and cached: the server has already read it.
  const headers = req.headers;
  for (const name of DROPPED) delete headers[name];
  for (const [name, value] of set) headers[name.toLowerCase()] = value;
}
