// --upload beside --live and --app, through the real CLI: a stored upload is a new file, so it
// reloads no page unless the page uses it (an image it shows, a file it fetched); an upload's
// temp file is never an event; an app at / that takes every PUT is said at start.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTree, removeTree } from './helpers/server.js';
import { serveMerged } from './helpers/dev.js';
import { CHROMIUM, launchBrowser } from './helpers/browser.js';
import { skip } from './helpers/skip.js';
import { waitUntil } from './helpers/http.js';

const BANNER = /serving (.+) at http:\/\/[^/]+:(\d+)\//;
const svg = (fill: string): string => `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="${fill}"/></svg>`;

function put(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'PUT', headers: { 'Content-Length': Buffer.byteLength(body) }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The live-reload stream's `change` events, as they come. */
function events(port: number): { seen: () => Array<{ type: string; paths?: string[] }>; close: () => void; ready: Promise<void> } {
  const seen: Array<{ type: string; paths?: string[] }> = [];
  let text = '';
  let req: http.ClientRequest;
  const ready = new Promise<void>((resolve, reject) => {
    req = http.get({ host: '127.0.0.1', port, path: '/.well-known/serve-here/events', agent: false }, (res) => {
      res.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('event: hello')) resolve();
        for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const data = /^event: change\ndata: (.*)$/m.exec(block)?.[1];
          if (data !== undefined) seen.push(JSON.parse(data) as { type: string; paths?: string[] });
        }
      });
    });
    req.on('error', reject);
  });
  return { seen: () => seen, close: () => req.destroy(), ready };
}

const uploads = suite('uploads and live reload');

uploads('a stored upload is an `added` event, never a reload; its temp file is no event at all', async () => {
  const dir = await makeTree({ 'index.html': '<p>hi</p>', 'page.html': '<p>page</p>' });
  // --dotfiles: the hidden temp file is watched too, and must still be no event.
  const cli = serveMerged(dir, ['--live', '--upload', '--dotfiles']);
  try {
    const port = Number((await cli.waitFor(BANNER))[2]);
    const stream = events(port);
    await stream.ready;
    for (const name of ['a.txt', 'b.txt', 'c.txt']) assert.is(await put(port, `/${name}`, `file ${name}`), 201);
    const told = (): string[] => stream.seen().flatMap((e) => e.paths ?? []);
    await waitUntil(() => (['/a.txt', '/b.txt', '/c.txt'].every((p) => told().includes(p)) || stream.seen().some((e) => e.type === 'reload') ? true : undefined), 10_000, 'the uploads told');
    // A real save after them still reloads.
    await writeFile(`${dir}/page.html`, '<p>saved</p>');
    await waitUntil(() => (stream.seen().some((e) => e.type === 'reload') ? true : undefined), 10_000, 'the save told');
    stream.close();
    const seen = stream.seen();
    assert.equal(seen.at(-1), { type: 'reload' }, JSON.stringify(seen));
    const before = seen.slice(0, -1);
    assert.ok(before.length > 0, 'the uploads were told');
    assert.ok(before.every((e) => e.type === 'added'), JSON.stringify(seen));
    assert.equal(before.flatMap((e) => e.paths ?? []).sort(), ['/a.txt', '/b.txt', '/c.txt']);
  } finally {
    await cli.stop();
    await removeTree(dir);
  }
});

// In a browser, new files arrive by hand: with --upload every page from the folder is served
// sandboxed (no script runs, the live script included: see the exposure policy), and a new
// file is the same `added` event whether an upload or an editor made it.
uploads('in a browser: an unrelated new file leaves the page alone; one it shows or loads updates it', async () => {
  if (CHROMIUM === undefined) return skip('missing', 'no Chromium');
  const page = `<!doctype html><html><head><title>t</title></head><body><img id="pic" src="/later.svg"><script src="/later.js"></script></body></html>`;
  const dir = await makeTree({ 'index.html': page });
  const cli = serveMerged(dir, ['--live']);
  const browser = await launchBrowser();
  try {
    const port = Number((await cli.waitFor(BANNER))[2]);
    const p = await browser.open(`http://127.0.0.1:${port}/`);
    try {
      await p.waitFor('window.__serveHereLiveReady === true', 5000, 'the live script');
      await p.evaluate('window.marker = 1');
      const before = await p.evaluate<string>(`document.getElementById('pic').src`);
      await writeFile(join(dir, 'unrelated.txt'), 'x');
      await writeFile(join(dir, 'other.html'), '<p>x</p>');
      // The image the page shows (a 404 so far) arrives: refreshed in place, no reload; the
      // files before it came first and left the page alone.
      await writeFile(join(dir, 'later.svg'), svg('blue'));
      await p.waitFor(`document.getElementById('pic').src !== ${JSON.stringify(before)}`, 5000, 'the image refreshed');
      assert.is(await p.evaluate('window.marker'), 1, 'no new file so far reloaded the page');
      // A script the page loads (a 404 so far): the page reloads to run it.
      await writeFile(join(dir, 'later.js'), 'window.ran = 1;');
      await p.waitFor('window.marker === undefined && window.ran === 1', 5000, 'the page reloaded');
    } finally {
      await p.close();
    }
  } finally {
    await browser.close();
    await cli.stop();
    await removeTree(dir);
  }
});

uploads('--upload with an app at /: the banner says no upload can reach the folder', async () => {
  const dir = await makeTree({ 'app.ts': 'export default () => new Response("app")\n' });
  try {
    const atRoot = serveMerged(dir, ['--upload', '--app', 'app.ts']);
    try {
      await atRoot.waitFor(BANNER, 20_000);
      await atRoot.waitFor(/--upload: the app at \/ answers every PUT, so nothing is uploaded into the folder; mount it at a prefix/);
    } finally {
      await atRoot.stop();
    }
    const atPrefix = serveMerged(dir, ['--upload', '--app', '/api=app.ts']);
    try {
      await atPrefix.waitFor(BANNER, 20_000);
      await atPrefix.waitFor(/app\.ts is inside the served folder/); // the banner's warnings are out
      assert.not.match(atPrefix.stdout(), /answers every PUT/);
    } finally {
      await atPrefix.stop();
    }
  } finally {
    await removeTree(dir);
  }
});

uploads.run();
