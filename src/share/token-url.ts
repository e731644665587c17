// The access token's place in a URL: add it to a printed URL, find it in a request target, take it
// out again (for the redirect and for the log). String surgery on purpose: the other query
// parameters must come back byte for byte, which URLSearchParams (re-encoding) would not do.

/** The query parameter that carries the token; namespaced so it never captures an app's own `?key=`. */
export const TOKEN_PARAM = 'serve-here-key';

/** What the log shows instead of a token value. */
export const REDACTED = '***';

interface SplitTarget {
  /** Everything before `?` (scheme and host included for an absolute URL). */
  base: string;
  /** The query without `?`, or undefined when there is none. */
  query: string | undefined;
  /** `#fragment` or ''. */
  fragment: string;
}

function splitTarget(target: string): SplitTarget {
  const hash = target.indexOf('#');
  const fragment = hash === -1 ? '' : target.slice(hash);
  const rest = hash === -1 ? target : target.slice(0, hash);
  const q = rest.indexOf('?');
  return q === -1 ? { base: rest, query: undefined, fragment } : { base: rest.slice(0, q), query: rest.slice(q + 1), fragment };
}

function decodeLoose(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** True when one `name=value` part of a query is the token parameter (name compared decoded). */
function isTokenPart(part: string): boolean {
  const eq = part.indexOf('=');
  return decodeLoose(eq === -1 ? part : part.slice(0, eq)) === TOKEN_PARAM;
}

/** The values of every token parameter in `target` (usually zero or one). */
export function tokenValues(target: string): string[] {
  const { query } = splitTarget(target);
  // Fast path: most requests carry no query, or one without our parameter (even percent-encoded).
  if (query === undefined || (!query.includes(TOKEN_PARAM) && !query.includes('%'))) return [];
  const values: string[] = [];
  for (const part of query.split('&')) {
    if (!isTokenPart(part)) continue;
    const eq = part.indexOf('=');
    values.push(eq === -1 ? '' : decodeLoose(part.slice(eq + 1)));
  }
  return values;
}

/** `target` with every token parameter removed; the other parameters kept verbatim, in order. */
export function withoutToken(target: string): string {
  return mapTokenParts(target, () => undefined);
}

/**
 * A `name=value` pair after any delimiter a URL can put one behind: the query (`?`, `&`, `;`), a
 * fragment (`#`: browsers never send one, but a raw `#serve-here-key=…` in a request target is
 * logged as sent), a path segment. Value up to the next delimiter or white space.
 */
const PAIR = /([?&;#/])([^=?&;#/\s]*)=([^&;#\s]*)/g;

/**
 * `text` (a request target or a Referer) with every token value replaced by `***`, wherever the
 * parameter sits, for the log: the line still shows a key was sent, never which.
 */
export function redactToken(text: string): string {
  // Fast path: most lines carry no parameter of ours, not even percent-encoded.
  if (!text.includes('=') || (!text.includes(TOKEN_PARAM) && !text.includes('%'))) return text;
  return text.replace(PAIR, (pair, delimiter: string, name: string) => (decodeLoose(name) === TOKEN_PARAM ? `${delimiter}${TOKEN_PARAM}=${REDACTED}` : pair));
}

function mapTokenParts(target: string, replace: (part: string) => string | undefined): string {
  const { base, query, fragment } = splitTarget(target);
  if (query === undefined) return target;
  const parts: string[] = [];
  let changed = false;
  for (const part of query.split('&')) {
    if (isTokenPart(part)) {
      changed = true;
      const replaced = replace(part);
      if (replaced !== undefined) parts.push(replaced);
    } else {
      parts.push(part);
    }
  }
  if (!changed) return target;
  const kept = parts.filter((p) => p !== '');
  return kept.length === 0 ? base + fragment : `${base}?${kept.join('&')}${fragment}`;
}

/** `url` with `?serve-here-key=<token>` added (after any existing query, before a fragment). */
export function addToken(url: string, token: string): string {
  const { base, query, fragment } = splitTarget(url);
  const param = `${TOKEN_PARAM}=${encodeURIComponent(token)}`;
  return query === undefined || query === '' ? `${base}?${param}${fragment}` : `${base}?${query}&${param}${fragment}`;
}

/**
 * A Location for the redirect that drops the token: the request's own path and query, relative,
 * so no Host header is trusted. A path starting `//` or `/\` would read as another host
 * (an open redirect), so it gets a `/.` in front, which browsers resolve back to the same path.
 */
export function redirectTarget(requestTarget: string): string {
  let target = withoutToken(requestTarget);
  if (!target.startsWith('/')) {
    // absolute-form (RFC 9112 §3.2.2): keep only path and query
    try {
      const u = new URL(target);
      target = withoutToken(u.pathname + u.search);
    } catch {
      target = '/';
    }
  }
  if (/^\/[/\\]/.test(target)) target = `/.${target}`;
  return target;
}
