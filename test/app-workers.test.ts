// --workers through the real CLI: a stop says so once (the primary), whether the terminal's
// Ctrl-C reaches the whole process group or a SIGTERM reaches the primary alone; exit 0.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { makeTree, removeTree, runCli, BIN } from './helpers/server.js';
import { get } from './helpers/dev.js';

const WAIT_MS = 15_000;
const BANNER = /serving (.+) at http:\/\/[^/]+:(\d+)\//;

const workers = suite('--workers stop');

async function runAndStop(toGroup: boolean): Promise<{ out: string; code: number | null }> {
  const dir = await makeTree({ 'app.ts': 'export default () => new Response("w")\n' });
  // Its own process group, like a shell job: a signal to -pid is what Ctrl-C sends.
  const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, BIN, '--port', '0', '--app', 'app.ts', '--no-watch', '--workers', '3', dir], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const pid = child.pid as number;
  try {
    const deadline = Date.now() + WAIT_MS;
    while (!BANNER.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const port = Number(BANNER.exec(out)?.[2]);
    assert.ok(port > 0, out);
    assert.is((await get(port, '/')).text, 'w');
    process.kill(toGroup ? -pid : pid, toGroup ? 'SIGINT' : 'SIGTERM');
    const timer = setTimeout(() => process.kill(-pid, 'SIGKILL'), WAIT_MS);
    const code = await exited;
    clearTimeout(timer);
    return { out, code };
  } finally {
    if (child.exitCode === null) process.kill(-pid, 'SIGKILL');
    await removeTree(dir);
  }
}

workers('Ctrl-C to the whole process group: one stop message, exit 0', async () => {
  const { out, code } = await runAndStop(true);
  assert.is(out.match(/stopping/g)?.length, 1, out);
  assert.match(out, 'Ctrl-C: stopping (press Ctrl-C again to quit now)');
  assert.is(code, 0, out);
});

workers('SIGTERM to the primary alone: one stop message, the workers follow, exit 0', async () => {
  const { out, code } = await runAndStop(false);
  assert.is(out.match(/stopping/g)?.length, 1, out);
  assert.match(out, 'SIGTERM: stopping');
  assert.is(code, 0, out);
});

workers('--workers without --no-watch says plainly what it needs and why', async () => {
  const dir = await makeTree({ 'app.ts': 'export default () => new Response("w")\n' });
  try {
    const r = await runCli(['--port', '0', '--app', 'app.ts', '--workers', '2', dir], { cwd: dir });
    assert.is(r.code, 2);
    assert.match(r.stderr, 'serve-here: --workers needs --no-watch');
    assert.match(r.stderr, 'cannot reload the app on save');
    assert.match(r.stderr, '`--no-watch --workers N`');
  } finally {
    await removeTree(dir);
  }
});

workers.run();
