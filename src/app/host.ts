// Placeholder until the app host lands.
import type { Options } from '../options.js';
import type { Logger } from '../log.js';
import type { AppRouter } from '../server.js';
import { ServeHereError } from '../errors.js';

export async function startAppHost(_opts: Options, _root: string, _log: Logger): Promise<{ router: AppRouter; describe(): string[] }> {
  throw new ServeHereError('--app is not available yet');
}
