// Forward one request (or one upgrade) to an app process. Each client connection gets its own app
// connection, opened on its first app request and closed with it: nothing one client does (a
// stalled body, bytes past Content-Length) reaches another client's response, and the app sees
// one socket per client. Every app connection, an upgrade's too, is a stream inside the
// process's channel (channel.ts): one transport per app process.
import type * as Http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { http } from '../node-http.js';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import type { ServeResponse } from '../serve-response.js';
import type { AppTarget } from './contract.js';
import type { AppProcess } from './process.js';
import { clientHop, encodeTarget, ERROR_HEADER, HOP_HEADERS, TARGET_HEADER, type ErrorAnswer } from './protocol.js';
import { guard, requestScope } from '../guard.js';
import { faultAt } from '../fault.js';

/** How a forwarded request ended, when it did not end with the app's own answer. */
export type ForwardOutcome =
  | { kind: 'answered' }
  | { kind: 'app-error'; answer: ErrorAnswer | undefined }
  | { kind: 'timeout' }
  | { kind: 'failed'; headersSent: boolean };

const HOP_BY_HOP = HOP_HEADERS;

/** The pinned app connection of a client connection, for one app process at a time. */
const pins = new WeakMap<Socket, { proc: AppProcess; agent: Http.Agent }>();

/**
 * The client connection's own agent for `proc` (one app connection, kept alive): made on its
 * first app request, let go when the client leaves or moves to a new process after a reload.
 * (An app process that ends destroys the agents it still has: process.ts.)
 */
export function agentFor(client: Socket, proc: AppProcess): Http.Agent {
  const pin = pins.get(client);
  if (pin !== undefined && pin.proc === proc) return pin.agent;
  if (pin !== undefined) release(pin); // the client's previous app process (before a reload)
  else client.once('close', () => release(pins.get(client)));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  // The connection is a stream inside the process's channel, not a socket of its own.
  Object.assign(agent, { createConnection: () => proc.channel.open() });
  pins.set(client, { proc, agent });
  proc.agents.add(agent);
  return agent;
}

function release(pin: { proc: AppProcess; agent: Http.Agent } | undefined): void {
  if (pin === undefined) return;
  pin.agent.destroy();
  pin.proc.agents.delete(pin.agent);
}

function rawHeaders(req: IncomingMessage, target: AppTarget): string[] {
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && lower !== TARGET_HEADER && lower !== ERROR_HEADER) out.push(name, req.rawHeaders[i + 1] ?? '');
  }
  // The client's own connection headers and version ride in the target (a WSGI environ shows them).
  out.push(TARGET_HEADER, encodeTarget(target, clientHop(req)));
  return out;
}

/** Forward `req` to `proc`; resolves with how it ended (the caller answers the non-`answered` cases). */
export function forward(req: IncomingMessage, res: ServeResponse, target: AppTarget, proc: AppProcess, timeoutMs: number): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    const finished = proc.track();
    const scope = requestScope(res);
    let settled = false;
    const settle = (outcome: ForwardOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const upstream = http.request({
      agent: agentFor(req.socket, proc),
      method: req.method,
      path: req.url,
      headers: rawHeaders(req, target),
    });
    // The app's answer arrives on the channel's stream: each callback runs as part of this request
    // (src/guard.ts), so a throw in one ends this request, not every request on the channel.
    const timer = setTimeout(guard(scope, () => {
      faultAt('timer', req);
      upstream.destroy();
      settle({ kind: 'timeout' });
    }), timeoutMs);
    res.once('close', guard(scope, () => {
      finished();
      // The client left before the answer was complete: the app connection goes with it.
      if (!res.writableFinished) upstream.destroy();
      settle({ kind: 'failed', headersSent: res.headersSent });
    }));
    upstream.on('error', guard(scope, () => settle({ kind: 'failed', headersSent: res.headersSent })));
    // Interim answers: 100 and 103 are hints the client can do without; any other 1xx (102, a
    // made-up 150) is not an answer a client can be given, and would leave it waiting.
    upstream.on('information', guard(scope, (info: { statusCode: number }) => {
      if (info.statusCode === 100 || info.statusCode === 103) return;
      upstream.destroy();
      settle({ kind: 'failed', headersSent: false });
    }));
    // A 101 to a request that asked for no upgrade: node's client drops the connection without a
    // 'response' or an 'error', so the request's close is the only sign (and the client would hang).
    let answered = false;
    upstream.on('upgrade', guard(scope, (_answer: IncomingMessage, socket: Duplex) => {
      socket.destroy();
      settle({ kind: 'failed', headersSent: false });
    }));
    upstream.on('close', guard(scope, () => {
      if (!answered) settle({ kind: 'failed', headersSent: res.headersSent });
    }));
    upstream.on('response', guard(scope, (answer: IncomingMessage) => {
      answered = true;
      faultAt('relay', req);
      clearTimeout(timer);
      if (answer.headers[ERROR_HEADER] !== undefined) return readErrorAnswer(answer, (a) => settle({ kind: 'app-error', answer: a }));
      if (!writeAnswerHead(res, answer)) {
        // Node's client parser let through what its server refuses to send: not an answer.
        answer.destroy();
        upstream.destroy();
        return settle({ kind: 'failed', headersSent: false });
      }
      if (answer.headers['content-length'] === undefined) res.flushHeaders(); // streamed bodies (SSE) start now
      relay(answer, res, (error) => {
        // The app answered before reading the whole body (a client still sending, or stalled):
        // free the app connection now rather than when the client finishes, or never.
        if (!upstream.writableEnded) {
          req.unpipe(upstream);
          upstream.destroy();
          req.resume(); // the rest of the body is read and dropped, so the connection can carry the next request
        }
        settle(error === undefined ? { kind: 'answered' } : { kind: 'failed', headersSent: true });
      });
    }));
    // A request without a body (most GETs) needs no stream plumbing.
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) upstream.end();
    // Not pipeline(): an error on the app side must not destroy the client's socket, which may
    // still carry this request's answer; the answer's relay above decides the client's fate.
    else req.pipe(upstream);
  });
}

