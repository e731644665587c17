// Access control for a shared server: who may pass the gate. One `Access` per server run.
//
// Entry point (the gate calls `check` first for every request AND every upgrade):
//   const access = createAccess({ mode: 'token' | 'basic' | 'open', port, secure, user?, password? })
//   access.check(req): AccessResult
//     { ok: true }                                  pass on to routing
//     { ok: true, status: 303, redirect, setCookie, headers }
//                                                   a browser opened the tokened URL: answer 303 with
//                                                   `headers` (Location, Set-Cookie, no-store), no body
//     { ok: true, setCookie }                       pass, and set this cookie (basic auth's first success)
//     { ok: false, status: 401 | 429, headers, body, delayMs? }
//                                                   send as is (HTML page), `delayMs` later when given
//   access.urlWithToken(url)   a printed URL (Local and Network alike) with `?serve-here-key=<token>`
//   access.redactUrl(target)   for the request log: the token value replaced by `***`
//   access.strip(req)          after a pass: the key, cookie and credentials taken out of req
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
// - Throttling slows guessing and never refuses the secret: the right key, a valid session cookie
//   or the right password always pass, throttled or not (a 128-bit key cannot be guessed, so
//   blocking it would protect nothing and lock out whoever shares the attacker's address: NAT, a
//   tunnel). Wrong tokens (URL or Bearer) and wrong or malformed basic credentials are counted per
//   client address; past 10 in a minute a wrong key is answered 429 with Retry-After, a wrong
//   password 401 after a delay growing to 30 s (a delay, not a block, so a right password typed
//   meanwhile still passes at once). Not counted: subresources other sites make a browser fetch,
//   and page loads with a key from an earlier run (access-rules.ts).
// - Basic auth hands out the same session cookie on its first success: people already in keep
//   passing on the cookie, before any credential is looked at.
//   A stale cookie from an earlier run is not a failure: it is what every browser sends after a restart.
// - A wrong token is a 401 even with a valid cookie: the link is stale, better said than hidden.
// - Once passed, the key, the cookie and the credentials are taken out of the request
//   (`strip`, see strip-secrets.ts): an app never sees them.
import { randomBytes } from 'node:crypto';
import { plainAddress } from '../host-check.js';
import type { IncomingHttpHeaders } from 'node:http';
import { countsAsGuess, isNavigation, sessionCookies } from './access-rules.js';
import { credentialsMatcher, parseAuthorization, tokenMatcher, type Credentials } from './basic-auth.js';
import { createFailureLimiter, type FailureLimiter, type FailureLimiterOptions } from './rate-limit.js';
import { stripSecrets, type StrippableRequest } from './strip-secrets.js';
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
  | { ok: true; setCookie?: string }
  | { ok: true; status: 303; redirect: string; setCookie: string; headers: Record<string, string> }
  | { ok: false; status: 401 | 429; headers: Record<string, string>; body: string; delayMs?: number };

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
  /** `clientAddress`: the client a trusted proxy reported (--trust-proxy); else the socket's peer. */
  check(req: AccessRequest, clientAddress?: string): AccessResult;
  urlWithToken(url: string): string;
  redactUrl(url: string): string;
  strip(req: StrippableRequest): void;
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

  const cookieSet: AccessResult = { ok: true, setCookie };

  function check(req: AccessRequest, clientAddress?: string): AccessResult {
    if (opts.mode === 'open') return PASS;
    const hasSession = sessionCookies(req.headers.cookie, cookieName).some(isSession);
    // Behind a trusted proxy every client shares the proxy's address: failures count per client.
    const address = clientKey(clientAddress ?? req.socket.remoteAddress);
    if (matchesCredentials !== undefined) return checkBasic(req, address, hasSession, matchesCredentials, limiter, cookieSet);
    const target = req.url ?? '/';
    const keys = tokenValues(target);
    if (keys.length > 0) {
      if (!keys.every(isToken)) return wrongKey(req, address, keys, limiter);
      if (!isNavigation(req)) return PASS;
      const redirect = redirectTarget(target);
      const headers = { Location: redirect, 'Set-Cookie': setCookie, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };
      return { ok: true, status: 303, redirect, setCookie, headers };
    }
    if (hasSession) return PASS;
    const auth = parseAuthorization(req.headers.authorization);
    if (auth.kind === 'bearer') return isToken(auth.token) ? PASS : wrongKey(req, address, [], limiter);
    return refuse('token', false);
  }

  const isOwnAuthorization = (value: string): boolean => {
    const auth = parseAuthorization(value);
    if (auth.kind === 'bearer') return token !== undefined && isToken(auth.token);
    return auth.kind === 'basic' && matchesCredentials !== undefined && matchesCredentials(auth);
  };

  return {
    mode: opts.mode,
    token,
    cookieName,
    check,
    urlWithToken: (url) => (token === undefined ? url : addToken(url, token)),
    // The literal key goes wherever it sits, in a parameter of ours or not.
    redactUrl: (url) => {
      const redacted = redactToken(url);
      return token !== undefined && redacted.includes(token) ? redacted.replaceAll(token, '***') : redacted;
    },
    strip: (req) => {
      if (opts.mode !== 'open') stripSecrets(req, { cookieName, isOwnAuthorization });
    },
  };
}

/** A wrong key: 401 (its page says the link is stale), 429 once its address made too many guesses. */
function wrongKey(req: AccessRequest, address: string, keys: readonly string[], limiter: FailureLimiter): AccessResult {
  if (countsAsGuess(req, keys)) limiter.fail(address);
  const blocked = limiter.blockedFor(address);
  return blocked > 0 ? tooMany(blocked) : refuse('token', true);
}

function checkBasic(req: AccessRequest, address: string, hasSession: boolean, matches: (given: Credentials) => boolean, limiter: FailureLimiter, cookieSet: AccessResult): AccessResult {
  if (hasSession) return PASS;
  const auth = parseAuthorization(req.headers.authorization);
  if (auth.kind === 'none') return refuse('basic', false);
  // Checked whatever the limiter says: the right password passes at once, throttled or not.
  if (auth.kind === 'basic' && matches(auth)) return cookieSet;
  if (countsAsGuess(req, [])) limiter.fail(address);
  const refusal = refuse('basic', true);
  const delayMs = limiter.delayFor(address);
  return delayMs > 0 && !refusal.ok ? { ...refusal, delayMs } : refusal;
}

/** The limiter's key: the client address, IPv4-mapped IPv6 folded to IPv4. */
function clientKey(remote: string | undefined): string {
  return plainAddress((remote ?? '').toLowerCase());
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
