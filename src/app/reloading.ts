// The forwarding backend (watch mode): the watcher feeds the supervisor, requests go to the
// current app process through the proxy, and every way that can fail becomes a true page.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { basename, resolve } from 'node:path';
import { stamp, type Logger } from '../log.js';
import type { Options } from '../options.js';
import type { ServeResponse } from '../serve-response.js';
import { Watcher } from '../reload/watch.js';
import { Supervisor } from '../reload/supervisor.js';
import type { Timing } from '../reload/timing.js';
import type { AppTarget } from './contract.js';
import { readEnvFile } from './env.js';
import { errorLine, relativeToRoot, sendAppError, startupFailureLine, type AppErrorInfo } from './error-info.js';
import type { LoadResult } from './process.js';
import { forward, forwardUpgrade } from './proxy.js';
import type { AppBackend } from './router.js';

const SOURCE_EXT = /\.(m|c)?(j|t)sx?$/;

export interface ReloadingOptions {
  opts: Options;
  root: string;
  log: Logger;
  timing: Timing;
  /** Files whose change means a fresh process (config and the env file), real paths. */
  configFiles: Set<string>;
  env: () => NodeJS.ProcessEnv;
}

/** How long after the banner the standby app process is booted. */
const PREWARM_DELAY_MS = 500;

export class ReloadingBackend implements AppBackend {
  #o: ReloadingOptions;
  #supervisor: Supervisor;
  #watcher: Watcher | undefined;
  #graph = new Set<string>();
  #descriptions: string[] = [];
  #files: string[];
  #env: NodeJS.ProcessEnv;
  /** The last load failed: the next good one says `recovered`. */
  #broken = false;
  /** Lines held until the banner is out (a failed first load), or undefined once it is. */
  #afterBanner: Array<() => void> | undefined = [];

