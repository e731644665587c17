// One log line per request, written when the response has finished or the client went away,
// so status, size and duration are final. Upgrades get one line too, when they are handed off.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Logger, RequestRecord } from './log.js';
import { plainAddress } from './host-check.js';
import type { ServeResponse } from './serve-response.js';
import { guard, requestScope } from './guard.js';
import { faultAt } from './fault.js';

/** What a line needs from the request, read when it arrives: by the time the response closes, an
 * upload refused mid-body has had its socket detached (`req.socket` is null then). */
type Seen = Pick<RequestRecord, 'ip' | 'method' | 'url' | 'httpVersion' | 'referer' | 'userAgent'>;

function seen(req: IncomingMessage, redactor: Redactor): Seen {
  const referer = req.headers.referer;
  return {
    ip: plainAddress(req.socket?.remoteAddress ?? '-'),
    method: req.method ?? '-',
    url: redactor.redact(req.url ?? '-'),
    httpVersion: req.httpVersion,
    // A page opened with the key in its address sends it on in Referer (--log combined prints it).
    referer: referer === undefined ? undefined : redactor.redact(referer),
    userAgent: req.headers['user-agent'],
  };
}

function record(s: Seen, fields: Pick<RequestRecord, 'status' | 'bytes' | 'ms' | 'via' | 'aborted'>): RequestRecord {
  return { time: new Date(), ...s, ...fields };
}

/** Removes secrets (the access key) from a logged URL. */
export interface Redactor {
  redact(url: string): string;
}

/** Log `req` once `res` closes. What the line shows of the request is taken now: an app at a prefix sees a rewritten req.url. */
export function logRequest(logger: Logger, req: IncomingMessage, res: ServeResponse, redactor: Redactor): void {
  if (logger.quiet) return;
  const s = seen(req, redactor);
  res.once('close', guard(requestScope(res), () => {
    faultAt('log', req);
    logger.request(record(s, { status: res.statusCode, bytes: res.bytes, ms: performance.now() - res.started, via: res.via, aborted: !res.writableFinished }));
  }));
}

/** Log an upgrade: 101 when an app took it (the bytes are the tunnel's, counted at close), else the refusal. */
export function logUpgrade(logger: Logger, req: IncomingMessage, socket: Duplex, status: number, via: string, redactor: Redactor): void {
  if (logger.quiet) return;
  const s = seen(req, redactor);
  const started = performance.now();
  if (status !== 101) {
    logger.request(record(s, { status, bytes: 0, ms: performance.now() - started, via, aborted: false }));
    return;
  }
  const net = socket as Duplex & { bytesWritten?: number };
  const before = net.bytesWritten ?? 0;
  socket.once('close', () => {
    logger.request(record(s, { status, bytes: Math.max(0, (net.bytesWritten ?? 0) - before), ms: performance.now() - started, via, aborted: false }));
  });
}
