// The proxy headers an app sees are the server's, never the client's: X-Forwarded-For/Host/Proto
// (and X-Forwarded-Prefix under a mount) come from the socket and the mount; a client's own
// `Forwarded`/`X-Forwarded-*`/`X-Real-IP` are dropped, so an app that trusts them cannot be lied
// to. runApp() applies it to every request (in process and in the app process alike); the router
// applies it to upgrades, which go to the app's own upgrade handler.
import type { IncomingMessage } from 'node:http';
import { TARGET_HEADER } from './protocol.js';

const DROPPED = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-prefix', 'x-forwarded-port', 'x-real-ip', TARGET_HEADER]);

/** What the server knows of a request, as the app's target and RequestMeta both carry it. */
export interface ForwardedFacts {
  clientAddress: string;
  host: string;
  scheme: 'http' | 'https';
  /** The mount prefix: "" at the root (then no X-Forwarded-Prefix). */
  prefix: string;
}

/** Rewrite `req.headers` and `req.rawHeaders` in place with the server's proxy headers. */
export function setForwardedHeaders(req: IncomingMessage, facts: ForwardedFacts): void {
  const set: Array<[string, string]> = [
    ['X-Forwarded-For', facts.clientAddress],
    ['X-Forwarded-Host', facts.host],
    ['X-Forwarded-Proto', facts.scheme],
  ];
  if (facts.prefix !== '') set.push(['X-Forwarded-Prefix', facts.prefix]);
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    if (!DROPPED.has(name.toLowerCase())) raw.push(name, req.rawHeaders[i + 1] ?? '');
  }
  for (const [name, value] of set) raw.push(name, value);
  req.rawHeaders = raw;
  // req.headers is computed once from rawHeaders and cached: it is rewritten alike.
  const headers = req.headers;
  for (const name of DROPPED) delete headers[name];
  for (const [name, value] of set) headers[name.toLowerCase()] = value;
}
