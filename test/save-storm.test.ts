// A save storm (an editor on autosave, a formatter, `git checkout`) through the real CLI: saves
// every 100 ms for 5 s while clients keep asking. The newest load finishes even while saves keep
// coming: no request fails, none waits more than ~3 s, and the final code answers after it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTree, removeTree } from './helpers/server.js';
import { get, serveMerged } from './helpers/dev.js';
import { waitUntil } from './helpers/http.js';

const BANNER = /serving (.+) at http:\/\/[^/]+:(\d+)\//;
const STORM_MS = 5000;
const SAVE_EVERY_MS = 100;
const CLIENTS = 4;
/**
 * A request may wait for the load under way (the hold), never longer: 3 s, or twice a single
 * reload on this machine when it is slower than that (a shared CI box) — far below the 10 s hold
 * that ended in 503 when every save cancelled the load in progress.
 */
const MAX_WAIT_MS = 3000;

const APP = (n: number): string => `export default { fetch() { return new Response("v${n}") } };\n`;

const storm = suite('save storm');

storm('saves every 100 ms under load: 0 failed, no request waits > 3 s, the final code answers', async () => {
  const dir = await makeTree({ 'app.ts': APP(0) });
  // The watchdogs are not under test: on a starved machine a load can pass 3 s and look stuck.
  const cli = serveMerged(dir, ['--app', '/api=app.ts'], { SERVE_HERE_BLOCKED_MS: '20000', SERVE_HERE_LOAD_STUCK_MS: '20000' });
  try {
    const port = Number((await cli.waitFor(BANNER, 20_000))[2]);
    assert.is((await get(port, '/api/')).text, 'v0');
    await writeFile(join(dir, 'app.ts'), APP(0));
    const one = Number((await cli.waitFor(/reloaded in (\d+) ms/, 20_000))[1]);
    const bound = Math.max(MAX_WAIT_MS, 2 * one);
    const results: Array<{ status: number; ms: number; text: string }> = [];
    let storming = true;
    const client = async (): Promise<void> => {
      while (storming) {
        const t0 = performance.now();
        const r = await get(port, '/api/', {}, 15_000).catch((e: unknown) => ({ status: 0, text: String(e) }));
        results.push({ status: r.status, ms: performance.now() - t0, text: r.text });
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    let n = 0;
    const end = Date.now() + STORM_MS;
    while (Date.now() < end) {
      await writeFile(join(dir, 'app.ts'), APP(++n));
      await new Promise((r) => setTimeout(r, SAVE_EVERY_MS));
    }
    storming = false;
    await Promise.all(clients);
    const failed = results.filter((r) => r.status !== 200);
    const slowest = Math.max(...results.map((r) => r.ms));
    const stats = `${results.length} requests, slowest ${Math.round(slowest)} ms (a reload alone: ${one} ms), ${n} saves, ${(cli.stdout().match(/reloaded in/g)?.length ?? 1) - 1} reloads`;
    assert.ok(results.length >= CLIENTS * 2, `too few answers: ${stats}`);
    assert.is(failed.length, 0, `${failed.length} of ${results.length} failed, e.g. ${failed[0]?.status} ${failed[0]?.text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").slice(0, 600)}\n${cli.stdout()}`);
    assert.ok(slowest < bound, `a request waited too long: ${stats}`);
    assert.ok(/, [1-9]\d* reloads$/.test(stats), `no reload finished during the storm: ${stats}`);
    await waitUntil(async () => ((await get(port, '/api/')).text === `v${n}` ? true : undefined), 10_000, `the final code (v${n}) answering`);
  } finally {
    await cli.stop();
    await removeTree(dir);
  }
});

storm.run();
