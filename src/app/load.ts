// Import the user's app modules (TypeScript through tsx) and find their handlers.
import { pathToFileURL, fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AppStyle } from '../options.js';
import { detectApp, type DetectedApp } from './detect.js';

export interface MountSpec {
  prefix: string;
  /** Absolute path of the module. */
  file: string;
}

/** An optional `export function upgrade(req, socket, head)`: WebSocket upgrades at the mount. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface LoadedMount {
  prefix: string;
  file: string;
  app: DetectedApp;
  upgrade: UpgradeHandler | undefined;
}

/** Files an app loaded, outside node_modules: what the watcher must watch, and never served. */
export const importedFiles = new Set<string>();

const importListeners: Array<(file: string) => void> = [];

/** Call `listener` with each file imported from now on (a module the app loads lazily, at a request). */
export function onImported(listener: (file: string) => void): void {
  importListeners.push(listener);
}

function noteImported(file: string): void {
  if (importedFiles.has(file)) return;
  importedFiles.add(file);
  for (const l of importListeners) l(file);
}

/** Add the files loaded through require() (tsx compiles a .ts file without "type": "module" as CommonJS). */
export function collectRequired(): void {
  for (const file of Object.keys(createRequire(import.meta.url).cache)) {
    if (!file.includes('/node_modules/') && !file.includes('\\node_modules\\')) noteImported(file);
  }
}

let registered = false;

/**
 * Register tsx's loader (ESM and CJS) once per process, so `.ts`, `.mts`, `.cts` and `.tsx`
 * import with no build step on Node 20, and so every imported file is reported for watching.
 */
export async function registerLoader(): Promise<void> {
  if (registered) return;
  registered = true;
  const esm = await import('tsx/esm/api');
  esm.register({
    onImport(url: string) {
      if (url.startsWith('file:') && !url.includes('/node_modules/')) noteImported(fileURLToPath(url));
    },
  });
  const cjs = await import('tsx/cjs/api');
  cjs.register();
}

/** Import each mount's module and detect its convention; throws the module's own error. */
export async function loadMounts(mounts: MountSpec[], style: AppStyle | undefined): Promise<LoadedMount[]> {
  await registerLoader();
  const loaded: LoadedMount[] = [];
  for (const m of mounts) {
    noteImported(m.file);
    const mod = namedExports((await import(pathToFileURL(m.file).href)) as Record<string, unknown>);
    const upgrade = typeof mod.upgrade === 'function' ? (mod.upgrade as UpgradeHandler) : undefined;
    loaded.push({ prefix: m.prefix, file: m.file, app: detectApp(mod, m.file, style), upgrade });
  }
  collectRequired();
  // Longest prefix first, so /api/v2 wins over /api.
  return loaded.sort((a, b) => b.prefix.length - a.prefix.length);
}

/**
 * A TypeScript file that tsx compiled to CommonJS (no "type": "module") imports as
 * `{ default: module.exports }` only: its named exports (`wsgi`, `fetch`, `upgrade`) are on
 * module.exports, which esbuild marks `__esModule`. Use that object as the module then.
 */
function namedExports(ns: Record<string, unknown>): Record<string, unknown> {
  const cjs = ns.default;
  return typeof cjs === 'object' && cjs !== null && (cjs as { __esModule?: unknown }).__esModule === true ? (cjs as Record<string, unknown>) : ns;
}
