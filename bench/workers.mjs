// --workers N vs 1 (issue 10): a hello-world app with `--no-watch --workers N`, wrk on 127.0.0.1,
// N = 1 and 2 interleaved in the same run, 3 rounds × 5 s, median req/s, ratio N=2 ÷ N=1.
// Not pinned to CPUs: the point is that two processes use both CPUs. Usage:
//   node workers.mjs [--quick] [--style fetch|node]
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, median } from './lib.mjs';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const style = process.argv.includes('--style') ? process.argv[process.argv.indexOf('--style') + 1] : 'fetch';
const app = join(ROOT, 'bench', 'apps', `${style}-style.mjs`);
const seconds = quick ? 2 : 5;
const rounds = quick ? 1 : 3;

async function start(workers) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bin/serve-here.js'), join(ROOT, 'bench'), '--port', String(port), '--quiet', '--no-watch', '--workers', String(workers), '--app', app], { stdio: 'ignore', detached: true });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/x`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`--workers ${workers} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => process.kill(-child.pid, 'SIGKILL') };
}

function wrk(port) {
  const r = spawnSync('wrk', ['-t2', '-c64', `-d${seconds}s`, `http://127.0.0.1:${port}/x`], { encoding: 'utf8' });
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? 0);
}

const results = { 1: [], 2: [] };
for (let round = 0; round < rounds; round++) {
  for (const n of round % 2 === 0 ? [1, 2] : [2, 1]) {
    const s = await start(n);
    wrk(s.port); // warm-up, discarded
    results[n].push(wrk(s.port));
    s.stop();
    console.log(`round ${round + 1}/${rounds} --workers ${n}: ${Math.round(results[n].at(-1))} req/s`);
  }
}
const one = median(results[1]);
const two = median(results[2]);
console.log(`\n| ${style} hello world, --no-watch | req/s |\n|---|---:|\n| --workers 1 | ${Math.round(one)} |\n| --workers 2 | ${Math.round(two)} |\n| ratio 2 ÷ 1 | ${(two / one).toFixed(2)}× |`);