/** Characters a reason phrase or header value cannot carry on the client side (node's own check). */
const UNSENDABLE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Write the app's status line and headers to the client. A reason phrase or header value the
 * client side cannot carry (control characters: node throws ERR_INVALID_CHAR) is dropped, and the
 * status stays; false when the head still cannot be sent (a status node refuses).
 */
function writeAnswerHead(res: ServeResponse, answer: IncomingMessage): boolean {
  const headers: string[] = [];
  for (let i = 0; i < answer.rawHeaders.length; i += 2) {
    const name = answer.rawHeaders[i] ?? '';
    const value = answer.rawHeaders[i + 1] ?? '';
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && lower !== 'transfer-encoding' && !UNSENDABLE.test(value)) headers.push(name, value);
  }
  // Only a final status a client can take: 1xx are handled before this, and 600-999 (which
  // node's parser accepts) mean nothing to a browser.
  const status = answer.statusCode ?? 0;
  if (status < 200 || status > 599) return false;
  const reason = answer.statusMessage;
  try {
    res.writeHead(status, reason === undefined || UNSENDABLE.test(reason) ? undefined : reason, headers);
    return true;
  } catch {
    // writeHead keeps what it was given before it threw: the 502 page must not inherit it.
    res.statusMessage = '';
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    return false;
  }
}

/**
 * Copy the app's answer body to the client, with backpressure; `done` once the client has it all,
 * or with an error when either side went away first (the client's response is then cut). What
 * `stream.pipeline` does, without the AbortController, the error objects and the end-of-stream
 * watchers it makes for every answer (5–10 % of the server's time per app request on Node 20).
 */
function relay(answer: IncomingMessage, res: ServeResponse, done: (error?: Error) => void): void {
  let over = false;
  const onData = (chunk: Buffer): void => {
    try {
      if (!res.write(chunk)) answer.pause();
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
  };
  const onDrain = (): void => {
    answer.resume();
  };
  const finish = (error?: Error): void => {
    if (over) return;
    over = true;
    answer.off('data', onData);
    res.off('drain', onDrain);
    done(error);
  };
  const fail = (error: Error): void => {
    if (over) return;
    answer.destroy();
    res.destroy();
    finish(error);
  };
  answer.on('data', onData);
  res.on('drain', onDrain);
  answer.once('end', () => res.end());
  answer.once('error', fail);
  answer.once('close', () => {
    if (!answer.complete) fail(new Error('The app connection closed before the answer was complete'));
  });
  res.once('finish', () => finish());
  res.once('close', () => {
    if (!res.writableFinished) fail(new Error('The client went away'));
  });
}

function readErrorAnswer(answer: IncomingMessage, done: (a: ErrorAnswer | undefined) => void): void {
  let body = '';
  answer.setEncoding('utf8');
  answer.on('data', (c: string) => (body += c));
  answer.on('error', () => done(undefined));
  answer.on('end', () => {
    try {
      done(JSON.parse(body) as ErrorAnswer);
    } catch {
      done(undefined);
    }
  });
}

/** Hand an upgrade (WebSocket) to `proc` over a stream of its own in the channel, then splice the two. */
export function forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: AppTarget, proc: AppProcess): void {
  const upstream = proc.channel.open();
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    if (name.toLowerCase() !== TARGET_HEADER) lines.push(`${name}: ${req.rawHeaders[i + 1] ?? ''}`);
  }
  lines.push(`${TARGET_HEADER}: ${encodeTarget(target)}`);
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length > 0) upstream.write(head);
  const finished = proc.track();
  const end = (): void => {
    upstream.destroy();
    socket.destroy();
    finished();
  };
  pipeline(upstream, socket, end);
  pipeline(socket, upstream, end);
  // The client went away (FIN): the server socket allows half-open, so nothing else would close the pair.
  socket.on('end', end);
}
