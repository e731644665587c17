// Browser live reload: watch the served folder, announcing only what the exposure policy lets be
// read (nothing hidden, protected or an app's: its reload reloads the browser), and turn a burst
// of changes into one LiveEvent: stylesheets swapped, images refreshed, anything else a reload.
// A burst of new files only (uploads, a file made for later) is `added`: a page follows it only if it uses one.
import type { FSWatcher } from 'chokidar';
import { realpath } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import type { Exposure } from '../exposure/policy.js';
import type { LiveEvent } from './hub.js';

/**
 * A burst (an editor writing several files, a `git checkout`) is one event once this quiet.
 * A stylesheet that starts a batch is swapped at once instead (a swap is not a reload, so a
 * burst still reloads at most once, at its end); only what came after it waits.
 */
export const QUIET_MS = 25;
/** …but a long burst still shows something after this. */
export const MAX_WAIT_MS = 400;

const IMAGE = /\.(png|jpe?g|gif|webp|avif|svg|ico|bmp)$/i;
const EDITOR_NOISE = /(\.sw[px]|~|\.tmp|\.crswap)$/i;

export interface FolderWatchOptions {
  /** What may be read; its root is the folder watched. */
  exposure: Exposure;
  /** Poll instead of file events (network mounts, some containers). */
  poll: boolean;
  onEvent: (event: LiveEvent) => void;
  onError: (error: Error) => void;
}

export function classify(paths: readonly string[]): LiveEvent {
  if (paths.length > 0 && paths.every((p) => p.toLowerCase().endsWith('.css'))) return { type: 'css', paths: [...paths] };
  if (paths.length > 0 && paths.every((p) => IMAGE.test(p))) return { type: 'image', paths: [...paths] };
  return { type: 'reload' };
}

export class FolderWatcher {
  #watcher: Promise<FSWatcher>;
  #batch = new Set<string>();
  /** Paths of the batch that are new: first seen added, not removed since (written to is still new). */
  #added = new Set<string>();
  /** A stylesheet already swapped at the start of the current batch. */
  #leading: string | undefined;
  #quiet: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #ready: Promise<void>;
  readonly #opts: FolderWatchOptions;

  constructor(opts: FolderWatchOptions) {
    this.#opts = opts;
    // chokidar is loaded only when a folder is watched (--live), so a plain start does not pay for it.
    this.#watcher = import('chokidar').then(({ watch }) => this.#start(watch));
    this.#ready = this.#watcher.then((w) => new Promise((resolve) => w.once('ready', () => resolve())));
  }

  #start(watch: typeof import('chokidar').watch): FSWatcher {
    const opts = this.#opts;
    const root = opts.exposure.root;
    // node_modules is not watched for its size, not for exposure; what may be announced is the policy's.
    const skipped = (p: string): boolean => relative(root, p).split(sep).includes('node_modules') || !opts.exposure.mayRead(p);
    const watcher = watch(root, {
      ignoreInitial: true,
      ignored: (p: string) => skipped(p) || EDITOR_NOISE.test(p),
      usePolling: opts.poll,
      interval: 100,
      atomic: true,
      // A link leading out of the root (to /, to $HOME) must not be walked: nothing there is served.
      followSymlinks: false,
    });
    const on = (kind: 'add' | 'change' | 'unlink') => (path: string): void => this.#onChange(path, kind);
    watcher.on('add', on('add')).on('change', on('change')).on('unlink', on('unlink')).on('addDir', on('add')).on('unlinkDir', on('unlink'));
    watcher.on('error', (error: unknown) => {
      const code = (error as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EACCES') opts.onError(error instanceof Error ? error : new Error(String(error)));
    });
    return watcher;
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  /** Announce a change only when the policy lets the file be read (by its real path too: a link's target). */
  #onChange(path: string, kind: 'add' | 'change' | 'unlink'): void {
    if (!this.#opts.exposure.mayRead(path)) return;
    void realpath(path).then(
      (real) => this.#announce(path, real, kind),
      () => this.#announce(path, path, kind), // gone (an unlink): its path is all there is
    );
  }

  #announce(path: string, real: string, kind: 'add' | 'change' | 'unlink'): void {
    if (!this.#opts.exposure.mayRead(path, real)) return;
    const url = `/${relative(this.#opts.exposure.root, path).split(sep).join('/')}`;
    if (kind === 'add' && !this.#batch.has(url)) this.#added.add(url);
    if (kind === 'unlink') this.#added.delete(url);
    if (kind === 'change' && this.#batch.size === 0 && this.#deadline === undefined && url.toLowerCase().endsWith('.css')) {
      this.#opts.onEvent({ type: 'css', paths: [url] });
      this.#leading = url;
      this.#deadline = setTimeout(() => this.#flush(), MAX_WAIT_MS);
      this.#quiet = setTimeout(() => this.#flush(), QUIET_MS);
      return;
    }
    this.#batch.add(url);
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#flush(), QUIET_MS);
    this.#deadline ??= setTimeout(() => this.#flush(), MAX_WAIT_MS);
  }

  #flush(): void {
    clearTimeout(this.#quiet);
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    const leading = this.#leading;
    this.#leading = undefined;
    if (this.#batch.size === 0) return;
    const paths = [...this.#batch];
    const onlyAdded = leading === undefined && paths.every((p) => this.#added.has(p));
    this.#batch.clear();
    this.#added.clear();
    const event = onlyAdded ? { type: 'added' as const, paths } : classify(leading === undefined ? paths : [leading, ...paths]);
    this.#opts.onEvent(event);
  }

  async close(): Promise<void> {
    clearTimeout(this.#quiet);
    clearTimeout(this.#deadline);
    await (await this.#watcher).close();
  }
}
