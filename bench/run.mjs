#!/usr/bin/env node
// Side-by-side benchmark of serve-here and its peers (see README.md). Never part of `npm test`.
//
//   node run.mjs                       full run (about 15 minutes)
//   node run.mjs --quick               smoke run: 1 s per case, one round, 3 startups
//   node run.mjs --only serve-here,nginx
//   node run.mjs --rounds 5            more interleaved rounds per case (the median is kept)
//   node run.mjs --no-app              without the app rows
//   node run.mjs --no-install-size     without the install-size rows (they need the npm registry)
//
// Servers run pinned to CPU 0 and wrk to CPU 1 (taskset). All traffic goes to 127.0.0.1.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { appRows } from './app-rows.mjs';
import { buildFixture, checkServer } from './fixture.mjs';
import { installSizes } from './install-size.mjs';
import { freePort, killTree, live, median, removeTempDirs, rssKiB, running, stop, track, waitReady, withNofile, wrk } from './lib.mjs';
import { report } from './report.mjs';
import { ALIASES, BENCH, removeNginxDirs, SERVERS, serverNamed, shown } from './servers.mjs';

const LUA = join(BENCH, 'wrk-report.lua');

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    'no-app': { type: 'boolean', default: false },
    'no-install-size': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log(`Usage: node run.mjs [--quick] [--only ${SERVERS.map((s) => s.name).join(',')}] [--rounds N] [--no-app] [--no-install-size]`);
  process.exit(0);
}
const QUICK = opt.quick;
const SECONDS = QUICK ? 1 : 5; // measured wrk duration per case
const WARMUP = QUICK ? 0 : 1; // discarded wrk run before each measured one
const ROUNDS = Math.max(1, Math.min(10, Number(opt.rounds ?? (QUICK ? 1 : 3)) || 1));
const STARTUPS = QUICK ? 3 : 7;
const CONNS = 32; // keep-alive connections for the req/s cases
const MANY_CONNS = 2000; // the many-connections case
const BIG_CONNS = 4; // connections for the 50 MiB download

