#!/usr/bin/env node
// Side-by-side benchmark of serve-here and its peers (see README.md). Never part of `npm test`.
//
//   node run.mjs                       full run (about 8 minutes)
//   node run.mjs --quick               smoke run: 1 s per case, one round, 3 startups
//   node run.mjs --only serve-here,sirv
//   node run.mjs --rounds 5            more interleaved rounds per case (the median is kept)
//
// Servers run pinned to CPU 0 and wrk to CPU 1 (taskset). All traffic goes to 127.0.0.1.
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { freePort, median, rssKiB } from './lib.mjs';
const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');
const MODULES = join(BENCH, 'node_modules');
const LUA = join(BENCH, 'wrk-report.lua');
const NODE = process.execPath;

// ---------------------------------------------------------------------------------------------
// Options

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log('Usage: node run.mjs [--quick] [--only serve-here,sirv,http-server,serve,python] [--rounds N]');
  process.exit(0);
}
const QUICK = opt.quick;
const SECONDS = QUICK ? 1 : 5; // measured wrk duration per case
const WARMUP = QUICK ? 0 : 1; // discarded wrk run before each measured one
const ROUNDS = Math.max(1, Math.min(10, Number(opt.rounds ?? (QUICK ? 1 : 3)) || 1));
const STARTUPS = QUICK ? 3 : 7;
const CONNS = 32; // keep-alive connections for the req/s cases
const BIG_CONNS = 4; // connections for the 50 MiB download

// ---------------------------------------------------------------------------------------------
// Servers

const pythonExe = (() => {
  // The real interpreter, not a version-manager shim (a shim adds its own start-up time).
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  } catch {
    return 'python3';
  }
})();

const pkgVersion = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).version;
  } catch {
    return '?';
  }
};

