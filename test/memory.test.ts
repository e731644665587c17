// The server process keeps V8's young generation at its start size (issue 11: RSS after load),
// lets V8 size it while it holds many connections, and leaves it alone when the apps run in the
// same process (--no-watch), whose allocation is theirs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTree, removeTree } from './helpers/server.js';
import { scriptResult, startCli } from './helpers/script.js';

/** Start the CLI in a fresh node, churn through short-lived objects, and report the young generation's size in MiB. */
function youngGenerationAfterChurn(args: string[], connections = 0): Promise<number> {
  const script = `
    import v8 from 'node:v8';
    import net from 'node:net';
    ${startCli(args)}
    // Idle connections held open meanwhile (the server counts them as they are accepted).
    const sockets = [];
    for (let i = 0; i < ${connections}; i++) sockets.push(net.connect(port, '127.0.0.1'));
    await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))));
    // One request answered on a connection made after them: the server has accepted them all.
    await fetch('http://127.0.0.1:' + port + '/');
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

memory('while the server holds hundreds of connections, V8 sizes it as usual', async () => {
  const mib = await youngGenerationAfterChurn([dir, '--port', '0', '--quiet'], 600);
  assert.ok(mib > 8, `new space stayed at ${mib} MiB with 600 connections open`);
});

memory('with the app in this process (--no-watch), V8 sizes it as usual', async () => {
  const mib = await youngGenerationAfterChurn([dir, '--port', '0', '--quiet', '--app', `${dir}/app.mjs`, '--no-watch']);
  assert.ok(mib > 8, `new space stayed at ${mib} MiB`);
});

memory.run();
