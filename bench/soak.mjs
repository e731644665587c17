#!/usr/bin/env node
// A soak of one serve-here with --app --live --upload --share: mixed load (static, ranges, 304s,
// app GET/POST, uploads, zips, held live-reload streams, an app save every 5 s) for --minutes,
// sampling RSS and open descriptors of every process of the server every 10 s; then 30 s idle.
// Reports failed requests and the trends. Not part of npm test (minutes long, and load).
//
//   node bench/soak.mjs [--minutes 10] [--clients 6] [--probe] [--gc]
//   --probe  load bench/soak-probe.mjs into each serve-here process (memoryUsage every 10 s)
//   --gc     with --probe: --expose-gc, and heapUsed after a full GC in each sample
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, killTree, removeTempDirs, rssKiB, stop, tempDirs, track, treePids } from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, '..', 'bin', 'serve-here.js');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const MINUTES = arg('minutes', 10);
const CLIENTS = arg('clients', 6);
const SAMPLE_MS = 10_000;
const PROBE = process.argv.includes('--probe');
const GC = process.argv.includes('--gc');

const dir = mkdtempSync(join(tmpdir(), 'serve-here-soak-'));
tempDirs.add(dir);
const app = (v) => `export default { async fetch(req) {
  if (req.method === 'POST') return Response.json({ v: ${v}, got: (await req.arrayBuffer()).byteLength });
  return Response.json({ v: ${v}, path: new URL(req.url).pathname });
} };\n`;
writeFileSync(join(dir, 'app.mjs'), app(0));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>soak</title><p>soak</p>');
writeFileSync(join(dir, 'big.bin'), Buffer.alloc(4 << 20, 7));
mkdirSync(join(dir, 'docs'));
for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'docs', `doc-${i}.txt`), `document ${i}\n`.repeat(200));
mkdirSync(join(dir, 'inbox'));
const probeFile = join(dir, '..', `${dir.split('/').pop()}-probe.jsonl`);

const port = await freePort();
const env = { ...process.env, NO_COLOR: '1' };
if (PROBE) Object.assign(env, { NODE_OPTIONS: `${GC ? '--expose-gc ' : ''}--import ${JSON.stringify(`file://${join(HERE, 'soak-probe.mjs')}`)}`, SOAK_PROBE_FILE: probeFile });
const server = track(spawn(process.execPath, [BIN, dir, '--port', String(port), '--app', '/api=app.mjs', '--live', '--upload', '--share', '--quiet'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] }));
let out = '';
server.stdout.on('data', (c) => (out += c));
server.stderr.on('data', (c) => (out += c));
const cleanup = () => {
  if (server.pid !== undefined) killTree(server.pid);
  removeTempDirs();
  rmSync(probeFile, { force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
while (!/serve-here-key=([A-Za-z0-9_-]+)/.test(out)) {
  if (server.exitCode !== null) throw new Error(`serve-here exited: ${out}`);
  await new Promise((r) => setTimeout(r, 50));
}
const KEY = /serve-here-key=([A-Za-z0-9_-]+)/.exec(out)[1];
const AUTH = { Authorization: `Bearer ${KEY}`, Host: `127.0.0.1:${port}` };
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

/** One request; resolves with the status (0 on a network error) after the body is read. */
function request(method, path, { headers = {}, body, keep = false } = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...AUTH, ...headers }, agent: keep ? agent : false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, etag: res.headers.etag }));
      res.on('error', () => resolve({ status: 0 }));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve({ status: 0 }));
    req.end(body);
  });
}

let etag;
let uploads = 0;
const OPS = [
  ['static', 30, () => request('GET', '/index.html', { keep: true }), [200]],
  ['range', 10, () => {
    const start = (Math.random() * 4e6) | 0;
    return request('GET', '/big.bin', { keep: true, headers: { Range: `bytes=${start}-${start + 65535}` } });
  }, [206]],
  ['304', 15, async () => {
    const r = await request('GET', '/index.html', { keep: true, headers: etag === undefined ? {} : { 'If-None-Match': etag } });
    etag ??= r.etag;
    return r;
  }, [200, 304]],
  ['app GET', 20, () => request('GET', `/api/item/${(Math.random() * 1000) | 0}`, { keep: true }), [200]],
  ['app POST', 10, () => request('POST', '/api/echo', { keep: true, body: Buffer.alloc(8192, 1), headers: { 'Content-Type': 'application/octet-stream' } }), [200]],
  ['upload', 4, () => request('PUT', `/inbox/up-${++uploads}.bin`, { body: Buffer.alloc(4096, 2) }), [201]],
  ['zip', 2, () => request('GET', '/docs/?zip', { keep: true }), [200]],
];
const totalWeight = OPS.reduce((s, o) => s + o[1], 0);
const counts = Object.fromEntries(OPS.map(([name]) => [name, { ok: 0, failed: 0 }]));
const failures = [];

let running = true;
async function client() {
  while (running) {
    let pick = Math.random() * totalWeight;
    const op = OPS.find((o) => (pick -= o[1]) < 0) ?? OPS[0];
    const r = await op[2]();
    if (op[3].includes(r.status)) counts[op[0]].ok++;
    else {
      counts[op[0]].failed++;
      if (failures.length < 20) failures.push(`${op[0]}: ${r.status}`);
    }
  }
}

