// Test-only fault points (issue 16): with SERVE_HERE_FAULT=1 in the environment, fault(stage, text)
// throws when `text` (a request's URL, a chunk from an app process) holds `serve-here-fault=<stage>`,
// so a test can make each stage of serving throw in turn on a real server. Read once at start; the
// rest of the time fault() is an empty function.
import type { IncomingMessage } from 'node:http';
import { outsideAnyScope } from './guard.js';

export type Stage = 'gate' | 'route' | 'respond' | 'static' | 'listing' | 'zip' | 'upload' | 'log' | 'relay' | 'channel' | 'timer' | 'promise' | 'outside';

export const FAULT_MARK = 'serve-here-fault=';

const on = process.env.SERVE_HERE_FAULT === '1';
/** Whether fault points are live (for one that would otherwise need a listener of its own). */
export const FAULTS_ON = on;

function inject(stage: Stage, text: string | Buffer | undefined): void {
  if (text?.includes(`${FAULT_MARK}${stage}`) === true) throw new Error(`injected fault at stage "${stage}"`);
}

/** Throw here when the test hook is on and `text` asks for this stage. */
export const fault: (stage: Stage, text: string | Buffer | undefined) => void = on ? inject : () => {};

/** fault() with a request's URL. */
export const faultAt: (stage: Stage, req: IncomingMessage) => void = on ? (stage, req) => inject(stage, req.url) : () => {};

/**
 * The stages that need a test's help to run at all: a promise the request starts and nobody
 * awaits (only the process net, where scopes follow asynchronous work, can pin it on the
 * request), and a timer outside any connection (which the net cannot pin on one: the process exits).
 */
export const faultLater: (req: IncomingMessage) => void = on
  ? (req) => {
      const url = req.url ?? '';
      if (url.includes(`${FAULT_MARK}promise`)) void Promise.resolve().then(() => inject('promise', url));
      if (url.includes(`${FAULT_MARK}outside`)) outsideAnyScope(() => setTimeout(() => inject('outside', url), 1));
    }
  : () => {};
