// Out of file descriptors (src/descriptors.ts): a CLI server started with a low limit (prlimit)
// says so in one line when connections exhaust it, and serves again once they close.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { BIN, makeTree, removeTree, request } from './helpers/server.js';
import { spawnExe } from './helpers/bin.js';

const fds = suite('file descriptor exhaustion');
const HAS_PRLIMIT = spawnSync('prlimit', ['--version']).status === 0;

fds('one line when accept runs out, and serving again when descriptors come back', async () => {
  if (!HAS_PRLIMIT) {
    console.log('  skipped (no prlimit on this system)');
    return;
  }
  const dir = await makeTree({ 'a.txt': 'ok' });
  const cli = spawnExe('prlimit', ['--nofile=64', process.execPath, BIN, '--port', '0', dir]);
  const held: net.Socket[] = [];
  try {
    const port = Number((await cli.waitFor(/at http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
    for (let i = 0; i < 120; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      held.push(s);
    }
    await cli.waitFor(/out of file descriptors/, 5000);
    for (const s of held) s.destroy();
    await cli.waitFor(/file descriptors available again/, 5000);
    assert.is((await request(port, '/a.txt')).text, 'ok');
    assert.is(cli.stderr().match(/out of file descriptors/g)?.length, 1, cli.stderr());
    assert.is(cli.child.exitCode, null);
  } finally {
    for (const s of held) s.destroy();
    await cli.stop();
    await removeTree(dir);
  }
});

fds.run();
