// The HTTP server: lifecycle (listen, graceful close) and the request pipeline.
// Order: host check → static file → app mount → listing → SPA fallback → 404.
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { realpathSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createLogger, type Logger } from './log.js';
import { hostPolicyFor, isHostAllowed, type HostPolicy } from './host-check.js';
import { sendError } from './pages.js';
import { Response } from './response.js';
import { parsePath, Resolver, type Resolved } from './static/resolve.js';
import { FileSender } from './static/send.js';
import { ListingCache } from './static/listing.js';
import { errorCode, ServeHereError } from './errors.js';
import type { AppRouter } from './app/contract.js';
import type { ServeResponse } from './serve-response.js';
import { buildTarget, matchSegments } from './app/target.js';

export interface ServerOptions {
  /** Folder to serve. */
  root: string;
  dotfiles?: boolean;
  listing?: boolean;
  cors?: boolean;
  spa?: boolean;
  compress?: boolean;
  /** Address the server will be bound to; decides the Host check (loopback → checked). */
  host?: string;
  allowedHosts?: string[] | undefined;
  logger?: Logger;
  app?: AppRouter;
  /** Apps at a prefix see the path below it (default). */
  stripPrefix?: boolean;
  headersTimeout?: number;
  requestTimeout?: number;
  keepAliveTimeout?: number;
}

export interface ListenOptions {
  port: number;
  host?: string;
  /** On EADDRINUSE, try the next ports (up to this many) instead of failing. */
  portFallback?: number;
}

export interface ServeHere {
  readonly server: http.Server<typeof IncomingMessage, typeof Response>;
  readonly root: string;
  /** Listen; resolves to the bound address (the real port when 0 was asked). */
  listen(opts: ListenOptions): Promise<AddressInfo>;
  /** Stop accepting, let in-flight responses finish for up to `graceMs`, then cut the rest. */
  close(graceMs?: number): Promise<void>;
}

const ALLOW = 'GET, HEAD, OPTIONS';

