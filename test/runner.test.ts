// test/run.js, the runner npm test and CI use: its last line says what passed, failed and was
// skipped, and under CI=true a skip for a missing tool fails the run (one for the machine does not).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'run.js');

/** A compiled test file that reports as uvu does, after printing `lines`. */
const fake = (lines: string[], passed: number, total: number): string =>
  `${lines.map((l) => `console.log(${JSON.stringify(l)});`).join('\n')}\nconsole.log('  Total:     ${total}\\n  Passed:    ${passed}\\n  Skipped:   0');\nprocess.exit(${passed === total ? 0 : 1});\n`;

async function runOn(files: Record<string, string>, ci: boolean): Promise<{ last: string; code: number | null }> {
  const dir = await mkdtemp(join(tmpdir(), 'serve-here-runner-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const env: NodeJS.ProcessEnv = { ...process.env, TEST_DIST_DIR: dir };
    delete env.CI;
    if (ci) env.CI = 'true';
    const r = spawnSync(process.execPath, [RUN], { env, encoding: 'utf8' });
    return { last: r.stdout.trimEnd().split('\n').at(-1) ?? '', code: r.status };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const FILES = {
  'a.test.js': fake(['  SKIP[missing]: zbarimg not found', '  SKIP[machine]: no LAN IPv4 address'], 3, 3),
  'b.test.js': fake([], 1, 2),
};

test('the last line counts passed, failed and skipped', async () => {
  const r = await runOn(FILES, false);
  assert.is(r.last, '4 passed, 1 failed, 2 skipped');
  assert.is(r.code, 1);
});

test('under CI=true a skip for something not installed is a failure; one for the machine is not', async () => {
  const ok = await runOn({ 'a.test.js': fake(['  SKIP[machine]: no LAN IPv4 address'], 1, 1) }, true);
  assert.is(ok.last, '1 passed, 0 failed, 1 skipped');
  assert.is(ok.code, 0);
  const bad = await runOn({ 'a.test.js': fake(['  SKIP[missing]: zbarimg not found'], 1, 1) }, true);
  assert.is(bad.last, '1 passed, 1 failed, 1 skipped');
  assert.is(bad.code, 1);
});

test.run();