let selected = SERVERS;
if (opt.only !== undefined) {
  const names = opt.only.split(',').map((s) => s.trim()).filter(Boolean).map((s) => ALIASES[s] ?? s);
  const unknown = names.filter((n) => !serverNamed(n));
  if (unknown.length > 0) {
    console.error(`Unknown server(s): ${unknown.join(', ')}. Known: ${SERVERS.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  selected = SERVERS.filter((s) => names.includes(s.name));
}
const isPeer = (s, key) => s.cases === undefined || s.cases.includes(key);

// Load cases timed with wrk; `check` names the correctness verdict a case relies on. The phases
// run in order, RSS is read after each: the file loads at 32 connections, then 2,000
// connections, then the listing (sirv-cli has none).
const CASES = [
  { key: 'small', label: '1 KiB file', path: '/1k.js', conns: CONNS, unit: 'req/s', phase: 0 },
  { key: 'medium', label: '100 KiB file', path: '/100k.js', conns: CONNS, unit: 'req/s', phase: 0 },
  { key: 'notfound', label: '404 (`/nope-404`)', path: '/nope-404', conns: CONNS, unit: 'req/s', phase: 0 },
  { key: 'big', label: '50 MiB download', path: '/50m.bin', conns: BIG_CONNS, unit: 'MB/s', phase: 0 },
  { key: 'small2k', check: 'small', label: '1 KiB file, 2,000 connections', path: '/1k.js', conns: MANY_CONNS, unit: 'req/s', phase: 1 },
  { key: 'listing', label: '1,000-file listing (`/many/`)', path: '/many/', conns: CONNS, unit: 'req/s', phase: 2 },
];
const PHASE_RSS = ['rssLoadKiB', 'rssConnsKiB', 'rssAllKiB'];

// ---------------------------------------------------------------------------------------------
// Cleanup: every process the script starts is tracked and ended by PID, whatever happens.

let fixtureDir;
function cleanup() {
  if (fixtureDir !== undefined) rmSync(fixtureDir, { recursive: true, force: true });
  fixtureDir = undefined;
  removeNginxDirs();
  removeTempDirs();
}
process.on('exit', () => {
  for (const child of live) killTree(child.pid);
  cleanup();
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping ${live.size} process(es)`);
    Promise.all([...live].map((c) => stop(c, 1000))).finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Machine and pinning

const cpus = os.availableParallelism?.() ?? os.cpus().length;
const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?';
const has = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
if (!has('wrk')) {
  console.error('wrk is not installed (Debian/Ubuntu: apt-get install -y wrk).');
  process.exit(2);
}
const PIN = cpus >= 2 && has('taskset');
if (PIN) {
  // This script (and the startup probes it sends) shares CPU 1 with wrk, away from the servers.
  execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
} else {
  console.error('warning: fewer than 2 CPUs or no taskset; running unpinned, figures are less comparable');
}
const serverPin = (argv) => (PIN ? ['taskset', '-c', '0', ...argv] : argv);
const LOAD_PIN = PIN ? ['taskset', '-c', '1'] : [];
const wrkVersion = /wrk (\S+)/.exec(spawnText('wrk', ['-v']))?.[1] ?? '?';
function spawnText(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    return `${error.stdout ?? ''}${error.stderr ?? ''}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Servers, checks, load

/** Every server with a soft open-files limit of 16,384, so the 2,000-connection case can run. */
function launch(server, dir, port) {
  const [file, ...args] = serverPin(withNofile(server.cmd(dir, port)));
  return track(spawn(file, args, { stdio: 'ignore', env: { ...process.env, ...server.env } }));
}

const log = (...a) => console.error(...a);
const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

/** Interleaved rounds of each phase's cases (server order rotated per round); RSS after each phase. */
async function loadRounds(procs, results) {
  const order = Object.keys(procs);
  for (const [phase, field] of PHASE_RSS.entries()) {
    const cases = CASES.filter((c) => c.phase === phase);
    for (let round = 0; round < ROUNDS; round++) {
      const rotated = order.map((_, i) => order[(i + round) % order.length]);
      for (const c of cases) {
        for (const name of rotated) {
          if (results[name].correct[c.check ?? c.key] !== 'ok') continue;
          const { port, child } = procs[name];
          if (!running(child)) {
            results[name].died = `exited during the load (${child.exitCode ?? child.signalCode})`;
            continue;
          }
          let m;
          try {
            if (WARMUP) await wrk(LUA, LOAD_PIN, port, c.path, c.conns, WARMUP);
            m = await wrk(LUA, LOAD_PIN, port, c.path, c.conns, SECONDS);
          } catch (error) {
            log(`${name} ${c.key}: ${error.message}`);
            (results[name].loadErrors ??= []).push(`${c.key}: ${error.message}`);
            continue;
          }
          m.rssAfterKiB = rssKiB(child.pid);
          (results[name].runs[c.key] ??= []).push(m);
          const errs = m.connect + m.read + m.write + m.timeout;
          log(`round ${round + 1}/${ROUNDS} ${c.key.padEnd(8)} ${name.padEnd(11)} ${c.unit === 'MB/s' ? `${fmtInt(m.mbps)} MB/s` : `${fmtInt(m.rps)} req/s`}${errs ? ` (${errs} socket errors)` : ''}`);
        }
      }
    }
    for (const name of order) results[name][field] = running(procs[name].child) ? rssKiB(procs[name].child.pid) : NaN;
  }
  for (const name of order) {
    for (const [key, runs] of Object.entries(results[name].runs)) {
      const metric = key === 'big' ? 'mbps' : 'rps';
      const mid = median(runs.map((r) => r[metric]));
      results[name].cases[key] = runs.find((r) => r[metric] === mid) ?? { ...runs[0], [metric]: mid };
    }
  }
}

/** Spawn → first 200 on /, interleaved across servers, median. */
async function startupRounds(names, results, fx) {
  const startups = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < STARTUPS; i++) {
    for (const name of names) {
      const port = await freePort();
      const t0 = performance.now();
      const child = launch(serverNamed(name), fx.dir, port);
      try {
        startups[name].push((await waitReady(child, port, { limitMs: 20_000, everyMs: 2 })) - t0);
      } catch (error) {
        log(`${name}: start-up ${i + 1} failed: ${error.message}`);
      } finally {
        await stop(child);
      }
    }
  }
  for (const [name, xs] of Object.entries(startups)) {
    results[name].startupRunsMs = xs.map((x) => Math.round(x * 10) / 10);
    results[name].startupMs = median(xs);
    log(`${name}: start-up median ${results[name].startupMs.toFixed(1)} ms (${results[name].startupRunsMs.join(', ')})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const started = Date.now();
  const loadStart = os.loadavg();
  log(`serve-here bench: ${selected.map((s) => s.name).join(', ')}; ${ROUNDS} round(s) × ${SECONDS} s per case${WARMUP ? ` (+${WARMUP} s warm-up)` : ''}`);
  const fx = buildFixture();
  fixtureDir = fx.dir;
  log(`fixture in ${fx.dir}`);

  const results = {};
  const procs = {};
  for (const s of selected) {
    results[s.name] = { version: s.version, command: shown(s), cases: {}, runs: {} };
    const port = await freePort();
    const child = launch(s, fx.dir, port);
    try {
      await waitReady(child, port);
      await sleep(500);
      results[s.name].rssIdleKiB = rssKiB(child.pid);
      procs[s.name] = { child, port };
      log(`${s.name}: up on ${port} (pid ${child.pid})`);
    } catch (error) {
      results[s.name].failed = error.message;
      log(`${s.name}: did not start: ${error.message}`);
      await stop(child, 1000);
    }
  }
  for (const [name, { port }] of Object.entries(procs)) {
    results[name].correct = await checkServer(port, fx, (key) => isPeer(serverNamed(name), key));
    const bad = Object.entries(results[name].correct).filter(([, v]) => v !== 'ok' && v !== '—');
    log(`${name}: correctness ${bad.length === 0 ? 'ok' : bad.map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  }

  await loadRounds(procs, results);
  await Promise.all(Object.values(procs).map(({ child }) => stop(child)));
  await startupRounds(Object.keys(procs).filter((n) => isPeer(serverNamed(n), 'startup')), results, fx);

  let app;
  if (!opt['no-app'] && selected.some((s) => s.name === 'serve-here')) {
    app = await appRows({ serverPin, loadPin: LOAD_PIN, lua: LUA, rounds: ROUNDS, seconds: SECONDS, warmup: WARMUP, startups: STARTUPS, conns: CONNS, log });
    log(`app: start-up median ${app.app.startupMs?.toFixed(1)} ms, RSS ${(app.app.rssKiB / 1024).toFixed(1)} MiB (${app.app.processes} processes)`);
  }
  const install = opt['no-install-size'] ? undefined : await installSizes({ log });

  const meta = {
    date: new Date(started).toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: { cpus, cpuModel, node: process.version, python: serverNamed('python').version, wrk: wrkVersion, pinned: PIN, loadavgNote: 'other work may share the machine' },
    loadStart,
    loadEnd: os.loadavg(),
    mode: `${QUICK ? 'quick' : 'full'}: ${ROUNDS} round(s) × ${SECONDS} s per case, wrk -t1 -c${CONNS} (2,000-connection case: -c${MANY_CONNS}; 50 MiB: -c${BIG_CONNS}), median of rounds`,
    took: `took ${Math.round((Date.now() - started) / 1000)} s`,
    argv: process.argv.slice(2),
  };
  const names = selected.map((s) => s.name);
  const { md, targets } = report(results, meta, { names, cases: CASES, startups: STARTUPS, app, install });
  mkdirSync(join(BENCH, 'results'), { recursive: true });
  writeFileSync(join(BENCH, 'results/latest.md'), md);
  writeFileSync(join(BENCH, 'results/latest.json'), `${JSON.stringify({ meta, targets, results, app, install }, null, 2)}\n`);
  console.log(md);
  log('written: bench/results/latest.md, bench/results/latest.json');
}

main()
  .catch((error) => {
    console.error(error?.stack ?? error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all([...live].map((c) => stop(c, 1000)));
    cleanup();
  });
