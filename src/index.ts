// Programmatic entry: embed serve-here without the CLI.
export { createServer } from './server.js';
export type { ServeHere, ServerOptions, ListenOptions, AppRouter, AppMountHandler } from './server.js';
export { createLogger } from './log.js';
export type { Logger, LoggerOptions, RequestRecord } from './log.js';
