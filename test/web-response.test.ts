// Apps see the platform's own Response and a Request indistinguishable from `new Request(url, init)`:
// the same table of inputs (throws included) run in the test process with the platform classes
// and inside an app served by the real CLI, in watch mode (app process) and with --no-watch.
import { PlatformRequest, PlatformResponse } from './helpers/platform.js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeTree, removeTree, spawnCli, type CliProcess } from './helpers/server.js';
import { requestFacts, responseTable } from './helpers/fetch-table.js';

const WAIT_MS = 15_000;
const BANNER = /serving (.+) at http:\/\/127\.0\.0\.1:(\d+)\//;
const TABLE = pathToFileURL(join(import.meta.dirname, 'helpers', 'fetch-table.js')).href;

const APP = `import { requestFacts, responseTable } from ${JSON.stringify(TABLE)};
export default {
  async fetch(request) {
    const init = { method: request.method, headers: [...request.headers] };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      init.body = 'hello body';
      init.duplex = 'half';
    }
    const reference = new Request(request.url, init);
    const given = await requestFacts(request, Request);
    const expected = await requestFacts(reference, Request);
    const globals = { response: Response.name, request: Request.name };
    return Response.json({ table: await responseTable(Response), given, expected, globals });
  },
};
`;

interface Seen {
  table: Record<string, unknown>;
  given: Record<string, unknown>;
  expected: Record<string, unknown>;
}

async function probe(args: string[]): Promise<Seen> {
  const dir = await makeTree({ 'app.mjs': APP });
  let cli: CliProcess | undefined;
  try {
    cli = spawnCli(['--port', '0', '--quiet', ...args, '--app', 'app.mjs', dir], { cwd: dir });
    const port = Number((await cli.waitFor(BANNER, WAIT_MS))[2]);
    const res = await fetch(`http://127.0.0.1:${port}/probe/x?q=1&r=2`, { method: 'POST', body: 'hello body', headers: { 'x-custom': 'yes' } });
    assert.is(res.status, 200, await res.clone().text());
    return (await res.json()) as Seen;
  } finally {
    await cli?.stop('SIGTERM');
    await removeTree(dir);
  }
}

/** Compare case by case, so a failure names the input. */
function sameTable(seen: Record<string, unknown>, platform: Record<string, unknown>): void {
  assert.equal(Object.keys(seen), Object.keys(platform));
  for (const name of Object.keys(platform)) assert.equal(seen[name], platform[name], `Response case "${name}"`);
}

const platformTable = JSON.parse(JSON.stringify(await responseTable(PlatformResponse))) as Record<string, unknown>;

const table = suite('fetch apps see the platform Response and Request');

table('the platform refuses what a light Response accepted', () => {
  // The reason for the table: a class that only stored its arguments took these without a word.
  assert.equal(platformTable['status 204 with body'], { threw: 'TypeError' });
  assert.equal(platformTable['status 1000'], { threw: 'RangeError' });
  assert.equal(platformTable['statusText with newline'], { threw: 'TypeError' });
  assert.equal(platformTable['header value CRLF'], { threw: 'TypeError' });
});

for (const [mode, args] of [
  ['watch mode (app process)', []],
  ['--no-watch (in process)', ['--no-watch']],
] as const) {
  table(`${mode}: every Response input gives the platform's outcome`, async () => {
    const seen = await probe([...args]);
    sameTable(seen.table, platformTable);
  });

  table(`${mode}: the Request behaves as new Request(url, init) for url, method, headers, body, clone, signal and new Request(request)`, async () => {
    const seen = await probe([...args]);
    assert.equal(seen.given, seen.expected);
    const sync = seen.given.sync as Record<string, unknown>;
    assert.match(String(sync.url), /\/probe\/x\?q=1&r=2$/);
    assert.is(sync.instanceOf, true);
    assert.is(sync.tag, '[object Request]');
    assert.equal(seen.given.rebuilt, { ok: { url: sync.url, method: 'POST', header: '1', text: 'hello body' } });
  });
}

table('requestFacts() of two platform Requests agree (the comparison is stable)', async () => {
  const a = new PlatformRequest('http://h/x', { method: 'POST', body: 'b', headers: { 'x-a': '1' } });
  const b = new PlatformRequest('http://h/x', { method: 'POST', body: 'b', headers: { 'x-a': '1' } });
  assert.equal(await requestFacts(a, PlatformRequest), await requestFacts(b, PlatformRequest));
});

table.run();
