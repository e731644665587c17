// Opening a resolved file so that what is read is the file that was checked.
import { open, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { toFsPath } from './file-names.js';

/**
 * O_NONBLOCK: never hang on a FIFO or device that replaced the file after the stat.
 * O_NOFOLLOW: the path is a realpath, so its last component is never a link; one that is a link
 * now was swapped in after the check (ELOOP, answered as missing).
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** Errors of this kind mean "the file is not there (any more)"; the server answers 404. */
function gone(path: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`File "${path}" changed between its check and its open`);
  error.code = 'ENOENT';
  return error;
}

/**
 * Open `path` and require the descriptor to be the very file (device and inode) that `checked`
 * describes: the resolver validated containment for that inode by realpath and stat, and a path
 * component swapped for a symlink in between (leading out of the root) would otherwise be read.
 * Throws an ENOENT-coded error when it is not; EACCES (unreadable) passes through.
 */
export async function openChecked(path: string, checked: Stats): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(toFsPath(path), OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw gone(path);
    throw error;
  }
  try {
    const st = await handle.stat();
    if (st.ino !== checked.ino || st.dev !== checked.dev || !st.isFile()) throw gone(path);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/** Read up to `size` bytes from the start of an open file; shorter if the file shrank. */
export async function readAll(handle: FileHandle, size: number): Promise<Buffer> {
  const body = Buffer.allocUnsafe(size);
  let pos = 0;
  while (pos < size) {
    const { bytesRead } = await handle.read(body, pos, size - pos, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
  }
  return pos < size ? body.subarray(0, pos) : body;
}
