// Streaming an open file (or byte ranges of it) into a response with Node's streams.
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteRange } from './range.js';

/**
 * Read size of the file streams. Node's default (64 KiB) measured 1,0xx MB/s against 1,1xx MB/s
 * for 256 KiB on the 50 MiB bench case (bench/README.md); larger chunks mean fewer round trips
 * through the thread pool, which shares the pinned CPU with the server.
 */
const CHUNK = 256 * 1024;

/**
 * Copy `range` of the open file to `out` (the response, or a compressor feeding it); the handle
 * stays open (the caller closes it, so one descriptor serves every part of a multipart answer).
 * Reads no further than the range end even if the file grew: a file that grows while it is sent
 * (a log, a download in progress) would otherwise overrun Content-Length and corrupt the next
 * response on a keep-alive connection. Resolves false if the file shrank or `out` went away.
 */
export async function copyRange(handle: FileHandle, range: ByteRange, out: Writable): Promise<boolean> {
  const input = createReadStream('', { fd: handle, start: range.start, end: range.end, autoClose: false, highWaterMark: CHUNK });
  try {
    await pipeline(input, out, { end: false });
  } catch {
    return false;
  }
  return input.bytesRead === range.end - range.start + 1 && !out.destroyed;
}

/**
 * Stream a range of an open file as the whole body, optionally through a compressor, then end
 * the response; closes the handle. A short read (the file shrank) or a client that left
 * destroys the response, since the announced length can no longer be met.
 */
export async function streamBody(res: ServerResponse, handle: FileHandle, range: ByteRange, via?: Transform): Promise<void> {
  try {
    if (via === undefined) {
      if (await copyRange(handle, range, res)) res.end();
      else res.destroy();
      return;
    }
    // The compressor's output is piped on its own, so its end ends the response.
    const out = pipeline(via, res).catch(() => res.destroy());
    if (await copyRange(handle, range, via)) via.end();
    else via.destroy();
    await out;
  } finally {
    await handle.close();
  }
}

/** Part headers and total length of a multipart/byteranges body (RFC 9110 §14.6). */
export function multipartLayout(ranges: ByteRange[], size: number, type: string, boundary: string): { heads: Buffer[]; tail: Buffer; length: number } {
  const heads = ranges.map((r, i) =>
    Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`),
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  let length = tail.length;
  ranges.forEach((r, i) => {
    length += (heads[i]?.length ?? 0) + r.end - r.start + 1;
  });
  return { heads, tail, length };
}

/** Write each part head and range from one open descriptor, then the closing boundary; closes the handle. */
export async function streamParts(res: ServerResponse, handle: FileHandle, ranges: ByteRange[], layout: { heads: Buffer[]; tail: Buffer }): Promise<void> {
  try {
    for (const [i, r] of ranges.entries()) {
      // The client left or the file shrank: Content-Length cannot be met, so end the connection.
      if (!(await writeAll(res, layout.heads[i] ?? Buffer.alloc(0)))) return void res.destroy();
      if (!(await copyRange(handle, r, res))) return void res.destroy();
    }
    res.end(layout.tail);
  } finally {
    await handle.close();
  }
}

/** Write a chunk and resolve once it has left for the socket (true), or false if the response died. */
function writeAll(out: Writable, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    if (out.destroyed) return resolve(false);
    const onClose = (): void => resolve(false);
    out.once('close', onClose);
    out.write(chunk, (error) => {
      out.off('close', onClose);
      resolve(error === null || error === undefined);
    });
  });
}
