#!/usr/bin/env node
// App-hosting benchmark (see README.md): a hello-world handler through serve-here against the
// same handler on bare node:http, then reload latency, failures under load and memory over
// many reloads. Never part of `npm test`. All traffic goes to 127.0.0.1, bounded in time.
//
//   node app.mjs            full run
//   node app.mjs --quick    short smoke run
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, median, rssKiB } from './lib.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');
const BIN = join(ROOT, 'bin/serve-here.js');
const APPS = join(BENCH, 'apps');
const NODE = process.execPath;
const { values: opt } = parseArgs({ options: { quick: { type: 'boolean', default: false }, reloads: { type: 'string' }, memory: { type: 'string' } } });
const QUICK = opt.quick;
const SECONDS = QUICK ? 2 : 5;
const ROUNDS = QUICK ? 1 : 3;
const RELOADS = Number(opt.reloads ?? (QUICK ? 5 : 20));
const MEMORY_RELOADS = Number(opt.memory ?? (QUICK ? 20 : 100));

const started = new Set();
function killAll() {
  for (const p of started) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
}
process.on('exit', killAll);
process.on('SIGINT', () => process.exit(130));


function get(port, path, agent) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (e) => resolve({ status: 0, body: String(e) }));
    });
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.setTimeout(15000, () => req.destroy(new Error('timeout')));
  });
}

/** Start a server pinned to CPU 0; resolve once GET path answers 200. */
async function start(name, args, cwd, path = '/hello') {
  const port = await freePort();
  const child = spawn('taskset', ['-c', '0', NODE, ...args.map((a) => (a === 'PORT' ? String(port) : a))], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  started.add(child);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const deadline = Date.now() + 20000;
  for (;;) {
    const r = await get(port, path);
    if (r.status === 200) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not start: ${out}`);
    await sleep(50);
  }
  return { name, port, child, output: () => out };
}

async function stop(server) {
  server.child.kill('SIGTERM');
  await new Promise((r) => (server.child.exitCode !== null ? r() : server.child.once('exit', r)));
  started.delete(server.child);
}

function wrk(port, path) {
  return new Promise((resolve, reject) => {
    const p = spawn('taskset', ['-c', '1', 'wrk', '-t1', '-c32', `-d${SECONDS}s`, '--latency', `http://127.0.0.1:${port}${path}`]);
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.on('exit', (code) => {
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      const sock = /Socket errors: (.*)/.exec(out);
      if (code !== 0 || m === null) reject(new Error(`wrk failed: ${out}`));
      else resolve({ rps: Number(m[1]), non2xx: errors ? Number(errors[1]) : 0, socketErrors: sock ? sock[1] : '' });
    });
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))];
};


// ---- 1. throughput ---------------------------------------------------------------------------

async function throughput() {
  const cases = [
    { name: 'bare node:http', args: [join(APPS, 'bare.mjs'), 'PORT'] },
    { name: 'serve-here --no-watch, node style', args: [BIN, APPS, '--port', 'PORT', '--quiet', '--no-watch', '--app', 'node-style.mjs'] },
    { name: 'serve-here --no-watch, fetch style', args: [BIN, APPS, '--port', 'PORT', '--quiet', '--no-watch', '--app', 'fetch-style.mjs'] },
    { name: 'serve-here watch mode (forwarding hop), fetch style', args: [BIN, APPS, '--port', 'PORT', '--quiet', '--app', 'fetch-style.mjs'] },
    { name: 'serve-here watch mode (forwarding hop), node style', args: [BIN, APPS, '--port', 'PORT', '--quiet', '--app', 'node-style.mjs'] },
  ];
  const results = new Map(cases.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      const server = await start(c.name, c.args, APPS);
      await wrk(server.port, '/hello'); // warm-up
      const r = await wrk(server.port, '/hello');
      if (r.non2xx > 0 || r.socketErrors !== '') console.log(`  ${c.name}: ${r.non2xx} non-2xx, socket errors: ${r.socketErrors}`);
      results.get(c.name).push(r.rps);
      await stop(server);
    }
  }
  const base = median(results.get('bare node:http'));
  return cases.map((c) => ({ name: c.name, rps: median(results.get(c.name)), ratio: median(results.get(c.name)) / base }));
}

// ---- 2. reload latency and failures under load -----------------------------------------------

function writeApp(dir, version, atomic) {
  const lib = `export const VERSION = ${JSON.stringify(version)};\n`;
  if (atomic) {
    writeFileSync(join(dir, 'lib.tmp'), lib);
    renameSync(join(dir, 'lib.tmp'), join(dir, 'lib.ts'));
  } else writeFileSync(join(dir, 'lib.ts'), lib);
}

