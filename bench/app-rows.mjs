// The app rows of run.mjs (issue 11): serve-here `--app` with the hello-world fetch handler in
// its default reloading mode, beside the same answer on bare node:http. Throughput (interleaved
// rounds, median), spawn → first app 200, and the process tree's RSS after the load.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cpuTicks, freePort, median, rssKiB, running, stop, tempDirs, track, treePids, waitReady, wrk } from './lib.mjs';
import { BENCH, NODE, ROOT } from './servers.mjs';

const PATH = '/hello';
const CLK_TCK = 100; // Linux USER_HZ: /proc/PID/stat counts CPU time in hundredths of a second
const APP = join(BENCH, 'apps/fetch-style.mjs');

export const APP_SERVERS = [
  { name: 'app', label: 'serve-here --app (reloading mode), fetch handler', cmd: (dir, port) => [join(ROOT, 'bin/serve-here.js'), dir, '--app', APP, '--port', String(port), '--quiet'] },
  { name: 'bare', label: 'bare node:http', cmd: (dir, port) => [NODE, join(BENCH, 'apps/bare.mjs'), String(port)] },
];
export const APP_COMMANDS = {
  app: 'bin/serve-here.js EMPTY_DIR --app bench/apps/fetch-style.mjs --port PORT --quiet (cwd EMPTY_DIR)',
  bare: 'node bench/apps/bare.mjs PORT',
};

/**
 * opts: { serverPin, loadPin (argv prefixes), lua, rounds, seconds, warmup, startups, conns, log }
 * Returns per server: runs, rps (median round), rssKiB after the rounds, startup runs and median.
 */
export async function appRows(opts) {
  const { serverPin, loadPin, lua, rounds, seconds, warmup, startups, conns, log } = opts;
  const dir = mkdtempSync(join(os.tmpdir(), 'serve-here-bench-app-'));
  tempDirs.add(dir);
  const launch = (s, port) => {
    const [file, ...args] = serverPin(s.cmd(dir, port));
    return track(spawn(file, args, { cwd: dir, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } }));
  };
  const out = Object.fromEntries(APP_SERVERS.map((s) => [s.name, { label: s.label, command: APP_COMMANDS[s.name], runs: [], startupRunsMs: [] }]));
  const procs = {};
  try {
    for (const s of APP_SERVERS) {
      const port = await freePort();
      const child = launch(s, port);
      try {
        await waitReady(child, port, { path: PATH, limitMs: 20_000 });
        procs[s.name] = { child, port };
      } catch (error) {
        out[s.name].failed = error.message;
        log(`app ${s.name}: did not start: ${error.message}`);
        await stop(child, 1000);
      }
    }
    const order = Object.keys(procs);
    for (let round = 0; round < rounds; round++) {
      for (const name of order.map((_, i) => order[(i + round) % order.length])) {
        const { child, port } = procs[name];
        if (!running(child)) {
          out[name].died = `exited during the load (${child.exitCode ?? child.signalCode})`;
          continue;
        }
        try {
          if (warmup) await wrk(lua, loadPin, port, PATH, conns, warmup);
          const before = cpuTicks(child.pid);
          const m = await wrk(lua, loadPin, port, PATH, conns, seconds);
          m.rssAfterKiB = rssKiB(child.pid);
          // CPU per request of the server process and of its app processes: where a hop's time goes.
          const after = cpuTicks(child.pid);
          const usPerReq = (ticks) => (ticks * 1e6) / CLK_TCK / m.requests;
          const spent = (pid) => (after.find((x) => x.pid === pid)?.ticks ?? 0) - (before.find((x) => x.pid === pid)?.ticks ?? 0);
          m.cpuUsPerRequest = {
            server: usPerReq(spent(child.pid)),
            apps: usPerReq(after.filter((x) => x.pid !== child.pid).reduce((sum, x) => sum + spent(x.pid), 0)),
          };
          out[name].runs.push(m);
          log(`round ${round + 1}/${rounds} app      ${name.padEnd(11)} ${Math.round(m.rps).toLocaleString('en-US')} req/s`);
        } catch (error) {
          (out[name].loadErrors ??= []).push(error.message);
          log(`app ${name}: ${error.message}`);
        }
      }
    }
    for (const name of order) {
      const o = out[name];
      const mid = median(o.runs.map((r) => r.rps));
      o.median = o.runs.find((r) => r.rps === mid) ?? (o.runs.length ? { ...o.runs[0], rps: mid } : undefined);
      o.rps = mid;
      // The whole tree: serve-here, its app process and the prewarmed standby.
      o.rssKiB = running(procs[name].child) ? rssKiB(procs[name].child.pid) : NaN;
      o.processes = running(procs[name].child) ? treePids(procs[name].child.pid).length : 0;
    }
  } finally {
    await Promise.all(Object.values(procs).map(({ child }) => stop(child)));
  }

  // Spawn → first 200 on the app route, interleaved, probed every 2 ms.
  for (let i = 0; i < startups; i++) {
    for (const s of APP_SERVERS) {
      if (out[s.name].failed) continue;
      const port = await freePort();
      const t0 = performance.now();
      const child = launch(s, port);
      try {
        const t1 = await waitReady(child, port, { path: PATH, limitMs: 20_000, everyMs: 2 });
        out[s.name].startupRunsMs.push(Math.round((t1 - t0) * 10) / 10);
      } catch (error) {
        log(`app ${s.name}: start-up ${i + 1} failed: ${error.message}`);
      } finally {
        await stop(child);
      }
    }
  }
  for (const o of Object.values(out)) o.startupMs = median(o.startupRunsMs);
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
  return out;
}
