// Credentials for shared mode: the `--auth` value, the Authorization header, constant-time compare.
//
// Entry points:
//   parseAuthSpec(spec, env?)     `--auth user:password`, or `--auth user` with the password in
//                                 the SERVE_HERE_PASSWORD environment variable (not visible in `ps`)
//   parseAuthorization(header)    an Authorization header → Basic credentials, a Bearer token, or nothing
//   safeEqual(a, b)               string compare in constant time
//   secretMatcher(secret)         the same against one fixed secret, its digest computed once
//   tokenMatcher(token)           for random secrets whose length is public: no hashing at all
import { hash, timingSafeEqual } from 'node:crypto';

/** The environment variable `--auth user` reads the password from. */
export const PASSWORD_ENV = 'SERVE_HERE_PASSWORD';

export interface Credentials {
  user: string;
  password: string;
}

export type Authorization =
  | { kind: 'none' }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'malformed' };

/**
 * Compare two strings without leaking, through timing, where they differ or how long the
 * secret is: both sides are hashed to 32 bytes first, then `timingSafeEqual` compares the digests.
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** `safeEqual(given, secret)` with the secret's digest computed once: one hash per request instead of two. */
export function secretMatcher(secret: string): (given: string) => boolean {
  const want = sha256(secret);
  return (given) => timingSafeEqual(sha256(given), want);
}

/**
 * For a random secret of a fixed, documented length (the token, the session cookie) the length
 * reveals nothing, so bytes are compared directly: constant time in the content, no hashing on
 * the per-request path (a SHA-256 costs more than the rest of the check together).
 */
export function tokenMatcher(token: string): (given: string) => boolean {
  const want = Buffer.from(token, 'utf8');
  return (given) => {
    const got = Buffer.from(given, 'utf8');
    return got.length === want.length && timingSafeEqual(got, want);
  };
}

/** A matcher for user and password both, never short-circuiting, so timing does not tell which was wrong. */
export function credentialsMatcher(expected: Credentials): (given: Credentials) => boolean {
  const user = secretMatcher(expected.user);
  const password = secretMatcher(expected.password);
  return (given) => {
    const userOk = user(given.user);
    const passwordOk = password(given.password);
    return userOk && passwordOk;
  };
}

function sha256(s: string): Buffer {
  return hash('sha256', s, 'buffer');
}

/**
 * `--auth` → credentials. `user:password` splits at the first colon (RFC 7617 forbids a colon in
 * the user name); `user` alone takes the password from SERVE_HERE_PASSWORD. Throws RangeError.
 */
export function parseAuthSpec(spec: string, env: Readonly<Record<string, string | undefined>> = process.env): Credentials {
  const colon = spec.indexOf(':');
  const user = colon === -1 ? spec : spec.slice(0, colon);
  const password = colon === -1 ? env[PASSWORD_ENV] : spec.slice(colon + 1);
  if (user === '') throw new RangeError(`Invalid --auth "${spec}": expected user:password or user (with ${PASSWORD_ENV} set)`);
  if (hasControl(user)) throw new RangeError('Invalid --auth: the user name contains a control character');
  if (password === undefined) throw new RangeError(`Invalid --auth "${user}": no password; give user:password or set ${PASSWORD_ENV}`);
  if (password === '') throw new RangeError('Invalid --auth: the password is empty');
  if (hasControl(password)) throw new RangeError('Invalid --auth: the password contains a control character');
  return { user, password };
}

/** Read an Authorization header: Basic (RFC 7617, UTF-8) or Bearer (RFC 6750); scheme names are case-insensitive. */
export function parseAuthorization(header: string | undefined): Authorization {
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(header);
  if (m === null) return { kind: 'malformed' };
  const scheme = (m[1] ?? '').toLowerCase();
  const value = m[2] ?? '';
  if (scheme === 'bearer') return { kind: 'bearer', token: value };
  if (scheme !== 'basic') return { kind: 'malformed' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { kind: 'malformed' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return { kind: 'malformed' };
  return { kind: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function hasControl(s: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(s);
}
