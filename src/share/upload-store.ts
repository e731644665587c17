// Writing an upload's bytes safely: the body into an open temp file (counted against the cap and
// the free-space reserve, every byte of every write accounted for, flushed as it goes), then the
// temp file linked to a free name, never over an existing one.
//
// Entry points (used by src/share/upload.ts):
//   writeBody(req, fh, maxBytes, space): Promise<number>    bytes written; throws TooLarge past the
//                                                           cap, NoSpace past the reserve
//   linkNoOverwrite(temp, dir, name): Promise<string|null>  the name used, null when none was free
import type { IncomingMessage } from 'node:http';
import { link, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';
import { numberedName } from './upload-names.js';

/** How many `name (n).ext` alternatives are tried before giving up with 409. */
const MAX_RENAMES = 999;

/** Thrown by writeBody when the body passes the cap. */
export class TooLarge extends Error {}

/** Thrown by writeBody when the next bytes would eat into the free-space reserve. */
export class NoSpace extends Error {}

/** Asked before each write: room for `bytes` more? A release function for after the write, or null. */
export type SpaceCheck = (bytes: number) => Promise<(() => void) | null>;

/** Bytes written between background `fdatasync` calls (see writeBody). */
const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

/**
 * Copy the body to the file, counting bytes: a chunked body is cut at the cap. The file must be
 * flushed before it is linked into place; syncing only at the end would add the whole disk write
 * to the upload's time, so a background `fdatasync` runs every 32 MiB while the body keeps coming,
 * and the final `fsync` has little left to do.
 */
export async function writeBody(req: IncomingMessage, fh: FileHandle, maxBytes: number, space: SpaceCheck): Promise<number> {
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let unsynced = 0;
  let syncing: Promise<void> | null = null;
  let syncError: unknown = null;
  // Gather small chunks into ~1 MiB writes: fewer syscalls, memory still bounded.
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const chunks = pending;
    unsynced += pendingBytes;
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    const release = await space(bytes);
    if (release === null) throw new NoSpace();
    try {
      await writeAll(fh, chunks, bytes);
    } finally {
      release();
    }
    if (syncError !== null) throw syncError;
    if (unsynced >= SYNC_EVERY_BYTES && syncing === null) {
      unsynced = 0;
      syncing = fh.datasync().then(
        () => void (syncing = null),
        (error: unknown) => void ((syncError = error), (syncing = null)),
      );
    }
  };
  try {
    return await copyBody();
  } finally {
    await syncing; // never close the handle under a running fdatasync
  }

  async function copyBody(): Promise<number> {
    // Not destroyed when the loop stops early (past the cap or the reserve): the refusal is sent
    // while the rest of the body is read and dropped (upload.ts), so the client reads the answer.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new TooLarge();
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= 1024 * 1024) await flush();
    }
    // A body cut short (client gone) ends the iteration with an error above; `complete` guards the rest.
    if (!req.complete) throw Object.assign(new Error('Upload aborted'), { code: 'ECONNRESET' });
    await flush();
    return size;
  }
}

/**
 * Write every byte of `chunks`: a write may take fewer bytes than it was given (a disk nearly full
 * does exactly that before it says ENOSPC), so the rest is written again until none is left.
 */
export async function writeAll(fh: Pick<FileHandle, 'writev'>, chunks: Buffer[], total: number): Promise<void> {
  let left = chunks;
  let remaining = total;
  while (remaining > 0) {
    const { bytesWritten } = await fh.writev(left);
    // No progress and no error: never loop on it; treat it as the disk being full.
    if (bytesWritten <= 0) throw Object.assign(new Error('The write made no progress'), { code: 'ENOSPC' });
    remaining -= bytesWritten;
    if (remaining > 0) left = skipBytes(left, bytesWritten);
  }
}

/** `chunks` without their first `n` bytes (no copy: the partly written chunk is a view). */
function skipBytes(chunks: Buffer[], n: number): Buffer[] {
  let i = 0;
  let skip = n;
  while (i < chunks.length && skip >= (chunks[i] as Buffer).length) skip -= (chunks[i++] as Buffer).length;
  const rest = chunks.slice(i);
  if (skip > 0 && rest.length > 0) rest[0] = (rest[0] as Buffer).subarray(skip);
  return rest;
}

/**
 * `link()` fails with EEXIST instead of replacing (unlike `rename()`), so a taken name, even one
 * taken a microsecond ago by a parallel upload, is never overwritten. Returns the name used.
 */
export async function linkNoOverwrite(temp: string, dir: string, name: string): Promise<string | null> {
  for (let n = 0; n <= MAX_RENAMES; n++) {
    const candidate = n === 0 ? name : numberedName(name, n);
    try {
      await link(temp, `${dir}${sep}${candidate}`);
      return candidate;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  return null;
}

/** The `code` of a Node system error, if any. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
