// chokidar, narrowed: watch the folders holding the app's files (not the served tree), report
// changes to the files that matter, in debounced batches.
import { watch, type FSWatcher } from 'chokidar';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Events closer together than this form one batch (a formatter or `git checkout` touching many
 * files reloads once). chokidar reports at most one `change` per path per 50 ms, so a batch can
 * start while a file is still being written; the host compares each file's size and mtime
 * before and after loading and loads again if they moved (research/reload.md §4.3).
 */
export const DEBOUNCE_MS = 25;

export interface WatchOptions {
  /** Called at once on the first relevant event of a batch (requests start waiting for new code). */
  onFirstEvent: (path: string) => void;
  /** Called once the batch has been quiet for DEBOUNCE_MS. */
  onBatch: (paths: string[]) => void;
  /** Decides whether a changed path matters. */
  isRelevant: (path: string) => boolean;
  onError: (error: Error) => void;
}

function inode(dir: string): number {
  try {
    return statSync(dir).ino;
  } catch {
    return -1;
  }
}

const IGNORED = /(^|[\\/])(node_modules|\.git)([\\/]|$)|\.sw[px]$|~$|\.tmp$/;

export class Watcher {
  #watcher: FSWatcher;
  /** Watched folders and their inode: a folder deleted and made again is a new folder to the OS. */
  #dirs = new Map<string, number>();
  #gone = new Map<string, NodeJS.Timeout>();
  #batch = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #ready: Promise<void>;
  readonly #opts: WatchOptions;

  constructor(opts: WatchOptions) {
    this.#opts = opts;
    // depth 0: each watched folder alone; atomic saves (temp + rename) come out as one change.
    this.#watcher = watch([], { ignoreInitial: true, depth: 0, atomic: true, ignored: (p: string) => IGNORED.test(p) });
    this.#ready = new Promise((resolve) => this.#watcher.once('ready', () => resolve()));
    const onEvent = (path: string): void => this.#onEvent(path);
    this.#watcher.on('change', onEvent).on('add', onEvent);
    this.#watcher.on('unlink', (path: string) => {
      this.#checkDir(dirname(path));
      onEvent(path);
    });
    this.#watcher.on('unlinkDir', (dir: string) => this.#onDirGone(dir));
    this.#watcher.on('error', (error: unknown) => {
      const code = (error as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') opts.onError(error instanceof Error ? error : new Error(String(error)));
    });
  }

  /** Make sure the folders of these files are watched. */
  watchFiles(files: Iterable<string>): void {
    const add: string[] = [];
    for (const f of files) {
      const d = dirname(f);
      if (!this.#dirs.has(d) && !IGNORED.test(d)) {
        this.#dirs.set(d, inode(d));
        add.push(d);
      }
    }
    if (add.length > 0) this.#watcher.add(add);
  }

  /**
   * A watched folder was deleted: the OS watch is gone with it, and a folder made again at the
   * same path is not watched. Look for it every 500 ms; when it is back, watch it and report it
   * as a change (its files may be new).
   */
  #onDirGone(dir: string): void {
    if (!this.#dirs.has(dir) || this.#gone.has(dir)) return;
    const timer = setInterval(() => {
      if (!existsSync(dir)) return;
      clearInterval(timer);
      this.#gone.delete(dir);
      this.#checkDir(dir);
      this.#report(dir);
    }, 500);
    timer.unref();
    this.#gone.set(dir, timer);
  }

  /** Deleted and made again quickly (no unlinkDir seen): watch the new folder at that path. */
  #checkDir(dir: string): void {
    const known = this.#dirs.get(dir);
    const now = inode(dir);
    if (known === undefined || now === -1 || now === known) return;
    this.#dirs.set(dir, now);
    this.#watcher.unwatch(dir);
    this.#watcher.add(dir);
  }

  #onEvent(path: string): void {
    if (this.#opts.isRelevant(path)) this.#report(path);
  }

  #report(path: string): void {
    if (this.#batch.size === 0) this.#opts.onFirstEvent(path);
    this.#batch.add(path);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const paths = [...this.#batch];
      this.#batch.clear();
      this.#opts.onBatch(paths);
    }, DEBOUNCE_MS);
  }

  /** Resolves once the initial scan of the watched folders is done. */
  ready(): Promise<void> {
    return this.#ready;
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    for (const timer of this.#gone.values()) clearInterval(timer);
    await this.#watcher.close();
  }
}
