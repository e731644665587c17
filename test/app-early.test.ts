// The first app process spawned by the bin before the CLI loads (src/app/early.ts): which
// command lines spawn it, and that the supervisor adopts it only when it was spawned as the
// supervisor would spawn one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runsAppProcesses, spawnEarly, takeEarly } from '../src/app/early.js';

const early = suite('early app process');

early('only command lines that run app processes spawn one', () => {
  assert.ok(runsAppProcesses(['--app', 'app.ts']));
  assert.ok(runsAppProcesses(['public', '--port', '0', '--app=/api=api.ts']));
  assert.ok(runsAppProcesses(['--app', 'app.ts', '--inspect']));
  assert.not.ok(runsAppProcesses(['public']));
  assert.not.ok(runsAppProcesses(['--app', 'app.ts', '--no-watch']));
  assert.not.ok(runsAppProcesses(['--app', 'app.ts', '--no-watch', '--workers', '4']));
  assert.not.ok(runsAppProcesses(['--app', 'app.ts', '--help']));
  assert.not.ok(runsAppProcesses(['--version', '--app', 'app.ts']));
  assert.not.ok(runsAppProcesses(['export', 'docker', '--app', 'app.ts']));
  assert.not.ok(runsAppProcesses(['--', '--app']));
  // Another environment for the apps: spawned later, once it is known.
  assert.not.ok(runsAppProcesses(['--app', 'app.ts', '--env-file', '.env']));
  assert.not.ok(runsAppProcesses(['--app', 'app.ts', '--env-file=.env']));
  assert.not.ok(runsAppProcesses(['--app', 'app.ts', '--host']));
  assert.not.ok(runsAppProcesses(['--host=0.0.0.0', '--app', 'app.ts']));
});

early('spawned with another environment: killed, never adopted', () => {
  spawnEarly(['--app', 'app.ts']);
  assert.is(takeEarly({ ...process.env, FROM_ENV_FILE: '1' }, process.cwd()), undefined);
  // Asked once: a later spawn never gets a process spawned for another purpose.
  assert.is(takeEarly({ ...process.env }, process.cwd()), undefined);
});

early('spawned in another folder: killed, never adopted', () => {
  spawnEarly(['--app', 'app.ts']);
  assert.is(takeEarly({ ...process.env }, tmpdir()), undefined);
});

early('the same environment and folder: adopted, and it loads and serves the app', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-here-early-'));
  try {
    writeFileSync(join(dir, 'app.ts'), 'const n: number = 1;\nexport default { fetch: () => new Response(`hi ${n}`) };\n');
    spawnEarly(['--app', 'app.ts']);
    const proc = takeEarly({ ...process.env }, process.cwd());
    assert.ok(proc !== undefined, 'adopted');
    proc.place(7);
    assert.is(proc.id, 7);
    const result = await proc.load({
      mounts: [{ prefix: '', file: join(dir, 'app.ts') }],
      style: undefined,
      strip: true,
      stuckMs: 10_000,
      onStuck: () => {},
      timeoutMs: 15_000,
      blockedMs: 10_000,
      inspect: undefined,
    });
    assert.ok(result.ok, JSON.stringify(result));
    assert.ok(result.ok && result.deps.includes(join(dir, 'app.ts')), 'its module graph is reported for watching');
    proc.kill('test over');
    await proc.exited;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

early.run();

const lean = suite('start-up modules');

// On Node 22+, `import … from 'node:http'` builds a namespace that reads http's lazy WebSocket
// exports and loads undici (about 50 ms on Node 24); the inspector is for --inspect only.
lean('the server and the app process load neither undici nor the inspector at start', async () => {
  const dist = new URL('../src/', import.meta.url).href;
  const script = `
    await Promise.all(['cli.js', 'server.js', 'app/start.js', 'app/reloading.js', 'app/adapters.js', 'app/load.js', 'app/error-describe.js', 'app/protocol.js'].map((m) => import(${JSON.stringify(dist)} + m)));
    console.log(JSON.stringify(process.moduleLoadList.filter((m) => /undici/.test(m) || m === 'NativeModule inspector')));`;
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(JSON.parse(out), []);
});

lean.run();
