// The AppTarget of a request, built once in the server from the decoded segments it routed on
// and the raw request target: the app process uses it and never re-matches mounts.
import type { IncomingMessage } from 'node:http';
import type { AppMount, AppTarget } from './contract.js';

/** The mount owning decoded path segments, longest prefix first (mounts are sorted so). */
export function matchSegments(mounts: readonly AppMount[], segments: readonly string[]): AppMount | undefined {
  return mounts.find((m) => m.segments.length <= segments.length && m.segments.every((s, i) => segments[i] === s));
}

/**
 * The path the app sees: the client's encoding kept, empty segments collapsed, the mount's
 * segments removed when `strip` (so `//api/x` and `/%61pi/x` both give "/x"), "?query" kept.
 */
export function appTargetPath(url: string, mount: AppMount, strip: boolean): string {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  const parts = rawPath.split('/').filter((s) => s !== '');
  const trailing = rawPath.endsWith('/') && parts.length > 0;
  const rest = strip ? parts.slice(mount.segments.length) : parts;
  let path = rest.length === 0 ? '' : `/${rest.join('/')}${trailing ? '/' : ''}`;
  if (rest.length === 0 && (trailing || !strip || mount.prefix === '')) path = '/';
  return `${path}${query}`;
}

export function buildTarget(req: IncomingMessage, mount: AppMount, strip: boolean): AppTarget {
  const address = req.socket.remoteAddress ?? '';
  return {
    mount,
    path: appTargetPath(req.url ?? '/', mount, strip),
    host: req.headers.host ?? 'localhost',
    scheme: 'http',
    clientAddress: address.startsWith('::ffff:') ? address.slice(7) : address,
    clientPort: req.socket.remotePort ?? 0,
  };
}
