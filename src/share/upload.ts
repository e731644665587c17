// Answers one upload (`PUT /folder/name`): checks first, then streams the body to a hidden temp
// file, fsyncs it and links it into place without ever overwriting.
//
// Entry point:
//   receiveUpload(req, res, opts: UploadOptions): Promise<void>
// The caller (route/respond) has passed the gate and decoded the path; `opts.segments` are the
// folders then the file name. The promise settles once the response is sent or the client is
// gone; it never rejects. Register the same handler for the server's `checkContinue` event:
// this module sends `100 Continue` itself, and only after every check passed, so `curl -T`
// (which sends `Expect: 100-continue`) never starts a body that would be refused.
//
// Answers: 201 Created with `Location` (the final, percent-encoded path) and a one-line body
// `Saved as "<folder/name>" (<bytes> bytes)`. A taken name is never replaced: the file is saved
// as `name (1).ext`, `name (2).ext`, … (the browser page reports the renaming; a script sees it in
// `Location`). Refusals: 400 bad name, 403 cross-site / refused by the exposure policy (hidden,
// protected, a page, app code) / compressed sibling,
// 409 target is a folder (or a path part is a file), 413 over `maxBytes`, 507 no space.
// Refusals before the body carry `Connection: close` so the client can stop sending.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath, rmdir, statfs, unlink } from 'node:fs/promises';
import { sep } from 'node:path';
import { isInside } from '../static/resolve.js';
import type { Exposure } from '../exposure/policy.js';
import { checkUploadSegments, isCrossSite, tempNameFor, type Refusal } from './upload-names.js';
import { errorCode, linkNoOverwrite, TooLarge, writeBody } from './upload-store.js';

/**
 * Default `--max-upload`: 1 GiB. Large enough for phone videos and photo folders (files are sent
 * one by one), small enough that a stranger on the LAN with the token cannot fill a laptop's disk
 * with one request; raise it with `--max-upload` when sharing bigger files on purpose.
 */
export const DEFAULT_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
/**
 * Free space kept beyond the upload's size, so an upload never leaves the disk completely full:
 * 64 MiB, or 1% of the file system when that is smaller (a small USB stick or test tmpfs).
 */
export const FREE_SPACE_MARGIN_BYTES = 64 * 1024 * 1024;

export interface UploadOptions {
  /** What may be written; its root is the served folder (real path). */
  exposure: Exposure;
  /** Decoded path segments of the target: folders, then the file name. */
  segments: readonly string[];
  /** Largest accepted body, in bytes (`--max-upload`). */
  maxBytes: number;
  /** The request's own `Host` (as validated by the gate): an `Origin` naming another host is refused. */
  selfHost: string;
}

/** Answer one upload request. Never rejects; never leaves a partial file behind. */
export async function receiveUpload(req: IncomingMessage, res: ServerResponse, opts: UploadOptions): Promise<void> {
  try {
    const plan = await planUpload(req, opts);
    if ('status' in plan) return refuse(res, plan, true);
    await storeUpload(req, res, plan, opts);
  } catch {
    // Unexpected (EACCES, EIO, …): the temp file is already gone; say so without details.
    if (!res.headersSent && !res.destroyed) refuse(res, { status: 500, reason: 'Upload failed' }, true);
    else res.destroy();
  }
}

interface Plan {
  /** Real path of the deepest existing folder. */
  base: string;
  /** Folders still to create under `base`. */
  missing: string[];
  name: string;
  declared: number | null;
}

