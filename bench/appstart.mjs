#!/usr/bin/env node
// `--app` start-up and memory (issue 11): spawn → first 200 on / (probed every 2 ms, median of
// N starts) and the process tree's RSS after a short wrk load, against `node -e 0` and a bare
// node:http server as the floor. Bounded, 127.0.0.1 only; every process started is ended by PID.
//
//   node bench/appstart.mjs [--runs 7] [--node /path/to/node] [--wrk 0 to skip memory] [--only NAME] [--base DIR]
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { freePort, median, rssKiB, treePids } from './lib.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const BIN = join(BENCH, '..', 'bin/serve-here.js');
const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '7' }, node: { type: 'string' }, wrk: { type: 'string', default: '1' }, only: { type: 'string' }, base: { type: 'string' } } });
const NODE = opt.node ?? process.execPath;
const RUNS = Number(opt.runs);
const started = new Set();
process.on('exit', () => {
  for (const p of started) try { process.kill(p.pid, 'SIGKILL'); } catch {}
});
process.on('SIGINT', () => process.exit(130));

const dir = mkdtempSync(join(os.tmpdir(), 'appstart-'));
copyFileSync(join(BENCH, 'apps/fetch-style.mjs'), join(dir, 'fetch-style.mjs'));
copyFileSync(join(BENCH, 'apps/bare.mjs'), join(dir, 'bare.mjs'));
writeFileSync(join(dir, 'app.ts'), "type Greeting = { text: string };\nconst g: Greeting = { text: 'hello world' };\nexport default { fetch(_req: Request): Response { return new Response(g.text); } };\n");

function status(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
  });
}

async function startOne(args) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(NODE, args.map((a) => (a === 'PORT' ? String(port) : a)), { cwd: dir, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
  started.add(child);
  const deadline = Date.now() + 15000;
  while ((await status(port)) !== 200) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`did not start: ${args.join(' ')}`);
    await sleep(2);
  }
  return { ms: performance.now() - t0, cpu: cpuMs(child.pid), child, port };
}

/** utime + stime so far, ms (clock ticks of 10 ms): the process and its first child's tree (the standby, started later, left out). */
function cpuMs(pid) {
  let ticks = 0;
  const kids = treePids(pid).filter((p) => p !== pid && ppidOf(p) === pid);
  for (const p of [pid, ...(kids.length === 0 ? [] : treePids(Math.min(...kids)))]) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').slice(readFileSync(`/proc/${p}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks * 10;
}

function ppidOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

async function stop(child) {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    clearTimeout(t);
  }
  started.delete(child);
}

/** wrk -t1 -c32 until `n` responses (bench/wrk-count.lua says DONE), 60 s at most. */
function wrkCount(port, n) {
  return new Promise((resolve) => {
    const w = spawn('wrk', ['-t1', '-c32', '-d60s', '-s', join(BENCH, 'wrk-count.lua'), `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, WRK_REQUESTS: String(n) } });
    started.add(w);
    let out = '';
    w.stdout.on('data', (c) => {
      out += c;
      if (out.includes('DONE')) w.kill('SIGKILL');
    });
    w.once('exit', () => {
      started.delete(w);
      resolve(out.includes('DONE'));
    });
  });
}

function nodeE0() {
  const t0 = performance.now();
  spawnSync(NODE, ['-e', '0']);
  return performance.now() - t0;
}

const cases = {
  bare: ['bare.mjs', 'PORT'],
  'app fetch-style.mjs': [BIN, '--app', 'fetch-style.mjs', '--port', 'PORT', '--quiet'],
  'app app.ts': [BIN, '--app', 'app.ts', '--port', 'PORT', '--quiet'],
};
// --base DIR: the same cases with another checkout's bin (built), interleaved, for an A/B on a busy machine.
if (opt.base !== undefined) {
  const other = join(opt.base, 'bin/serve-here.js');
  cases['base fetch-style.mjs'] = [other, '--app', 'fetch-style.mjs', '--port', 'PORT', '--quiet'];
  cases['base app.ts'] = [other, '--app', 'app.ts', '--port', 'PORT', '--quiet'];
}
const names = Object.keys(cases).filter((n) => opt.only === undefined || n.includes(opt.only));
const times = Object.fromEntries(names.map((n) => [n, []]));
const cpus = Object.fromEntries(names.map((n) => [n, []]));
const e0 = [];
for (let i = 0; i < RUNS; i++) {
  e0.push(nodeE0());
  for (const n of names) {
    const s = await startOne(cases[n]);
    times[n].push(s.ms);
    cpus[n].push(s.cpu);
    await stop(s.child);
  }
}
const version = spawnSync(NODE, ['-v'], { encoding: 'utf8' }).stdout.trim();
console.log(`node ${version}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`node -e 0: ${median(e0).toFixed(0)} ms`);
for (const n of names) console.log(`${n}: start → first 200 median ${median(times[n]).toFixed(0)} ms  [${times[n].map((x) => x.toFixed(0)).join(' ')}], CPU (server + first app process) at first 200 median ${median(cpus[n])} ms`);

// RSS after load: one start per case, wrk on /, then the tree's VmRSS.
if (Number(opt.wrk) > 0) {
  for (const n of names) {
    const s = await startOne(cases[n]);
    // Let the standby boot before measuring (it is part of the tree).
    await sleep(1500);
    const idle = rssKiB(s.child.pid);
    // 20k requests, not a fixed time: the same work whatever the machine's load.
    const t0 = performance.now();
    const ok = await wrkCount(s.port, 20000);
    const reqs = ok ? 20000 : NaN;
    const rps = (20000 / ((performance.now() - t0) / 1000)).toFixed(0);
    await sleep(300);
    const after = rssKiB(s.child.pid);
    const each = treePids(s.child.pid).map((p) => (rssKiB(p) / 1024).toFixed(0));
    const procs = `${each.length}: ${each.join(' + ')}`;
    console.log(`${n}: RSS idle ${(idle / 1024).toFixed(0)} MiB, after ${reqs} requests ${(after / 1024).toFixed(0)} MiB (${procs} processes), ${rps} req/s`);
    await stop(s.child);
  }
}
rmSync(dir, { recursive: true, force: true });
