// Browser live reload (--live) in headless Chromium: HTML saves reload, CSS saves swap in place
// without a frame without styles, many tabs share one stream, CSP and <body>-less pages work,
// a burst is one reload. Skipped, with a note, where no Chromium is installed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppRouter } from '../src/app/contract.js';
import { makeTree, removeTree, spawnCli, startServer, type Running } from './helpers/server.js';
import { CHROMIUM, launchBrowser, type Browser } from './helpers/browser.js';
import { skip } from './helpers/skip.js';

const page = (title: string, extra = ''): string =>
  `<!doctype html><html><head><title>${title}</title><link rel="stylesheet" href="/style.css">${extra}</head><body><h1 id="t">${title}</h1><img id="pic" src="/pic.svg"></body></html>`;
const svg = (fill: string): string => `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="${fill}"/></svg>`;

/** A router serving one HTML page with a strict CSP header, as an app would. */
const cspApp: AppRouter = {
  mounts: [{ prefix: '/csp', segments: ['csp'], label: '/csp' }],
  onAppFiles: () => {},
  async handle(_req, res) {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Security-Policy', "default-src 'self'; script-src 'self'");
    res.end(`<!doctype html><html><head><title>csp</title></head><body><p id="v">${String(cspVersion)}</p></body></html>`);
  },
  upgrade: () => false,
  describe: () => [],
  close: async () => {},
};
let cspVersion = 1;

const live = suite('live reload in Chromium');
let base = '';
let srv: Running;
let browser: Browser;

live.before(async () => {
  if (CHROMIUM === undefined) return;
  base = await makeTree({ 'index.html': page('one'), 'style.css': 'body { color: rgb(255, 0, 0); }', 'pic.svg': svg('red'), 'nobody.html': '<p id="v">one</p>' });
  srv = await startServer({ root: base, live: true, app: cspApp });
  browser = await launchBrowser();
});
live.after(async () => {
  if (CHROMIUM === undefined) return;
  await browser.close();
  await srv.close();
  await removeTree(base);
});

const test = (name: string, fn: () => Promise<void>): void =>
  live(name, async () => {
    if (CHROMIUM === undefined) {
      skip('missing', `no Chromium installed: ${name}`);
      return;
    }
    await fn();
  });

test('an HTML save reloads the page', async () => {
  const p = await browser.open(new URL('/', srv.url).href);
  try {
    await p.waitFor('window.__serveHereLiveReady === true', 5000, 'the live script');
    await p.evaluate('window.marker = 1');
    await writeFile(join(base, 'index.html'), page('two'));
    await p.waitFor(`document.getElementById('t')?.textContent === 'two'`, 5000, 'the new content');
    assert.is(await p.evaluate('window.marker'), undefined, 'the page was reloaded');
  } finally {
    await p.close();
  }
});

test('a CSS save swaps the sheet in place: no reload, never a frame without styles', async () => {
  const p = await browser.open(new URL('/', srv.url).href);
  try {
    await p.waitFor('window.__serveHereLiveReady === true');
    await p.waitFor(`getComputedStyle(document.body).color === 'rgb(255, 0, 0)'`);
    await p.evaluate(`window.marker = 1; window.colours = new Set(); (function loop() { colours.add(getComputedStyle(document.body).color); requestAnimationFrame(loop); })()`);
    await writeFile(join(base, 'style.css'), 'body { color: rgb(0, 0, 255); }');
    await p.waitFor(`getComputedStyle(document.body).color === 'rgb(0, 0, 255)'`, 5000, 'the new colour');
    assert.is(await p.evaluate('window.marker'), 1, 'no reload');
    const seen = await p.evaluate<string[]>('[...window.colours]');
    assert.ok(seen.every((c) => c === 'rgb(255, 0, 0)' || c === 'rgb(0, 0, 255)'), `colours seen: ${seen.join(', ')}`);
    assert.is(await p.evaluate(`document.querySelectorAll('link[rel=stylesheet]').length`), 1, 'the old sheet was removed');
  } finally {
    await p.close();
  }
});

test('an image save refreshes that image without a reload', async () => {
  const p = await browser.open(new URL('/', srv.url).href);
  try {
    await p.waitFor('window.__serveHereLiveReady === true');
    await p.evaluate('window.marker = 1');
    const before = await p.evaluate<string>(`document.getElementById('pic').src`);
    await writeFile(join(base, 'pic.svg'), svg('blue'));
    await p.waitFor(`document.getElementById('pic').src !== ${JSON.stringify(before)}`, 5000, 'the image refreshed');
    assert.is(await p.evaluate('window.marker'), 1, 'no reload');
  } finally {
    await p.close();
  }
});

