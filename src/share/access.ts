// Access control for a shared server: who may pass the gate. One `Access` per server run.
//
// Entry point (the gate calls `check` first for every request AND every upgrade):
//   const access = createAccess({ mode: 'token' | 'basic' | 'open', port, secure, user?, password? })
//   access.check(req): AccessResult
//     { ok: true }                                  pass on to routing
//     { ok: true, status: 303, redirect, setCookie, headers }
//                                                   a browser opened the tokened URL: answer 303 with
//                                                   `headers` (Location, Set-Cookie, no-store), no body
//     { ok: false, status: 401 | 429, headers, body }  send as is (HTML page)
//   access.urlWithToken(url)   a printed URL (Local and Network alike) with `?serve-here-key=<token>`
//   access.redactUrl(target)   for the request log: the token value replaced by `***`
//   access.token, access.cookieName, access.mode
//
// Decisions:
// - Token: 128 random bits, base64url (22 characters), new on every run, in `?serve-here-key=`.
//   Also accepted as `Authorization: Bearer <token>` for scripts.
// - A browser navigation (GET/HEAD with Accept: text/html) carrying the right token gets a
//   session cookie and a 303 to the same path and query without the token, so the token leaves
//   the address bar, history and Referer. Other clients (curl -T, wget, fetch) with the right
//   token just pass: a redirect would lose a PUT body, and they keep no cookies.
// - Cookie: `serve_here_<port>=<random 256-bit session value>; HttpOnly; SameSite=Lax; Path=/`,
//   under HTTPS `__Host-serve_here_<port>=…; Secure` (the prefix forbids Domain and needs Secure).
//   Browsers send cookies to every port of a host (RFC 6265 §8.5), so the per-port name keeps two
//   serve-here runs from overwriting each other; it does not hide the cookie from other ports.
//   No Max-Age: it ends with the browser session and is worthless after a restart anyway.
// - Loopback clients need the key too: behind a tunnel (ssh -R, cloudflared) every client is local.
// - Failures (a wrong token in the URL or Bearer header, wrong or malformed basic credentials)
//   are counted per client address: 10 in a minute → 429 with Retry-After for a minute. While
//   blocked, only a valid session cookie passes (it cannot be guessed), so people already in
//   keep working even when they share the attacker's address (NAT, tunnel).
//   A stale cookie from an earlier run is not a failure: it is what every browser sends after a restart.
// - A wrong token is a 401 even with a valid cookie: the link is stale, better said than hidden.
import { randomBytes } from 'node:crypto';
import { plainAddress } from '../host-check.js';
import type { IncomingHttpHeaders } from 'node:http';
import { credentialsMatcher, parseAuthorization, tokenMatcher, type Credentials } from './basic-auth.js';
import { createFailureLimiter, type FailureLimiter, type FailureLimiterOptions } from './rate-limit.js';
import { addToken, redactToken, redirectTarget, tokenValues } from './token-url.js';

export type AccessMode = 'token' | 'basic' | 'open';

export interface AccessOptions {
  mode: AccessMode;
  /** The bound port: names the cookie. */
  port: number;
  /** Served over HTTPS: the cookie gets `Secure` and the `__Host-` prefix. */
  secure: boolean;
  /** Basic mode: the expected credentials (see parseAuthSpec in basic-auth.ts). */
  user?: string;
  password?: string;
  /** A key and session value made elsewhere (the --workers primary makes one set for all workers; tests). */
  token?: string;
  session?: string;
  /** Tests only: limiter settings. */
  limiter?: FailureLimiterOptions;
}

export type AccessResult =
  | { ok: true }
  | { ok: true; status: 303; redirect: string; setCookie: string; headers: Record<string, string> }
  | { ok: false; status: 401 | 429; headers: Record<string, string>; body: string };

