// Running out of file descriptors, said once. When accept() fails with EMFILE, libuv closes the
// waiting connections at once (its reserve-descriptor trick) and tells nobody: clients see resets
// and the terminal says nothing. A probe (open and close one descriptor) shortly after new
// connections arrive finds out; the server keeps serving as descriptors come back, and says so.
import { closeSync, openSync } from 'node:fs';
import { devNull } from 'node:os';
import type { Server } from 'node:net';
import type { Logger } from './log.js';
import { errorCode } from './errors.js';

/** How soon after a new connection the probe runs (one probe per period, however many arrive). */
const PROBE_DELAY_MS = 250;
/** While out: how often to look again. */
const RECHECK_MS = 1000;
/** The shortest time between two "out of descriptors" lines. */
const QUIET_MS = 10_000;

export function isDescriptorExhaustion(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EMFILE' || code === 'ENFILE';
}

export class DescriptorWatch {
  readonly #log: Logger;
  #scheduled = false;
  #out = false;
  #lastSaid = -Infinity;
  /** This spell's "out" line was printed (so its end is said too). */
  #said = false;
  #recheck: NodeJS.Timeout | undefined;

  constructor(server: Server, log: Logger) {
    this.#log = log;
    // The connection that takes the last descriptor is the last to arrive: a probe after it finds
    // the table full. One timer per period at most, none while idle.
    server.on('connection', () => {
      if (this.#scheduled || this.#out) return;
      this.#scheduled = true;
      setTimeout(() => {
        this.#scheduled = false;
        this.#probe();
      }, PROBE_DELAY_MS).unref();
    });
    server.on('close', () => clearInterval(this.#recheck));
  }

  /** An EMFILE/ENFILE seen anywhere (accept, opening a file): said once, then watched until it passes. */
  exhausted(error: unknown): void {
    if (this.#out) return;
    this.#out = true;
    const now = performance.now();
    this.#said = now - this.#lastSaid >= QUIET_MS;
    if (this.#said) {
      this.#lastSaid = now;
      this.#log.warn(`⚠ out of file descriptors (${errorCode(error) ?? 'EMFILE'}): new connections are dropped until some close; raise the limit (ulimit -n) for more clients`);
    }
    this.#recheck = setInterval(() => this.#probe(), RECHECK_MS).unref();
  }

  #probe(): void {
    try {
      closeSync(openSync(devNull, 'r'));
    } catch (error) {
      if (isDescriptorExhaustion(error)) this.exhausted(error);
      return;
    }
    if (!this.#out) return;
    this.#out = false;
    clearInterval(this.#recheck);
    if (this.#said) this.#log.info('✔ file descriptors available again: accepting connections');
  }
}
