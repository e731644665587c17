// Listening (with the next-port fallback) and closing gracefully: the server's lifecycle.
import type { AddressInfo, Server } from 'node:net';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { ServeResponse } from './serve-response.js';
import type { Duplex } from 'node:stream';
import { once } from 'node:events';
import { errorCode } from './errors.js';

export interface ListenOptions {
  port: number;
  host?: string;
  /** On EADDRINUSE, try the next ports (up to this many) instead of failing. */
  portFallback?: number;
}

/** Listen on `port`, or the next free ones; falls back to IPv4 when `::` has no IPv6. */
export async function listenWithFallback(server: Server, port: number, host: string, tries: number): Promise<AddressInfo> {
  for (let attempt = 0; ; attempt++) {
    const p = port === 0 ? 0 : port + attempt;
    try {
      return await listenOnce(server, p, host);
    } catch (error) {
      const code = errorCode(error);
      if (host === '::' && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) return listenOnce(server, p, '0.0.0.0');
      if (code !== 'EADDRINUSE' || attempt >= tries || p >= 65535) throw error;
    }
  }
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

/**
 * Stop accepting, let in-flight responses finish for up to `graceMs`, then cut the rest,
 * upgraded (WebSocket) sockets included: they are no longer the HTTP server's to close.
 */
export async function closeGracefully(server: HttpServer<typeof IncomingMessage, typeof ServeResponse>, upgraded: ReadonlySet<Duplex>, graceMs: number): Promise<void> {
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
}
