// One app process: spawn it (prewarmed with the loader), load the apps, know when it is ready,
// drain it, kill it. It knows nothing of HTTP or of the other generations.
import { fork, type ChildProcess } from 'node:child_process';
import type http from 'node:http';
import type { Socket } from 'node:net';
import { Channel } from './channel.js';
import { fileURLToPath } from 'node:url';
import type { AppStyle, InspectAddress } from '../options.js';
import type { AppErrorInfo } from './error-info.js';
import type { MountSpec } from './load.js';
import type { FromChild, ToChild } from './protocol.js';
import { guardEvents, type Scope } from '../guard.js';
import { fault, FAULTS_ON } from '../fault.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

/**
 * Node flags of every app process: a 1 MiB V8 semi-space (young generation), so a process does
 * not keep 16–32 MiB of it. (Source maps are switched on by child.ts once its own modules are
 * in, so only the app's files pay for them.)
 */
const APP_FLAGS = ['--max-semi-space-size=1'];

export type ProcessState = 'standby' | 'loading' | 'ready' | 'draining' | 'dead';

export type LoadResult =
  | { ok: true; ms: number; deps: string[]; mounts: Array<{ prefix: string; description: string }>; debuggerUrl: string | undefined }
  /** The app's own error (a syntax error, a throw at import): waits for a save. */
  | { ok: false; kind: 'app'; error: AppErrorInfo; deps: string[] }
  /** The process died or never started: worth another try. */
  | { ok: false; kind: 'process'; error: AppErrorInfo; deps: string[] };

export interface SpawnOptions {
  id: number;
  env: NodeJS.ProcessEnv;
  /** The folder serve-here was started from, never the served folder (data an app writes stays out of it). */
  cwd: string;
}

export interface LoadOptions {
  mounts: MountSpec[];
  style: AppStyle | undefined;
  strip: boolean;
  /** Say the load is slow once it has taken this long. */
  stuckMs: number;
  onStuck: () => void;
  /** Give up (and kill) after this long, or after this long without a heartbeat. */
  timeoutMs: number;
  blockedMs: number;
  /** Open the inspector here first; and never kill a load that stops (it may be paused in the debugger). */
  inspect: InspectAddress | undefined;
}

/** How a process ended: "exited with code 3", "killed by SIGKILL", "failed to start: …". */
export type ExitInfo = { how: string };

export class AppProcess {
  /** Set by the supervisor (see place()); a process spawned early has none yet. */
  id: number;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  state: ProcessState = 'standby';
  lastTick = Date.now();
  /** Requests and upgraded connections forwarded to this process and not yet finished. */
  inflight = 0;
  /** Set when the server ended this process on purpose (a reload, the drain timeout, a stop). */
  endedOnPurpose: string | undefined;
  /** App connections pinned to client connections (see proxy.ts), closed when this process retires. */
  readonly agents = new Set<http.Agent>();
  /** The connections to the app, all over one socket pair (the child's fd 4; see channel.ts). */
  readonly channel: Channel;
  onFatal: ((error: AppErrorInfo) => void) | undefined;
  /** Files the app imported after it was ready. */
  onDeps: ((deps: string[]) => void) | undefined;
  /** The inspector's ws:// URL once open (--inspect). */
  debuggerUrl: string | undefined;
  /** This process was asked to open the inspector: it may hold the port. */
  #inspecting = false;
  #inspectorClosed: (() => void) | undefined;
  #booted: Promise<boolean>;
  #onMessage: ((msg: FromChild) => void) | undefined;

