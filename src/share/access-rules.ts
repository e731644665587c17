// What access control reads from a request besides the secret itself: the session cookie, whether
// it is a page load, and whether a wrong secret in it counts as a guess. Pure functions.
import type { IncomingHttpHeaders } from 'node:http';

/** The shape of every key serve-here makes: 128 random bits in base64url. */
const KEY_SHAPE = /^[A-Za-z0-9_-]{22}$/;

interface Seen {
  method?: string | undefined;
  headers: IncomingHttpHeaders;
}

/** Every value of cookie `name` in a Cookie header (RFC 6265 §5.4: `a=1; b=2`). */
export function sessionCookies(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  return values;
}

/** A page load the browser will follow a redirect for, keeping the cookie it is given. */
export function isNavigation(req: Seen): boolean {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (req.headers.upgrade !== undefined) return false;
  return (req.headers.accept ?? '').toLowerCase().includes('text/html');
}

/**
 * Whether a wrong secret in `req` counts against its address. Two kinds of failure do not, as
 * neither is someone guessing and counting them would let anyone lock the owner out:
 * - a subresource a page of another origin made the browser fetch (Fetch Metadata:
 *   `Sec-Fetch-Site` other than `same-origin`/`none` and `Sec-Fetch-Dest` other than `document`),
 *   e.g. ten `<img src="…?serve-here-key=x">` on any page the owner opens;
 * - a page load with a key of the right shape but not this run's: a link or bookmark from an
 *   earlier run (a new key is made at every start). A guesser gains nothing from this, as a
 *   128-bit key cannot be guessed, whether counted or not.
 */
export function countsAsGuess(req: Seen, keys: readonly string[]): boolean {
  const site = req.headers['sec-fetch-site'];
  const dest = req.headers['sec-fetch-dest'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none' && dest !== 'document') return false;
  if (keys.length > 0 && isNavigation(req) && keys.every((k) => KEY_SHAPE.test(k))) return false;
  return true;
}
