// Change batches → app generations: the current process, a prewarmed standby, the one loading
// after a save; crash recovery with capped backoff; the heartbeat watchdog. No HTTP in here:
// `state()` tells the caller which process answers now, or the truth about why none does.
import { fileVersions } from './versions.js';
import { Standby } from './standby.js';
import type { Logger } from '../log.js';
import type { AppStyle, InspectAddress } from '../options.js';
import type { AppErrorInfo } from '../app/error-info.js';
import type { MountSpec } from '../app/load.js';
import { AppProcess, type LoadResult } from '../app/process.js';
import { takeEarly } from '../app/early.js';
import { Backoff, formatDelay } from './backoff.js';
import type { Timing } from './timing.js';
import { stamp } from '../log.js';


/**
 * The folder serve-here was started from, taken once: app processes run there (never in the
 * served folder), and a later spawn still finds it by path if the folder was deleted and made again.
 */
const START_CWD = process.cwd();

export type AppState =
  | { kind: 'ready'; proc: AppProcess }
  | { kind: 'failed'; error: AppErrorInfo }
  | { kind: 'down'; reason: string };

export interface SupervisorOptions {
  mounts: MountSpec[];
  style: AppStyle | undefined;
  strip: boolean;
  env: () => NodeJS.ProcessEnv;
  log: Logger;
  timing: Timing;
  /** Called with each load's outcome (the reloading backend logs it and updates what it watches). */
  onLoaded: (result: LoadResult, changed: string[], ms: number) => void;
  /** Called with files an app process imported after it was ready (lazy imports). */
  onDeps?: (deps: string[]) => void;
  /** Start standbys ahead of the next save (off without watching), from the first prewarm() call. */
  prewarm: boolean;
  /** --inspect: each app process opens the inspector here, and a silent one is never killed. */
  inspect: InspectAddress | undefined;
}

export class Supervisor {
  #o: SupervisorOptions;
  #nextId = 1;
  #current: AppProcess | undefined;
  #standby = new Standby(() => this.#spawn(), START_CWD);
  #loading: AppProcess | undefined;
  /** A load is under way (from reload()'s first step, before #loading is known). */
  #busy = false;
  /** Saves seen while a load was under way: loaded next, once it is done. */
  #again: { changed: Set<string>; fresh: boolean } | undefined;
  #all = new Set<AppProcess>();
  #failure: AppErrorInfo | undefined;
  #down: string | undefined;
  #stuck: string | undefined;
  #backoff = new Backoff();
  #pending: { promise: Promise<void>; resolve: () => void; until: number } | undefined;
  #closing = false;
  #seq = 0;
  #heartbeat: NodeJS.Timeout;
  /** The process already warned about as stopped (--inspect), so the warning comes once per stop. */
  #stoppedWarned: AppProcess | undefined;

  constructor(opts: SupervisorOptions) {
    this.#o = opts;
    this.#heartbeat = setInterval(() => this.#checkHeartbeat(), 250);
    this.#heartbeat.unref();
  }

  /** A change was seen: requests wait for the new code from now on, never get the old. */
  hold(): void {
    if (this.#pending !== undefined) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#pending = { promise, resolve, until: Date.now() + this.#o.timing.holdTimeoutMs };
  }

  #release(): void {
    this.#pending?.resolve();
    this.#pending = undefined;
  }

