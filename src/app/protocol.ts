// What the serve-here process and an app process say to each other: IPC messages for the
// process's life (boot, load, drain, a fatal error), and one header per forwarded request that
// carries the server's routing decision (the AppTarget) over the channel (channel.ts).
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
}

export function encodeTarget(t: AppTarget): string {
  const wire: WireTarget = { prefix: t.mount.prefix, path: t.path, host: t.host, scheme: t.scheme, clientAddress: t.clientAddress, clientPort: t.clientPort };
  // base64url: a header value must be plain ASCII, and the path may hold any byte the client sent.
  return Buffer.from(JSON.stringify(wire)).toString('base64url');
}

export function decodeTarget(value: string | string[] | undefined): WireTarget | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const t = JSON.parse(Buffer.from(value, 'base64url').toString()) as Partial<WireTarget>;
    if (typeof t.prefix !== 'string' || typeof t.path !== 'string' || typeof t.host !== 'string') return undefined;
    return { prefix: t.prefix, path: t.path, host: t.host, scheme: t.scheme === 'https' ? 'https' : 'http', clientAddress: String(t.clientAddress ?? ''), clientPort: Number(t.clientPort ?? 0) };
  } catch {
    return undefined;
  }
}
