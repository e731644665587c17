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

function clientIp(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '-';
  return plainAddress(ip);
}

function record(req: IncomingMessage, url: string, fields: Pick<RequestRecord, 'status' | 'bytes' | 'ms' | 'via' | 'aborted'>): RequestRecord {
  return {
    time: new Date(),
    ip: clientIp(req),
    method: req.method ?? '-',
    url,
    httpVersion: req.httpVersion,
    referer: req.headers.referer,
    userAgent: req.headers['user-agent'],
    ...fields,
  };
}

/** Removes secrets (the access key) from a logged URL. */
export interface Redactor {
  redact(url: string): string;
}

/** Log `req` once `res` closes. The URL is taken now: an app at a prefix sees a rewritten req.url. */
export function logRequest(logger: Logger, req: IncomingMessage, res: ServeResponse, redactor: Redactor): void {
  if (logger.quiet) return;
  const url = redactor.redact(req.url ?? '-');
  res.once('close', guard(requestScope(res), () => {
    faultAt('log', req);
    logger.request(record(req, url, { status: res.statusCode, bytes: res.bytes, ms: performance.now() - res.started, via: res.via, aborted: !res.writableFinished }));
  }));
}

/** Log an upgrade: 101 when an app took it (the bytes are the tunnel's, counted at close), else the refusal. */
export function logUpgrade(logger: Logger, req: IncomingMessage, socket: Duplex, status: number, via: string, redactor: Redactor): void {
  if (logger.quiet) return;
  const url = redactor.redact(req.url ?? '-');
  const started = performance.now();
  if (status !== 101) {
    logger.request(record(req, url, { status, bytes: 0, ms: performance.now() - started, via, aborted: false }));
    return;
  }
  const net = socket as Duplex & { bytesWritten?: number };
  const before = net.bytesWritten ?? 0;
  socket.once('close', () => {
    logger.request(record(req, url, { status, bytes: Math.max(0, (net.bytesWritten ?? 0) - before), ms: performance.now() - started, via, aborted: false }));
  });
}
