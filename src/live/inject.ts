// Where the live-reload <script> goes in an HTML page, and which responses get it. The page's
// own bytes are never changed: one tag is inserted, early, so pages without <head> or </body>
// work too, and Content-Length and ETag describe the injected body.
import type { IncomingMessage } from 'node:http';
import { LIVE_SCRIPT_PATH } from './paths.js';

export const LIVE_TAG = `<script src="${LIVE_SCRIPT_PATH}" defer></script>`;
const TAG_BYTES = Buffer.from(LIVE_TAG);

/** How far into a page we look for its start tags; past this the tag goes after the doctype (or first). */
export const SCAN_LIMIT = 64 * 1024;

/**
 * The byte offset to insert at: after `<head …>`, else after `<html …>`, else after the doctype,
 * else 0. `complete` false means more bytes could still move the answer (keep buffering).
 */
export function injectionPoint(head: Buffer, complete: boolean): number | undefined {
  const text = head.subarray(0, SCAN_LIMIT).toString('latin1');
  const found = /<head(?:\s[^>]*)?>/i.exec(text) ?? /<html(?:\s[^>]*)?>/i.exec(text);
  if (found !== null) return found.index + found[0].length;
  if (!complete && head.length < SCAN_LIMIT && !/<body[\s>]/i.test(text)) return undefined;
  const doctype = /^\s*<!doctype[^>]*>/i.exec(text);
  return doctype === null ? 0 : doctype[0].length;
}

export function inject(body: Buffer, at: number): Buffer {
  return Buffer.concat([body.subarray(0, at), TAG_BYTES, body.subarray(at)]);
}

export const TAG_LENGTH = TAG_BYTES.length;

/** The injected page's validator: the file's own tag with a suffix, so the two never match each other. */
export function liveEtag(etag: string): string {
  return etag.endsWith('"') ? `${etag.slice(0, -1)}-live"` : etag;
}

/** Turn the browser's copy of an injected validator back into the file's, for the 304 check. */
export function rawIfNoneMatch(value: string): string {
  return value.replace(/-live"/g, '"');
}

/**
 * Only pages a browser opens get the script: a GET/HEAD navigation (Sec-Fetch-Dest document or
 * frame, or an Accept that asks for HTML first-class), never a Range request or a `?download`.
 */
export function wantsInjection(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (req.headers.range !== undefined) return false;
  if ((req.url ?? '').includes('download')) {
    const q = (req.url ?? '').indexOf('?');
    if (q !== -1 && new URLSearchParams((req.url ?? '').slice(q + 1)).has('download')) return false;
  }
  const dest = req.headers['sec-fetch-dest'];
  if (dest !== undefined) return dest === 'document' || dest === 'iframe' || dest === 'frame';
  return (req.headers.accept ?? '').includes('text/html');
}
