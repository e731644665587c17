// Messages between the serve-here process and an app process (over the fork IPC channel).
import type { AppStyle } from '../options.js';
import type { AppErrorInfo } from './error-info.js';
import type { MountSpec } from './load.js';

export type ToChild =
  | { type: 'load'; mounts: MountSpec[]; style: AppStyle | undefined; socketPath: string; strip: boolean }
  | { type: 'drain' };

export type FromChild =
  | { type: 'booted' }
  | { type: 'ready'; mounts: Array<{ prefix: string; description: string }>; deps: string[]; ms: number }
  | { type: 'load-error'; error: AppErrorInfo; deps: string[] }
  | { type: 'request-error'; error: AppErrorInfo }
  | { type: 'tick' };

/** Headers the server adds for the app process, removed before the app sees the request. */
export const MOUNT_HEADER = 'x-serve-here-mount';
export const PEER_HEADER = 'x-serve-here-peer';
/** Marks an app process's own 500 answer for a thrown handler: the body is AppErrorInfo JSON. */
export const ERROR_HEADER = 'x-serve-here-error';
