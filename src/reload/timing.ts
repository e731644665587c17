// The supervisor's timeouts, shortenable for tests through the environment (milliseconds).
/** How long the supervisor waits for what. */
export interface Timing {
  /** No response headers from the app within this → 504. */
  requestTimeoutMs: number;
  /** A draining process still alive after this is killed. */
  drainTimeoutMs: number;
  /** Requests held during a reload wait at most this long. */
  holdTimeoutMs: number;
  /** No heartbeat for this long → the app's event loop is blocked: replace the process. */
  blockedMs: number;
  /** A load taking longer than this is reported as stuck, and held requests get a 503. */
  loadStuckMs: number;
  /** A load is given up after this long. */
  loadTimeoutMs: number;
}


export const DEFAULT_TIMING: Timing = {
  requestTimeoutMs: 30_000,
  drainTimeoutMs: 10_000,
  holdTimeoutMs: 10_000,
  blockedMs: 3_000,
  loadStuckMs: 3_000,
  loadTimeoutMs: 30_000,
};

export function timingFromEnv(env: NodeJS.ProcessEnv = process.env): Timing {
  const num = (name: string, fallback: number): number => {
    const v = Number(env[name]);
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    requestTimeoutMs: num('SERVE_HERE_APP_TIMEOUT_MS', DEFAULT_TIMING.requestTimeoutMs),
    drainTimeoutMs: num('SERVE_HERE_DRAIN_TIMEOUT_MS', DEFAULT_TIMING.drainTimeoutMs),
    holdTimeoutMs: num('SERVE_HERE_HOLD_TIMEOUT_MS', DEFAULT_TIMING.holdTimeoutMs),
    blockedMs: num('SERVE_HERE_BLOCKED_MS', DEFAULT_TIMING.blockedMs),
    loadStuckMs: num('SERVE_HERE_LOAD_STUCK_MS', DEFAULT_TIMING.loadStuckMs),
    loadTimeoutMs: num('SERVE_HERE_LOAD_TIMEOUT_MS', DEFAULT_TIMING.loadTimeoutMs),
  };
}