  /**
   * Which process answers now. While a reload is under way, requests wait for it until the hold
   * ends (holdTimeoutMs after the change was seen), then get the truth: still loading, or stuck.
   */
  async state(): Promise<AppState> {
    const pending = this.#pending;
    const left = pending === undefined ? 0 : pending.until - Date.now();
    let released = pending === undefined;
    if (pending !== undefined && left > 0) {
      let timer: NodeJS.Timeout | undefined;
      released = await Promise.race([pending.promise.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), left)))]);
      clearTimeout(timer);
    }
    // Released by a finished load: its code answers, even when a newer save already started the
    // next load (a save storm), so no request waits for more than one load.
    if (!released && this.#loading !== undefined && this.#pending !== undefined) {
      return { kind: 'down', reason: this.#stuck ?? `The app is still loading after ${this.#o.timing.holdTimeoutMs / 1000} s.` };
    }
    if (this.#current !== undefined) return { kind: 'ready', proc: this.#current };
    if (this.#failure !== undefined) return { kind: 'failed', error: this.#failure };
    return { kind: 'down', reason: this.#down ?? 'The app is not running.' };
  }

  /** The process answering now, if any (upgrades are not held during a reload). */
  current(): AppProcess | undefined {
    return this.#current;
  }

  get broken(): boolean {
    return this.#failure !== undefined || this.#current === undefined;
  }

  /**
   * Load the apps in a fresh (or prewarmed) process and switch to it; `changed` names what moved.
   * A save during a load does not cancel it (saves every 100 ms would cancel every load, and held
   * requests would wait for one that never finishes): the load finishes and answers, then the
   * newest files load. Only a load already reported stuck is cancelled, so a fix can replace it.
   */
  async reload(changed: string[], freshEnv = false): Promise<void> {
    if (this.#closing) return;
    this.hold();
    if (this.#busy && this.#stuck === undefined) return this.#queue(changed, freshEnv);
    // This load reads every file as it is now: whatever was queued is in it.
    const queued = this.#takeQueued();
    if (queued !== undefined) changed = [...new Set([...queued.changed, ...changed])];
    freshEnv ||= queued?.fresh === true;
    const seq = ++this.#seq;
    this.#busy = true;
    this.#loading?.kill('a newer save'); // stuck: the newest save wins
    this.#loading = undefined;
    // The next standby boots after this load, not beside it: booting costs CPU the load needs.
    const proc = await this.#standby.take(freshEnv);
    if (seq !== this.#seq || this.#closing) return void proc.kill('a newer save');
    this.#loading = proc;
    this.#stuck = undefined;
    const started = performance.now();
    // One inspector address for every generation: whoever holds it lets go before this load opens it.
    if (this.#o.inspect !== undefined) await Promise.all([...this.#all].filter((p) => p !== proc).map((p) => p.releaseInspector(1000)));
    const before = await fileVersions(changed);
    const result = await proc.load({
      mounts: this.#o.mounts,
      style: this.#o.style,
      strip: this.#o.strip,
      stuckMs: this.#o.timing.loadStuckMs,
      timeoutMs: this.#o.timing.loadTimeoutMs,
      blockedMs: this.#o.timing.blockedMs,
      inspect: this.#o.inspect,
      onStuck: () => {
        if (seq !== this.#seq) return;
        const s = this.#o.timing.loadStuckMs / 1000;
        this.#o.log.warn(`${stamp(this.#o.log)} ⚠ app load is taking more than ${s} s (stuck at an import or a top-level await?)`);
        // Held requests get this truth when their hold ends, never the old code.
        this.#stuck = `The app has been loading for more than ${s} s (stuck at an import or a top-level await?). Save a fix to try again.`;
      },
    });
    if (seq !== this.#seq || this.#closing) return void proc.kill('a newer save');
    this.#loading = undefined;
    this.#stuck = undefined;
    // Written to again while loading (a save still in progress): chokidar reports at most one
    // change per 50 ms, so the rest may never be reported. The finished file loads next.
    if ((await fileVersions(changed)) !== before) this.#queue(changed, false);
    if (seq !== this.#seq || this.#closing) return void proc.kill('a newer save');
    this.#busy = false;
    const again = this.#takeQueued();
    if (again !== undefined && !result.ok) {
      // Most likely a file read half-written: the last good code answers while the newest loads.
      proc.kill('a newer save');
      this.#release();
      return this.reload([...again.changed], again.fresh);
    }
    this.#install(proc, result, changed, started);
    if (again !== undefined) return this.reload([...again.changed], again.fresh);
    if (!this.#closing) this.#standby.fill();
  }

  #takeQueued(): { changed: Set<string>; fresh: boolean } | undefined {
    const queued = this.#again;
    this.#again = undefined;
    return queued;
  }

  /** Load these once the load under way is done. */
  #queue(changed: string[], freshEnv: boolean): void {
    const again = (this.#again ??= { changed: new Set(), fresh: false });
    for (const path of changed) again.changed.add(path);
    again.fresh ||= freshEnv;
  }

  /** Switch to a finished load (or its failure) and let held requests go. */
  #install(proc: AppProcess, result: LoadResult, changed: string[], started: number): void {
    const old = this.#current;
    if (result.ok) {
      this.#current = proc;
      proc.state = 'ready';
      this.#failure = undefined;
      this.#down = undefined;
      if (changed.length > 0) this.#backoff.reset();
    } else {
      this.#current = undefined;
      proc.kill('its load failed');
      if (result.kind === 'app') this.#failure = result.error;
      else this.#retry(`The app process could not start: ${result.error.message}`);
    }
    if (old !== undefined && old !== this.#current) old.drain(this.#o.timing.drainTimeoutMs);
    this.#o.onLoaded(result, changed, Math.round(performance.now() - started));
    this.#release();
  }

  /**
   * Keep a standby booted from now on (with `prewarm`). Called once the server listens and its
   * banner is out, so the standby's boot does not compete with the first requests' way in.
   */
  prewarm(): void {
    if (!this.#o.prewarm || this.#standby.enabled) return;
    this.#standby.enable();
    // A load under way spawns it when it is done: booting costs CPU the load needs.
    if (!this.#busy && !this.#closing) this.#standby.fill();
  }

  #spawn(): AppProcess {
    const env = this.#o.env();
    const proc = takeEarly(env, START_CWD) ?? new AppProcess({ id: this.#nextId, env, cwd: START_CWD });
    proc.place(this.#nextId);
    this.#nextId++;
    this.#all.add(proc);
    proc.onFatal = (error) => this.#o.log.error(`${stamp(this.#o.log)} ✖ ${error.title}: ${error.message}`);
    proc.onDeps = (deps) => this.#o.onDeps?.(deps);
    void proc.exited.then(({ how }) => {
      this.#all.delete(proc);
      this.#standby.forget(proc);
      if (proc !== this.#current || this.#closing || proc.endedOnPurpose !== undefined) return;
      this.#current = undefined;
      this.#retry(`The app process ${how}.`, `✖ app process crashed: ${how}`);
    });
    return proc;
  }

  /** Start again after a crash, sooner for a first crash, at most every ~30 s for a crash loop. */
  #retry(reason: string, line?: string): void {
    const delay = this.#backoff.next();
    const when = `restarting in ${formatDelay(delay)}`;
    this.#down = `${reason} It is ${when}.`;
    this.#o.log.error(`${stamp(this.#o.log)} ${line ?? `✖ ${reason}`} — ${when}`);
    setTimeout(() => {
      if (this.#current === undefined && !this.#busy && !this.#closing && this.#failure === undefined) void this.reload([]);
    }, delay).unref();
  }

  #checkHeartbeat(): void {
    const proc = this.#current;
    if (proc === undefined || proc.state !== 'ready' || this.#busy) return;
    const silent = Date.now() - proc.lastTick;
    if (silent < this.#o.timing.blockedMs) {
      if (this.#stoppedWarned === proc) this.#stoppedWarned = undefined;
      return;
    }
    if (this.#o.inspect !== undefined) {
      // The parent cannot tell a breakpoint from a busy loop without a debugger session of its
      // own; with --inspect the developer is at the debugger, so say it and let it be.
      if (this.#stoppedWarned === proc) return;
      this.#stoppedWarned = proc;
      this.#o.log.warn(`${stamp(this.#o.log)} ⚠ app event loop stopped for ${(silent / 1000).toFixed(1)} s (paused in the debugger?); --inspect is on, so it is not restarted`);
      return;
    }
    this.#o.log.warn(`${stamp(this.#o.log)} ⚠ app event loop blocked for ${(silent / 1000).toFixed(1)} s — starting a new app process`);
    this.#current = undefined;
    proc.kill('its event loop was blocked');
    void this.reload([]);
  }

  /** Stop: no restarts from here on; processes get SIGTERM, then SIGKILL after 2 s. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#heartbeat);
    this.#release();
    const procs = [...this.#all];
    for (const p of procs) p.kill('the server is stopping', 'SIGTERM');
    const timer = setTimeout(() => procs.forEach((p) => p.kill('the server is stopping')), 2000);
    await Promise.all(procs.map((p) => p.exited));
    clearTimeout(timer);
  }

  /** Synchronous last resort on process exit: no app process outlives the server. */
  killAll(): void {
    this.#closing = true;
    for (const p of this.#all) p.kill('the server exited');
  }
}