async function reloads(count) {
  const dir = mkdtempSync(join(os.tmpdir(), 'serve-here-reload-'));
  writeFileSync(join(dir, 'app.ts'), `import { VERSION } from './lib.ts';\nexport default { fetch: (): Response => new Response(VERSION) };\n`);
  writeFileSync(join(dir, 'index.html'), '<p>static</p>\n');
  writeApp(dir, 'v0', false);
  const server = await start('serve-here reload', [BIN, dir, '--port', 'PORT', '--quiet', '--app', 'app.ts'], dir, '/v');
  // Bounded keep-alive load: 4 connections, each GET, wait, pause 8 ms; stops by itself.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let running = true;
  let version = 'v0';
  let firstNewAt = 0;
  let ok = 0;
  let failed = 0;
  let stale = 0;
  const failures = [];
  const hardStop = Date.now() + 60_000 + count * 2_000;
  const loop = async () => {
    while (running && Date.now() < hardStop) {
      const startedAt = performance.now();
      const newSince = firstNewAt; // > 0: the current version had already been served
      const current = version;
      const r = await get(server.port, '/v', agent);
      if (r.status !== 200) {
        failed++;
        if (failures.length < 5) failures.push(`${r.status} ${r.body.slice(0, 80)}`);
      } else {
        ok++;
        if (r.body === version && firstNewAt === 0) firstNewAt = performance.now();
        // Stale: started after the new code was first served, answered by older code.
        if (newSince > 0 && startedAt > newSince && Number(r.body.slice(1)) < Number(current.slice(1))) stale++;
      }
      await sleep(8);
    }
  };
  const workers = [loop(), loop(), loop(), loop()];
  await sleep(500);
  const latencies = [];
  const rss = [];
  for (let i = 1; i <= count; i++) {
    firstNewAt = 0;
    version = `v${i}`;
    const saved = performance.now();
    writeApp(dir, version, i % 2 === 0);
    const deadline = Date.now() + 15_000;
    while (firstNewAt === 0 && Date.now() < deadline) await sleep(2);
    latencies.push(firstNewAt === 0 ? Infinity : firstNewAt - saved);
    await sleep(250); // let the old process drain and the new standby boot
    if (i === 10 || i === count) rss.push({ after: i, mib: rssKiB(server.child.pid) / 1024 });
  }
  running = false;
  await Promise.all(workers);
  agent.destroy();
  await stop(server);
  rmSync(dir, { recursive: true, force: true });
  return { latencies, ok, failed, stale, failures, rss };
}

// ---- run -------------------------------------------------------------------------------------

const info = `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z`;
console.log(`# App-hosting benchmark — ${info}\n`);
const tp = await throughput();
const lines = ['| handler | req/s | × bare | target |', '|---|---:|---:|---|'];
const targets = { 'serve-here --no-watch, node style': 0.95, 'serve-here --no-watch, fetch style': 0.85, 'serve-here watch mode (forwarding hop), fetch style': 0.3, 'serve-here watch mode (forwarding hop), node style': 0.3 };
for (const r of tp) {
  const t = targets[r.name];
  lines.push(`| ${r.name} | ${Math.round(r.rps).toLocaleString('en')} | ${r.ratio.toFixed(2)} | ${t === undefined ? '' : `≥ ${t} ${r.ratio >= t ? 'PASS' : 'MISS'}`} |`);
}
console.log(lines.join('\n'));

const rl = await reloads(RELOADS);
const finite = rl.latencies.filter(Number.isFinite);
console.log(`\nReload under load, ${RELOADS} saves (alternating in-place writes and atomic renames of lib.ts, imported by app.ts):`);
console.log(`- save → first response with the new code: p50 ${median(finite).toFixed(0)} ms, p90 ${pct(finite, 0.9).toFixed(0)} ms, max ${Math.max(...rl.latencies).toFixed(0)} ms (target p50 ≤ 150 ms: ${median(finite) <= 150 ? 'PASS' : 'MISS'})`);
console.log(`- requests: ${rl.ok} ok, ${rl.failed} failed, ${rl.stale} stale (target 0 failed: ${rl.failed === 0 ? 'PASS' : 'MISS'})${rl.failures.length ? ` e.g. ${rl.failures.join('; ')}` : ''}`);
console.log(`- RSS of the process tree: ${rl.rss.map((r) => `${r.mib.toFixed(0)} MiB after ${r.after}`).join(', ')}`);

const mem = await reloads(MEMORY_RELOADS);
const first = mem.rss[0];
const last = mem.rss[mem.rss.length - 1];
console.log(`\nMemory over ${MEMORY_RELOADS} reloads: process tree RSS ${first.mib.toFixed(0)} MiB after ${first.after} → ${last.mib.toFixed(0)} MiB after ${last.after} (${(last.mib - first.mib >= 0 ? '+' : '')}${(last.mib - first.mib).toFixed(0)} MiB); ${mem.failed} failed requests`);
killAll();
process.exit(0);
