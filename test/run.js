#!/usr/bin/env node
// Runs each compiled test file (dist/test/*.test.js) in its own process, so one leaked handle or
// crash cannot hang or take down the others, and ends with the line CI reads:
// "N passed, N failed, N skipped". A skip is a `SKIP[missing]: …` or `SKIP[machine]: …` line
// (test/helpers/skip.ts); under CI=true a missing tool, engine or browser fails the run.
// Skipped counts those lines (checks not run); a test that skipped some of its checks is still
// among the passed, as uvu counts it.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

// TEST_DIST_DIR: another folder of compiled tests (the runner's own test uses it).
const dir = process.env.TEST_DIST_DIR ?? join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist', 'test');
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 180_000);
/** How long a file whose every suite passed may stay up before it is taken for a leaked handle. */
const LINGER_MS = 30_000;

const CI = process.env.CI === 'true' || process.env.CI === '1';
const SKIP_LINE = /^\s*SKIP\[(missing|machine)\]: (.*)$/gm;

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const file of files) {
  const result = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(dir, file)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let lingered = false;
    let linger;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
      // Every suite reported and none failed, but the process stays up: a handle was left open.
      // Said loudly and killed after a grace period; the results stand (they were all printed).
      clearTimeout(linger);
      if (/Total:\s+(\d+)\s+Passed:\s+\1\b/.test(out) && !/FAIL/.test(out)) {
        linger = setTimeout(() => {
          lingered = true;
          process.stdout.write(`\n${file}: WARNING: all its tests passed but the process did not exit within ${LINGER_MS} ms (a leaked handle); killed\n`);
          child.kill('SIGKILL');
        }, LINGER_MS);
      }
    });
    const timer = setTimeout(() => {
      process.stdout.write(`\n${file}: no result after ${FILE_TIMEOUT_MS} ms, killed\n`);
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(linger);
      if (lingered) code = 0;
      // uvu prints a summary per run: "Total: 12  Passed: 11  Skipped: 0"
      let total = 0;
      let ok = 0;
      for (const m of out.matchAll(/Total:\s+(\d+)\s+Passed:\s+(\d+)/g)) {
        total += Number(m[1]);
        ok += Number(m[2]);
      }
      let bad = total - ok;
      if (code !== 0 && bad === 0) bad = 1; // a crash or timeout with nothing counted still fails
      if (total === 0 && code === 0) bad = 1; // a file that ran no test is a defect
      const skips = [...out.matchAll(SKIP_LINE)];
      for (const m of skips) if (m[1] === 'missing') missing.push(`${file}: ${m[2]}`);
      resolve({ ok, bad, skips: skips.length });
    });
  });
  passed += result.ok;
  failed += result.bad;
  skipped += result.skips;
}
if (CI && missing.length > 0) {
  // CI installs every tool, engine and browser the tests use: one missing is an install bug.
  console.log(`\nCI=true: ${missing.length} skipped for something not installed, counted as failed:\n${missing.map((m) => `  ${m}`).join('\n')}`);
  failed += missing.length;
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
