// Small built-in pages: errors the server itself answers with (4xx/5xx), always escaped.
import type { ServeResponse } from './serve-response.js';
import { escapeHtml } from './html.js';
import { LruMap } from './static/lru.js';
import { http } from './node-http.js';

const { STATUS_CODES } = http;

/** Rendered pages by status and detail: the same few (404 "Nothing here.", 403, 400 reasons) recur. */
const pages = new LruMap<string, Buffer>(64);

function renderPage(status: number, detail: string | undefined, back: string | undefined): Buffer {
  const key = `${status}\0${detail ?? ''}\0${back ?? ''}`;
  let body = pages.get(key);
  if (body === undefined) {
    const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
    body = Buffer.from(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark"><title>${title}</title></head><body style="font:16px/1.5 system-ui,sans-serif;margin:2rem"><h1 style="font-size:1.3rem">${title}</h1>${detail === undefined ? '' : `<p>${escapeHtml(detail)}</p>`}${back === undefined ? '' : `<p><a href="${escapeHtml(back)}">Back to ${escapeHtml(safeDecode(back))}</a></p>`}</body></html>\n`,
    );
    pages.set(key, body);
  }
  return body;
}

/** Answer with a short error page; `detail` is escaped, never trusted. */
export function sendError(res: ServeResponse, status: number, detail?: string): void {
  const body = renderPage(status, detail, status === 404 ? parentHref(res.req.url ?? '/') : undefined);
  res.statusCode = status;
  // A failure after a sender or app set headers for the real body (e.g. opening the file failed):
  // this page is plain HTML, so none of that body's representation headers may stay.
  for (const name of ['Content-Encoding', 'Content-Range', 'ETag', 'Last-Modified', 'Accept-Ranges']) res.removeHeader(name);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  const head = res.req.method === 'HEAD';
  res.end(head ? undefined : body);
}

/**
 * The folder above a missing path, as a same-origin href: `/a/b/c.txt` → `/a/b/`, `/a/b/` → `/a/`.
 * Empty segments are dropped (so never `//host`), `.`/`..` too, and each segment is percent-encoded
 * again from its decoded form (raw bytes that are not valid escapes are encoded as they are).
 */
export function parentHref(url: string): string {
  const q = url.search(/[?#]/);
  const path = q === -1 ? url : url.slice(0, q);
  const segments = path.split('/').filter((s) => s !== '' && s !== '.' && s !== '..');
  segments.pop();
  return `/${segments.map((s) => `${encodeSegment(s)}/`).join('')}`;
}

function encodeSegment(raw: string): string {
  try {
    return encodeURIComponent(decodeURIComponent(raw));
  } catch {
    // Not UTF-8 once decoded (e.g. `%FF`): keep its escapes, encode every other unsafe character.
    return raw.replace(/%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@%]/g, (c) => {
      const code = c.charCodeAt(0);
      return code < 256 ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : encodeURIComponent(c);
    });
  }
}

function safeDecode(href: string): string {
  try {
    return decodeURIComponent(href);
  } catch {
    return href;
  }
}
