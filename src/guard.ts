// The last-resort boundary (DESIGN.md): whatever is thrown while serving one connection ends at
// most that connection, with one escaped log line, and the server keeps serving. Each request,
// upgrade and app-process channel is a Scope; the event callbacks serve-here registers for it run
// in guard() (or its emitter in guardEvents()), and the process-level net (installProcessNet) is
// the end. Where AsyncLocalStorage is cheap (Node 24's context frames), a request's scope also
// follows what it starts (timers, promises), so even a throw that escapes every guard is pinned on
// it; on Node 20/22 it would cost 15-20 % of the CPU of a 1 KiB static answer (131 vs 111 µs on
// Node 20, the least of 8 runs of 20,000 keep-alive requests; no difference on Node 24).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { escapeControl, type Logger } from './log.js';
import type { ServerResponse } from 'node:http';
import type { ServeResponse } from './serve-response.js';
import type { Redactor } from './request-log.js';
import { sendError } from './pages.js';

/** What one failure ends: a request, a bare socket, an app process's channel. */
export interface Scope {
  /** Where the line goes (undefined: the process net's logger, else stderr). */
  readonly log: Logger | undefined;
  /** "GET /path", "upgrade GET /ws", "the channel to app process 3" (escaped when written). */
  name(): string;
  /** End it after a throw; says how ("→ 500", "connection cut"). Must not throw. */
  end(): string;
}

/** Whether scopes follow asynchronous work: AsyncContextFrame (Node 24, or 22 with its flag). */
export const FOLLOWS_ASYNC_WORK = Number(process.versions.node.split('.')[0]) >= 24 || process.execArgv.includes('--experimental-async-context-frame');

const scopes = new AsyncLocalStorage<Scope>();
let netLog: Logger | undefined;

/** Run `fn(...args)` as part of `scope`: where cheap, what it starts is attributed to it. */
export function within<A extends unknown[], T>(scope: Scope, fn: (...args: A) => T, ...args: A): T {
  return FOLLOWS_ASYNC_WORK ? scopes.run(scope, fn, ...args) : fn(...args);
}

/** Run `fn` as part of no scope (what it starts is the process's own). */
export function outsideAnyScope<T>(fn: () => T): T {
  return scopes.exit(fn);
}

/** Whether the scope's failure was already handled (a second throw from the same request is not news). */
const ended = new WeakSet<Scope>();

/** The one line and the end of `scope` after `error`. Never throws. */
export function fail(scope: Scope, error: unknown): void {
  if (ended.has(scope)) return;
  ended.add(scope);
  let how = 'connection cut';
  try {
    how = scope.end();
  } catch {
    // end() must not throw; if it did, the line still goes out.
  }
  const line = `✖ internal error while serving ${escapeControl(safeName(scope))}: ${escapeControl(describe(error))} (${how}); the server keeps serving`;
  write(scope.log ?? netLog, line);
}

/**
 * `fn` as an event callback of `scope`: it runs as part of that scope whoever emits the event (an
 * app answer arrives on the channel's stream), and a throw ends that scope only.
 */
export function guard<A extends unknown[]>(scope: Scope, fn: (...args: A) => void): (...args: A) => void {
  return (...args: A): void => {
    try {
      within(scope, fn, ...args);
    } catch (error) {
      fail(scope, error);
    }
  };
}

/** Every listener of `emitter` (added by anyone) runs guarded by `scope`: for emitters whose listeners are not ours to wrap. */
export function guardEvents(emitter: EventEmitter, scope: Scope): void {
  const emit = emitter.emit;
  emitter.emit = function (this: EventEmitter, ...args: Parameters<EventEmitter['emit']>): boolean {
    try {
      return emit.apply(this, args);
    } catch (error) {
      fail(scope, error);
      return true;
    }
  };
}

/** The scope of the request `res` answers (one without a log line's URL if the server made none). */
export function requestScope(res: ServerResponse): Scope {
  return (res as Partial<ServeResponse>).boundary ?? new RequestScope(undefined, res, { redact: () => '(a request)' });
}

/** End `res` after `error` thrown while answering it. */
export function failRequest(res: ServerResponse, error: unknown): void {
  fail(requestScope(res), error);
}

/** A request: a 500 page (or `status`) when nothing was sent yet, else its socket is cut. */
export class RequestScope implements Scope {
  readonly log: Logger | undefined;
  readonly res: ServerResponse;
  /** The access key never reaches a log line (request-log.ts). */
  readonly redactor: Redactor;

  constructor(log: Logger | undefined, res: ServerResponse, redactor: Redactor) {
    this.log = log;
    this.res = res;
    this.redactor = redactor;
    // A field of the response rather than a WeakMap entry: a map entry per request cost ~10 % of a
    // 1 KiB static answer's CPU on Node 20 (measured as above).
    if ('boundary' in res) (res as ServeResponse).boundary = this;
  }

  name(): string {
    return `${this.res.req.method ?? '-'} ${this.redactor.redact(this.res.req.url ?? '-')}`;
  }

  end(status = 500): string {
    const res = this.res;
    if (res.headersSent || res.writableEnded || res.destroyed) {
      res.destroy();
      return 'connection cut';
    }
    // Whatever was set for the real answer goes: this page is the server's.
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusMessage = '';
    res.shouldKeepAlive = false; // the request's body, if any, may be half read
    // Every response of the server is a ServeResponse (server.ts); the page needs nothing more of it.
    sendError(res as ServeResponse, status, 'The server hit an error answering this request.');
    return `→ ${status}`;
  }
}

/** A socket with no response object (an upgrade, a request the parser refused): cut. */
export class SocketScope implements Scope {
  readonly log: Logger | undefined;
  readonly socket: Duplex;
  readonly what: string;

  constructor(log: Logger | undefined, socket: Duplex, what: string) {
    this.log = log;
    this.socket = socket;
    this.what = what;
  }

  name(): string {
    return this.what;
  }

  end(): string {
    this.socket.destroy();
    return 'connection cut';
  }
}

/**
 * The process's last net, installed by the CLI: an error that escaped every guard but belongs to
 * a scope ends that scope and is survived; anything else is a bug in no connection's name, so the
 * process says so in one line and exits 1 (app processes are killed on exit).
 */
export function installProcessNet(log: Logger): void {
  netLog = log;
  const last = (error: unknown): void => {
    const scope = scopes.getStore();
    if (scope !== undefined) return fail(scope, error);
    write(log, `serve-here: internal error outside any connection: ${escapeControl(describe(error))}; stopping`);
    log.flush();
    process.exit(1);
  };
  process.on('uncaughtException', last);
  process.on('unhandledRejection', last);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const at = /\n\s+at (.+)/.exec(error.stack ?? '')?.[1];
  return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}${at === undefined ? '' : ` at ${at}`}`;
}

function safeName(scope: Scope): string {
  try {
    return scope.name();
  } catch {
    return 'a connection';
  }
}

function write(log: Logger | undefined, line: string): void {
  try {
    if (log !== undefined) log.error(line);
    else process.stderr.write(`${line}\n`);
  } catch {
    // Nowhere left to say it.
  }
}
