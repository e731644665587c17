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
import { Gate, type AuthOptions } from './gate.js';
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
import { Exposure } from './exposure/policy.js';
import { FileSender } from './static/send.js';
import type { ListingCache } from './static/listing.js';
import { errorCode, ServeHereError } from './errors.js';
import { followAppFiles } from './exposure/app-files.js';
import { later, refuse } from './refuse.js';
import { DescriptorWatch, isDescriptorExhaustion } from './descriptors.js';
import { fail, FOLLOWS_ASYNC_WORK, RequestScope, SocketScope, within } from './guard.js';

export type { ListenOptions } from './listen.js';

export interface ServerOptions {
  /** Folder to serve. */
  root: string;
  /** Serve and list dot names (`.git` and env files stay hidden). */
  dotfiles?: boolean;
  /** --env-file: never served, listed, zipped or written (the exposure policy). */
  envFile?: string | undefined;
  /** --cert and --key: never served, listed, zipped or written, wherever they are. */
  tlsFiles?: readonly string[] | undefined;
  /** Folders never served, listed or written; the generated certificate's folder always is one. */
  secretFolders?: readonly string[] | undefined;
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
  /** --trust-proxy: proxies whose X-Forwarded-* or Forwarded give the apps the client, scheme and host. */
  trustProxy?: readonly string[] | undefined;
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
  // The one policy every reader and writer asks; the apps add their module graphs as they load.
  const exposure = new Exposure({ root, dotfiles, envFile: opts.envFile, tlsFiles: opts.tlsFiles, secretFolders: opts.secretFolders });
  if (opts.app !== undefined) followAppFiles(exposure, opts.app);
  const gate = new Gate({ bindAddress: opts.host ?? '127.0.0.1', allowedHosts: opts.allowedHosts, auth: opts.auth, secure: opts.tls !== undefined, trustProxy: opts.trustProxy, secrets: opts.secrets });
  const routing: RouteContext = {
    resolver: new Resolver(exposure),
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
      return new ListingCache(exposure, { rootName: basename(root) || 'folder', uploadScript: opts.upload === undefined ? undefined : UPLOAD_SCRIPT_PATH });
    }),
    app: opts.app,
    cors,
    live: undefined, // set by listen() with --live
    upload: opts.upload === undefined ? undefined : { maxBytes: opts.upload.maxBytes },
    exposure,
    rootName: basename(root) || 'folder',
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
    try {
      if (socket.writableLength > 0) socket.destroy();
      else socket.setTimeout(server.timeout);
    } catch (error) {
      fail(new SocketScope(logger, socket, 'an idle connection'), error);
    }
  });
  limitConnections(server, () => opts.connectionsPerClient ?? (gate.shared ? SHARED_PER_CLIENT : Infinity));
  const descriptors = new DescriptorWatch(server, logger);

  const handle = async (req: IncomingMessage, res: ServeResponse): Promise<void> => {
    const passed = gate.check(req);
    if (!passed.ok) return refuse(res, passed);
    if (passed.setCookie !== undefined) res.setHeader('Set-Cookie', passed.setCookie);
    if (cors) res.setHeader('Access-Control-Allow-Origin', '*');
    const decision = await route(routing, req, passed.host, passed.proxied);
    await respond(responding, req, res, decision);
  };

  // Each request is its own scope (src/guard.ts): a throw while serving it (and, on Node 24, in
  // what it starts) ends this request alone.
  const serveRequest = (req: IncomingMessage, res: ServeResponse, scope: RequestScope): void => {
    logRequest(logger, req, res, gate);
    handle(req, res).catch((error: unknown) => {
      // A file removed (or swapped, see static/open-file.ts) between its check and its open is gone.
      const code = errorCode(error);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && !res.headersSent) return sendError(res, 404, 'Nothing here.');
      // A file or folder the server may not read (chmod 000) is forbidden, not a server error.
      if ((code === 'EACCES' || code === 'EPERM') && !res.headersSent) return sendError(res, 403, 'This file or folder cannot be read.');
      // Out of descriptors: said once (not a line per request), and the client may try again.
      if (isDescriptorExhaustion(error)) {
        descriptors.exhausted(error);
        return res.headersSent ? void res.destroy() : sendError(res, 503, 'The server is out of file descriptors; try again shortly.');
      }
      fail(scope, error);
    });
  };
  const onRequest = (req: IncomingMessage, res: ServeResponse): void => {
    const scope = new RequestScope(logger, res, gate);
    if (FOLLOWS_ASYNC_WORK) within(scope, serveRequest, req, res, scope);
    else serveRequest(req, res, scope);
  };
  server.on('request', onRequest);
  // Expect: 100-continue (curl -T) is decided like any request: an upload sends its 100 only
  // once it knows it will take the body, so a refused upload is never sent.
  server.on('checkContinue', onRequest);

  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    // Malformed requests, oversized headers, timeouts: a status that says why, when the socket allows it.
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) return void socket.destroy();
    try {
      const { status, detail } = statusForParseError(error);
      socket.end(rawResponse(status, detail));
    } catch (thrown) {
      fail(new SocketScope(logger, socket, `a request refused by the parser (${error.code ?? error.message})`), thrown);
    }
  });

  // Upgraded sockets are no longer the HTTP server's: close() must end them itself.
  const upgraded = new Set<Duplex>();
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const passed = gate.check(req);
    if (!passed.ok) {
      logUpgrade(logger, req, socket, passed.status, 'static', gate);
      const answer = (): void => void socket.end(rawAnswer(passed.status, passed.headers ?? {}, passed.body ?? `${passed.detail}\n`));
      return later(passed.delayMs, socket, answer);
    }
    const decision = routeUpgrade(routing, req, passed.host, passed.proxied);
    const taken = decision.kind === 'app' ? opts.app?.upgrade(req, socket, head, decision.target) : false;
    if (decision.kind === 'app' && taken === true) {
      upgraded.add(socket);
      socket.once('close', () => upgraded.delete(socket));
      return logUpgrade(logger, req, socket, 101, decision.target.mount.label, gate);
    }
    const unavailable = taken === 'unavailable';
    const status = decision.kind === 'error' ? decision.status : unavailable ? 503 : 404;
    const detail = decision.kind === 'error' ? decision.detail : unavailable ? 'The app is not running right now; try again in a moment.' : 'This app takes no upgrades.';
    logUpgrade(logger, req, socket, status, decision.kind === 'app' ? decision.target.mount.label : 'static', gate);
    refuseUpgrade(socket, status, detail);
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // An upgraded socket carries one close listener per job (limits, boundary, log, both relay
    // directions): past Node's default 10, which would print a leak warning for every upgrade.
    socket.setMaxListeners(Math.max(socket.getMaxListeners(), 32));
    const scope = new SocketScope(logger, socket, `upgrade ${req.method ?? '-'} ${gate.redact(req.url ?? '-')}`);
    try {
      within(scope, upgrade, req, socket, head);
    } catch (error) {
      fail(scope, error);
    }
  });

  // A listening server with no 'error' listener would throw on the first socket-level error.
  server.on('error', (error) => {
    if (isDescriptorExhaustion(error)) return descriptors.exhausted(error); // accept() with no reserve descriptor left
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
        live = await startLive(exposure, opts, logger);
        responding.live = live.hub;
      }
      const address = await listenWithFallback(server, lo.port, host, lo.portFallback ?? 0);
      gate.bound(address.address, address.port);
      if (opts.upload !== undefined) sweepUploads(root, logger);
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
async function startLive(exposure: Exposure, opts: ServerOptions, logger: Logger): Promise<{ hub: LiveHub; watcher: FolderWatcher }> {
  const [{ LiveHub }, { FolderWatcher }] = await Promise.all([import('./live/hub.js'), import('./live/folder-watch.js')]);
  const hub = new LiveHub(opts.secrets?.liveId);
  // An app save reloads pages only once the new code answers (or shows its error page).
  opts.app?.onReload?.(() => hub.send({ type: 'reload' }));
  const watcher = new FolderWatcher({
    exposure,
    poll: opts.poll === true,
    onEvent: (event) => hub.send(event),
    onError: (error) => logger.warn(`live reload: ${error.message}`),
  });
  return { hub, watcher };
}

/** Partial uploads an earlier run left behind go, in the background (share/upload-sweep.ts). */
function sweepUploads(root: string, logger: Logger): void {
  void import('./share/upload-sweep.js')
    .then(({ sweepPartialUploads }) => sweepPartialUploads(root))
    .then((removed) => {
      if (removed.length > 0) logger.info(`Removed ${removed.length} partial upload${removed.length === 1 ? '' : 's'} left by an earlier run`);
    })
    .catch((error: unknown) => logger.warn(`Could not look for partial uploads: ${error instanceof Error ? error.message : String(error)}`));
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
