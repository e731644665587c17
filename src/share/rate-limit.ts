// Failed-attempt counting per client address, with bounded memory.
//
// Entry point: `createFailureLimiter({ limit, windowMs, blockMs, baseDelayMs, maxDelayMs, maxEntries, now })`,
// then `fail(address)` after a wrong credential, `blockedFor(address)` (ms the address stays
// throttled, 0 when free) and `delayFor(address)` (how long to hold its next wrong answer). `limit`
// failures inside `windowMs` throttle the address for `blockMs`, renewed by every further failure.
// The limiter never decides about a right credential: callers check that first and let it pass.
// The map keeps insertion order as an LRU: touching an entry moves it to the end, and past
// `maxEntries` the oldest is dropped, so a flood of spoofed or rotating addresses costs a fixed
// amount of memory (it can only evict old counters, never throttle anyone).

export interface FailureLimiterOptions {
  /** Failures allowed inside one window before the address is throttled. Default 10. */
  limit?: number;
  /** Length of the counting window. Default one minute. */
  windowMs?: number;
  /** How long a throttled address stays throttled after its last failure. Default one minute. */
  blockMs?: number;
  /** Delay for the first wrong answer once throttled, doubling with each further one. Default 1 s. */
  baseDelayMs?: number;
  /** Longest delay. Default 30 s. */
  maxDelayMs?: number;
  /** Addresses remembered at most. Default 10 000 (about 1 MB). */
  maxEntries?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

export interface FailureLimiter {
  /** Milliseconds `address` stays throttled; 0 when it is not. */
  blockedFor(address: string): number;
  /** How long to hold a wrong answer to `address` now; 0 when it is not throttled. */
  delayFor(address: string): number;
  /** Count one failed attempt from `address`. */
  fail(address: string): void;
  /** Addresses currently remembered (for tests and the memory bound). */
  readonly size: number;
}

interface Entry {
  windowStart: number;
  failures: number;
  blockedUntil: number;
  /** Failures while throttled: each doubles the delay. */
  excess: number;
}

/** A failure counter per address: `limit` failures per `windowMs` → throttled for `blockMs`. */
export function createFailureLimiter(opts: FailureLimiterOptions = {}): FailureLimiter {
  const limit = opts.limit ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const blockMs = opts.blockMs ?? 60_000;
  const baseDelayMs = opts.baseDelayMs ?? 1000;
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
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
    delayFor(address) {
      const t = now();
      const entry = current(address, t);
      if (entry === undefined || entry.blockedUntil <= t) return 0;
      return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(entry.excess, 20));
    },
    fail(address) {
      const t = now();
      let entry = current(address, t);
      if (entry !== undefined && entry.blockedUntil > t) {
        entry.excess += 1;
        entry.blockedUntil = t + blockMs;
        entry.windowStart = entry.blockedUntil;
      } else {
        if (entry === undefined || entry.windowStart + windowMs <= t) entry = { windowStart: t, failures: 0, blockedUntil: 0, excess: 0 };
        entry.failures += 1;
        if (entry.failures >= limit) {
          entry.blockedUntil = t + blockMs;
          entry.excess = 0;
          // A new window starts when the throttle ends, so the next failure after it does not throttle at once.
          entry.windowStart = entry.blockedUntil;
          entry.failures = 0;
        }
      }
      entries.delete(address); // re-insert: most recently used goes last
      entries.set(address, entry);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