/** Every check that can be made before reading the body. */
async function planUpload(req: IncomingMessage, opts: UploadOptions): Promise<Plan | Refusal> {
  if (isCrossSite(req.headers, opts.selfHost)) return { status: 403, reason: 'Cross-site uploads are not allowed' };
  const bad = checkUploadSegments(opts.segments);
  if (bad !== null) return bad;
  const root = opts.exposure.root;
  // The policy, first on the path as asked (no file system work for a refused name), then below
  // on the real path once the existing folders are resolved.
  const asked = opts.exposure.writeRefusal(`${root}${root.endsWith(sep) ? '' : sep}${opts.segments.join(sep)}`);
  if (asked !== undefined) return { status: 403, reason: asked };
  const declared = declaredLength(req);
  if (declared === 'bad') return { status: 400, reason: 'Invalid Content-Length' };
  if (declared !== null && declared > opts.maxBytes) return { status: 413, reason: `Upload larger than the ${formatBytes(opts.maxBytes)} limit` };

  const folders = opts.segments.slice(0, -1);
  const name = opts.segments[opts.segments.length - 1] as string;
  // Walk down the existing folders, realpath'ing each: a link may lead elsewhere inside the root,
  // never outside it and never into a hidden folder (`.git` through a link included).
  let base = root;
  let i = 0;
  for (; i < folders.length; i++) {
    const next = `${base}${sep}${folders[i] as string}`;
    let real: string;
    try {
      real = await realpath(next);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') break;
      if (errorCode(error) === 'ENOTDIR') return { status: 409, reason: 'A part of the upload path is a file' };
      throw error;
    }
    if (!isInside(root, real)) return { status: 403, reason: 'Upload path leads outside the shared folder' };
    if (!opts.exposure.mayRead(next, real)) return { status: 403, reason: 'Upload path leads into a hidden or protected folder' };
    const st = await lstat(real);
    if (!st.isDirectory()) return { status: 409, reason: 'A part of the upload path is a file' };
    base = real;
  }
  const missing = folders.slice(i);
  if (missing.length === 0) {
    const target = `${base}${sep}${name}`;
    const existing = await lstatOrNull(target);
    if (existing?.isDirectory()) return { status: 409, reason: 'A folder already has that name' };
    const refused = opts.exposure.writeRefusal(target);
    if (refused !== undefined) return { status: 403, reason: refused };
    // `x.js.gz` beside `x.js` would be served as x.js's precompressed copy: refuse it.
    const sibling = /\.(br|gz)$/i.exec(name);
    if (sibling !== null && (await lstatOrNull(target.slice(0, -sibling[0].length))) !== null) {
      return { status: 403, reason: 'A compressed copy of an existing file cannot be uploaded' };
    }
  } else {
    const refused = opts.exposure.writeRefusal(`${base}${sep}${missing.join(sep)}${sep}${name}`);
    if (refused !== undefined) return { status: 403, reason: refused };
  }
  const fs = await statfs(base);
  const free = fs.bavail * fs.bsize;
  const margin = Math.min(FREE_SPACE_MARGIN_BYTES, (fs.blocks * fs.bsize) / 100);
  if (declared !== null && declared + margin > free) return { status: 507, reason: 'Not enough free space for this upload' };
  return { base, missing, name, declared };
}

/** Create the missing folders, stream the body to a temp file, then link it into place. */
async function storeUpload(req: IncomingMessage, res: ServerResponse, plan: Plan, opts: UploadOptions): Promise<void> {
  const created: string[] = [];
  let temp: string | null = null;
  let stored = false;
  try {
    let dir = plan.base;
    for (const folder of plan.missing) {
      const next = `${dir}${sep}${folder}`;
      try {
        await mkdir(next);
        created.push(next);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error; // a parallel upload of the same folder made it
      }
      const real = await realpath(next);
      if (!isInside(opts.exposure.root, real) || !(await lstat(real)).isDirectory()) {
        return refuse(res, { status: 409, reason: 'Upload path changed while uploading' }, true);
      }
      dir = real;
    }
    temp = `${dir}${sep}${tempNameFor(plan.name, randomBytes(6).toString('hex'))}`;
    const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
    if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
    let size: number;
    try {
      size = await writeBody(req, fh, opts.maxBytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const final = await linkNoOverwrite(temp, dir, plan.name);
    if (final === null) return refuse(res, { status: 409, reason: 'No free name left for this upload' }, false);
    stored = true;
    await unlink(temp).catch(() => undefined);
    temp = null;
    const rel = relativeParts(opts.exposure.root, `${dir}${sep}${final}`);
    const location = '/' + rel.map(encodeURIComponent).join('/');
    const body = `Saved as "${rel.join('/')}" (${size} bytes)\n`;
    res.writeHead(201, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      Location: location,
      'Cache-Control': 'no-store',
    });
    res.end(body);
  } catch (error) {
    if (error instanceof TooLarge) return refuse(res, { status: 413, reason: `Upload larger than the ${formatBytes(opts.maxBytes)} limit` }, true);
    const code = errorCode(error);
    if (code === 'ENOSPC' || code === 'EDQUOT') return refuse(res, { status: 507, reason: 'The disk is full' }, true);
    if (req.destroyed || res.destroyed) return; // the client went away: nobody to answer
    throw error;
  } finally {
    if (temp !== null) await unlink(temp).catch(() => undefined);
    // Folders made for an upload that failed go again (only if still empty).
    if (!stored) for (const folder of created.reverse()) await rmdir(folder).catch(() => undefined);
  }
}

function refuse(res: ServerResponse, refusal: Refusal, close: boolean): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = `${refusal.reason}\n`;
  const headers: Record<string, string | number> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  };
  // Tell the client to stop sending: the body is not read, so the connection cannot be reused.
  if (close) headers.Connection = 'close';
  res.writeHead(refusal.status, headers);
  res.end(body);
}

function declaredLength(req: IncomingMessage): number | null | 'bad' {
  const raw = req.headers['content-length'];
  if (raw === undefined) return null;
  if (!/^\d{1,16}$/.test(raw)) return 'bad';
  return Number(raw);
}

function relativeParts(root: string, real: string): string[] {
  return real === root ? [] : real.slice(root.length + (root.endsWith(sep) ? 0 : 1)).split(sep);
}

async function lstatOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return null;
    throw error;
  }
}


function formatBytes(n: number): string {
  if (n >= 1024 ** 3 && n % 1024 ** 3 === 0) return `${n / 1024 ** 3} GiB`;
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2} MiB`;
  return `${n} bytes`;
}
