// --inspect through the real CLI: the inspector opens in the app process at one address that
// survives reloads, and a process paused at a breakpoint is neither killed as blocked nor made
// to fail its requests: they wait, and are answered once the debugger resumes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import CDP from 'chrome-remote-interface';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { makeTree, removeTree, runCli } from './helpers/server.js';
import { waitUntil } from './helpers/http.js';
import { get, serveMerged } from './helpers/dev.js';

const WAIT_MS = 15_000;
const BANNER = /serving (.+) at http:\/\/[^/]+:(\d+)\//;

/** A port nobody listens on right now (a net server on port 0, closed again). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const APP = (tag: string): string => `export default { fetch() { return new Response(${JSON.stringify(tag)}) } };\n`;

const inspect = suite('--inspect');

inspect('paused at the debugger: not killed as blocked, the request waits and is answered on resume; reloads keep the address', async () => {
  const dir = await makeTree({ 'app.ts': APP('one') });
  const debugPort = await freePort();
  const cli = serveMerged(dir, ['--app', 'app.ts', `--inspect=127.0.0.1:${debugPort}`], { SERVE_HERE_BLOCKED_MS: '500' });
  let client: CDP.Client | undefined;
  try {
    const port = Number((await cli.waitFor(BANNER, WAIT_MS))[2]);
    const first = await cli.waitFor(new RegExp(`debugger: (ws://127\\.0\\.0\\.1:${debugPort}/[\\w-]+) \\(or open chrome://inspect\\)`), WAIT_MS);
    const targets = await CDP.List({ host: '127.0.0.1', port: debugPort });
    assert.is(targets.length, 1);
    assert.is(targets[0]?.webSocketDebuggerUrl, first[1], 'the banner shows the app process\'s inspector');

    client = await CDP({ host: '127.0.0.1', port: debugPort, target: targets[0]?.id });
    const paused = new Promise<void>((resolve) => client?.on('Debugger.paused', () => resolve()));
    await client.send('Debugger.enable');
    await client.send('Debugger.pause');
    await paused; // the app's next tick of JavaScript stops here
    const started = Date.now();
    let answered = false;
    const held = get(port, '/', {}, 30_000).finally(() => (answered = true));
    await new Promise((r) => setTimeout(r, 1500)); // three times SERVE_HERE_BLOCKED_MS
    assert.not.ok(answered, 'the request waits while the app is paused');
    assert.match(cli.stdout(), /app event loop stopped for [\d.]+ s \(paused in the debugger\?\); --inspect is on, so it is not restarted/);
    assert.not.match(cli.stdout(), /starting a new app process|crashed/);
    assert.equal((await CDP.List({ host: '127.0.0.1', port: debugPort })).map((t) => t.webSocketDebuggerUrl), [first[1]], 'the same process is still there');
    await client.send('Debugger.resume');
    const res = await held;
    assert.is(res.status, 200);
    assert.is(res.text, 'one');
    assert.ok(Date.now() - started >= 1500);
    await client.close();
    client = undefined;

    // A save: the new process opens the inspector at the same address.
    await writeFile(join(dir, 'app.ts'), APP('two'));
    const again = await cli.waitFor(new RegExp(`reloaded in \\d+ ms\\n {4}debugger: (ws://127\\.0\\.0\\.1:${debugPort}/[\\w-]+)`), WAIT_MS);
    assert.is.not(again[1], first[1], 'a new process, a new session id');
    const after = await waitUntil(async () => {
      const list = await CDP.List({ host: '127.0.0.1', port: debugPort }).catch(() => []);
      return list.length === 1 && list[0]?.webSocketDebuggerUrl === again[1] ? list : undefined;
    }, WAIT_MS, 'the new process at the same inspector address');
    assert.is(after.length, 1);
    assert.is((await get(port, '/')).text, 'two');
  } finally {
    await client?.close().catch(() => {});
    await cli.stop();
    await removeTree(dir);
  }
});

inspect('a save while paused at a breakpoint: the paused process lets go of the port, the new one takes it', async () => {
  const dir = await makeTree({ 'app.ts': APP('one') });
  const debugPort = await freePort();
  const cli = serveMerged(dir, ['--app', 'app.ts', `--inspect=${debugPort}`], { SERVE_HERE_BLOCKED_MS: '500' });
  let client: CDP.Client | undefined;
  try {
    const port = Number((await cli.waitFor(BANNER, WAIT_MS))[2]);
    await cli.waitFor(/debugger: ws:/, WAIT_MS);
    client = await CDP({ host: '127.0.0.1', port: debugPort });
    const paused = new Promise<void>((resolve) => client?.on('Debugger.paused', () => resolve()));
    await client.send('Debugger.enable');
    await client.send('Debugger.pause');
    await paused;
    await writeFile(join(dir, 'app.ts'), APP('two'));
    await cli.waitFor(new RegExp(`reloaded in \\d+ ms\\n {4}debugger: ws://127\\.0\\.0\\.1:${debugPort}/`), WAIT_MS);
    assert.is((await get(port, '/')).text, 'two');
  } finally {
    await client?.close().catch(() => {});
    await cli.stop();
    await removeTree(dir);
  }
});

inspect('--inspect with --no-watch opens it in the serve-here process; a host beyond loopback is warned about; bad addresses are usage errors', async () => {
  const dir = await makeTree({ 'app.ts': APP('one') });
  const debugPort = await freePort();
  const cli = serveMerged(dir, ['--app', 'app.ts', '--no-watch', `--inspect=0.0.0.0:${debugPort}`]);
  try {
    await cli.waitFor(new RegExp(`debugger: ws://0\\.0\\.0\\.0:${debugPort}/`), WAIT_MS);
    await cli.waitFor(new RegExp(`⚠ --inspect on 0\\.0\\.0\\.0:${debugPort}: anyone who can reach that port can run code as you`), WAIT_MS);
    const list = await CDP.List({ host: '127.0.0.1', port: debugPort });
    assert.is(list.length, 1);
    assert.is(String(list[0]?.title).includes('serve-here'), true, `the target is serve-here itself: ${list[0]?.title}`);
    const bad = await runCli(['--app', 'app.ts', '--inspect=nope:x', dir], { cwd: dir });
    assert.is(bad.code, 2);
    assert.match(bad.stderr, 'Bad --inspect address "nope:x"');
    const noApp = await runCli([dir, '--inspect'], { cwd: dir });
    assert.is(noApp.code, 2);
    assert.match(noApp.stderr, '--inspect needs --app');
  } finally {
    await cli.stop();
    await removeTree(dir);
  }
});

inspect.run();