/** Live-reload streams held open for the whole run (reopened if the server ends one). */
const streams = { open: 0, events: 0, reopened: 0 };
const held = new Set();
function holdStream() {
  if (!running) return;
  const req = http.get({ host: '127.0.0.1', port, path: '/.well-known/serve-here/events', headers: AUTH, agent: false }, (res) => {
    streams.open++;
    res.on('data', (c) => (streams.events += (String(c).match(/event: change/g) ?? []).length));
    res.on('close', () => {
      streams.open--;
      if (running) (streams.reopened++, setTimeout(holdStream, 300));
    });
  });
  held.add(req);
  req.on('close', () => held.delete(req));
  req.on('error', () => running && setTimeout(holdStream, 300));
}

const fds = (pid) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
};
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const samples = [];
function sample(phase) {
  const pids = treePids(server.pid);
  const procs = pids.map((pid) => {
    try {
      return { pid, rssMB: +rss(pid).toFixed(1), fds: fds(pid) };
    } catch {
      return { pid, rssMB: 0, fds: 0 };
    }
  });
  const done = Object.values(counts).reduce((s, c) => s + c.ok + c.failed, 0);
  const failed = Object.values(counts).reduce((s, c) => s + c.failed, 0);
  const s = { t: Math.round((Date.now() - t0) / 1000), phase, requests: done, failed, streams: streams.open, treeMB: +(rssKiB(server.pid) / 1024).toFixed(1), procs };
  samples.push(s);
  console.log(`${String(s.t).padStart(4)} s ${phase.padEnd(4)} ${String(done).padStart(8)} req ${failed} failed, ${streams.open} streams | ${procs.map((p) => `${p.pid}: ${p.rssMB} MB ${p.fds} fds`).join(' | ')}`);
}

const t0 = Date.now();
for (let i = 0; i < 5; i++) holdStream();
const clients = Array.from({ length: CLIENTS }, client);
let version = 0;
const saver = setInterval(() => writeFileSync(join(dir, 'app.mjs'), app(++version)), 5000);
sample('load');
const sampler = setInterval(() => sample('load'), SAMPLE_MS);
await new Promise((r) => setTimeout(r, MINUTES * 60_000));
running = false;
clearInterval(saver);
clearInterval(sampler);
await Promise.all(clients);
agent.destroy();
for (const req of held) req.destroy();
sample('end');
// Idle: every client connection is closed; what the server keeps is what it holds at rest.
for (let i = 0; i < 3; i++) {
  await new Promise((r) => setTimeout(r, SAMPLE_MS));
  sample('idle');
}

const serverOf = (s) => s.procs.find((p) => p.pid === server.pid) ?? { rssMB: 0, fds: 0 };
const loadSamples = samples.filter((s) => s.phase === 'load');
/** Least-squares slope of the server's RSS over the load phase, MB per minute. */
const slope = (() => {
  const xs = loadSamples.map((s) => s.t / 60);
  const ys = loadSamples.map((s) => serverOf(s).rssMB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
})();
const first = loadSamples[1] ?? loadSamples[0];
const last = samples.filter((s) => s.phase !== 'idle').at(-1);
const idle = samples.at(-1);
const total = Object.values(counts).reduce((s, c) => s + c.ok + c.failed, 0);
const failed = Object.values(counts).reduce((s, c) => s + c.failed, 0);
const report = {
  minutes: MINUTES,
  clients: CLIENTS,
  node: process.version,
  requests: total,
  failed,
  failures,
  byKind: counts,
  appSaves: version,
  streams,
  server: { rssMB: { first: serverOf(first).rssMB, end: serverOf(last).rssMB, idle: serverOf(idle).rssMB, slopePerMin: +slope.toFixed(2) }, fds: { first: serverOf(first).fds, end: serverOf(last).fds, idle: serverOf(idle).fds } },
  samples,
};
if (PROBE && existsSync(probeFile)) {
  const lines = readFileSync(probeFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const own = lines.filter((l) => l.pid === server.pid);
  report.serverHeap = own.map((l) => ({ t: Math.round((l.t - t0) / 1000), rssMB: +(l.rss / 2 ** 20).toFixed(1), heapTotalMB: +(l.heapTotal / 2 ** 20).toFixed(1), heapUsedMB: +(l.heapUsed / 2 ** 20).toFixed(1), afterGcMB: l.afterGc === undefined ? undefined : +(l.afterGc / 2 ** 20).toFixed(1), externalMB: +(l.external / 2 ** 20).toFixed(1) }));
  for (const h of report.serverHeap) console.log(`heap ${String(h.t).padStart(4)} s rss ${h.rssMB} MB heapTotal ${h.heapTotalMB} heapUsed ${h.heapUsedMB}${h.afterGcMB === undefined ? '' : ` after GC ${h.afterGcMB}`} external ${h.externalMB}`);
}
// With --quiet the server prints only what went wrong (and its banner): show it, it explains failures.
const said = out.split('\n').filter((l) => /^\d\d:\d\d:\d\d /.test(l));
if (said.length > 0) console.log(`\nserve-here said (${said.length} lines):\n${said.slice(0, 30).join('\n')}`);
report.serverSaid = said.slice(0, 200);
console.log(`\n${total} requests in ${MINUTES} min, ${failed} failed (${failures.slice(0, 5).join(', ') || 'none'}); ${version} app saves; streams reopened ${streams.reopened} times`);
console.log(`server RSS ${report.server.rssMB.first} → ${report.server.rssMB.end} MB under load (${report.server.rssMB.slopePerMin} MB/min), ${report.server.rssMB.idle} MB idle; fds ${report.server.fds.first} → ${report.server.fds.end}, ${report.server.fds.idle} idle`);
const resultsDir = join(HERE, 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, `soak-latest${PROBE ? (GC ? '-gc' : '-probe') : ''}.json`), `${JSON.stringify(report, null, 2)}\n`);
await stop(server);
process.exit(failed === 0 ? 0 : 1);
