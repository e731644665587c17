// Where the live-reload assets and the event stream live; under /.well-known, never a user's file.
// Apart from the scripts themselves (client.ts), which are loaded only with --live.
export const LIVE_BASE = '/.well-known/serve-here/';
export const LIVE_SCRIPT_PATH = `${LIVE_BASE}live.js`;
export const LIVE_WORKER_PATH = `${LIVE_BASE}live-worker.js`;
export const LIVE_EVENTS_PATH = `${LIVE_BASE}events`;
