// Failed-attempt counting per client address, with bounded memory.
//
// Entry point: `createFailureLimiter({ limit, windowMs, blockMs, maxEntries, now })`, then per
// request `blockedFor(address)` (ms left, 0 when free), `fail(address)` after a wrong credential
// and `succeed(address)` after a right one. `limit` failures inside `windowMs` block the address
// for `blockMs`. The map keeps insertion order as an LRU: touching an entry moves it to the end,
// and past `maxEntries` the oldest is dropped, so a flood of spoofed or rotating addresses costs
// a fixed amount of memory (it can only evict old counters, never block anyone).

export interface FailureLimiterOptions {
  /** Failures allowed inside one window before the address is blocked. Default 10. */
  limit?: number;
  /** Length of the counting window. Default one minute. */
  windowMs?: number;
  /** How long a blocked address stays blocked. Default one minute. */
  blockMs?: number;
  /** Addresses remembered at most. Default 10 000 (about 1 MB). */
  maxEntries?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

export interface FailureLimiter {
  /** Milliseconds until `address` may try again; 0 when it is not blocked. */
  blockedFor(address: string): number;
  /** Count one failed attempt from `address`. */
  fail(address: string): void;
  /** A right credential from `address`: forget its failures. */
  succeed(address: string): void;
  /** Addresses currently remembered (for tests and the memory bound). */
  readonly size: number;
}

interface Entry {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

/** A failure counter per address: `limit` failures per `windowMs` → blocked for `blockMs`. */
export function createFailureLimiter(opts: FailureLimiterOptions = {}): FailureLimiter {
  const limit = opts.limit ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const blockMs = opts.blockMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();

  /** The live entry for `address`, or undefined once everything about it has expired. */
  function current(address: string, t: number): Entry | undefined {
    const entry = entries.get(address);
    if (entry === undefined) return undefined;
    if (entry.blockedUntil <= t && entry.windowStart + windowMs <= t) {
      entries.delete(address);
      return undefined;
    }
    return entry;
  }

  return {
    blockedFor(address) {
      const t = now();
      const entry = current(address, t);
      return entry === undefined ? 0 : Math.max(0, entry.blockedUntil - t);
    },
    fail(address) {
      const t = now();
      let entry = current(address, t);
      if (entry === undefined || entry.windowStart + windowMs <= t) {
        entry = { windowStart: t, failures: 0, blockedUntil: entry?.blockedUntil ?? 0 };
      }
      entry.failures += 1;
      if (entry.failures >= limit) {
        entry.blockedUntil = t + blockMs;
        // A new window starts when the block ends, so the next failure after it does not re-block at once.
        entry.windowStart = entry.blockedUntil;
        entry.failures = 0;
      }
      entries.delete(address); // re-insert: most recently used goes last
      entries.set(address, entry);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
    },
    succeed(address) {
      entries.delete(address);
    },
    get size() {
      return entries.size;
    },
  };
}