const SERVERS = [
  {
    name: 'serve-here',
    version: pkgVersion(join(ROOT, 'package.json')),
    // Run as npx runs it: the bin itself, so its shebang's V8 flag applies.
    cmd: (dir, port) => [join(ROOT, 'bin/serve-here.js'), dir, '--port', String(port)],
  },
  {
    name: 'sirv',
    label: 'sirv-cli',
    version: pkgVersion(join(MODULES, 'sirv-cli/package.json')),
    cmd: (dir, port) => [NODE, join(MODULES, 'sirv-cli/bin.js'), dir, '--port', String(port), '--host', '127.0.0.1'],
  },
  {
    name: 'http-server',
    version: pkgVersion(join(MODULES, 'http-server/package.json')),
    cmd: (dir, port) => [NODE, join(MODULES, 'http-server/bin/http-server'), dir, '-p', String(port), '-a', '127.0.0.1', '-c-1'],
  },
  {
    name: 'serve',
    version: pkgVersion(join(MODULES, 'serve/package.json')),
    cmd: (dir, port) => [NODE, join(MODULES, 'serve/build/main.js'), dir, '-l', `tcp://127.0.0.1:${port}`],
    env: { NO_UPDATE_CHECK: '1' }, // no request to the npm registry on start
  },
  {
    name: 'python',
    label: 'python http.server',
    version: (() => {
      try {
        return execFileSync(pythonExe, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim();
      } catch {
        return '?';
      }
    })(),
    cmd: (dir, port) => [pythonExe, '-m', 'http.server', String(port), '--bind', '127.0.0.1', '-d', dir],
  },
];
const ALIASES = { 'sirv-cli': 'sirv', python3: 'python', 'http.server': 'python' };
let selected = SERVERS;
if (opt.only !== undefined) {
  const names = opt.only.split(',').map((s) => s.trim()).filter(Boolean).map((s) => ALIASES[s] ?? s);
  const unknown = names.filter((n) => !SERVERS.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`Unknown server(s): ${unknown.join(', ')}. Known: ${SERVERS.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  selected = SERVERS.filter((s) => names.includes(s.name));
}
const labelOf = (s) => s.label ?? s.name;
/** A command as recorded in the results: interpreters by name, paths relative to the repository. */
const shown = (argv) =>
  argv.map((a) => (a === NODE ? 'node' : a === pythonExe ? 'python3' : a.startsWith(`${ROOT}/`) ? a.slice(ROOT.length + 1) : a)).join(' ');

// Load cases timed with wrk. `base` is the peer the serve-here figure is divided by.
const CASES = [
  { key: 'small', label: '1 KiB file', path: '/1k.js', conns: CONNS, unit: 'req/s' },
  { key: 'medium', label: '100 KiB file', path: '/100k.js', conns: CONNS, unit: 'req/s' },
  { key: 'notfound', label: '404 (`/nope-404`)', path: '/nope-404', conns: CONNS, unit: 'req/s' },
  { key: 'listing', label: '1,000-file listing (`/many/`)', path: '/many/', conns: CONNS, unit: 'req/s' },
  { key: 'big', label: '50 MiB download', path: '/50m.bin', conns: BIG_CONNS, unit: 'MB/s' },
];

const TARGETS = [
  { key: 'small', base: 'sirv', op: '>=', value: 2.5 },
  { key: 'medium', base: 'sirv', op: '>=', value: 2 },
  { key: 'notfound', base: 'sirv', op: '>=', value: 1.2 },
  { key: 'big', base: 'sirv', op: '>=', value: 1 },
  { key: 'startup', base: 'python', op: '<=', value: 1 },
  { key: 'rssLoad', base: 'sirv', op: '<=', value: 0.6 },
  { key: 'listing', base: 'python', op: '>=', value: 4 },
];

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked and ended by PID, whatever happens.

const live = new Set();

function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.on('error', (error) => {
    child.spawnError = error;
    live.delete(child);
  });
  return child;
}

const running = (child) => child.exitCode === null && child.signalCode === null && child.spawnError === undefined;

async function stop(child, graceMs = 3000) {
  if (!running(child) || child.pid === undefined) return;
  const exited = once(child, 'exit');
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {}
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

let fixtureDir;
function removeFixture() {
  if (fixtureDir !== undefined) rmSync(fixtureDir, { recursive: true, force: true });
  fixtureDir = undefined;
}

process.on('exit', () => {
  for (const child of live) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {}
  }
  removeFixture();
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
const cpuModel = (() => {
  try {
    return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?';
  } catch {
    return os.cpus()[0]?.model ?? '?';
  }
})();
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
const loadPin = (argv) => (PIN ? ['taskset', '-c', '1', ...argv] : argv);
const wrkVersion = (() => {
  try {
    execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    return /wrk (\S+)/.exec(String(error.stdout))?.[1] ?? '?';
  }
  return '?';
})();

// ---------------------------------------------------------------------------------------------
// Fixture

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

function textOf(bytes) {
  // Printable, incompressible-ish JS: comment lines of base64.
  const b64 = randomBytes(bytes).toString('base64');
  let out = '';
  for (let i = 0; out.length < bytes; i += 76) out += `// ${b64.slice(i, i + 76)}\n`;
  return Buffer.from(out.slice(0, bytes - 1) + '\n');
}

function buildFixture() {
  const dir = mkdtempSync(join(os.tmpdir(), 'serve-here-bench-'));
  const files = {
    small: { path: '/1k.js', body: textOf(1024) },
    medium: { path: '/100k.js', body: textOf(100 * 1024) },
    big: { path: '/50m.bin', body: randomBytes(50 * 1024 * 1024) },
    index: { path: '/', file: 'index.html', body: Buffer.from('<!doctype html>\n<title>bench</title>\n<p>serve-here bench fixture</p>\n') },
  };
  for (const f of Object.values(files)) {
    writeFileSync(join(dir, f.file ?? f.path.slice(1)), f.body);
    f.sha256 = sha256(f.body);
    f.size = f.body.length;
    delete f.body;
  }
  mkdirSync(join(dir, 'many'));
  const names = [];
  for (let i = 0; i < 1000; i++) {
    const name = `file-${String(i).padStart(4, '0')}.txt`;
    writeFileSync(join(dir, 'many', name), `${name}\n`);
    names.push(name);
  }
  return { dir, files, names };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers (the runner's own requests: correctness checks and start-up probes)

function get(port, path, { keepBody = false, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      const hash = createHash('sha256');
      const chunks = [];
      let size = 0;
      res.on('data', (chunk) => {
        size += chunk.length;
        hash.update(chunk);
        if (keepBody) chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode, size, sha256: hash.digest('hex'), body: keepBody ? Buffer.concat(chunks).toString('utf8') : '' }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}


function launch(server, dir, port) {
  const [file, ...args] = serverPin(server.cmd(dir, port));
  return track(spawn(file, args, { stdio: 'ignore', env: { ...process.env, ...server.env } }));
}

/** Poll GET / until it answers 200; resolves to performance.now() at that answer. */
async function waitReady(child, port, { limitMs = 15_000, everyMs = 5 } = {}) {
  const t0 = performance.now();
  for (;;) {
    if (child.spawnError) throw child.spawnError;
    if (!running(child)) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before answering`);
    try {
      const r = await get(port, '/', { timeoutMs: 2000 });
      if (r.status === 200) return performance.now();
    } catch {}
    if (performance.now() - t0 > limitMs) throw new Error(`no 200 on / within ${limitMs} ms`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements



async function wrk(port, path, conns, seconds) {
  const argv = loadPin(['wrk', '-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '10s', '-s', LUA, `http://127.0.0.1:${port}${path}`]);
  const child = track(spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const killer = setTimeout(() => stop(child, 1000), (seconds + 30) * 1000);
  const [code] = await once(child, 'close');
  clearTimeout(killer);
  const m = /WRKJSON (\{.*\})/.exec(out);
  if (!m) throw new Error(`wrk failed (exit ${code}): ${out.trim().slice(-300)}`);
  const s = JSON.parse(m[1]);
  const secs = s.duration_us / 1e6;
  return { ...s, rps: s.requests / secs, mbps: s.bytes / secs / 1e6 };
}

async function checkServer(port, fx) {
  const verdict = {};
  for (const key of ['small', 'medium', 'big', 'index']) {
    const f = fx.files[key];
    try {
      const r = await get(port, f.path);
      if (r.status !== 200) verdict[key] = `status ${r.status}`;
      else if (r.sha256 !== f.sha256) verdict[key] = `wrong body (${r.size} of ${f.size} bytes, sha256 differs)`;
      else verdict[key] = 'ok';
    } catch (error) {
      verdict[key] = `error: ${error.message}`;
    }
  }
  try {
    const r = await get(port, '/nope-404');
    verdict.notfound = r.status === 404 ? 'ok' : `status ${r.status}`;
  } catch (error) {
    verdict.notfound = `error: ${error.message}`;
  }
  try {
    const r = await get(port, '/many/', { keepBody: true });
    const missing = fx.names.filter((n) => !r.body.includes(n)).length;
    if (r.status === 404) verdict.listing = 'no listing (404)';
    else if (r.status !== 200) verdict.listing = `status ${r.status}`;
    else verdict.listing = missing === 0 ? 'ok' : `${missing} of 1000 names missing`;
  } catch (error) {
    verdict.listing = `error: ${error.message}`;
  }
  return verdict;
}

const log = (...a) => console.error(...a);

// ---------------------------------------------------------------------------------------------
// Report

const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmt1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const fmtRatio = (n) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');

function report(results, meta) {
  const names = selected.map((s) => s.name);
  const rows = [
    ...CASES.map((c) => ({
      key: c.key,
      label: `${c.label}, ${c.unit}`,
      value: (n) => results[n].cases[c.key]?.[c.unit === 'MB/s' ? 'mbps' : 'rps'],
      cell: (n) => {
        const r = results[n];
        if (r.failed) return 'did not start';
        const v = r.correct[c.key === 'big' ? 'big' : c.key];
        if (v !== 'ok') return v === 'no listing (404)' ? 'no listing' : 'wrong answer';
        const m = r.cases[c.key];
        return m ? (c.unit === 'MB/s' ? fmtInt(m.mbps) : fmtInt(m.rps)) : '—';
      },
    })),
    {
      key: 'startup',
      label: `start → first response, ms (median of ${STARTUPS})`,
      value: (n) => results[n].startupMs,
      cell: (n) => fmt1(results[n].startupMs),
    },
    {
      key: 'rssLoad',
      label: 'RSS after the file loads (1 KiB, 100 KiB, 404, 50 MiB), MiB',
      value: (n) => results[n].rssLoadKiB / 1024,
      cell: (n) => fmt1(results[n].rssLoadKiB / 1024),
    },
    {
      key: 'rssAll',
      label: 'RSS after the listing load too, MiB',
      value: (n) => results[n].rssAllKiB / 1024,
      cell: (n) => fmt1(results[n].rssAllKiB / 1024),
    },
    { key: 'rssIdle', label: 'RSS idle after start, MiB', value: (n) => results[n].rssIdleKiB / 1024, cell: (n) => fmt1(results[n].rssIdleKiB / 1024) },
  ];
  const targets = [];
  const lines = [];
  lines.push(`| Measure | ${names.map((n) => labelOf(SERVERS.find((s) => s.name === n))).join(' | ')} | serve-here ÷ peer | target | result |`);
  lines.push(`|---|${names.map(() => '---:').join('|')}|---:|---|---|`);
  for (const row of rows) {
    const t = TARGETS.find((x) => x.key === row.key);
    let ratio = NaN;
    let verdict = '';
    let targetText = '';
    if (t) {
      targetText = `${t.op === '>=' ? '≥' : '≤'} ${t.value}× ${t.base === 'sirv' ? 'sirv-cli' : t.base}`;
      if (names.includes('serve-here') && names.includes(t.base)) {
        ratio = row.value('serve-here') / row.value(t.base);
        if (Number.isFinite(ratio)) verdict = (t.op === '>=' ? ratio >= t.value : ratio <= t.value) ? '**PASS**' : '**MISS**';
        else verdict = 'n/a';
      } else verdict = 'n/a';
      targets.push({ ...t, ratio: Number.isFinite(ratio) ? ratio : null, result: verdict.replaceAll('*', '') });
    }
    lines.push(`| ${row.label} | ${names.map((n) => row.cell(n)).join(' | ')} | ${t ? `${fmtRatio(ratio)}` : ''} | ${targetText} | ${verdict} |`);
  }
  const notes = [];
  for (const n of names) {
    const r = results[n];
    if (r.failed) notes.push(`- ${labelOf(SERVERS.find((s) => s.name === n))}: did not start: ${r.failed}`);
    for (const [k, v] of Object.entries(r.correct ?? {})) if (v !== 'ok') notes.push(`- ${labelOf(SERVERS.find((s) => s.name === n))} \`${k === 'index' ? '/' : CASES.find((c) => c.key === k)?.path}\`: ${v}; not timed`);
    for (const [k, m] of Object.entries(r.cases ?? {})) {
      const errs = m.connect + m.read + m.write + m.timeout + (k === 'notfound' ? 0 : m.status);
      if (errs > 0) notes.push(`- ${labelOf(SERVERS.find((s) => s.name === n))} ${k}: wrk counted ${errs} errors (connect ${m.connect}, read ${m.read}, write ${m.write}, timeout ${m.timeout}${k === 'notfound' ? '' : `, non-2xx/3xx ${m.status}`}) in the median round`);
    }
  }
  const header = [
    `Run ${meta.date} · ${meta.machine.cpus} CPUs, ${meta.machine.cpuModel} · node ${meta.machine.node} · wrk ${meta.machine.wrk} · ${meta.machine.pinned ? 'servers on CPU 0, wrk on CPU 1' : 'unpinned'}`,
    `Load average at start ${meta.loadStart.map((x) => x.toFixed(2)).join(' ')}, at end ${meta.loadEnd.map((x) => x.toFixed(2)).join(' ')} · ${meta.mode} · ${meta.took}`,
    `Versions: ${names.map((n) => `${labelOf(SERVERS.find((s) => s.name === n))} ${SERVERS.find((s) => s.name === n).version}`).join(', ')}`,
  ];
  const md = `${header.join('  \n')}\n\n${lines.join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`;
  return { md, targets };
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
    results[s.name] = { version: s.version, command: shown(s.cmd('DIR', 'PORT')), cases: {}, runs: {} };
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
    results[name].correct = await checkServer(port, fx);
    const bad = Object.entries(results[name].correct).filter(([, v]) => v !== 'ok');
    log(`${name}: correctness ${bad.length === 0 ? 'ok' : bad.map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  }

  // Interleaved: for each round and case, every server in turn (rotated per round). The file
  // cases run first and RSS is read after them, so every server has done the same work when it
  // is compared (sirv-cli has no listing); the listing case follows, then RSS is read again.
  const order = Object.keys(procs);
  const phases = [CASES.filter((c) => c.key !== 'listing'), CASES.filter((c) => c.key === 'listing')];
  for (const [phase, cases] of phases.entries()) {
    for (let round = 0; round < ROUNDS; round++) {
      const rotated = order.map((_, i) => order[(i + round) % order.length]);
      for (const c of cases) {
        for (const name of rotated) {
          if (results[name].correct[c.key] !== 'ok') continue;
          const { port, child } = procs[name];
          if (!running(child)) {
            results[name].died = `exited during the load (${child.exitCode ?? child.signalCode})`;
            continue;
          }
          let m;
          try {
            if (WARMUP) await wrk(port, c.path, c.conns, WARMUP);
            m = await wrk(port, c.path, c.conns, SECONDS);
          } catch (error) {
            log(`${name} ${c.key}: ${error.message}`);
            (results[name].loadErrors ??= []).push(`${c.key}: ${error.message}`);
            continue;
          }
          m.rssAfterKiB = rssKiB(child.pid);
          (results[name].runs[c.key] ??= []).push(m);
          log(`round ${round + 1}/${ROUNDS} ${c.key.padEnd(8)} ${name.padEnd(11)} ${c.unit === 'MB/s' ? `${fmtInt(m.mbps)} MB/s` : `${fmtInt(m.rps)} req/s`}`);
        }
      }
    }
    for (const name of order) {
      const rss = running(procs[name].child) ? rssKiB(procs[name].child.pid) : NaN;
      if (phase === 0) results[name].rssLoadKiB = rss;
      else results[name].rssAllKiB = rss;
    }
  }
  for (const name of order) {
    for (const [key, runs] of Object.entries(results[name].runs)) {
      const metric = key === 'big' ? 'mbps' : 'rps';
      const mid = median(runs.map((r) => r[metric]));
      results[name].cases[key] = runs.find((r) => r[metric] === mid) ?? { ...runs[0], [metric]: mid };
    }
  }
  await Promise.all(Object.values(procs).map(({ child }) => stop(child)));

  // Start-up time: spawn → first 200 on /, interleaved across servers, median.
  const startups = Object.fromEntries(Object.keys(procs).map((n) => [n, []]));
  for (let i = 0; i < STARTUPS; i++) {
    for (const name of Object.keys(procs)) {
      const s = SERVERS.find((x) => x.name === name);
      const port = await freePort();
      const t0 = performance.now();
      const child = launch(s, fx.dir, port);
      try {
        const t1 = await waitReady(child, port, { limitMs: 20_000, everyMs: 2 });
        startups[name].push(t1 - t0);
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
    log(`${name}: start-up median ${fmt1(results[name].startupMs)} ms (${results[name].startupRunsMs.join(', ')})`);
  }

  const meta = {
    date: new Date(started).toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: { cpus, cpuModel, node: process.version, python: SERVERS.find((s) => s.name === 'python').version, wrk: wrkVersion, pinned: PIN, loadavgNote: 'other work may share the machine' },
    loadStart,
    loadEnd: os.loadavg(),
    mode: `${QUICK ? 'quick' : 'full'}: ${ROUNDS} round(s) × ${SECONDS} s per case, wrk -t1 -c${CONNS} (50 MiB: -c${BIG_CONNS}), median of rounds`,
    took: `took ${Math.round((Date.now() - started) / 1000)} s`,
    argv: process.argv.slice(2),
  };
  const { md, targets } = report(results, meta);
  mkdirSync(join(BENCH, 'results'), { recursive: true });
  writeFileSync(join(BENCH, 'results/latest.md'), md);
  writeFileSync(join(BENCH, 'results/latest.json'), `${JSON.stringify({ meta, targets, results }, null, 2)}\n`);
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
    removeFixture();
  });
