// Entry of an app process. Booted ahead of time with the loader registered (the prewarmed
// standby); on `load` it imports the apps, serves them over its channel (fd 4) and says `ready`.
// Each request arrives with the server's routing decision (TARGET_HEADER): mounts are never
// matched again here. A request's error goes back on that request's answer (ERROR_HEADER).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { http } from '../node-http.js';
import { Channel } from './channel.js';
import type { InspectAddress } from '../options.js';
import type { Duplex } from 'node:stream';
import { runApp, type RequestMeta } from './adapters.js';
import { describeError, failureStatus } from './error-describe.js';
import { collectRequired, importedFiles, loadMounts, onImported, registerLoader, type LoadedMount } from './load.js';
import { decodeTarget, ERROR_HEADER, TARGET_HEADER, type ErrorAnswer, type FromChild, type ToChild, type WireTarget } from './protocol.js';

// With a callback, a channel that closed meanwhile (the server exited, e.g. at a usage error while
// this early process was still booting) is an error passed to it, not an 'error' event that
// prints a stack trace on the terminal.
const send = (msg: FromChild): void => {
  if (process.connected) process.send?.(msg, undefined, undefined, () => {});
};

let server: Server | undefined;
const channel = new Channel(new Socket({ fd: 4, readable: true, writable: true }));
let draining = false;
// Only the server writes to this side: a bad frame means the connection is lost, and so is this process.
channel.onBroken = (reason) => {
  process.stderr.write(`app process: its connection to the server broke: ${reason}\n`);
  process.exit(70);
};
// The channel writes once per event-loop turn; an app that ends its answer and then exits (or a
// drain's exit) has no next turn: what is queued goes out now, as a socket's write would have.
process.on('exit', () => channel.flush());

function deps(): string[] {
  collectRequired();
  return [...importedFiles];
}

/** node:inspector, loaded only with --inspect (synchronously, not through the app's loader). */
const inspectorModule = (): typeof import('node:inspector') => process.getBuiltinModule('node:inspector');

/**
 * Open the inspector at the address every app process of this server uses. The previous
 * process let go of it just before (the server waits for that), but a port can take a moment to
 * free up: retry for a short while. Node says "Debugger listening on …" itself.
 */
async function openInspector(addr: InspectAddress): Promise<string | undefined> {
  const inspector = inspectorModule();
  const deadline = Date.now() + 2000;
  for (;;) {
    inspector.open(addr.port, addr.host);
    const url = inspector.url();
    if (url !== undefined || Date.now() > deadline) return url;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function load(msg: Extract<ToChild, { type: 'load' }>): Promise<void> {
  if (msg.inspect !== undefined) send({ type: 'inspector', url: await openInspector(msg.inspect) });
  const started = performance.now();
  let mounts: LoadedMount[];
  try {
    mounts = await loadMounts(msg.mounts, msg.style);
  } catch (error) {
    const file = msg.mounts.map((m) => m.file.split('/').pop()).join(', ');
    send({ type: 'load-error', error: describeError(error, `Failed to load ${file}`), deps: deps() });
    return;
  }
  const byPrefix = new Map(mounts.map((m) => [m.prefix, m]));
  server = http.createServer((req, res) => handle(req, res, byPrefix, msg.strip));
  // The server holds each app connection for exactly one client connection and closes it with
  // that client: no idle timeout of our own may cut it in between.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = takeTarget(req);
    const mount = target === undefined ? undefined : byPrefix.get(target.prefix);
    if (target === undefined || mount?.upgrade === undefined) return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    setClient(req, target);
    mount.upgrade(req, socket, head);
  });
  // Requests and upgrades arrive as connections inside the channel (fd 4): no listener of its own.
  channel.onOpen = (socket) => server?.emit('connection', socket);
  send({ type: 'ready', mounts: mounts.map((m) => ({ prefix: m.prefix, description: m.app.description })), deps: deps(), ms: performance.now() - started });
  reportLateImports();
}

/**
 * A module the app imports later (at a request) is part of its graph too: the server must stop
 * serving it. Said in one message per turn; lazy require()s are found at the next tick.
 */
