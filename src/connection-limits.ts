// Connection caps: a total (server.maxConnections) and, when shared, one per client address, so
// one device on the network cannot take every socket the server has.
import type { Server } from 'node:net';
import type { Socket } from 'node:net';

export const MAX_CONNECTIONS = 4096;
/** Browsers open at most 6 connections per host; 64 leaves room for several tabs and tools. */
export const SHARED_PER_CLIENT = 64;

/** Enforce the caps; `perClient()` is read per connection, as sharing is known only once bound. */
export function limitConnections(server: Server, perClient: () => number): void {
  server.maxConnections = MAX_CONNECTIONS;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const limit = perClient();
    if (limit === Infinity) return;
    const ip = socket.remoteAddress ?? '';
    const count = (open.get(ip) ?? 0) + 1;
    if (count > limit) {
      socket.destroy();
      return;
    }
    open.set(ip, count);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left === 0) open.delete(ip);
      else open.set(ip, left);
    });
  });
}
