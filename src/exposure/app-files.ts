// The apps' module graphs reach the exposure policy: each file an app loads (at start, at a
// reload, or lazily at a request) is protected from then on. With --workers, a file one worker
// learns is protected by every worker: the worker tells the primary (src/workers.ts), which
// passes it on to all of them.
import type { AppRouter } from '../app/contract.js';
import { isClusterWorker } from '../lifecycle.js';
import type { Exposure } from './policy.js';

const MESSAGE = 'serve-here:app-files';

/** Keep `exposure` told of every file of `app`'s module graphs, in this process and, as a worker, in the others. */
export function followAppFiles(exposure: Exposure, app: AppRouter): void {
  app.onAppFiles((files) => {
    exposure.addAppFiles(files);
    if (isClusterWorker && process.connected) process.send?.({ type: MESSAGE, files }, () => {});
  });
  if (!isClusterWorker) return;
  process.on('message', (msg: { type?: string; files?: unknown }) => {
    if (msg?.type === MESSAGE && Array.isArray(msg.files)) exposure.addAppFiles(msg.files.filter((f): f is string => typeof f === 'string'));
  });
}
