// serve-here's secrets stay serve-here's: once a request has passed access control, the key, the
// session cookie and the credentials that let it through are taken out of it, so neither an app
// (in process or in an app process, requests and upgrades alike) nor anything after the gate
// sees them. What belongs to the app (its own cookies, its own Bearer token) is left alone.
import type { IncomingHttpHeaders } from 'node:http';
import { sessionCookies } from './access-rules.js';
import { redactToken, tokenValues, withoutToken } from './token-url.js';

/** The parts of a request this rewrites; an IncomingMessage fits. */
export interface StrippableRequest {
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

export interface OwnSecrets {
  /** The session cookie's name (every value of it goes, a stale one from an earlier run too). */
  cookieName: string;
  /** True for an Authorization value that is serve-here's: its Bearer key, its Basic credentials. */
  isOwnAuthorization(value: string): boolean;
}

/** Take serve-here's key, cookie and credentials out of `req` (url, headers and rawHeaders alike). */
export function stripSecrets(req: StrippableRequest, own: OwnSecrets): void {
  const url = req.url;
  if (url !== undefined) {
    let clean = tokenValues(url).length > 0 ? withoutToken(url) : url;
    // A raw `#…` is not part of a request target; one carrying the key goes whole.
    const hash = clean.indexOf('#');
    if (hash !== -1 && redactToken(clean.slice(hash)) !== clean.slice(hash)) clean = clean.slice(0, hash);
    if (clean !== url) req.url = clean;
  }
  const h = req.headers;
  let dirty = h.cookie !== undefined && sessionCookies(h.cookie, own.cookieName).length > 0;
  // req.headers keeps only the first Authorization and Referer of a repeated header (Cookie is
  // joined): a clean first one must not wave the others through, so every raw value is checked.
  for (let i = 0; !dirty && i < req.rawHeaders.length; i += 2) {
    const lower = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    if (lower === 'authorization') dirty = own.isOwnAuthorization(value);
    else if (lower === 'referer') dirty = redactToken(value) !== value;
  }
  if (!dirty) return; // the common case: nothing to rewrite
  const raw: string[] = [];
  // req.headers was computed from rawHeaders (and cached) already: rebuilt alike from what stays.
  delete h.authorization;
  delete h.referer;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    let value: string | undefined = req.rawHeaders[i + 1] ?? '';
    const lower = name.toLowerCase();
    if (lower === 'cookie') value = withoutCookie(value, own.cookieName);
    else if (lower === 'authorization' && own.isOwnAuthorization(value)) value = undefined;
    else if (lower === 'referer') value = withoutToken(value);
    if (value === undefined) continue;
    raw.push(name, value);
    if (lower === 'authorization') h.authorization ??= value;
    else if (lower === 'referer') h.referer ??= value;
  }
  req.rawHeaders = raw;
  if (h.cookie !== undefined) setOrDelete(h, 'cookie', withoutCookie(h.cookie, own.cookieName));
}

/** A Cookie header without the pairs named `name`; undefined when nothing is left. */
function withoutCookie(header: string, name: string): string | undefined {
  const kept = header.split(';').filter((pair) => {
    const eq = pair.indexOf('=');
    return (eq === -1 ? pair : pair.slice(0, eq)).trim() !== name;
  });
  const joined = kept.map((p) => p.trim()).filter((p) => p !== '').join('; ');
  return joined === '' ? undefined : joined;
}

function setOrDelete(h: IncomingHttpHeaders, name: 'cookie', value: string | undefined): void {
  if (value === undefined) delete h[name];
  else h[name] = value;
}
