// What the supervisor compares around a load: file versions (a save still being written) and
// the start folder's identity (a folder deleted and made again).
import { stat } from 'node:fs/promises';

/** Size and mtime of each file, as one string to compare before and after a load. */
export async function fileVersions(paths: string[]): Promise<string> {
  const parts = await Promise.all(paths.map((p) => stat(p).then((st) => `${st.size}:${st.mtimeMs}`, () => 'missing')));
  return parts.join('|');
}

/** A folder's identity (dev:ino), or undefined while it does not exist. */
export async function folderId(path: string): Promise<string | undefined> {
  return stat(path).then(
    (st) => `${st.dev}:${st.ino}`,
    () => undefined,
  );
}
