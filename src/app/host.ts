// The serve-here side of app hosting with reload: app processes (generations), forwarding over
// a private Unix socket, holding requests during a reload, error pages, crash recovery.
import { fork, type ChildProcess } from 'node:child_process';
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import type { Options } from '../options.js';
import type { AppMountHandler, AppRouter } from '../server.js';
import type { Response } from '../response.js';
import { Watcher } from '../reload/watch.js';
import { matchMount, type MountSpec } from './load.js';
import { readEnvFile } from './env.js';
import { errorLine, relativeToRoot, sendAppError, type AppErrorInfo } from './error-info.js';
import { ERROR_HEADER, MOUNT_HEADER, PEER_HEADER, type FromChild, type ToChild } from './protocol.js';
import { sendError } from '../pages.js';

const WORKER = join(fileURLToPath(new URL('.', import.meta.url)), 'worker.js');
const SOURCE_EXT = /\.(m|c)?(j|t)sx?$/;
const CONFIG_FILES = ['package.json', 'tsconfig.json'];

export interface HostSettings {
  /** No response headers from the app within this → 504. */
  requestTimeoutMs: number;
  /** A draining process still alive after this is killed. */
  drainTimeoutMs: number;
  /** Requests held during a reload wait at most this long. */
  holdTimeoutMs: number;
  /** No heartbeat for this long → the app's event loop is blocked: replace the process. */
  blockedMs: number;
}

export const DEFAULT_SETTINGS: HostSettings = { requestTimeoutMs: 30_000, drainTimeoutMs: 10_000, holdTimeoutMs: 10_000, blockedMs: 3_000 };

interface Generation {
  id: number;
  child: ChildProcess;
  socketPath: string;
  agent: http.Agent;
  booted: Promise<boolean>;
  lastTick: number;
  state: 'standby' | 'loading' | 'ready' | 'draining' | 'dead';
  exited: Promise<void>;
  /** Requests (and upgraded connections) forwarded to this process and not yet finished. */
  inflight: number;
  onMessage?: (msg: FromChild) => void;
}