function reportLateImports(): void {
  let late: string[] = [];
  onImported((file) => {
    if (late.length === 0) setImmediate(() => {
      send({ type: 'deps', deps: late });
      late = [];
    });
    late.push(file);
  });
  setInterval(collectRequired, 250).unref();
}

/** Read and remove the server's routing header: the app never sees it. */
function takeTarget(req: IncomingMessage): WireTarget | undefined {
  const target = decodeTarget(req.headers[TARGET_HEADER]);
  delete req.headers[TARGET_HEADER];
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] ?? '').toLowerCase() !== TARGET_HEADER) raw.push(req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '');
  }
  req.rawHeaders = raw;
  return target;
}

/**
 * Node apps read the client from the socket (Express req.ip). Safe to set on the socket: the
 * server pins each app connection to one client connection, so it is this client's for life.
 */
function setClient(req: IncomingMessage, target: WireTarget): void {
  Object.defineProperty(req.socket, 'remoteAddress', { value: target.clientAddress, configurable: true });
  Object.defineProperty(req.socket, 'remotePort', { value: target.clientPort, configurable: true });
}

/** The target carries no `hop` when the client's request was HTTP/1.1 without hop-by-hop headers. */
const CLIENT_HOP_DEFAULT: NonNullable<RequestMeta['hop']> = { version: '1.1', headers: [] };

function handle(req: IncomingMessage, res: ServerResponse, mounts: Map<string, LoadedMount>, strip: boolean): void {
  const target = takeTarget(req);
  const mount = target === undefined ? undefined : mounts.get(target.prefix);
  if (target === undefined || mount === undefined) {
    res.writeHead(400, { 'content-length': 0 }).end();
    return;
  }
  setClient(req, target);
  // A body past Content-Length is an error here, not bytes that reach the next client.
  res.strictContentLength = true;
  if (draining) res.shouldKeepAlive = false;
  const meta: RequestMeta = {
    prefix: target.prefix,
    path: target.path,
    strip,
    host: target.host,
    clientAddress: target.clientAddress,
    clientPort: target.clientPort,
    scheme: target.scheme,
    multiprocess: false,
    errors: (text) => process.stderr.write(text),
    hop: target.hop ?? CLIENT_HOP_DEFAULT,
  };
  runApp(mount.app, req, res, meta).catch((error: unknown) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const answer: ErrorAnswer = { status: failureStatus(error), info: describeError(error, `${req.method ?? 'GET'} ${target.prefix}${target.path || ''} threw`) };
    const body = JSON.stringify(answer);
    // Whatever the app set for its own answer goes: this one is the server's.
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.writeHead(500, { 'content-type': 'application/json', [ERROR_HEADER]: '1', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/** The server has no requests left on this process (it counts them): close and exit. */
function drain(): void {
  draining = true;
  if (server === undefined) process.exit(0);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
}

process.on('message', (msg: ToChild) => {
  if (msg.type === 'load') void load(msg);
  else if (msg.type === 'drain') drain();
  else if (msg.type === 'inspector-close') {
    inspectorModule().close();
    send({ type: 'inspector-closed' });
  }
});
// The server stops hearing from a child whose event loop is blocked: that is how it notices.
setInterval(() => send({ type: 'tick' }), 250).unref();
// This process is in its own process group (Ctrl-C does not reach it): it ends with the server's
// IPC channel, so it never outlives a server that was killed.
process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (reason) => {
  const msg: FromChild = { type: 'fatal', error: describeError(reason, 'Unhandled promise rejection in the app') };
  // Exit once the message is out (or at once without a channel): the server logs it with the crash.
  if (!process.connected || process.send === undefined) process.exit(70);
  process.send(msg, () => process.exit(70));
});

// Stacks point into the app's own sources (tsx's inline maps, or a compiled app's .map files).
// Switched on here, not with --enable-source-maps, so that serve-here's own modules, already
// loaded, are not read for maps on every start.
process.setSourceMapsEnabled(true);
await registerLoader();
send({ type: 'booted' });
// Node loads its fetch classes (undici) on first use: 35–55 ms that the first request to a fetch
// app would wait for. Done now, while this process waits for its `load` (the server is still
// starting, or this is the standby).
setImmediate(() => void [globalThis.Request, globalThis.Response]);
