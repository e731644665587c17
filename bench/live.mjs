#!/usr/bin/env node
// Browser live-reload benchmark (see README.md): save → the page in headless Chromium showing the
// new content, for an HTML file, a CSS file and an app route, serve-here --live beside
// live-server in the same run and the same browser. Never part of `npm test`. Only 127.0.0.1;
// every save is bounded by a deadline and every process started here is killed by its group.
//
//   node live.mjs                          20 saves per scenario
//   node live.mjs --quick                  5 saves
//   node live.mjs --only serve-here        one server (or live-server)
//   node live.mjs --bin PATH               another build's bin/serve-here.js
//   LIVE_BENCH_DEBUG=1 node live.mjs       on a miss, print what the page showed
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import CDP from 'chrome-remote-interface';
import { freePort } from './lib.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, saves: { type: 'string' }, bin: { type: 'string' } } });
// --bin: measure another build of serve-here (another worktree's bin/serve-here.js).
const BIN = opt.bin ?? join(BENCH, '..', 'bin/serve-here.js');
const LIVE_SERVER = join(BENCH, 'node_modules/live-server/live-server.js');
const CHROMIUM = '/usr/bin/chromium';
const SAVES = Number(opt.saves ?? (opt.quick ? 5 : 20));
const SERVERS = ['serve-here', 'live-server'].filter((s) => opt.only === undefined || opt.only === s);
if (SERVERS.length === 0) throw new Error(`--only expects serve-here or live-server, not "${opt.only}"`);
const SAVE_TIMEOUT_MS = 5000;
// Long enough that the previous save's reload has settled and no server merges two saves.
const GAP_MS = 300;

// Process groups started here (servers, Chromium); killed on any exit.
const groups = new Set();
function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {}
  groups.delete(pid);
}
process.on('exit', () => [...groups].forEach(killGroup));
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const root = mkdtempSync(join(os.tmpdir(), 'serve-here-live-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const site = join(root, 'site');
const appDir = join(root, 'app');
// The app scenario serves an empty folder: a static index.html would answer / before the app.
const appSite = join(root, 'app-site');
mkdirSync(site);
mkdirSync(appDir);
mkdirSync(appSite);
const page = (n) => `<!doctype html>\n<html><head><meta charset="utf-8"><title>live bench</title><link rel="stylesheet" href="style.css"></head>\n<body><p id="v">${n}</p></body></html>\n`;
const css = (n) => `#v { color: rgb(${n}, 0, 0); }\n`;
const app = (n) =>
  `export default { fetch() { return new Response('<!doctype html><html><head></head><body><p id="v">${n}</p></body></html>', { headers: { 'content-type': 'text/html' } }); } };\n`;
writeFileSync(join(site, 'index.html'), page(0));
writeFileSync(join(site, 'style.css'), css(0));
writeFileSync(join(appDir, 'app.mjs'), app(0));

function status(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** Spawn a server in its own process group; resolve once its page answers 200. */
async function startServer(name, args, urlFrom) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, NO_COLOR: '1' } });
  groups.add(child.pid);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const url = urlFrom(out);
    if (url !== undefined && (await status(url)) === 200) return { name, url, child, output: () => out };
    if (Date.now() > deadline || child.exitCode !== null) {
      killGroup(child.pid);
      throw new Error(`${name} did not start: ${out}`);
    }
    await sleep(20);
  }
}

async function stopServer(server) {
  const exited = new Promise((r) => (server.child.exitCode !== null ? r() : server.child.once('exit', r)));
  killGroup(server.child.pid);
  await exited;
}

/** serve-here prints its URL ("… at http://127.0.0.1:PORT/") once listening on port 0. */
const printedUrl = (out) => /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];

/** Headless Chromium with the flags the project's tests use (test/helpers/browser.ts). */
async function launchChromium() {
  const profile = join(root, 'chromium-profile');
  const child = spawn(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    { stdio: 'ignore', detached: true },
  );
  groups.add(child.pid);
  const deadline = Date.now() + 20_000;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(join(profile, 'DevToolsActivePort'), 'utf8');
    } catch {}
    const port = Number(text.split('\n')[0]) || 0;
    if (port !== 0) {
      const version = await CDP.Version({ port });
      return { port, child, version: version.Browser };
    }
    if (Date.now() > deadline) throw new Error('Chromium did not start within 20 s');
    await sleep(50);
  }
}