type LoadResult = { ok: true; ms: number; deps: string[]; mounts: Array<{ prefix: string; description: string }> } | { ok: false; error: AppErrorInfo; deps: string[] };

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export class AppHost implements AppRouter {
  readonly mounts: Array<MountSpec & { handler: AppMountHandler }>;
  #opts: Options;
  #root: string;
  #log: Logger;
  #settings: HostSettings;
  #dir = mkdtempSync(join(tmpdir(), 'serve-here-')); // mode 0700: only this user can reach the sockets
  #env: NodeJS.ProcessEnv;
  #nextId = 1;
  #current: Generation | undefined;
  #standby: Generation | undefined;
  #loading: Generation | undefined;
  #all = new Set<Generation>();
  #failure: AppErrorInfo | undefined;
  #crashed: string | undefined;
  #crashTimes: number[] = [];
  #hold: { promise: Promise<void>; resolve: () => void } | undefined;
  #graph = new Set<string>();
  #configFiles: Set<string>;
  #watcher: Watcher | undefined;
  #closing = false;
  #reloadSeq = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #descriptions: string[] = [];

  constructor(opts: Options, root: string, log: Logger, settings: HostSettings = DEFAULT_SETTINGS) {
    this.#opts = opts;
    this.#root = root;
    this.#log = log;
    this.#settings = settings;
    this.mounts = opts.apps
      .map((a) => {
        const file = resolve(a.file); // like every file argument: relative to the current folder
        const label = a.prefix === '' ? 'app' : a.prefix;
        const handler: AppMountHandler = { prefix: a.prefix, label, handle: (req, res) => void this.#forward(req, res, a.prefix) };
        return { prefix: a.prefix, file, handler };
      })
      .sort((a, b) => b.prefix.length - a.prefix.length);
    const envFile = opts.envFile === undefined ? undefined : resolve(opts.envFile);
    this.#env = { ...process.env, ...(envFile === undefined ? {} : readEnvFile(envFile)) };
    this.#configFiles = new Set([...CONFIG_FILES.map((f) => join(root, f)), ...(envFile === undefined ? [] : [envFile])]);
  }

  /** Start the first app process and the watcher; resolves when the app answered ready (or failed). */
  async start(): Promise<void> {
    if (this.#opts.watch) {
      this.#watcher = new Watcher({
        isRelevant: (p) => this.#isRelevant(p),
        onFirstEvent: () => this.#startHold(),
        onBatch: (paths) => void this.#reload(paths),
        onError: (e) => this.#log.warn(`watch: ${e.message}`),
      });
      this.#watcher.watchFiles([...this.mounts.map((m) => m.file), ...this.#configFiles]);
    }
    this.#startHold();
    await this.#reload([]);
    await this.#watcher?.ready();
    this.#heartbeat = setInterval(() => this.#checkHeartbeat(), 500);
    this.#heartbeat.unref();
  }

  describe(): string[] {
    return this.#descriptions;
  }

  match(path: string): AppMountHandler | undefined {
    return matchMount(this.mounts, path)?.handler;
  }

  isSource(realPath: string): boolean {
    return this.#graph.has(realPath) || this.mounts.some((m) => m.file === realPath);
  }

  // ---- watching and reloading ----------------------------------------------------------------

  #isRelevant(path: string): boolean {
    if (this.#graph.has(path) || this.#configFiles.has(path) || this.mounts.some((m) => m.file === path)) return true;
    // While broken, any source file nearby may be the fix (the failed load never reached it).
    return (this.#failure !== undefined || this.#current === undefined) && SOURCE_EXT.test(path);
  }

  #startHold(): void {
    this.#hold ??= deferred();
  }

  #releaseHold(): void {
    const hold = this.#hold;
    this.#hold = undefined;
    hold?.resolve();
  }

  async #reload(paths: string[]): Promise<void> {
    if (this.#closing) return;
    const seq = ++this.#reloadSeq;
    this.#startHold();
    if (paths.some((p) => this.#configFiles.has(p))) {
      // The standby read the environment and loader config at boot: start a fresh one.
      if (paths.some((p) => this.#opts.envFile !== undefined && p === resolve(this.#opts.envFile))) {
        try {
          this.#env = { ...process.env, ...readEnvFile(resolve(this.#opts.envFile ?? '')) };
        } catch (error) {
          this.#log.warn(`${this.#stamp()} ⚠ ${error instanceof Error ? error.message : String(error)}; keeping the previous environment`);
        }
      }
      if (this.#standby !== undefined) this.#kill(this.#standby);
      this.#standby = undefined;
    }
    if (this.#loading !== undefined) this.#kill(this.#loading); // the newest save wins
    const gen = this.#standby ?? this.#spawn();
    // The next standby boots after this load, not beside it: booting costs CPU the load needs.
    this.#standby = undefined;
    this.#loading = gen;
    const started = performance.now();
    const before = await fileVersions(paths);
    const result = await this.#load(gen);
    if (seq !== this.#reloadSeq || this.#closing) {
      this.#kill(gen);
      return;
    }
    this.#loading = undefined;
    if ((await fileVersions(paths)) !== before) {
      // Written to again while loading (a save still in progress): chokidar reports at most one
      // change per 50 ms, so the rest may never be reported. Load the finished file instead.
      this.#kill(gen);
      return this.#reload(paths);
    }
    const first = paths.length === 0 && this.#descriptions.length === 0 && this.#failure === undefined;
    const old = this.#current;
    const changed = paths[0] === undefined ? undefined : basename(paths[0]);
    for (const d of result.deps) this.#graph.add(d);
    if (result.ok) {
      this.#graph = new Set(result.deps);
      this.#current = gen;
      gen.state = 'ready';
      this.#failure = undefined;
      this.#crashed = undefined;
      this.#watcher?.watchFiles(result.deps);
      const ms = Math.round(performance.now() - started);
      if (this.#descriptions.length === 0) {
        this.#descriptions = result.mounts.map((m) => `${this.#fileFor(m.prefix)} → ${m.prefix || '/'} (${m.description}), ready in ${ms} ms`);
      }
      if (!first) this.#log.info(`${this.#stamp()} ↻ ${changed === undefined ? 'app' : `${changed} changed →`} reloaded in ${ms} ms`);
    } else {
      this.#failure = result.error;
      this.#current = undefined;
      this.#kill(gen);
      if (result.error.file !== undefined) this.#watcher?.watchFiles([result.error.file]);
      this.#watcher?.watchFiles(result.deps);
      this.#reportFailure(result.error);
    }
    if (old !== undefined && old !== this.#current) this.#drain(old);
    this.#releaseHold();
    if (this.#opts.watch && !this.#closing) this.#standby ??= this.#spawn();
  }

  #fileFor(prefix: string): string {
    const m = this.mounts.find((x) => x.prefix === prefix);
    return m === undefined ? '?' : relativeToRoot(m.file, this.#root);
  }

  #reportFailure(error: AppErrorInfo): void {
    const frame = error.frame === undefined ? '' : `\n${error.frame.replace(/^/gm, '    ')}`;
    this.#log.error(`${this.#stamp()} ${errorLine(error, this.#root)}${frame}`);
    this.#log.warn(`    app routes answer 500 with this error until you save a fix; static files are still served`);
  }

  #stamp(): string {
    const d = new Date();
    const p = (n: number): string => String(n).padStart(2, '0');
    return this.#log.colors.dim(`${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`);
  }

  // ---- app processes -------------------------------------------------------------------------

  #spawn(): Generation {
    const id = this.#nextId++;
    const child = fork(WORKER, [], {
      execArgv: ['--enable-source-maps'],
      env: this.#env,
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      cwd: this.#root,
    });
    const booted = deferredValue<boolean>();
    const gen: Generation = {
      id,
      child,
      socketPath: join(this.#dir, `app-${id}.sock`),
      agent: new http.Agent({ keepAlive: true, maxSockets: 256 }),
      booted: booted.promise,
      lastTick: Date.now(),
      state: 'standby',
      exited: new Promise((r) => child.once('exit', () => r())),
      inflight: 0,
    };
    // A failed fork or a send on a channel that just closed: the exit handler does the rest.
    child.on('error', (error) => this.#log.warn(`${this.#stamp()} ⚠ app process: ${error.message}`));
    this.#all.add(gen);
    child.on('message', (msg: FromChild) => {
      gen.lastTick = Date.now();
      if (msg.type === 'booted') booted.resolve(true);
      else if (msg.type === 'request-error') this.#reportRequestError(msg.error);
      gen.onMessage?.(msg);
    });
    child.once('exit', (code, signal) => {
      booted.resolve(false);
      const wasCurrent = gen === this.#current;
      const state = gen.state;
      gen.state = 'dead';
      gen.agent.destroy();
      this.#all.delete(gen);
      rmSync(gen.socketPath, { force: true });
      if (gen === this.#standby) this.#standby = undefined;
      if (wasCurrent && !this.#closing && state === 'ready') this.#onCrash(code, signal);
    });
    return gen;
  }

  #load(gen: Generation): Promise<LoadResult> {
    return new Promise((resolve) => {
      const fail = (message: string): void =>
        resolve({ ok: false, deps: [], error: { title: 'App process failed to start', message, stack: undefined, file: undefined, line: undefined, column: undefined, frame: undefined } });
      gen.exited.then(() => fail('The app process exited while loading the app (see the terminal for its output)'));
      // An import that never settles (a top-level await that hangs, a loop at import) must not
      // leave requests waiting forever: give up, kill the process, show the error.
      const timer = setTimeout(() => {
        fail(`Loading the app took longer than ${this.#settings.requestTimeoutMs / 1000} s (a top-level await or a loop at import?)`);
        gen.child.kill('SIGKILL');
      }, this.#settings.requestTimeoutMs);
      timer.unref();
      void gen.exited.then(() => clearTimeout(timer));
      gen.onMessage = (msg) => {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          resolve({ ok: true, ms: msg.ms, deps: msg.deps, mounts: msg.mounts });
        }
        else if (msg.type === 'load-error') {
          clearTimeout(timer);
          resolve({ ok: false, error: msg.error, deps: msg.deps });
        }
      };
      gen.state = 'loading';
      void gen.booted.then((ok) => {
        if (!ok) return;
        const load: ToChild = {
          type: 'load',
          mounts: this.mounts.map((m) => ({ prefix: m.prefix, file: m.file })),
          style: this.#opts.appStyle,
          socketPath: gen.socketPath,
          strip: this.#opts.stripPrefix,
        };
        gen.child.send(load);
      });
    });
  }

  /**
   * Retire a process once the requests forwarded to it have finished. The server decides, not
   * the app process: a process that closed its idle connections itself could reset a request
   * the server had just written on one of them.
   */
  #drain(gen: Generation): void {
    if (gen.state === 'dead') return;
    gen.state = 'draining';
    const timer = setTimeout(() => gen.child.kill('SIGKILL'), this.#settings.drainTimeoutMs);
    timer.unref();
    void gen.exited.then(() => clearTimeout(timer));
    this.#retireIfIdle(gen);
  }

  #retireIfIdle(gen: Generation): void {
    if (gen.state !== 'draining' || gen.inflight > 0) return;
    gen.agent.destroy();
    if (gen.child.connected) gen.child.send({ type: 'drain' } satisfies ToChild);
  }

  #track(gen: Generation): () => void {
    gen.inflight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      gen.inflight--;
      this.#retireIfIdle(gen);
    };
  }

  #kill(gen: Generation): void {
    if (gen.state !== 'dead') gen.child.kill('SIGKILL');
  }

  #onCrash(code: number | null, signal: NodeJS.Signals | null): void {
    this.#current = undefined;
    const now = Date.now();
    this.#crashTimes = [...this.#crashTimes.filter((t) => now - t < 10_000), now];
    const how = signal !== null ? `killed by ${signal}` : `exited with code ${code ?? '?'}`;
    const again = this.#crashTimes.length <= 3;
    this.#crashed = `The app process ${how}.`;
    this.#log.error(`${this.#stamp()} ✖ app process crashed: ${how} — ${again ? 'restarting' : 'waiting for a change (static files are still served)'}`);
    if (!again) return;
    const delay = 100 * 2 ** (this.#crashTimes.length - 1);
    setTimeout(() => {
      if (this.#current === undefined && this.#loading === undefined && !this.#closing) void this.#reload([]);
    }, delay).unref();
  }

  #checkHeartbeat(): void {
    const gen = this.#current;
    if (gen === undefined || gen.state !== 'ready' || this.#loading !== undefined) return;
    const silent = Date.now() - gen.lastTick;
    if (silent < this.#settings.blockedMs) return;
    this.#log.warn(`${this.#stamp()} ⚠ app event loop blocked for ${(silent / 1000).toFixed(1)} s — starting a new app process`);
    this.#current = undefined;
    gen.state = 'draining';
    gen.child.kill('SIGKILL');
    void this.#reload([]);
  }

  #reportRequestError(error: AppErrorInfo): void {
    this.#log.error(`${this.#stamp()} ${errorLine(error, this.#root)}`);
  }

  // ---- forwarding ----------------------------------------------------------------------------

  async #forward(req: IncomingMessage, res: Response, prefix: string): Promise<void> {
    if (this.#hold !== undefined) {
      const hold = this.#hold.promise;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([hold, new Promise<void>((r) => (timer = setTimeout(r, this.#settings.holdTimeoutMs)))]);
      clearTimeout(timer);
    }
    if (res.destroyed) return; // the client left while its request was held
    const gen = this.#current;
    if (gen === undefined) return this.#answerDown(req, res);
    const finished = this.#track(gen);
    const peer = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`;
    const headers: http.OutgoingHttpHeaders = { ...req.headers, [MOUNT_HEADER]: prefix, [PEER_HEADER]: peer };
    delete headers.connection;
    delete headers['keep-alive'];
    const upstream = http.request({ socketPath: gen.socketPath, agent: gen.agent, method: req.method, path: req.url, headers });
    const timer = setTimeout(() => {
      upstream.destroy();
      if (!res.headersSent) {
        this.#log.warn(`${this.#stamp()} ⚠ ${req.method ?? 'GET'} ${req.url ?? '/'} got no response in ${this.#settings.requestTimeoutMs / 1000} s → 504 (app still running)`);
        sendError(res, 504, `The app did not respond within ${this.#settings.requestTimeoutMs / 1000} s.`);
      }
    }, this.#settings.requestTimeoutMs);
    res.once('close', () => {
      clearTimeout(timer);
      finished();
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('response', (answer) => {
      clearTimeout(timer);
      if (answer.headers[ERROR_HEADER] !== undefined) {
        let body = '';
        answer.setEncoding('utf8');
        answer.on('data', (c: string) => (body += c));
        answer.on('end', () => {
          let info: AppErrorInfo | undefined;
          try {
            info = JSON.parse(body) as AppErrorInfo;
          } catch {
            info = undefined;
          }
          this.#sendAppError(req, res, 500, info, 'The request handler threw; the app process lives on.');
        });
        return;
      }
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding' && value !== undefined) out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
      if (answer.headers['content-length'] === undefined) res.flushHeaders(); // streamed bodies (SSE) start now
      answer.on('data', (chunk: Buffer) => {
        res.bytes += chunk.length;
        if (!res.write(chunk)) {
          answer.pause();
          res.once('drain', () => answer.resume());
        }
      });
      answer.on('end', () => res.end());
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', () => {
      clearTimeout(timer);
      if (res.writableEnded) return; // already answered (the 504 above destroys the upstream)
      if (res.headersSent) return void res.destroy();
      if (!res.writableEnded) {
        this.#sendAppError(req, res, 502, undefined, this.#crashed ?? 'The app process went away while answering this request.');
      }
    });
    // A request without a body (most GETs) needs no stream plumbing.
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) upstream.end();
    else req.pipe(upstream);
  }

  #answerDown(req: IncomingMessage, res: Response): void {
    if (this.#failure !== undefined) return this.#sendAppError(req, res, 500, this.#failure, 'App routes answer this until you save a fix; static files are still served.');
    const why = this.#crashed ?? 'The app is not running.';
    res.setHeader('Retry-After', '1');
    this.#sendAppError(req, res, 503, undefined, `${why} It restarts on its own or when you save a change; static files are still served.`);
  }

  #sendAppError(req: IncomingMessage, res: Response, status: number, info: AppErrorInfo | undefined, note: string): void {
    sendAppError(req, res, { status, info, note, root: this.#root });
  }


  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const mount = matchMount(this.mounts, (req.url ?? '/').split('?')[0] ?? '/');
    const gen = this.#current;
    if (mount === undefined || gen === undefined) return false;
    const upstream = net.connect(gen.socketPath);
    const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] ?? '';
      const lower = name.toLowerCase();
      if (lower === MOUNT_HEADER || lower === PEER_HEADER) continue; // never the client's to set
      lines.push(`${name}: ${req.rawHeaders[i + 1] ?? ''}`);
    }
    lines.push(`${MOUNT_HEADER}: ${mount.prefix}`, `${PEER_HEADER}: ${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket).pipe(upstream);
    const finished = this.#track(gen);
    const end = (): void => {
      upstream.destroy();
      socket.destroy();
      finished();
    };
    upstream.on('error', end);
    socket.on('error', end);
    upstream.on('close', end);
    socket.on('close', end);
    // The client went away (FIN): the server socket allows half-open, so nothing else would close the pair.
    socket.on('end', end);
    return true;
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#heartbeat);
    this.#releaseHold();
    await this.#watcher?.close();
    const gens = [...this.#all];
    for (const g of gens) g.child.kill('SIGTERM');
    const timer = setTimeout(() => gens.forEach((g) => g.child.kill('SIGKILL')), 2000);
    await Promise.all(gens.map((g) => g.exited));
    clearTimeout(timer);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** Synchronous last resort on process exit: no app process outlives the server. */
  killAll(): void {
    for (const g of this.#all) g.child.kill('SIGKILL');
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Size and mtime of each file, as one string to compare before and after a load. */
async function fileVersions(paths: string[]): Promise<string> {
  const parts = await Promise.all(
    paths.map((p) =>
      stat(p).then(
        (st) => `${st.size}:${st.mtimeMs}`,
        () => 'missing',
      ),
    ),
  );
  return parts.join('|');
}

function deferredValue<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Timeouts can be shortened for tests through the environment (milliseconds). */
export function settingsFromEnv(): HostSettings {
  const num = (name: string, fallback: number): number => {
    const v = Number(process.env[name]);
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    requestTimeoutMs: num('SERVE_HERE_APP_TIMEOUT_MS', DEFAULT_SETTINGS.requestTimeoutMs),
    drainTimeoutMs: num('SERVE_HERE_DRAIN_TIMEOUT_MS', DEFAULT_SETTINGS.drainTimeoutMs),
    holdTimeoutMs: DEFAULT_SETTINGS.holdTimeoutMs,
    blockedMs: num('SERVE_HERE_BLOCKED_MS', DEFAULT_SETTINGS.blockedMs),
  };
}
