// The last-resort boundary (DESIGN.md): whatever is thrown while serving one connection ends at
// most that connection, with one escaped log line, and the server keeps serving. Each request,
// upgrade and app-process channel runs in a Scope (AsyncLocalStorage), so what it starts (timers,
// promises, file reads) is attributed to it even when a throw escapes every try; event callbacks
// it registers are wrapped by guard(). The process-level net (installProcessNet) is the end.
import { AsyncLocalStorage } from 'node:async_hooks';
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

const scopes = new AsyncLocalStorage<Scope>();
let netLog: Logger | undefined;

/** Run `fn(...args)` as part of `scope`: what it starts is attributed to it. */
export function within<A extends unknown[], T>(scope: Scope, fn: (...args: A) => T, ...args: A): T {
  return scopes.run(scope, fn, ...args);
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
 * `fn` as an event callback of the current scope (the request, upgrade or channel registering
 * it): it runs in that scope whoever emits the event (an app answer arrives on the channel's
 * stream), and a throw ends that scope only. Outside any scope, `fn` itself.
 */
export function guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  const scope = scopes.getStore();
  if (scope === undefined) return fn;
  return (...args: A): void => {
    try {
      scopes.run(scope, fn, ...args);
    } catch (error) {
      fail(scope, error);
    }
  };
}

/** End `res` after `error` thrown while answering it, in its request's scope when there is one. */
export function failRequest(res: ServerResponse, error: unknown): void {
  const scope = scopes.getStore();
  fail(scope instanceof RequestScope && scope.res === res ? scope : new RequestScope(undefined, res, { redact: () => '(an app request)' }), error);
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
