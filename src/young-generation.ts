// V8's young generation in the server process: small while few connections are open, V8's own
// sizing under high concurrency.
//
// Under load V8 grows its young generation from 2 to 32 MiB (Node 20) and keeps it: about 30 MiB
// of RSS for garbage that lives microseconds. The old shebang flag `--max-semi-space-size=1`
// stopped that; shebang flags are gone (issue 7), and V8 fixes that maximum at start-up, but it
// reads the growth factor at each growth, so a factor of 1 keeps the start size. With thousands
// of requests in flight, though, their objects outlive a small young generation and are copied
// into the old one: at 2,000 connections the cap cost a quarter of the requests per second
// (bench/README.md). So the factor follows the open connections: V8's default (2) from HIGH on,
// 1 again below LOW.
import type { Server } from 'node:net';
import v8 from 'node:v8';

const HIGH = 512;
const LOW = 64;
const SMALL = '--semi-space-growth-factor=1';
const DEFAULT = '--semi-space-growth-factor=2';

/** Keep the young generation small from now on, and let it grow while `server` holds many connections. */
export function adaptYoungGeneration(server: Server): void {
  v8.setFlagsFromString(SMALL);
  let open = 0;
  let grown = false;
  server.on('connection', (socket) => {
    open++;
    if (!grown && open >= HIGH) {
      grown = true;
      v8.setFlagsFromString(DEFAULT);
    }
    socket.once('close', () => {
      open--;
      if (grown && open < LOW) {
        grown = false;
        v8.setFlagsFromString(SMALL);
      }
    });
  });
}
