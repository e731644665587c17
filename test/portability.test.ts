// The same example apps (test/engines/apps) on serve-here and, unchanged, on Deno, Bun, workerd
// and srvx: every check must give the same answer everywhere. Engines come from the separate
// package test/engines (`cd test/engines && npm install`); a missing one is a visible SKIP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allEngines, type Engine } from './helpers/engines.js';
import { CHECKS, clientFacts } from './helpers/portable-checks.js';
import { skip } from './helpers/skip.js';

const APPS = [...new Set(CHECKS.map((c) => c.app))];
const rows: string[] = [];

/** Run every check of every app on one engine; returns "app check: answer ≠ expected" lines. */
async function runAll(engine: Engine): Promise<{ failures: string[]; facts: Awaited<ReturnType<typeof clientFacts>> | undefined }> {
  const failures: string[] = [];
  let facts;
  const cells: string[] = [];
  for (const app of APPS) {
    const server = await engine.start(app);
    try {
      for (const check of CHECKS.filter((c) => c.app === app)) {
        let got: unknown;
        try {
          got = await check.run(server.port);
        } catch (error) {
          got = `error: ${error instanceof Error ? error.message : String(error)}`;
        }
        const want = check.expected(server.port);
        const same = JSON.stringify(got) === JSON.stringify(want);
        cells.push(same ? 'ok' : 'FAIL');
        if (!same) failures.push(`${app} ${check.name}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      }
      if (app === 'client-info.mjs') facts = await clientFacts(server.port);
    } finally {
      await server.stop();
    }
  }
  rows.push(`${engine.name.padEnd(22)} ${cells.join(' ')}  address=${JSON.stringify(facts?.address)} 2nd arg=${String(facts?.second)} info.remoteAddr=${String(facts?.remoteAddr)}`);
  return { failures, facts };
}

for (const engine of allEngines()) {
  if (engine.missing !== undefined) {
    skip('missing', `portability on ${engine.name}: ${engine.missing}`);
    continue;
  }
  test(`${engine.name}: every example app answers every check as expected`, async () => {
    const { failures, facts } = await runAll(engine);
    assert.equal(failures, [], failures.join('\n'));
    if (engine.name.startsWith('serve-here')) {
      // serve-here matches Deno's ServeHandlerInfo: info.remoteAddr.hostname is the client.
      assert.equal(facts, { address: '127.0.0.1', second: 'object', remoteAddr: true });
    }
  });
}

test.after(() => {
  console.log(`\nengine                 ${CHECKS.map((_c, i) => `c${i + 1}`).join(' ')}`);
  for (const row of rows) console.log(row);
  console.log(CHECKS.map((c, i) => `c${i + 1} = ${c.app} ${c.name}`).join('\n'));
});

test.run();
