// The HTTP server: wiring only. Every request and every upgrade reads top to bottom:
// gate (Host check; access control next) → route (a Decision) → respond.
import type * as Http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { http } from './node-http.js';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { createLogger, type Logger } from './log.js';
import type { AppRouter } from './app/contract.js';
import { Gate, type AuthOptions, type GateResult } from './gate.js';
import type { Access } from './share/access.js';
import { route, routeUpgrade, MAX_HEADER_LINES, UPLOAD_SCRIPT_PATH, type RouteContext } from './route.js';
import { respond, type RespondContext } from './respond/respond.js';
import { logRequest, logUpgrade } from './request-log.js';
import { limitConnections, SHARED_PER_CLIENT } from './connection-limits.js';
import { closeGracefully, listenWithFallback, type ListenOptions } from './listen.js';
import { rawAnswer, rawResponse, refuseUpgrade, statusForParseError } from './raw-response.js';
import { sendError } from './pages.js';
import type { LiveHub } from './live/hub.js';
import type { FolderWatcher } from './live/folder-watch.js';
import { ServeResponse } from './serve-response.js';
import { Resolver } from './static/resolve.js';
import { FileSender } from './static/send.js';
import type { ListingCache } from './static/listing.js';
import { errorCode, ServeHereError } from './errors.js';

export type { ListenOptions } from './listen.js';

export interface ServerOptions {
  /** Folder to serve. */
  root: string;
  dotfiles?: boolean;
  listing?: boolean;
  cors?: boolean;
  spa?: boolean;
  compress?: boolean;
  /** Address the server will be bound to; the Host check follows the address actually bound. */
  host?: string;
  allowedHosts?: string[] | undefined;
  logger?: Logger;
  app?: AppRouter;
  /** Apps see the path below their mount (default true; --no-strip-prefix turns it off). */
  stripPrefix?: boolean;
  headersTimeout?: number;
  requestTimeout?: number;
  keepAliveTimeout?: number;
  /**
   * A connection that makes no progress for this long while the client does not read what it is
   * sent is cut (default 120 s). A quiet response (server-sent events, a long poll) is never cut.
   */
  idleTimeout?: number;
  /** Access control; by default a per-run token when bound beyond loopback, none on loopback. */
  auth?: AuthOptions;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** --upload: PUT and the listing's drop zone store files, up to `maxBytes` each, never overwriting. */
  upload?: { maxBytes: number } | undefined;
  /** --live: watch the folder and make open pages follow every save. */
  live?: boolean;
  /** With live: poll the folder instead of waiting for file events (network mounts). */
  poll?: boolean;
  /** --workers: the key, session value and live-reload id the primary made for all workers. */
  secrets?: { token: string; session: string; liveId: string } | undefined;
  /** Open connections one client address may hold (default: 64 when shared, no cap on loopback). */
  connectionsPerClient?: number;
}

export interface ServeHere {
  readonly server: Http.Server<typeof IncomingMessage, typeof ServeResponse>;
  readonly root: string;
  /** Listen; resolves to the bound address (the real port when 0 was asked). */
  listen(opts: ListenOptions): Promise<AddressInfo>;
  /** Stop accepting, let in-flight responses finish for up to `graceMs`, then cut the rest. */
  close(graceMs?: number): Promise<void>;
  /** Open live-reload streams (0 without --live). */
  liveStreams(): number;
  /** The access control in force once listening (token URLs for the banner). */
  readonly access: Access | undefined;
}