  constructor(o: ReloadingOptions) {
    this.#o = o;
    this.#env = o.env();
    this.#files = o.opts.apps.map((a) => resolve(a.file));
    this.#supervisor = new Supervisor({
      mounts: o.opts.apps.map((a) => ({ prefix: a.prefix, file: resolve(a.file) })),
      style: o.opts.appStyle,
      strip: o.opts.stripPrefix,
      env: () => this.#env,
      log: o.log,
      timing: o.timing,
      prewarm: o.opts.watch,
      inspect: o.opts.inspect,
      onLoaded: (result, changed, ms) => this.#onLoaded(result, changed, ms),
      onDeps: (deps) => this.#learn(deps),
    });
  }

  /** Start the first app process and the watcher; resolves once the app is ready or failed. */
  async start(): Promise<void> {
    // The app process is spawned first (synchronously, in reload's first step): it boots while
    // the watcher sets up.
    const first = this.#supervisor.reload([]); // bounded by the load watchdog
    if (this.#o.opts.watch) {
      this.#watcher = new Watcher({
        isRelevant: (p) => this.#isRelevant(p),
        onFirstEvent: () => this.#supervisor.hold(),
        onBatch: (paths) => this.#onBatch(paths),
        onError: (e) => this.#o.log.warn(`watch: ${e.message}`),
      });
      this.#watcher.watchFiles([...this.#files, ...this.#o.configFiles]);
    }
    await first;
    await this.#watcher?.ready();
  }

  /** Listeners told after each save-caused reload (browser live reload). */
  readonly #reloadListeners: Array<(ok: boolean) => void> = [];

  onReload(listener: (ok: boolean) => void): void {
    this.#reloadListeners.push(listener);
  }

  /** Listeners told each file the apps' graphs gain (the exposure policy). */
  readonly #fileListeners: Array<(files: readonly string[]) => void> = [];

  onAppFiles(listener: (files: readonly string[]) => void): void {
    this.#fileListeners.push(listener);
    listener([...this.#graph]);
  }

  /** Files imported after a load (lazily): part of the graph, watched, never served. */
  #learn(deps: readonly string[]): void {
    const fresh = deps.filter((d) => !this.#graph.has(d));
    if (fresh.length === 0) return;
    for (const d of fresh) this.#graph.add(d);
    this.#watcher?.watchFiles(fresh);
    for (const l of this.#fileListeners) l(fresh);
  }

  describe(): string[] {
    return this.#descriptions;
  }

  /**
   * The banner is out: say what happened at start-up (a failed first load) under it, and boot the
   * standby a little later. Spawning it forks this process and its boot takes a CPU: right after
   * the banner, that delayed the first requests by 25–30 ms (bench/README.md). A save before then
   * spawns a process at once, as it would without a standby.
   */
  afterBanner(): void {
    setTimeout(() => this.#supervisor.prewarm(), PREWARM_DELAY_MS).unref();
    const held = this.#afterBanner ?? [];
    this.#afterBanner = undefined;
    for (const say of held) say();
  }

  /** Say it now, or after the banner when start-up is still under way. */
  #say(line: () => void): void {
    if (this.#afterBanner === undefined) line();
    else this.#afterBanner.push(line);
  }

  #isRelevant(path: string): boolean {
    if (this.#graph.has(path) || this.#o.configFiles.has(path) || this.#files.includes(path)) return true;
    // While broken, any source file nearby may be the fix (the failed load never reached it).
    return this.#supervisor.broken && SOURCE_EXT.test(path);
  }

  #onBatch(paths: string[]): void {
    const envFile = this.#o.opts.envFile === undefined ? undefined : resolve(this.#o.opts.envFile);
    if (envFile !== undefined && paths.includes(envFile)) {
      try {
        this.#env = { ...this.#o.env(), ...readEnvFile(envFile) };
      } catch (error) {
        this.#o.log.warn(`${stamp(this.#o.log)} ⚠ ${error instanceof Error ? error.message : String(error)}; keeping the previous environment`);
      }
    }
    // The standby read the environment and loader config at boot: a change to those (not to an
    // app's own module, which the config set also holds for hiding) needs a fresh one.
    const fresh = paths.some((p) => p === envFile || ((basename(p) === 'package.json' || basename(p) === 'tsconfig.json') && this.#o.configFiles.has(p)));
    void this.#supervisor.reload(paths, fresh);
  }

  #onLoaded(result: LoadResult, changed: string[], ms: number): void {
    for (const l of this.#fileListeners) l(result.deps);
    for (const d of result.deps) this.#graph.add(d);
    // The new code already answers (or its error page does): now browsers may reload.
    if (changed.length > 0) for (const l of this.#reloadListeners) l(result.ok);
    // A save after start-up: whatever was held for the banner goes out first (and nothing more is held).
    if (changed.length > 0) this.afterBanner();
    const log = this.#o.log;
    const wasBroken = this.#broken;
    this.#broken = !result.ok;
    if (result.ok) {
      this.#graph = new Set(result.deps);
      this.#watcher?.watchFiles(result.deps);
      if (this.#descriptions.length === 0) {
        this.#descriptions = result.mounts.map((m) => `${this.#fileFor(m.prefix)} → ${m.prefix || '/'} (${m.description}), ready in ${ms} ms`);
        const debug = this.#debuggerLine(result.debuggerUrl);
        if (debug !== undefined) this.#descriptions.push(debug);
        if (changed.length === 0) return;
      }
      const first = changed[0];
      const what = first === undefined ? 'app' : `${basename(first)} changed →`;
      if (wasBroken && first !== undefined) log.info(`${stamp(log)} ${log.colors.green('✔')} ${what} recovered in ${ms} ms`);
      else log.info(`${stamp(log)} ↻ ${what} reloaded in ${ms} ms`);
      const debug = this.#debuggerLine(result.debuggerUrl);
      if (debug !== undefined) log.info(`    ${debug}`);
      return;
    }
    if (result.error.file !== undefined) this.#watcher?.watchFiles([result.error.file]);
    this.#watcher?.watchFiles(result.deps);
    if (result.kind === 'process') return; // the supervisor said it and retries
    const frame = result.error.frame === undefined ? '' : `\n${result.error.frame.replace(/^/gm, '    ')}`;
    const error = result.error;
    if (this.#afterBanner !== undefined) {
      // At start-up: one line per app under the banner, never above it.
      const label = this.#o.opts.apps.length === 1 ? this.#o.opts.apps[0]?.prefix || '/' : this.#o.opts.apps.map((a) => a.prefix || '/').join(', ');
      this.#say(() => {
        log.error(`${startupFailureLine(label, error, this.#o.root)}${frame}`);
        log.warn(`    app routes answer 500 with this error until you save a fix; static files are still served`);
      });
      return;
    }
    log.error(`${stamp(log)} ${errorLine(error, this.#o.root)}${frame}`);
    log.warn(`    app routes answer 500 with this error until you save a fix; static files are still served`);
  }

  /** `debugger: ws://127.0.0.1:9229/… (chrome://inspect)` with --inspect; the URL changes with each process, the address does not. */
  #debuggerLine(url: string | undefined): string | undefined {
    const at = this.#o.opts.inspect;
    if (at === undefined) return undefined;
    if (url === undefined) return `debugger: could not listen on ${at.host}:${at.port} (in use by another program?)`;
    return `debugger: ${url} (or open chrome://inspect)`;
  }

  #fileFor(prefix: string): string {
    const a = this.#o.opts.apps.find((x) => x.prefix === prefix);
    return a === undefined ? '?' : relativeToRoot(resolve(a.file), this.#o.root);
  }

  handle(req: IncomingMessage, res: ServeResponse, target: AppTarget): Promise<void> {
    return this.#handle(req, res, target);
  }

  async #handle(req: IncomingMessage, res: ServeResponse, target: AppTarget): Promise<void> {
    const state = await this.#supervisor.state();
    if (res.destroyed) return; // the client left while its request was held
    if (state.kind === 'failed') return this.#page(req, res, 500, state.error, 'App routes answer this until you save a fix; static files are still served.');
    if (state.kind === 'down') {
      res.setHeader('Retry-After', '1');
      return this.#page(req, res, 503, undefined, `${state.reason} Static files are still served.`);
    }
    const proc = state.proc;
    // With --inspect a request may wait at a breakpoint for as long as the developer looks.
    const timeoutMs = this.#o.opts.inspect === undefined ? this.#o.timing.requestTimeoutMs : 2 ** 31 - 1;
    const outcome = await forward(req, res, target, proc, timeoutMs);
    const log = this.#o.log;
    const what = `${req.method ?? 'GET'} ${req.url ?? '/'}`;
    switch (outcome.kind) {
      case 'answered':
        return;
      case 'app-error': {
        const status = outcome.answer?.status ?? 500;
        const info = outcome.answer?.info;
        if (info !== undefined) log.error(`${stamp(log)} ${errorLine(info, this.#o.root)}`);
        const note = status === 502 ? 'The app returned something that is not a valid HTTP answer.' : 'The request handler threw; the app process lives on.';
        return this.#page(req, res, status, info, note);
      }
      case 'timeout':
        if (res.headersSent) return void res.destroy();
        log.warn(`${stamp(log)} ⚠ ${what} got no response in ${timeoutMs / 1000} s → 504 (app still running)`);
        return this.#page(req, res, 504, undefined, `The app did not respond within ${timeoutMs / 1000} s.`);
      case 'failed': {
        if (res.writableEnded || res.destroyed) return;
        if (outcome.headersSent) return void res.destroy();
        const cut = proc.endedOnPurpose;
        if (cut !== undefined && cut.includes('drain timeout')) log.warn(`${stamp(log)} ⚠ ${what} was cut: the old app process was stopped after ${cut}`);
        else log.warn(`${stamp(log)} ⚠ ${what}: the app process gave no valid answer → 502`);
        return this.#page(req, res, 502, undefined, cut === undefined ? 'The app process went away or sent a broken answer.' : `The app process was stopped (${cut}).`);
      }
    }
  }

  #page(req: IncomingMessage, res: ServeResponse, status: number, info: AppErrorInfo | undefined, note: string): void {
    if (res.destroyed || res.writableEnded) return;
    sendAppError(req, res, { status, info, note, root: this.#o.root });
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: AppTarget): boolean | 'unavailable' {
    const proc = this.#supervisor.current();
    // No process answers now (restarting after a crash, or a broken load): a WebSocket client told
    // 404 would take the endpoint for gone; 503 says try again.
    if (proc === undefined) return 'unavailable';
    forwardUpgrade(req, socket, head, target, proc);
    return true;
  }

  async close(): Promise<void> {
    await this.#watcher?.close();
    await this.#supervisor.close();
  }

  killAll(): void {
    this.#supervisor.killAll();
  }
}
