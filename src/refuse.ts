// The gate's refusals, answered: its own page and headers (401/429/303 from access control) or
// a built-in page, at once or after the throttle's delay (a wrong password is held, not blocked).
import type { GateResult } from './gate.js';
import { sendError } from './pages.js';
import type { ServeResponse } from './serve-response.js';

/** The gate's refusal: its own page and headers (401/429/303 from access control), else a built-in page. */
export function refuse(res: ServeResponse, r: Extract<GateResult, { ok: false }>): void {
  later(r.delayMs, res, () => {
    if (r.body === undefined) return sendError(res, r.status, r.detail);
    res.writeHead(r.status, { ...r.headers, 'Content-Length': Buffer.byteLength(r.body) });
    res.end(res.req.method === 'HEAD' ? undefined : r.body);
  });
}

/** `send()` now, or after `delayMs` unless `stream` is gone by then (a throttled wrong password). */
export function later(delayMs: number | undefined, stream: { destroyed: boolean; once(event: 'close', listener: () => void): unknown }, send: () => void): void {
  if (delayMs === undefined || delayMs <= 0) return send();
  const timer = setTimeout(() => {
    if (!stream.destroyed) send();
  }, delayMs);
  stream.once('close', () => clearTimeout(timer));
}

