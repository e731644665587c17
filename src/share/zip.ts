// Streams a folder as a zip (`GET /folder/?zip`): the walk runs as the archive is written, one
// file open at a time, no temp file, memory flat for any size (client-zip writes zip64 past 4 GiB).
//
// Entry points:
//   sendZip(req, res, opts: ZipOptions): Promise<void>   answer GET/HEAD with the archive
//   zipEntries(opts): AsyncGenerator<ZipEntry>            the walk alone (what goes in, in order)
//   contentDisposition(filename): string                  RFC 6266 attachment header value
// Entries are named `<name>/<relative path>` so the archive unpacks into one folder; every folder
// gets its own entry, so empty folders survive. Left out: whatever the exposure policy does not
// let be read (hidden names, protected files and folders, links leading out of the root), links
// back to a folder being walked (cycles), FIFOs, sockets and devices, names that are not valid
// UTF-8, and files that cannot be opened.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { opendir, open, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeZip } from 'client-zip';
import { isInside } from '../static/resolve.js';
import type { Exposure } from '../exposure/policy.js';

export interface ZipOptions {
  /** Real path of the folder to send. */
  dir: string;
  /** Folder name: the archive is `<name>.zip` and unpacks into `<name>/`. */
  name: string;
  /** What may be read (its root is the served folder's real path). */
  exposure: Exposure;
}

export type ZipEntry =
  | { name: string; lastModified: Date; mode: number }
  | { name: string; lastModified: Date; mode: number; input: AsyncIterable<Uint8Array> };

const CHUNK_BYTES = 256 * 1024;

/** Answer GET or HEAD with the folder as a streamed zip. Never rejects. */
export async function sendZip(req: IncomingMessage, res: ServerResponse, opts: ZipOptions): Promise<void> {
  const base = safeBaseName(opts.name);
  res.writeHead(200, {
    'Content-Type': 'application/zip',
    'Content-Disposition': contentDisposition(`${base}.zip`),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const entries = zipEntries({ ...opts, name: base });
  // client-zip types accept our entries as InputWithoutMeta / InputFolder.
  const body = Readable.fromWeb(makeZip(entries) as import('node:stream/web').ReadableStream<Uint8Array>);
  try {
    // pipeline destroys the body when the client goes away: the web stream is cancelled, and
    // client-zip throws into the walk, whose finally blocks close the open folder and file.
    await pipeline(body, res);
  } catch {
    res.destroy(); // a read error mid-archive: a cut chunked body tells the client it is incomplete
  } finally {
    // When the zip stream failed by itself (a read error), nothing threw into the walk: end it here.
    await entries.return(undefined).catch(() => undefined);
  }
}

/**
 * The archive's entries, walked lazily. A file entry's handle stays open while the walk is paused
 * on it and is closed when the walk resumes, returns or is thrown into (a cancelled download):
 * client-zip never tells a half-read input that it was cancelled, but it does tell the walk.
 */
export async function* zipEntries(opts: ZipOptions): AsyncGenerator<ZipEntry, void, undefined> {
  const rootStat = await stat(opts.dir);
  yield { name: `${opts.name}/`, lastModified: rootStat.mtime, mode: rootStat.mode & 0o777 };
  // The folders above `dir` up to the root count as ancestors too: a link to any of them loops.
  const ancestors = new Set([opts.dir]);
  const root = opts.exposure.root;
  for (let up = opts.dir; isInside(root, up) && up !== root; ) {
    up = dirname(up);
    ancestors.add(up);
  }
  yield* walk(opts.dir, opts.name, ancestors, opts);
}

async function* walk(dir: string, prefix: string, ancestors: Set<string>, opts: ZipOptions): AsyncGenerator<ZipEntry, void, undefined> {
  // opendir reads names in small batches: a folder of a million files costs no more memory than ten.
  // for-await closes the handle when the walk is cancelled (return/throw propagates through).
  for await (const dirent of await opendir(dir, { bufferSize: 64 })) {
    const name = dirent.name;
    if (name.includes('\ufffd')) continue; // not valid UTF-8: Node cannot name it back to open it
    const path = `${dir}${sep}${name}`;
    if (!opts.exposure.mayRead(path)) continue;
    let real = path;
    if (dirent.isSymbolicLink()) {
      real = await realpath(path).catch(() => '');
      if (real === '' || !opts.exposure.mayRead(path, real)) continue;
    } else if (!dirent.isFile() && !dirent.isDirectory()) {
      continue; // FIFOs, sockets, devices: never opened (a FIFO would block the walk forever)
    }
    const st = await stat(real).catch(() => null);
    if (st === null) continue;
    const entryName = `${prefix}/${name}`;
    if (st.isDirectory()) {
      if (ancestors.has(real)) continue; // a link back up the tree would never end
      yield { name: `${entryName}/`, lastModified: st.mtime, mode: st.mode & 0o777 };
      ancestors.add(real);
      try {
        yield* walk(real, entryName, ancestors, opts);
      } finally {
        ancestors.delete(real);
      }
    } else if (st.isFile()) {
      // Open before yielding: a file that cannot be read is left out instead of breaking the archive.
      const fh = await openOrNull(real);
      if (fh === null) continue;
      try {
        yield { name: entryName, lastModified: st.mtime, mode: st.mode & 0o777, input: readChunks(fh, st) };
      } finally {
        // Reached when client-zip asks for the next entry (this file fully read) or on cancel.
        await fh.close().catch(() => undefined);
      }
    }
  }
}

async function openOrNull(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch {
    return null;
  }
}

/** The file's bytes in fresh chunks (client-zip passes each chunk on, so buffers are not reused). */
async function* readChunks(fh: FileHandle, st: Stats): AsyncGenerator<Uint8Array, void, undefined> {
  let position = 0;
  for (;;) {
    // Sized to what is left (+1 to see the end in the same call), so small files cost small buffers.
    const want = Math.min(CHUNK_BYTES, Math.max(st.size - position, 0) + 1);
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await fh.read(buf, 0, want, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266 §4.3,
 * RFC 8187): every browser uses `filename*`; the fallback replaces what a quoted string cannot hold.
 */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** A folder name usable as a file name and zip prefix: no separators, controls or lone surrogates. */
function safeBaseName(name: string): string {
  const cleaned = name.replace(/[\u0000-\u001f\u007f-\u009f/\\]|[\ud800-\udfff]/gu, '_').replace(/^\.+/, '');
  return cleaned === '' ? 'folder' : cleaned;
}
