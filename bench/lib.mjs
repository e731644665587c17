// Helpers shared by the benchmark scripts (run.mjs and its modules, app.mjs).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A process and all its descendants, from /proc. */
export function treePids(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {}
  }
  const out = [];
  const walk = (pid) => {
    out.push(pid);
    for (const kid of children.get(pid) ?? []) walk(kid);
  };
  walk(root);
  return out;
}

/** VmRSS of a process and its descendants, in KiB. */
export function rssKiB(pid) {
  let sum = 0;
  for (const p of treePids(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) sum += Number(m[1]);
    } catch {}
  }
  return sum;
}

/** CPU time (user + system, clock ticks) of each process in the tree rooted at `pid`, root first. */
export function cpuTicks(pid) {
  return treePids(pid).map((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { pid: p, ticks: Number(f[11]) + Number(f[12]) };
    } catch {
      return { pid: p, ticks: 0 };
    }
  });
}

/** Median of the finite values (NaN when there are none). */
export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Child processes (run.mjs and its modules): every one is tracked and ended by PID.


export const live = new Set();
/** Temporary folders to remove on exit, whatever happens (run.mjs calls removeTempDirs()). */
export const tempDirs = new Set();
export function removeTempDirs() {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

export function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.on('error', (error) => {
    child.spawnError = error;
    live.delete(child);
  });
  return child;
}

export const running = (child) => child.exitCode === null && child.signalCode === null && child.spawnError === undefined;

/** Start time (clock ticks since boot) of a process, to tell it from a later one with its PID. */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** SIGKILL a process and its descendants now (the exit path: nothing may outlive the script). */
export function killTree(pid) {
  for (const p of treePids(pid).reverse()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}

/**
 * SIGTERM (nginx's master: fast shutdown, its workers follow), SIGKILL after graceMs. Its
 * descendants (an app process, a standby) still alive a second after it exited are killed too.
 */
export async function stop(child, graceMs = 3000) {
  if (!running(child) || child.pid === undefined) return;
  const kids = treePids(child.pid)
    .slice(1)
    .map((p) => [p, startTime(p)]);
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
  const alive = () => kids.filter(([p, t]) => t !== undefined && startTime(p) === t);
  for (let i = 0; i < 50 && alive().length > 0; i++) await sleep(20);
  for (const [p] of alive()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}

/** Run argv with a soft open-files limit of 16,384 (2,000 connections need more than 1,024). */
export const withNofile = (argv) => ['sh', '-c', 'ulimit -n 16384 2>/dev/null; exec "$@"', 'sh', ...argv];

/** GET over a fresh connection; the body is hashed (and kept if asked). */
export function get(port, path, { keepBody = false, timeoutMs = 30_000 } = {}) {
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

/** Poll GET path until it answers 200; resolves to performance.now() at that answer. */
export async function waitReady(child, port, { path = '/', limitMs = 15_000, everyMs = 5 } = {}) {
  const t0 = performance.now();
  for (;;) {
    if (child.spawnError) throw child.spawnError;
    if (!running(child)) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before answering`);
    try {
      const r = await get(port, path, { timeoutMs: 2000 });
      if (r.status === 200) return performance.now();
    } catch {}
    if (performance.now() - t0 > limitMs) throw new Error(`no 200 on ${path} within ${limitMs} ms`);
    await sleep(everyMs);
  }
}

/**
 * One wrk run (argvPrefix: pinning), summary read as JSON from wrk-report.lua. Bounded: wrk is
 * killed 30 s after its duration.
 */
export async function wrk(lua, argvPrefix, port, path, conns, seconds) {
  const argv = [...argvPrefix, ...withNofile(['wrk', '-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '10s', '-s', lua, `http://127.0.0.1:${port}${path}`])];
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
