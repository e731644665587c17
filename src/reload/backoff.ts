// Capped exponential backoff for restarting a crashing app (or --workers worker): quick after a first crash, at most
// every MAX_MS for a crash loop, never parked until a save (a flaky dependency may come back).
export const FIRST_MS = 100;
export const MAX_MS = 30_000;
/** Running this long without a crash counts as healthy again. */
export const HEALTHY_MS = 30_000;

export class Backoff {
  #attempt = 0;
  #last = 0;

  /** The delay before the next restart. */
  next(now = Date.now()): number {
    if (now - this.#last > HEALTHY_MS + this.#delay()) this.#attempt = 0;
    this.#last = now;
    const delay = Math.min(MAX_MS, FIRST_MS * 2 ** this.#attempt);
    this.#attempt++;
    return delay;
  }

  /** Restarts since the last healthy spell (the crash-loop count). */
  get attempts(): number {
    return this.#attempt;
  }

  reset(): void {
    this.#attempt = 0;
  }

  #delay(): number {
    return Math.min(MAX_MS, FIRST_MS * 2 ** Math.max(0, this.#attempt - 1));
  }
}

/** A restart delay as the terminal says it: "0.4 s", "30 s". */
export function formatDelay(ms: number): string {
  return ms < 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