  constructor(opts: SpawnOptions) {
    this.id = opts.id;
    // detached: its own process group, so the terminal's Ctrl-C (SIGINT to the whole group)
    // reaches only the server, which then lets in-flight app requests finish.
    this.child = fork(CHILD, [], { execArgv: APP_FLAGS, env: opts.env, cwd: opts.cwd, stdio: ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'], detached: true });
    const transport = this.child.stdio[4] as Socket;
    // The channel's callbacks (frame decoding) run guarded (src/guard.ts): what escapes them ends
    // this app process (its requests get 502, the supervisor starts another), never the server.
    guardEvents(transport, new ChannelScope(this));
    if (FAULTS_ON) transport.on('data', (chunk: Buffer) => fault('channel', chunk));
    this.channel = new Channel(transport);
    this.channel.onBroken = (reason) => {
      this.onFatal?.({ title: 'The app process broke its connection to the server', message: `${reason} (does something in the app write to file descriptor 4?)`, stack: undefined, file: undefined, line: undefined, column: undefined, frame: undefined });
      // Not kill(): this is a crash, not an end on purpose, so the supervisor restarts it.
      this.child.kill('SIGKILL');
    };
    let resolveBoot!: (ok: boolean) => void;
    this.#booted = new Promise((r) => (resolveBoot = r));
    let resolveExit!: (e: ExitInfo) => void;
    this.exited = new Promise((r) => (resolveExit = r));
    const ended = (how: string): void => {
      if (this.state === 'dead') return;
      this.state = 'dead';
      resolveBoot(false);
      // Not the agents' destroy(): a stream whose answer fully arrived may still be going out to a
      // slow client; the channel resets only the streams with nothing left to read.
      this.agents.clear();
      this.channel.lose();
      resolveExit({ how });
    };
    // Every way a child can end: `exit`, or `error` with no `exit` ever (a fork that failed,
    // e.g. its folder vanished), or `close` alone.
    this.child.once('exit', (code, signal) => ended(signal !== null ? `killed by ${signal}` : `exited with code ${code ?? '?'}`));
    this.child.once('close', (code) => ended(`exited with code ${code ?? '?'}`));
    this.child.on('error', (error) => {
      // A send on a channel that just closed (EPIPE) after a kill says nothing new: ignored.
      if (this.child.pid === undefined || !this.child.connected) ended(`failed to start: ${error.message}`);
    });
    this.child.on('message', (msg: FromChild) => {
      this.lastTick = Date.now();
      if (msg.type === 'booted') resolveBoot(true);
      else if (msg.type === 'inspector') this.debuggerUrl = msg.url;
      else if (msg.type === 'inspector-closed') this.#inspectorClosed?.();
      else if (msg.type === 'fatal') this.onFatal?.(msg.error);
      else if (msg.type === 'deps') this.onDeps?.(msg.deps);
      this.#onMessage?.(msg);
    });
  }

  /**
   * Whether this process keeps the server's event loop alive (its child, IPC and channel
   * handles). A process spawned early does not until adopted, so a usage error still exits at once.
   */
  keepAlive(on: boolean): void {
    for (const handle of [this.child, this.child.channel, this.channel]) {
      if (on) handle?.ref();
      else handle?.unref();
    }
  }

  /** Give the process its number (a process spawned early gets it when adopted). */
  place(id: number): void {
    this.id = id;
  }

  /** Import the apps in this process; resolves once it serves, or with why it could not. */
  load(opts: LoadOptions): Promise<LoadResult> {
    this.state = 'loading';
    return new Promise((resolve) => {
      const fail = (kind: 'app' | 'process', title: string, message: string): void => {
        resolve({ ok: false, kind, deps: [], error: { title, message, stack: undefined, file: undefined, line: undefined, column: undefined, frame: undefined } });
      };
      const started = Date.now();
      let warned = false;
      const watchdog = setInterval(() => {
        const now = Date.now();
        if (!warned && now - started >= opts.stuckMs) {
          warned = true;
          opts.onStuck();
        }
        if (opts.inspect !== undefined) return; // silence may be a breakpoint: the user is at the debugger
        if (now - this.lastTick >= Math.max(opts.blockedMs, opts.stuckMs)) {
          fail('app', 'The app blocked its event loop while loading', `No sign of life for ${Math.round((now - this.lastTick) / 1000)} s while importing the app (a loop at import?)`);
          this.kill('the app blocked while loading');
        } else if (now - started >= opts.timeoutMs) {
          fail('app', 'The app did not finish loading', `Loading the app took longer than ${opts.timeoutMs / 1000} s (a top-level await that never settles?)`);
          this.kill('the load timed out');
        }
      }, 100);
      watchdog.unref();
      void this.exited.then(({ how }) => {
        clearInterval(watchdog);
        fail('process', 'App process failed to start', `The app process ${how} while loading the app (see the terminal for its output)`);
      });
      this.#onMessage = (msg) => {
        if (msg.type === 'ready') resolve({ ok: true, ms: msg.ms, deps: msg.deps, mounts: msg.mounts, debuggerUrl: this.debuggerUrl });
        else if (msg.type === 'load-error') resolve({ ok: false, kind: 'app', error: msg.error, deps: msg.deps });
        else return;
        clearInterval(watchdog);
        this.#onMessage = undefined;
      };
      void this.#booted.then((ok) => {
        this.#inspecting = opts.inspect !== undefined;
        if (ok) this.#send({ type: 'load', mounts: opts.mounts, style: opts.style, strip: opts.strip, inspect: opts.inspect });
      });
    });
  }

  /**
   * Free the inspector port for the next process (--inspect keeps one address across reloads).
   * A process paused at a breakpoint cannot answer: after `ms` it is killed, which frees it too.
   */
  async releaseInspector(ms: number): Promise<void> {
    if (!this.#inspecting || this.state === 'dead') return;
    const closed = new Promise<void>((r) => (this.#inspectorClosed = r));
    this.#send({ type: 'inspector-close' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
    const outcome = await Promise.race([closed, this.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.kill('a reload while it was paused in the debugger');
      await this.exited;
    }
    this.#inspecting = false;
    this.debuggerUrl = undefined;
  }

  /** Stop taking new requests; exit once the forwarded ones finished, or be killed after `timeoutMs`. */
  drain(timeoutMs: number): void {
    if (this.state === 'dead') return;
    this.state = 'draining';
    const timer = setTimeout(() => this.kill(`the ${timeoutMs / 1000} s drain timeout`), timeoutMs);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
    this.retireIfIdle();
  }

  /** The server decides when a draining process goes, not the process: it knows what is in flight. */
  retireIfIdle(): void {
    if (this.state !== 'draining' || this.inflight > 0) return;
    for (const agent of this.agents) agent.destroy();
    this.#send({ type: 'drain' });
  }

  /** Count one forwarded request; call the returned function once when it is over. */
  track(): () => void {
    this.inflight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inflight--;
      this.retireIfIdle();
    };
  }

  kill(why: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.state === 'dead') return;
    this.endedOnPurpose ??= why;
    this.child.kill(signal);
  }

  #send(msg: ToChild): void {
    if (this.child.connected) this.child.send(msg, () => {}); // a callback: a closed channel is not an 'error'
  }
}

/** An app process's channel as a scope of the last-resort boundary: a failure ends the process. */
class ChannelScope implements Scope {
  readonly log = undefined;
  readonly #proc: AppProcess;

  constructor(proc: AppProcess) {
    this.#proc = proc;
  }

  name(): string {
    return `the channel to app process ${this.#proc.id}`;
  }

  end(): string {
    // Not kill(): that marks an end on purpose, and the supervisor would not start another.
    this.#proc.child.kill('SIGKILL');
    return 'app process stopped and restarted; its requests get 502';
  }
}

