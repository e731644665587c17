// What the serve-here process and an app process say to each other: IPC messages for the
// process's life (boot, load, drain, a fatal error), and one header per forwarded request that
// carries the server's routing decision (the AppTarget) over the channel (channel.ts).
import type { IncomingMessage } from 'node:http';
import type { AppStyle, InspectAddress } from '../options.js';
import type { AppTarget } from './contract.js';
import type { AppErrorInfo } from './error-info.js';
import type { MountSpec } from './load.js';

export type ToChild =
  | { type: 'load'; mounts: MountSpec[]; style: AppStyle | undefined; strip: boolean; inspect: InspectAddress | undefined }
  | { type: 'drain' }
  /** Let go of the inspector port (the next process takes the same address). */
  | { type: 'inspector-close' };

export type FromChild =
  | { type: 'booted' }
  | { type: 'ready'; mounts: Array<{ prefix: string; description: string }>; deps: string[]; ms: number }
  | { type: 'load-error'; error: AppErrorInfo; deps: string[] }
  /** Files the app imported after it was ready (lazily, at a request): never served either. */
  | { type: 'deps'; deps: string[] }
  /** An error outside any request (an unhandled rejection): the process exits right after. */
  | { type: 'fatal'; error: AppErrorInfo }
  | { type: 'tick' }
  /** The inspector's ws:// URL, or undefined when the port could not be had. */
  | { type: 'inspector'; url: string | undefined }
  | { type: 'inspector-closed' };

/** The server's decision for one request, set by the server and removed before the app sees it. */
export const TARGET_HEADER = 'x-serve-here-target';
/**
 * The one channel for a request's error: the app process answers with this header and an
 * `ErrorAnswer` JSON body; the server logs it and renders the page. Never sent to a client.
 */
export const ERROR_HEADER = 'x-serve-here-error';

/** Headers that describe one connection, not the request: the hop to the app process has its own. */
export const HOP_HEADERS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

/**
 * What the hop does not carry as the client sent it: the connection headers, and a body's
 * framing (node sends a POST without a body as chunked). The app process swaps the client's back.
 */
export const CLIENT_ONLY: ReadonlySet<string> = new Set([...HOP_HEADERS, 'content-length', 'transfer-encoding']);

/** The client's HTTP version and CLIENT_ONLY headers, for the target; undefined for HTTP/1.1 with none. */
export function clientHop(req: IncomingMessage): WireTarget['hop'] {
  let hop: WireTarget['hop'] = req.httpVersion === '1.1' ? undefined : { version: req.httpVersion, headers: [] };
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    if (CLIENT_ONLY.has(name.toLowerCase())) (hop ??= { version: req.httpVersion, headers: [] }).headers.push(name, req.rawHeaders[i + 1] as string);
  }
  return hop;
}

export interface ErrorAnswer {
  status: number;
  info: AppErrorInfo;
}

/** The parts of an AppTarget the app process needs (the mount is named by its prefix). */
export interface WireTarget {
  prefix: string;
  path: string;
  host: string;
  scheme: 'http' | 'https';
  clientAddress: string;
  clientPort: number;
  /**
   * What the hop replaces of the client's request (clientHop): its HTTP version and its
   * CLIENT_ONLY headers (raw name/value pairs), so a WSGI environ shows the client's, as in
   * process. Absent when the client's request was HTTP/1.1 with none of them.
   */
  hop?: { version: string; headers: string[] } | undefined;
}

export function encodeTarget(t: AppTarget, hop?: WireTarget['hop']): string {
  const wire: WireTarget = { prefix: t.mount.prefix, path: t.path, host: t.host, scheme: t.scheme, clientAddress: t.clientAddress, clientPort: t.clientPort, hop };
  // base64url: a header value must be plain ASCII, and the path may hold any byte the client sent.
  return Buffer.from(JSON.stringify(wire)).toString('base64url');
}

export function decodeTarget(value: string | string[] | undefined): WireTarget | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const t = JSON.parse(Buffer.from(value, 'base64url').toString()) as Partial<WireTarget>;
    if (typeof t.prefix !== 'string' || typeof t.path !== 'string' || typeof t.host !== 'string') return undefined;
    const hop = typeof t.hop === 'object' && t.hop !== null && typeof t.hop.version === 'string' && Array.isArray(t.hop.headers) ? { version: t.hop.version, headers: t.hop.headers.map(String) } : undefined;
    return { prefix: t.prefix, path: t.path, host: t.host, scheme: t.scheme === 'https' ? 'https' : 'http', clientAddress: String(t.clientAddress ?? ''), clientPort: Number(t.clientPort ?? 0), hop };
  } catch {
    return undefined;
  }
}
