// The free-space reserve uploads keep, so they never fill the disk: checked before the body when
// its size is declared, and again before every write as bytes arrive (a chunked body declares
// none; parallel uploads each fit alone but not together).
import { statfs } from 'node:fs/promises';

/**
 * Free space kept beyond the uploads, so an upload never leaves the disk completely full:
 * 64 MiB, or 1% of the file system when that is smaller (a small USB stick or test tmpfs).
 */
export const FREE_SPACE_MARGIN_BYTES = 64 * 1024 * 1024;

/** Bytes every upload of this process is writing right now (reserved, perhaps not on disk yet). */
let inFlight = 0;

/** Free bytes in the file system holding `dir`, beyond the reserve (negative when inside it). */
export async function spaceBeyondReserve(dir: string): Promise<number> {
  const fs = await statfs(dir);
  const margin = Math.min(FREE_SPACE_MARGIN_BYTES, (fs.blocks * fs.bsize) / 100);
  return fs.bavail * fs.bsize - margin;
}

/**
 * Reserve `bytes` for one write into `dir`: a release function once the disk has room for them
 * (and for every other upload's write in flight) beyond the reserve, else null. Reserving before
 * asking the disk makes two uploads racing for the last megabytes both see each other.
 */
export async function reserveSpace(dir: string, bytes: number): Promise<(() => void) | null> {
  inFlight += bytes;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    inFlight -= bytes;
  };
  try {
    // What others already wrote is gone from the free space and may still be counted in flight:
    // the check errs on the side of refusing.
    if ((await spaceBeyondReserve(dir)) - inFlight >= 0) return release;
  } catch (error) {
    release();
    throw error;
  }
  release();
  return null;
}
