// The AppRouter the server uses, the same in both modes: mounts, the apps' files for the exposure
// policy, and the hand-off of a routed request to a backend (app processes with reload, or in process).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { dirname, join, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { APP_CONFIG_NAMES } from '../exposure/policy.js';
import type { Options } from '../options.js';
import type { ServeResponse } from '../serve-response.js';
import type { AppMount, AppRouter, AppTarget } from './contract.js';
import { setForwardedHeaders } from './forwarded.js';
import { failRequest } from '../guard.js';

/** What a mode provides: running the apps. Routing and proxy headers are the router's. */
export interface AppBackend {
  /** Answer one request; the router catches what its promise rejects with. */
  handle(req: IncomingMessage, res: ServeResponse, target: AppTarget): Promise<void>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: AppTarget): boolean | 'unavailable';
  /** The files of the apps' module graphs (real paths): those known now, then each one learnt later. */
  onAppFiles(listener: (files: readonly string[]) => void): void;
  describe(): string[];
  afterBanner?(): void;
  close(): Promise<void>;
  onReload?(listener: (ok: boolean) => void): void;
}

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
 * Files whose change restarts the apps besides their modules: each app file, the loader config
 * (package.json, tsconfig.json, …) next to each app and at the served root, the --env-file.
 * Real paths. (What is never served is the exposure policy's: src/exposure/.)
 */
export function configFiles(opts: Options, root: string): Set<string> {
  const files = new Set<string>();
  for (const a of opts.apps) {
    const file = realOrResolved(a.file);
    files.add(file);
    for (const c of APP_CONFIG_NAMES) files.add(join(dirname(file), c));
  }
  for (const c of APP_CONFIG_NAMES) files.add(join(root, c));
  if (opts.envFile !== undefined) files.add(realOrResolved(opts.envFile));
  return files;
}

export class Router implements AppRouter {
  readonly mounts: readonly AppMount[];
  #backend: AppBackend;
  /** The entry files: app files even when their first load failed. */
  readonly #entries: string[];

  constructor(opts: Options, backend: AppBackend) {
    this.mounts = mountsFor(opts);
    this.#backend = backend;
    this.#entries = opts.apps.map((a) => realOrResolved(a.file));
  }

  onAppFiles(listener: (files: readonly string[]) => void): void {
    listener(this.#entries);
    this.#backend.onAppFiles(listener);
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

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: AppTarget): boolean | 'unavailable' {
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