/** Create a serve-here server for a folder without the CLI (tests and embedders use this). */
export function createServer(opts: ServerOptions): ServeHere {
  let root: string;
  try {
    root = realpathSync(opts.root);
  } catch (error) {
    throw new ServeHereError(`Cannot serve directory "${opts.root}": ${errorCode(error) === 'ENOENT' ? 'no such directory' : String(error)}`, { cause: error });
  }
  if (!statSync(root).isDirectory()) throw new ServeHereError(`Cannot serve "${opts.root}": not a directory`);

  const logger = opts.logger ?? createLogger();
  const dotfiles = opts.dotfiles === true;
  const listing = opts.listing !== false;
  const cors = opts.cors === true;
  const spa = opts.spa === true;
  const app = opts.app;
  const resolver = new Resolver(root, dotfiles);
  const sender = new FileSender({ compress: opts.compress !== false });
  const listings = new ListingCache(root, dotfiles);
  let hostPolicy: HostPolicy = hostPolicyFor(opts.host ?? '127.0.0.1', opts.allowedHosts);

  const headersTimeout = opts.headersTimeout ?? 10_000;
  const server = http.createServer({
    ServerResponse: Response,
    maxHeaderSize: 16 * 1024,
    headersTimeout,
    requestTimeout: opts.requestTimeout ?? 30_000,
    keepAliveTimeout: opts.keepAliveTimeout ?? 5_000,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(headersTimeout / 4))),
  });
  server.maxHeadersCount = 100;
  server.timeout = 120_000; // an idle socket mid-response (a stalled reader) is dropped eventually

  const logRequest = (req: IncomingMessage, res: Response): void => {
    const url = req.url ?? '-'; // apps at a prefix see a rewritten req.url; the log shows what was asked
    const wireStart = req.socket.bytesWritten;
    res.once('close', () => {
      let bytes = res.bytes;
      if (bytes === 0 && req.method !== 'HEAD' && res.statusCode !== 304) {
        const len = Number(res.getHeader('content-length'));
        // An app's streamed body of unknown length: count what went on the wire instead.
        bytes = Number.isFinite(len) ? len : Math.max(0, req.socket.bytesWritten - wireStart);
      }
      const ip = req.socket.remoteAddress ?? '-';
      logger.request({
        time: new Date(),
        ip: ip.startsWith('::ffff:') ? ip.slice(7) : ip,
        method: req.method ?? '-',
        url,
        httpVersion: req.httpVersion,
        status: res.statusCode,
        bytes,
        ms: performance.now() - res.started,
        via: res.via,
        aborted: !res.writableFinished,
        referer: req.headers.referer,
        userAgent: req.headers['user-agent'],
      });
    });
  };

  const send404 = async (req: IncomingMessage, res: Response): Promise<void> => {
    const page = await resolver.resolve(['404.html']);
    if (page.kind === 'file') return sender.send(req, res, page.path, page.stat, 404);
    sendError(res, 404, 'Nothing here.');
  };

  const handle = async (req: IncomingMessage, res: Response): Promise<void> => {
    if (!isHostAllowed(hostPolicy, req.headers.host)) {
      return sendError(res, 403, 'This server only answers requests addressed to localhost. Start it with --host to share it.');
    }
    if (cors) res.setHeader('Access-Control-Allow-Origin', '*');
    const target = req.url ?? '/';
    const parsed = parsePath(target);
    if (parsed.kind === 'bad') return sendError(res, 400, parsed.reason);
    const { segments, trailingSlash } = parsed;
    const method = req.method ?? 'GET';
    const readOnly = method === 'GET' || method === 'HEAD';
    const mount = app === undefined ? undefined : matchSegments(app.mounts, segments);

    let found: Resolved = { kind: 'missing' };
    if (readOnly) {
      found = await resolver.resolve(segments);
      if (found.kind === 'file' && app?.isHidden(found.path) === true) found = { kind: 'missing' };
    }
    if (found.kind === 'file') {
      if (trailingSlash) found = { kind: 'missing' }; // a file is not a folder (as CPython: 404)
      else return sender.send(req, res, found.path, found.stat);
    }
    if (found.kind === 'dir') {
      const index = await resolver.resolve([...segments, 'index.html']);
      const hasIndex = index.kind === 'file';
      if (hasIndex || mount === undefined) {
        if (!trailingSlash && segments.length > 0) return redirectToSlash(res, segments, target);
        if (hasIndex) return sender.send(req, res, index.path, index.stat);
      }
    }
    if (found.kind === 'missing' && readOnly && !trailingSlash && mount === undefined) {
      const last = segments[segments.length - 1];
      if (last !== undefined && !last.includes('.')) {
        const clean = await resolver.resolve([...segments.slice(0, -1), `${last}.html`]);
        if (clean.kind === 'file') return sender.send(req, res, clean.path, clean.stat);
      }
    }
    if (mount !== undefined && app !== undefined) {
      res.via = mount.label;
      // Transitional cast until the server creates ServeResponse (src/response.ts goes away).
      return app.handle(req, res as unknown as ServeResponse, buildTarget(req, mount, opts.stripPrefix !== false));
    }
    if (method === 'OPTIONS') return answerOptions(req, res, cors);
    if (!readOnly) {
      res.setHeader('Allow', ALLOW);
      return sendError(res, 405, `Method ${method} is not allowed here.`);
    }
    if (found.kind === 'dir' && listing) return sendListing(req, res, found, segments, target);
    if (spa && wantsHtml(req)) {
      const last = segments[segments.length - 1];
      if (last === undefined || !last.includes('.')) {
        const index = await resolver.resolve(['index.html']);
        if (index.kind === 'file') return sender.send(req, res, index.path, index.stat);
      }
    }
    return send404(req, res);
  };

  const sendListing = async (req: IncomingMessage, res: Response, dir: Extract<Resolved, { kind: 'dir' }>, segments: string[], target: string): Promise<void> => {
    const q = target.indexOf('?');
    const json = (req.headers.accept ?? '').includes('application/json');
    const body = await listings.render(dir.path, dir.stat, segments, q === -1 ? '' : target.slice(q + 1), json);
    const length = Buffer.byteLength(body);
    res.setHeader('Content-Type', json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Vary', 'Accept');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Length', length);
    if (req.method === 'HEAD') return void res.end();
    res.bytes = length;
    res.end(body);
  };

  server.on('request', (req: IncomingMessage, res: Response) => {
    if (!logger.quiet) logRequest(req, res);
    handle(req, res).catch((error: unknown) => {
      // A file removed between its stat and its open is simply gone.
      if (errorCode(error) === 'ENOENT' && !res.headersSent) return sendError(res, 404, 'Nothing here.');
      logger.error(`Error while answering ${req.method ?? '-'} ${req.url ?? '-'}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) sendError(res, 500, 'The server hit an error answering this request.');
      else res.destroy();
    });
  });
  server.on('clientError', (error: Error & { code?: string }, socket) => {
    // Malformed requests, oversized headers and header timeouts: a 4xx when the socket allows it.
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) return void socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = http.STATUS_CODES[status] ?? 'Bad Request';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${reason.length + 1}\r\n\r\n${reason}\n`);
  });
  // Upgraded (WebSocket) sockets are no longer the HTTP server's: close() must end them itself.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const parsed = parsePath(req.url ?? '/');
    const mount = app === undefined || parsed.kind === 'bad' ? undefined : matchSegments(app.mounts, parsed.segments);
    if (isHostAllowed(hostPolicy, req.headers.host) && mount !== undefined && app?.upgrade(req, socket, head, buildTarget(req, mount, opts.stripPrefix !== false)) === true) {
      upgraded.add(socket);
      socket.once('close', () => upgraded.delete(socket));
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  return {
    server,
    root,
    async listen(lo: ListenOptions): Promise<AddressInfo> {
      const host = lo.host ?? opts.host ?? '127.0.0.1';
      hostPolicy = hostPolicyFor(host, opts.allowedHosts);
      const tries = lo.portFallback ?? 0;
      for (let attempt = 0; ; attempt++) {
        const port = lo.port === 0 ? 0 : lo.port + attempt;
        try {
          return await listenOnce(server, port, host);
        } catch (error) {
          const code = errorCode(error);
          if (host === '::' && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) return listenOnce(server, port, '0.0.0.0');
          if (code !== 'EADDRINUSE' || attempt >= tries || port >= 65535) throw error;
        }
      }
    },
    async close(graceMs = 3000): Promise<void> {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }, graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
      await app?.close?.();
    },
  };
}

function listenOnce(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo); // a TCP listen always yields an AddressInfo
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function redirectToSlash(res: Response, segments: string[], target: string): void {
  // Built from the cleaned segments: one leading slash, so never `//host` (CVE-2021-28861).
  const q = target.indexOf('?');
  const location = `/${segments.map(encodeURIComponent).join('/')}/${q === -1 ? '' : target.slice(q)}`;
  res.statusCode = 301;
  res.setHeader('Location', location);
  res.setHeader('Content-Length', 0);
  res.end();
}

function answerOptions(req: IncomingMessage, res: Response, cors: boolean): void {
  res.statusCode = 204;
  res.setHeader('Allow', ALLOW);
  if (cors && req.headers['access-control-request-method'] !== undefined) {
    res.setHeader('Access-Control-Allow-Methods', ALLOW);
    const asked = req.headers['access-control-request-headers'];
    if (asked !== undefined) res.setHeader('Access-Control-Allow-Headers', asked);
    res.setHeader('Access-Control-Max-Age', '600');
  }
  res.end();
}

function wantsHtml(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}
