// The server process keeps V8's young generation at its start size (issue 11: RSS after load),
// except when the apps run in the same process (--no-watch), whose allocation is theirs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { makeTree, removeTree } from './helpers/server.js';
import { scriptResult } from './helpers/script.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** Start the CLI in a fresh node, churn through short-lived objects, and report the young generation's size in MiB. */
function youngGenerationAfterChurn(args: string[]): Promise<number> {
  const script = `
    import v8 from 'node:v8';
    const { main } = await import(${JSON.stringify(CLI)});
    await main(${JSON.stringify(args)});
    const keep = [];
    for (let r = 0; r < 200; r++) { const a = []; for (let i = 0; i < 20000; i++) a.push({ i, s: 'x' + i }); keep.push(a.length); }
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write('NEW_SPACE ' + space.space_size + '\\n');
    process.exit(0);
  `;
  return scriptResult(script, 'NEW_SPACE').then((bytes) => Number(bytes) / 1048576);
}

let dir = '';
const memory = suite('memory');
memory.before(async () => {
  dir = await makeTree({ 'index.html': '<p>hi</p>', 'app.mjs': 'export default { fetch: () => new Response("app") };\n' });
});
memory.after(() => removeTree(dir));

memory('serving files, the young generation stays at its start size under allocation', async () => {
  const mib = await youngGenerationAfterChurn([dir, '--port', '0', '--quiet']);
  // 32 MiB without the limit on Node 20 and 24; 4 MiB (Node 20) or 8 MiB (Node 24) with it.
  assert.ok(mib <= 8, `new space grew to ${mib} MiB`);
});

memory('with the app in this process (--no-watch), V8 sizes it as usual', async () => {
  const mib = await youngGenerationAfterChurn([dir, '--port', '0', '--quiet', '--app', `${dir}/app.mjs`, '--no-watch']);
  assert.ok(mib > 8, `new space stayed at ${mib} MiB`);
});

memory.run();