test('seven tabs all follow a save over one stream', async () => {
  await writeFile(join(base, 'index.html'), page('seven'));
  const tabs = [];
  try {
    for (let i = 0; i < 7; i++) tabs.push(await browser.open(new URL('/', srv.url).href));
    for (const t of tabs) {
      await t.waitFor('window.__serveHereLiveReady === true');
      await t.evaluate('window.marker = 1');
    }
    await writeFile(join(base, 'index.html'), page('eight'));
    for (const t of tabs) await t.waitFor(`document.getElementById('t')?.textContent === 'eight' && window.marker === undefined`, 8000, 'every tab reloaded');
    assert.ok(srv.serveHere.liveStreams() <= 2, `streams open: ${srv.serveHere.liveStreams()}`);
  } finally {
    for (const t of tabs) await t.close();
  }
});

test("a page with a strict script-src 'self' CSP reloads", async () => {
  const p = await browser.open(new URL('/csp', srv.url).href);
  try {
    await p.waitFor('window.__serveHereLiveReady === true', 5000, 'the live script under CSP');
    cspVersion = 2;
    await writeFile(join(base, 'index.html'), page('csp'));
    await p.waitFor(`document.getElementById('v')?.textContent === '2'`, 5000, 'the CSP page reloaded');
  } finally {
    await p.close();
  }
});

test('a page without <head> or <body> reloads', async () => {
  const p = await browser.open(new URL('/nobody.html', srv.url).href);
  try {
    await p.waitFor('window.__serveHereLiveReady === true');
    await writeFile(join(base, 'nobody.html'), '<p id="v">two</p>');
    await p.waitFor(`document.getElementById('v')?.textContent === 'two'`, 5000, 'the new content');
  } finally {
    await p.close();
  }
});

test('a burst of 20 saves is one reload', async () => {
  const p = await browser.open(new URL('/', srv.url).href);
  try {
    await p.waitFor('window.__serveHereLiveReady === true');
    await p.evaluate(`sessionStorage.loads = '0'`);
    const counting = page('burst', '<script src="/count.js"></script>');
    await writeFile(join(base, 'count.js'), `sessionStorage.loads = String(Number(sessionStorage.loads || 0) + 1);`);
    // Saves, not new files: a file that only appeared reloads no page that does not use it.
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFile(join(base, `burst-${i}.txt`), 'new')));
    // Let that one settle (it is its own save), then reset and burst.
    await writeFile(join(base, 'index.html'), counting);
    await p.waitFor(`document.getElementById('t')?.textContent === 'burst'`, 5000);
    await new Promise((r) => setTimeout(r, 500));
    await p.evaluate(`sessionStorage.loads = '0'`);
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFile(join(base, `burst-${i}.txt`), String(i))));
    await p.waitFor(`sessionStorage.loads === '1'`, 5000, 'one reload');
    await new Promise((r) => setTimeout(r, 800));
    assert.is(await p.evaluate('sessionStorage.loads'), '1', 'exactly one reload');
  } finally {
    await p.close();
  }
});

live.run();

// --- app saves -------------------------------------------------------------------------------------

const appLive = suite('live reload of an app page in Chromium');

const appSource = (v: string): string =>
  `export default { fetch() { return new Response('<!doctype html><html><head><title>app</title></head><body><p id="v">${v}</p><script>sessionStorage.seen = (sessionStorage.seen || "") + "${v},";</script></body></html>', { headers: { 'content-type': 'text/html; charset=utf-8' } }); } };\n`;

appLive('an app save reloads the page once the new code answers; a broken save shows the error, the fix recovers by itself', async () => {
  if (CHROMIUM === undefined) {
    skip('missing', 'no Chromium installed');
    return;
  }
  const dir = await makeTree({ 'app.mjs': appSource('1'), 'public/x.txt': 'x' });
  const cli = spawnCli([join(dir, 'public'), '--live', '--port', '0', '--app', join(dir, 'app.mjs')]);
  const b = await launchBrowser();
  try {
    const m = await cli.waitFor(/http:\/\/(127\.0\.0\.1):(\d+)\//, 20_000);
    const p = await b.open(`http://127.0.0.1:${m[2]}/page`);
    await p.waitFor('window.__serveHereLiveReady === true', 8000, 'the live stream');
    await p.evaluate(`window.marker = 1`);
    await writeFile(join(dir, 'app.mjs'), appSource('2'));
    await p.waitFor(`document.getElementById('v')?.textContent === '2'`, 10_000, 'the new app code in the page');
    assert.is(await p.evaluate('window.marker'), undefined, 'reloaded');
    assert.is(await p.evaluate('sessionStorage.seen'), '1,2,', 'one reload, straight to the new code');
    await p.waitFor('window.__serveHereLiveReady === true', 8000);
    await writeFile(join(dir, 'app.mjs'), 'export default { fetch( { broken\n');
    await p.waitFor(`/SyntaxError|Unexpected|Expected/.test(document.body?.innerText ?? '')`, 10_000, 'the error page');
    await p.waitFor('window.__serveHereLiveReady === true', 8000, 'the error page follows saves too');
    await writeFile(join(dir, 'app.mjs'), appSource('3'));
    await p.waitFor(`document.getElementById('v')?.textContent === '3'`, 10_000, 'recovered without a keypress');
    await p.close();
  } finally {
    await b.close();
    await cli.stop();
    await removeTree(dir);
  }
});

appLive.run();