/** Create a serve-here server for a folder without the CLI (tests and embedders use this). */
export function createServer(opts: ServerOptions): ServeHere {
  const root = realRoot(opts.root);
  const logger = opts.logger ?? createLogger();
  const dotfiles = opts.dotfiles === true;
  const cors = opts.cors === true;
  const gate = new Gate({ bindAddress: opts.host ?? '127.0.0.1', allowedHosts: opts.allowedHosts, auth: opts.auth, secure: opts.tls !== undefined, secrets: opts.secrets });
  const routing: RouteContext = {
    resolver: new Resolver(root, dotfiles),
    app: opts.app,
    listing: opts.listing !== false,
    spa: opts.spa === true,
    stripPrefix: opts.stripPrefix !== false,
    scheme: opts.tls === undefined ? 'http' : 'https',
    live: opts.live === true,
    upload: opts.upload !== undefined,
  };
  let live: { hub: LiveHub; watcher: FolderWatcher } | undefined;
  const responding: RespondContext = {
    sender: new FileSender({ compress: opts.compress !== false }),
    // The listing code is loaded on the first listing (a folder with an index.html never needs it).
    listings: once(async () => {
      const { ListingCache } = await import('./static/listing.js');
      return new ListingCache(root, dotfiles, { rootName: basename(root) || 'folder', uploadScript: opts.upload === undefined ? undefined : UPLOAD_SCRIPT_PATH, hide: (p) => opts.app?.isHidden(p) === true });
    }),
    app: opts.app,
    cors,
    live: undefined, // set by listen() with --live
    upload: opts.upload === undefined ? undefined : { maxBytes: opts.upload.maxBytes, root, dotfiles, isProtected: (p) => opts.app?.isHidden(p) === true },
    sandboxActive: () => opts.upload !== undefined && gate.shared,
    root,
    rootName: basename(root) || 'folder',
    dotfiles,
  };

  const headersTimeout = opts.headersTimeout ?? 10_000;
  const serverOptions = {
    ServerResponse: ServeResponse,
    maxHeaderSize: 16 * 1024,
    headersTimeout,
    requestTimeout: opts.requestTimeout ?? 30_000,
    keepAliveTimeout: opts.keepAliveTimeout ?? 5_000,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(headersTimeout / 4))),
  };
  // An https.Server is an http.Server with TLS under it: the same events and options. node:https
  // (and TLS under it) is loaded only when serving HTTPS, so a plain start does not pay for it.
  const server = (opts.tls === undefined ? http.createServer(serverOptions) : process.getBuiltinModule('node:https').createServer({ ...serverOptions, ...opts.tls })) as Http.Server<typeof IncomingMessage, typeof ServeResponse>;
  // One more than the limit, so route() can tell "too many" (431) from "exactly the limit".
  server.maxHeadersCount = MAX_HEADER_LINES + 1;
  server.timeout = opts.idleTimeout ?? 120_000;
  server.on('timeout', (socket: Socket) => {
    // Bytes still queued: the client stopped reading (or vanished without a FIN), so cut it. None
    // queued: a response that is quiet on purpose (SSE, long poll); between requests the
    // keep-alive timeout applies instead. Re-arm, as a socket's timeout fires once per idle spell.
    if (socket.writableLength > 0) socket.destroy();
    else socket.setTimeout(server.timeout);
  });
  limitConnections(server, () => opts.connectionsPerClient ?? (gate.shared ? SHARED_PER_CLIENT : Infinity));

  const handle = async (req: IncomingMessage, res: ServeResponse): Promise<void> => {
    const passed = gate.check(req);
    if (!passed.ok) return refuse(res, passed);
    if (cors) res.setHeader('Access-Control-Allow-Origin', '*');
    const decision = await route(routing, req, passed.host);
    await respond(responding, req, res, decision);
  };

  const onRequest = (req: IncomingMessage, res: ServeResponse): void => {
    logRequest(logger, req, res, gate);
    handle(req, res).catch((error: unknown) => {
      // A file removed (or swapped, see static/open-file.ts) between its check and its open is gone.
      const code = errorCode(error);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && !res.headersSent) return sendError(res, 404, 'Nothing here.');
      // A file or folder the server may not read (chmod 000) is forbidden, not a server error.
      if ((code === 'EACCES' || code === 'EPERM') && !res.headersSent) return sendError(res, 403, 'This file or folder cannot be read.');
      logger.error(`Error while answering ${req.method ?? '-'} ${req.url ?? '-'}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) sendError(res, 500, 'The server hit an error answering this request.');
      else res.destroy();
    });
  };
  server.on('request', onRequest);
  // Expect: 100-continue (curl -T) is decided like any request: an upload sends its 100 only
  // once it knows it will take the body, so a refused upload is never sent.
  server.on('checkContinue', onRequest);

  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    // Malformed requests, oversized headers, timeouts: a status that says why, when the socket allows it.
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) return void socket.destroy();
    const { status, detail } = statusForParseError(error);
    socket.end(rawResponse(status, detail));
  });

  // Upgraded sockets are no longer the HTTP server's: close() must end them itself.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const passed = gate.check(req);
    if (!passed.ok) {
      logUpgrade(logger, req, socket, passed.status, 'static', gate);
      return void socket.end(rawAnswer(passed.status, passed.headers ?? {}, passed.body ?? `${passed.detail}\n`));
    }
    const decision = routeUpgrade(routing, req, passed.host);
    if (decision.kind === 'app' && opts.app?.upgrade(req, socket, head, decision.target) === true) {
      upgraded.add(socket);
      socket.once('close', () => upgraded.delete(socket));
      return logUpgrade(logger, req, socket, 101, decision.target.mount.label, gate);
    }
    const status = decision.kind === 'error' ? decision.status : 404;
    const detail = decision.kind === 'error' ? decision.detail : 'This app takes no upgrades.';
    logUpgrade(logger, req, socket, status, decision.kind === 'app' ? decision.target.mount.label : 'static', gate);
    refuseUpgrade(socket, status, detail);
  });

  // A listening server with no 'error' listener would throw on the first socket-level error.
  server.on('error', (error) => {
    if (server.listening) logger.error(`Server error: ${error.message}`);
  });

  return {
    server,
    root,
    async listen(lo: ListenOptions): Promise<AddressInfo> {
      const host = lo.host ?? opts.host ?? '127.0.0.1';
      await gate.prepare(host);
      if (opts.live === true && live === undefined) {
        // The hub and the watcher are loaded only with --live, and before listening: no page is
        // served without its live-reload tag.
        live = await startLive(root, opts, logger);
        responding.live = live.hub;
      }
      const address = await listenWithFallback(server, lo.port, host, lo.portFallback ?? 0);
      gate.bound(address.address, address.port);
      await live?.watcher.ready();
      return address;
    },
    liveStreams: () => live?.hub.size ?? 0,
    get access() {
      return gate.access;
    },
    async close(graceMs = 3000): Promise<void> {
      live?.hub.close();
      await live?.watcher.close();
      await closeGracefully(server, upgraded, graceMs);
      await opts.app?.close();
    },
  };
}

/** The live-reload hub and the folder watcher that feeds it. */
async function startLive(root: string, opts: ServerOptions, logger: Logger): Promise<{ hub: LiveHub; watcher: FolderWatcher }> {
  const [{ LiveHub }, { FolderWatcher }] = await Promise.all([import('./live/hub.js'), import('./live/folder-watch.js')]);
  const hub = new LiveHub(opts.secrets?.liveId);
  // An app save reloads pages only once the new code answers (or shows its error page).
  opts.app?.onReload?.(() => hub.send({ type: 'reload' }));
  const watcher = new FolderWatcher({
    root,
    dotfiles: opts.dotfiles === true,
    poll: opts.poll === true,
    isAppFile: (path) => opts.app?.isHidden(path) === true,
    onEvent: (event) => hub.send(event),
    onError: (error) => logger.warn(`live reload: ${error.message}`),
  });
  return { hub, watcher };
}

/** The gate's refusal: its own page and headers (401/429/303 from access control), else a built-in page. */
function refuse(res: ServeResponse, r: Extract<GateResult, { ok: false }>): void {
  if (r.body === undefined) return sendError(res, r.status, r.detail);
  res.writeHead(r.status, { ...r.headers, 'Content-Length': Buffer.byteLength(r.body) });
  res.end(res.req.method === 'HEAD' ? undefined : r.body);
}

/** `make()` on the first call; the same promise after. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

function realRoot(dir: string): string {
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (error) {
    throw new ServeHereError(`Cannot serve directory "${dir}": ${errorCode(error) === 'ENOENT' ? 'no such directory' : String(error)}`, { cause: error });
  }
  if (!statSync(root).isDirectory()) throw new ServeHereError(`Cannot serve "${dir}": not a directory`);
  return root;
}