/** The parts of a request (or upgrade) `check` reads; an IncomingMessage fits. */
export interface AccessRequest {
  method?: string | undefined;
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

export interface Access {
  readonly mode: AccessMode;
  /** The per-run token (token mode), else undefined. */
  readonly token: string | undefined;
  readonly cookieName: string;
  check(req: AccessRequest): AccessResult;
  urlWithToken(url: string): string;
  redactUrl(url: string): string;
}

const PASS: AccessResult = { ok: true };

/** The access policy for one server run. Throws RangeError when basic mode lacks credentials. */
export function createAccess(opts: AccessOptions): Access {
  const token = opts.mode === 'token' ? (opts.token ?? randomBytes(16).toString('base64url')) : undefined;
  const session = opts.session ?? randomBytes(32).toString('base64url');
  const cookieName = `${opts.secure ? '__Host-' : ''}serve_here_${opts.port}`;
  const setCookie = `${cookieName}=${session}; HttpOnly; SameSite=Lax; Path=/${opts.secure ? '; Secure' : ''}`;
  const limiter = createFailureLimiter(opts.limiter);
  const isToken = tokenMatcher(token ?? '');
  const isSession = tokenMatcher(session);
  let matchesCredentials: ((given: Credentials) => boolean) | undefined;
  if (opts.mode === 'basic') {
    if (opts.user === undefined || opts.password === undefined || opts.user === '' || opts.password === '') {
      throw new RangeError('Basic access needs a user and a password');
    }
    matchesCredentials = credentialsMatcher({ user: opts.user, password: opts.password });
  }

  function check(req: AccessRequest): AccessResult {
    if (opts.mode === 'open') return PASS;
    const address = clientKey(req.socket.remoteAddress);
    if (matchesCredentials !== undefined) return checkBasic(req, address, matchesCredentials, limiter);
    const hasSession = sessionCookies(req.headers.cookie, cookieName).some(isSession);
    const blocked = limiter.blockedFor(address);
    if (blocked > 0 && !hasSession) return tooMany(blocked);
    const target = req.url ?? '/';
    const keys = tokenValues(target);
    if (keys.length > 0) {
      if (!keys.every(isToken)) {
        limiter.fail(address);
        return refuse('token', true);
      }
      limiter.succeed(address);
      if (!isNavigation(req)) return PASS;
      const redirect = redirectTarget(target);
      const headers = { Location: redirect, 'Set-Cookie': setCookie, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };
      return { ok: true, status: 303, redirect, setCookie, headers };
    }
    if (hasSession) return PASS;
    const auth = parseAuthorization(req.headers.authorization);
    if (auth.kind === 'bearer') {
      if (isToken(auth.token)) return PASS;
      limiter.fail(address);
      return refuse('token', true);
    }
    return refuse('token', false);
  }

  return {
    mode: opts.mode,
    token,
    cookieName,
    check,
    urlWithToken: (url) => (token === undefined ? url : addToken(url, token)),
    redactUrl: (url) => redactToken(url),
  };
}

function checkBasic(req: AccessRequest, address: string, matches: (given: Credentials) => boolean, limiter: FailureLimiter): AccessResult {
  const blocked = limiter.blockedFor(address);
  // Checked before the password: a right answer while blocked would otherwise tell an attacker it was right.
  if (blocked > 0) return tooMany(blocked);
  const auth = parseAuthorization(req.headers.authorization);
  if (auth.kind === 'none') return refuse('basic', false);
  if (auth.kind === 'basic' && matches(auth)) {
    limiter.succeed(address);
    return PASS;
  }
  limiter.fail(address);
  return refuse('basic', true);
}

/** The limiter's key: the client address, IPv4-mapped IPv6 folded to IPv4. */
function clientKey(remote: string | undefined): string {
  return plainAddress((remote ?? '').toLowerCase());
}

/** Every value of cookie `name` in a Cookie header (RFC 6265 §5.4: `a=1; b=2`). */
function sessionCookies(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  return values;
}

/** A page load the browser will follow a redirect for, keeping the cookie it is given. */
function isNavigation(req: AccessRequest): boolean {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (req.headers.upgrade !== undefined) return false;
  return (req.headers.accept ?? '').toLowerCase().includes('text/html');
}

const PAGE_HEADERS = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

function page(title: string, text: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`
    + `<title>${title}</title></head>\n<body style="font-family: system-ui, sans-serif; max-width: 36em; margin: 2em auto; padding: 0 1em">`
    + `<h1>${title}</h1>\n<p>${text}</p>\n</body></html>\n`;
}

const TOKEN_TEXT = 'This folder is shared with a key. Open the link or scan the QR code printed where serve-here runs.';
const STALE_TEXT = 'The key in this link is not valid: serve-here makes a new one each time it starts. '
  + 'Open the link or scan the QR code printed where serve-here runs now.';
const BASIC_TEXT = 'This folder is shared with a password. Reload the page and enter the user name and password you were given.';

function refuse(mode: 'token' | 'basic', wrong: boolean): AccessResult {
  if (mode === 'basic') {
    const headers = { ...PAGE_HEADERS, 'WWW-Authenticate': 'Basic realm="serve-here", charset="UTF-8"' };
    return { ok: false, status: 401, headers, body: page('Password needed', BASIC_TEXT) };
  }
  // RFC 9110 §15.5.2: a 401 carries a challenge; browsers show the page for a Bearer one, no prompt.
  const headers = { ...PAGE_HEADERS, 'WWW-Authenticate': 'Bearer realm="serve-here"' };
  return { ok: false, status: 401, headers, body: page('Key needed', wrong ? STALE_TEXT : TOKEN_TEXT) };
}

function tooMany(ms: number): AccessResult {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  const headers = { ...PAGE_HEADERS, 'Retry-After': String(seconds) };
  const text = `Too many wrong attempts from this address. Try again in ${seconds} seconds.`;
  return { ok: false, status: 429, headers, body: page('Too many attempts', text) };
}
