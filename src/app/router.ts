// The AppRouter the server uses, the same in both modes: mounts, what is never served, and the
// hand-off of a routed request to a backend (app processes with reload, or in process).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { dirname, join, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import type { Options } from '../options.js';
import type { ServeResponse } from '../serve-response.js';
import type { AppMount, AppRouter, AppTarget } from './contract.js';
import { setForwardedHeaders } from './forwarded.js';
import { failRequest } from '../guard.js';

/** What a mode provides: running the apps. Routing, hiding and proxy headers are the router's. */
export interface AppBackend {
  /** Answer one request; the router catches what its promise rejects with. */
  handle(req: IncomingMessage, res: ServeResponse, target: AppTarget): Promise<void>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: AppTarget): boolean;
  /** Files of the apps' module graphs (real paths). */
  isHidden(realPath: string): boolean;
  describe(): string[];
  afterBanner?(): void;
  close(): Promise<void>;
  onReload?(listener: (ok: boolean) => void): void;
}

const CONFIG_FILES = ['package.json', 'tsconfig.json'];

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Mounts for the options' apps, longest prefix first. */
export function mountsFor(opts: Options): AppMount[] {
  return opts.apps
    .map((a) => ({ prefix: a.prefix, segments: a.prefix.split('/').filter((s) => s !== ''), label: a.prefix === '' ? 'app' : a.prefix }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
}

/**
 * Files never served or listed besides the module graphs: each app file, package.json and
 * tsconfig.json next to each app and at the served root, the --env-file. Real paths.
 */
export function configFiles(opts: Options, root: string): Set<string> {
  const files = new Set<string>();
  for (const a of opts.apps) {
    const file = realOrResolved(a.file);
    files.add(file);
    for (const c of CONFIG_FILES) files.add(join(dirname(file), c));
  }
  for (const c of CONFIG_FILES) files.add(join(root, c));
  if (opts.envFile !== undefined) files.add(realOrResolved(opts.envFile));
  return files;
}

export class Router implements AppRouter {
  readonly mounts: readonly AppMount[];
  #backend: AppBackend;
  #hidden: Set<string>;

  constructor(opts: Options, root: string, backend: AppBackend) {
    this.mounts = mountsFor(opts);
    this.#backend = backend;
    this.#hidden = configFiles(opts, root);
  }

  isHidden(realPath: string): boolean {
    return this.#hidden.has(realPath) || this.#backend.isHidden(realPath);
  }

  handle(req: IncomingMessage, res: ServeResponse, target: AppTarget): Promise<void> {
    res.via = target.mount.label;
    // runApp() sets the proxy headers, in this process or the app process. "Never rejects" holds
    // here, whatever a backend does: its failure ends this request alone (src/guard.ts).
    try {
      return this.#backend.handle(req, res, target).catch((error: unknown) => failRequest(res, error));
    } catch (error) {
      failRequest(res, error);
      return Promise.resolve();
    }
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: AppTarget): boolean {
    setForwardedHeaders(req, { ...target, prefix: target.mount.prefix });
    return this.#backend.upgrade(req, socket, head, target);
  }

  onReload(listener: (ok: boolean) => void): void {
    this.#backend.onReload?.(listener);
  }

  describe(): string[] {
    return this.#backend.describe();
  }

  afterBanner(): void {
    this.#backend.afterBanner?.();
  }

  close(): Promise<void> {
    return this.#backend.close();
  }
}
