// Browser live reload: watch the served folder with the serving rules (no node_modules, no
// .git, no hidden files unless --dotfiles, nothing an app owns) and turn a burst of changes into
// one LiveEvent: stylesheets swapped, images refreshed, anything else a reload. A burst of new
// files only (uploads, a file made for later) is `added`: a page follows it only if it uses one.
import type { FSWatcher } from 'chokidar';
import { relative, sep } from 'node:path';
import type { LiveEvent } from './hub.js';
import { isUploadTemp } from '../share/upload-names.js';

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
  root: string;
  dotfiles: boolean;
  /** Poll instead of file events (network mounts, some containers). */
  poll: boolean;
  /** Files an app owns: its reload, not this watcher, reloads the browser (after the new code serves). */
  isAppFile: (path: string) => boolean;
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
    const hidden = (p: string): boolean => {
      const rel = relative(opts.root, p);
      if (rel === '') return false;
      return rel.split(sep).some((seg) => seg === 'node_modules' || seg === '.git' || (!opts.dotfiles && seg.startsWith('.')));
    };
    const watcher = watch(opts.root, {
      ignoreInitial: true,
      ignored: (p: string) => hidden(p) || EDITOR_NOISE.test(p) || isUploadTemp(p),
      usePolling: opts.poll,
      interval: 100,
      atomic: true,
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

  #onChange(path: string, kind: 'add' | 'change' | 'unlink'): void {
    if (this.#opts.isAppFile(path)) return;
    const url = `/${relative(this.#opts.root, path).split(sep).join('/')}`;
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
