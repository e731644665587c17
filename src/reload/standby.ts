// The prewarmed app process the next save loads into: booting Node and the TypeScript loader is
// most of a reload's time, so one process is booted ahead, and replaced when what it booted
// with went stale (a new environment, a start folder deleted and made again).
import type { AppProcess } from '../app/process.js';
import { folderId } from './versions.js';

export class Standby {
  #proc: AppProcess | undefined;
  /** dev:ino of the start folder when the newest process was spawned. */
  #cwd: string | undefined;
  /** Kept booted from the first enable() on: not while the server still starts. */
  #enabled = false;
  readonly #spawn: () => AppProcess;
  readonly #startCwd: string;

  /** `spawn` makes a new app process in `startCwd`; this pool only decides when. */
  constructor(spawn: () => AppProcess, startCwd: string) {
    this.#spawn = spawn;
    this.#startCwd = startCwd;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  enable(): void {
    this.#enabled = true;
  }

  /** Boot a standby if there is none (call when no load is under way: booting costs CPU a load needs). */
  fill(): void {
    if (this.#enabled) this.#proc ??= this.spawn();
  }

  /** A new process, noting the start folder it was spawned in. */
  spawn(): AppProcess {
    void folderId(this.#startCwd).then((id) => (this.#cwd = id));
    return this.#spawn();
  }

  /**
   * The process for a load: the standby, unless it is stale, else a new one. A standby booted in
   * a folder since deleted (and maybe made again) has lost its working directory, and Node's
   * loader can hang in it; one booted before the environment changed has the old environment.
   */
  async take(freshEnv: boolean): Promise<AppProcess> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc === undefined) return this.spawn();
    if (freshEnv || this.#cwd !== (await folderId(this.#startCwd))) {
      proc.kill(freshEnv ? 'the environment changed' : 'its folder was replaced');
      return this.spawn();
    }
    return proc;
  }

  /** A process exited: if it was the standby, there is none now. */
  forget(proc: AppProcess): void {
    if (proc === this.#proc) this.#proc = undefined;
  }
}