/** One tab on `url`; `probe(expression)` answers undefined while the page is mid-reload. */
async function openTab(port, url) {
  const target = await CDP.New({ port, url: 'about:blank' });
  const client = await CDP({ port, target: target.id });
  await client.Page.enable();
  await client.Runtime.enable();
  const loaded = client.Page.loadEventFired();
  await client.Page.navigate({ url });
  await loaded;
  const probe = async (expression) => {
    // A navigation can leave an evaluation pending; never wait on one for long.
    const r = await Promise.race([client.Runtime.evaluate({ expression, returnByValue: true }).catch(() => undefined), sleep(500)]);
    if (r === undefined || r.exceptionDetails !== undefined) return undefined;
    return r.result.value;
  };
  const close = async () => {
    await client.close().catch(() => {});
    await CDP.Close({ port, id: target.id }).catch(() => {});
  };
  return { probe, close };
}

/** Write, then poll every ~2 ms until the page shows `expected`; elapsed ms, or NaN on a miss. */
async function timeSave(tab, file, content, expression, expected) {
  const t0 = performance.now();
  writeFileSync(file, content);
  const until = t0 + SAVE_TIMEOUT_MS;
  let seen;
  while (performance.now() < until) {
    seen = await tab.probe(expression);
    if (seen === expected) return performance.now() - t0;
    await sleep(2);
  }
  if (process.env.LIVE_BENCH_DEBUG) console.error(`miss: expected ${expected}, last saw ${seen}`, await tab.probe(`document.readyState + ' pageAge=' + performance.now() + ' ' + [...document.styleSheets].map(s => s.href + ' ' + s.cssRules[0]?.cssText).join() + ' ' + document.documentElement.outerHTML.slice(0, 200)`), DEBUG_OUT?.().slice(-300));
  return NaN;
}

let DEBUG_OUT;
const TEXT = `document.getElementById('v')?.textContent`;
const COLOUR = `(() => { const e = document.getElementById('v'); return e ? getComputedStyle(e).color : undefined; })()`;
// A window property survives an in-place CSS swap but not a reload.
const MARK = `window.__liveBenchMark`;

/**
 * Wait until the page is loaded and has been up 250 ms, so a save never lands while the live
 * channel is still reconnecting after a reload (bounded: 3 s).
 */
async function settle(tab) {
  const until = performance.now() + 3000;
  while (performance.now() < until && (await tab.probe(`document.readyState === 'complete' && performance.now() > 250`)) !== true) await sleep(10);
}

let counter = 0;
/**
 * One scenario on an open tab: a warm-up save (not counted: it proves the live channel is up,
 * else the scenario is skipped), then SAVES timed saves GAP_MS apart.
 */
