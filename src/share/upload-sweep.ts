// Partial uploads left by an earlier run (killed, a second Ctrl-C, a power cut) are removed at the
// next start with --upload. Only serve-here's own temp names are touched, and only those whose
// process is gone: the name carries the pid of the serve-here that wrote it (upload-names.ts), so a
// second serve-here serving the same folder keeps its uploads in progress.
import type { Dirent } from 'node:fs';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_NAME } from './upload-names.js';

/** Entries looked at, at most: a huge folder costs a bounded walk, in the background. */
const MAX_ENTRIES = 200_000;

/** True while process `pid` exists (EPERM: it exists, but belongs to someone else). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Remove serve-here temp files of dead processes under `root` (symlinks not followed, `.git`
 * skipped). Resolves with the paths removed; never rejects (an unreadable folder is skipped).
 */
export async function sweepPartialUploads(root: string): Promise<string[]> {
  const removed: string[] = [];
  const queue = [root];
  let seen = 0;
  while (queue.length > 0 && seen < MAX_ENTRIES) {
    const dir = queue.shift() as string;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) break;
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git') queue.push(path);
        continue;
      }
      const m = TEMP_NAME.exec(e.name);
      if (m === null || !e.isFile() || alive(Number(m[1]))) continue;
      try {
        // Still a regular file (not swapped for a link since readdir): then it goes.
        if ((await lstat(path)).isFile()) {
          await unlink(path);
          removed.push(path);
        }
      } catch {
        // gone already, or not ours to remove
      }
    }
  }
  return removed;
}
