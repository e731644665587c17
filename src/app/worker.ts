// Entry of an app process. Booted ahead of time with the loader registered (the prewarmed
// standby); on `load` it imports the app, serves it on a private Unix socket and says `ready`.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { appPath, runApp, type RequestMeta } from './adapters.js';
import { describeError } from './error-info.js';
import { collectRequired, importedFiles, loadMounts, matchMount, registerLoader, type LoadedMount } from './load.js';
import { ERROR_HEADER, MOUNT_HEADER, PEER_HEADER, type FromChild, type ToChild } from './protocol.js';

const send = (msg: FromChild): void => {
  process.send?.(msg);
};

let server: http.Server | undefined;
let draining = false;

function deps(): string[] {
  collectRequired();
  return [...importedFiles];
}

async function load(msg: Extract<ToChild, { type: 'load' }>): Promise<void> {
  const started = performance.now();
  let mounts: LoadedMount[];
  try {
    mounts = await loadMounts(msg.mounts, msg.style);
  } catch (error) {
    const file = msg.mounts.map((m) => m.file.split('/').pop()).join(', ');
    send({ type: 'load-error', error: describeError(error, `Failed to load ${file}`), deps: deps() });
    return;
  }
  server = http.createServer((req, res) => handle(req, res, mounts, msg.strip, false));
  server.keepAliveTimeout = 60_000;
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const prefix = String(req.headers[MOUNT_HEADER] ?? '');
    const mount = mounts.find((m) => m.prefix === prefix);
    if (mount?.upgrade === undefined) return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    stripRoutingHeaders(req);
    mount.upgrade(req, socket, head);
  });
  server.listen(msg.socketPath, () => {
    send({ type: 'ready', mounts: mounts.map((m) => ({ prefix: m.prefix, description: m.app.description })), deps: deps(), ms: performance.now() - started });
  });
}

function handle(req: IncomingMessage, res: ServerResponse, mounts: LoadedMount[], strip: boolean, multiprocess: boolean): void {
  const prefix = String(req.headers[MOUNT_HEADER] ?? '');
  const peer = stripRoutingHeaders(req);
  const colon = peer.lastIndexOf(':');
  const clientAddress = colon === -1 ? peer : peer.slice(0, colon);
  const clientPort = colon === -1 ? 0 : Number(peer.slice(colon + 1));
  // Node apps read the client from the socket (Express req.ip): give them the real one.
  Object.defineProperty(req.socket, 'remoteAddress', { value: clientAddress, configurable: true });
  Object.defineProperty(req.socket, 'remotePort', { value: clientPort, configurable: true });
  if (draining) res.shouldKeepAlive = false;
  const mount = mounts.find((m) => m.prefix === prefix) ?? matchMount(mounts, req.url ?? '/');
  const meta: RequestMeta = {
    prefix: mount?.prefix ?? '',
    path: appPath(req.url ?? '/', mount?.prefix ?? '', strip),
    strip,
    host: req.headers.host ?? 'localhost',
    clientAddress,
    clientPort,
    scheme: 'http',
    multiprocess,
    errors: (text) => process.stderr.write(text),
  };
  if (mount === undefined) {
    res.statusCode = 404;
    res.end();
    return;
  }
  runApp(mount.app, req, res, meta).catch((error: unknown) => {
    const info = describeError(error, `${req.method ?? 'GET'} ${req.url ?? '/'} threw`);
    send({ type: 'request-error', error: info });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify(info);
    res.writeHead(500, { 'content-type': 'application/json', [ERROR_HEADER]: '1', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/** The routing headers are the server's, not the client's: the app never sees them. Returns the peer. */
function stripRoutingHeaders(req: IncomingMessage): string {
  const peer = String(req.headers[PEER_HEADER] ?? '');
  delete req.headers[MOUNT_HEADER];
  delete req.headers[PEER_HEADER];
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    if (name !== MOUNT_HEADER && name !== PEER_HEADER) raw.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  req.rawHeaders = raw;
  return peer;
}

/** The server has no requests left on this process (it counts them): close and exit. */
function drain(): void {
  draining = true;
  if (server === undefined) process.exit(0);
  server.close(() => process.exit(0));
}

process.on('message', (msg: ToChild) => {
  if (msg.type === 'load') void load(msg);
  else if (msg.type === 'drain') drain();
});
// The server stops hearing from a child whose event loop is blocked: that is how it notices.
setInterval(() => send({ type: 'tick' }), 500).unref();
// An orphaned app process (the server was killed) ends itself.
process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (reason) => {
  send({ type: 'request-error', error: describeError(reason, 'Unhandled promise rejection in the app') });
  process.exit(70);
});

await registerLoader();
send({ type: 'booted' });