async function scenario(tab, kind, file, render) {
  const expression = kind === 'css' ? COLOUR : TEXT;
  const expect = (n) => (kind === 'css' ? `rgb(${n}, 0, 0)` : String(n));
  const save = async () => {
    await settle(tab);
    const n = (counter = (counter % 250) + 1);
    return timeSave(tab, file, render(n), expression, expect(n));
  };
  // A racing server can miss one save (live-server with --wait=0 may serve the file mid-write):
  // three warm-up misses in a row mean the page does not follow saves at all.
  let warm = NaN;
  for (let i = 0; i < 3 && !Number.isFinite(warm); i++) warm = await save();
  if (!Number.isFinite(warm)) return { samples: [], misses: 0, note: `the page did not follow a save within ${SAVE_TIMEOUT_MS} ms; not measured` };
  const samples = [];
  let reloads = 0;
  for (let i = 0; i < SAVES; i++) {
    await sleep(GAP_MS);
    if (kind === 'css') await tab.probe(`${MARK} = 1`);
    samples.push(await save());
    if (kind === 'css' && (await tab.probe(MARK)) !== 1) reloads++;
  }
  const ok = samples.filter(Number.isFinite);
  return { samples: samples.map((x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null)), misses: samples.length - ok.length, ...stats(ok), ...(kind === 'css' ? { reloads } : {}) };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
function stats(xs) {
  if (xs.length === 0) return {};
  const s = [...xs].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return { p50: r(pct(s, 0.5)), p90: r(pct(s, 0.9)), min: r(s[0]), max: r(s[s.length - 1]) };
}

const SERVER_ARGS = {
  'serve-here': async () => startServer('serve-here', [BIN, site, '--port', '0', '--live'], printedUrl),
  'live-server': async () => {
    const port = await freePort();
    // --wait=0: live-server's default waits 100 ms after a change before telling the page.
    return startServer('live-server', [LIVE_SERVER, site, `--port=${port}`, '--host=127.0.0.1', '--no-browser', '--wait=0'], () => `http://127.0.0.1:${port}/`);
  },
};

const chromium = await launchChromium();
console.error(`${chromium.version}, ${SAVES} saves per scenario, ${GAP_MS} ms apart, ${SAVE_TIMEOUT_MS} ms deadline each`);
const results = {};
for (const name of SERVERS) {
  const server = await SERVER_ARGS[name]();
  const tab = await openTab(chromium.port, server.url);
  DEBUG_OUT = server.output;
  await sleep(500);
  results[name] = {
    html: await scenario(tab, 'html', join(site, 'index.html'), page),
    css: await scenario(tab, 'css', join(site, 'style.css'), css),
  };
  await tab.close();
  await stopServer(server);
  // Leave the fixture as it started for the next server.
  writeFileSync(join(site, 'index.html'), page(0));
  writeFileSync(join(site, 'style.css'), css(0));
  console.error(`${name}: html p50 ${results[name].html.p50} ms, css p50 ${results[name].css.p50} ms`);
}
if (SERVERS.includes('serve-here')) {
  // The app row must not stop the run: a mount that fails to answer is reported, not fatal.
  const server = await startServer('serve-here --app', [BIN, appSite, '--app', join(appDir, 'app.mjs'), '--port', '0', '--live'], printedUrl).catch((e) => e);
  if (server instanceof Error) {
    results['serve-here'].app = { samples: [], misses: 0, note: `the app route did not answer 200: ${/Error while answering[^\n]*/.exec(server.message)?.[0] ?? server.message.split('\n')[0]}` };
  } else {
    const tab = await openTab(chromium.port, server.url);
    DEBUG_OUT = server.output;
    await sleep(500);
    results['serve-here'].app = await scenario(tab, 'app', join(appDir, 'app.mjs'), app);
    await tab.close();
    await stopServer(server);
  }
  console.error(`serve-here: app p50 ${results['serve-here'].app.p50} ms`);
}
if (SERVERS.includes('live-server')) results['live-server'].app = { samples: [], misses: 0, note: 'live-server has no app mode' };
{
  const exited = new Promise((r) => chromium.child.once('exit', r));
  killGroup(chromium.child.pid);
  await exited;
}

const GOALS = { html: 100, css: 50, app: 100 };
const ratio = (kind) => {
  const a = results['serve-here']?.[kind]?.p50;
  const b = results['live-server']?.[kind]?.p50;
  return a !== undefined && b !== undefined ? Math.round((a / b) * 100) / 100 : undefined;
};
const cell = (x) => (x === undefined ? '–' : String(x));
const lines = ['| Scenario | Server | p50 ms | p90 ms | min ms | max ms | misses | goal p50 | serve-here ÷ live-server (p50) |', '|---|---|---|---|---|---|---|---|---|'];
for (const kind of ['html', 'css', 'app']) {
  for (const name of SERVERS) {
    const r = results[name][kind];
    const extra = r.note ?? (r.reloads ? `${r.reloads} reloads instead of a swap` : '');
    lines.push(`| ${kind}${extra ? ` (${extra})` : ''} | ${name} | ${cell(r.p50)} | ${cell(r.p90)} | ${cell(r.min)} | ${cell(r.max)} | ${r.misses}/${r.samples.length} | ≤ ${GOALS[kind]} | ${name === 'serve-here' ? cell(ratio(kind)) : ''} |`);
  }
}
console.log(lines.join('\n'));

const out = {
  date: new Date().toISOString(),
  node: process.version,
  browser: chromium.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  saves: SAVES,
  gapMs: GAP_MS,
  saveTimeoutMs: SAVE_TIMEOUT_MS,
  goalsP50Ms: GOALS,
  results,
  ratioP50: { html: ratio('html'), css: ratio('css'), app: ratio('app') },
};
mkdirSync(join(BENCH, 'results'), { recursive: true });
writeFileSync(join(BENCH, 'results/live-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
process.exit(0);
