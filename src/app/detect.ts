// Decide which calling convention an app module's exports follow (fetch, node or wsgi).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import type { AppStyle } from '../options.js';

export type FetchHandler = (request: Request, info: FetchInfo) => Response | Promise<Response>;
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type WsgiApp = (environ: Record<string, unknown>, startResponse: StartResponse) => unknown;
export type StartResponse = (status: string, headers: Array<[string, string]>, excInfo?: unknown) => (chunk: string | Uint8Array) => void;

/** The fetch handler's second argument. `remoteAddr` follows Deno's ServeHandlerInfo. */
export interface FetchInfo {
  remoteAddr: { transport: 'tcp'; hostname: string; port: number };
  /** The mount prefix ("" at the root, "/api" for `--app /api=api.ts`). */
  prefix: string;
}

export type DetectedApp =
  | { style: 'fetch'; handler: FetchHandler; description: string }
  | { style: 'node'; handler: NodeHandler; description: string }
  | { style: 'wsgi'; handler: WsgiApp; description: string };

/** The module has no handler: the error points at the user's module, never at this file. */
export class AppShapeError extends Error {
  readonly file: string;
  constructor(message: string, file: string) {
    super(message);
    this.file = file;
  }
}

type Loose = Record<string, unknown>;
const isFn = (v: unknown): v is (...args: unknown[]) => unknown => typeof v === 'function';
const isObj = (v: unknown): v is Loose => (typeof v === 'object' && v !== null) || typeof v === 'function';

/**
 * Find the handler in a module namespace. Order: --app-style, a named `wsgi` export, anything
 * with a `fetch` method (default export object, Hono, Workers-style), Koa's `callback()`,
 * Express/Connect (`handle` + `use`), polka (`handler` + `listen`), then a default function by
 * arity (two or more parameters → node, else fetch). Arbitrary names are probed only on the
 * namespace itself, which is never a Proxy (itty-router's AutoRouter answers every name).
 */
export function detectApp(mod: Loose, file: string, forced?: AppStyle): DetectedApp {
  const candidates: Array<[unknown, string]> = [
    [mod.default, 'default export'],
    // tsx and CJS interop put a CommonJS-compiled module's default export at default.default.
    [isObj(mod.default) ? mod.default.default : undefined, 'default export'],
    [mod, 'module'],
  ];
  if (forced === 'wsgi' || (forced === undefined && isFn(mod.wsgi))) {
    const fn = isFn(mod.wsgi) ? mod.wsgi : isFn(mod.default) ? mod.default : undefined;
    if (fn !== undefined) return { style: 'wsgi', handler: fn as WsgiApp, description: `WSGI-style: ${isFn(mod.wsgi) ? 'export function wsgi' : 'default export'}` };
  }
  for (const [value, where] of candidates) {
    if (value === undefined || value === null) continue;
    if (forced !== 'node' && isObj(value) && isFn(value.fetch)) {
      const fetch = value.fetch.bind(value) as FetchHandler;
      return { style: 'fetch', handler: fetch, description: `fetch handler: ${where === 'module' ? 'export function fetch' : `${where} { fetch }`}` };
    }
    if (forced === 'fetch') {
      if (isFn(value) && where !== 'module') return { style: 'fetch', handler: value as FetchHandler, description: `fetch handler: ${where} function` };
      continue;
    }
    if (where === 'module') continue;
    if (!isFn(value) && isObj(value) && isFn(value.callback)) {
      return { style: 'node', handler: value.callback.call(value) as NodeHandler, description: `node (req, res): ${where} Koa app` };
    }
    if (isFn(value) && isFn((value as unknown as Loose).handle) && isFn((value as unknown as Loose).use)) {
      return { style: 'node', handler: value as NodeHandler, description: `node (req, res): ${where} Express/Connect app` };
    }
    if (isObj(value) && isFn(value.handler) && isFn(value.listen)) {
      return { style: 'node', handler: value.handler.bind(value) as NodeHandler, description: `node (req, res): ${where} polka app` };
    }
    if (isFn(value)) {
      if (forced === 'node' || value.length >= 2) return { style: 'node', handler: value as NodeHandler, description: `node (req, res): ${where} function` };
      return { style: 'fetch', handler: value as FetchHandler, description: `fetch handler: ${where} function` };
    }
  }
  const names = Object.keys(mod);
  const found = names.length === 0 ? 'no exports' : `exports ${names.map((n) => `"${n}"`).join(', ')}`;
  const shape = forced === undefined ? '' : ` as --app-style ${forced}`;
  throw new AppShapeError(
    `${basename(file)} has no request handler${shape} (found ${found}). Export one of: ` +
      'a fetch handler (`export default { fetch(request) { return new Response("hi") } }` or `export default (request) => Response`), ' +
      'a Node listener (`export default (req, res) => res.end("hi")`, or an Express/Connect app), ' +
      'or a WSGI-style `export function wsgi(environ, startResponse)`',
    file,
  );
}
