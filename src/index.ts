// Programmatic entry: embed serve-here without the CLI.
export { createServer } from './server.js';
export type { ServeHere, ServerOptions, ListenOptions } from './server.js';
export type { AppRouter, AppMount, AppTarget } from './app/contract.js';
export { createLogger } from './log.js';
export type { Logger, LoggerOptions, RequestRecord } from './log.js';
