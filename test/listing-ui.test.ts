// Tests for the listing page's parts (issue 7 and 8): the served folder's name as first crumb,
// icons by kind, the ?q= filter in HTML and JSON, zip links, the upload form only with uploads,
// the 404 page's link to the folder above; and in Chromium, the filter and steady columns.
// SERVE_HERE_SHOTS=/some/dir also writes screenshots (desktop and phone, light and dark) there.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTree, rawRequest, removeTree, request, startServer, type Running } from './helpers/server.js';
import { CHROMIUM, launchBrowser, type View } from './helpers/browser.js';
import { escapeHtml } from '../src/static/listing.js';
import { UPLOAD_SCRIPT_PATH } from '../src/route.js';
import { skip } from './helpers/skip.js';

const ROOT_NAME = 'Shared <stuff> & "co"';
const KINDS: Record<string, string> = {
  'sub/': 'folder',
  'photo.JPG': 'image',
  'clip.mp4': 'video',
  'song.mp3': 'audio',
  'pack.tar.gz': 'archive',
  'app.ts': 'code',
  'notes.pdf': 'document',
  'README': 'file',
};
const LONG = `${'a-very-long-file-name-that-goes-on-'.repeat(4)}end.txt`;

let tree = '';
let root = '';
let srv: Running;
let up: Running;

async function setUp(): Promise<void> {
  const files: Record<string, string> = {
    'filter/Report-2024.pdf': 'r',
    'filter/report-old.txt': 'old',
    'filter/photo.png': 'p',
    'filter/Reports/x.txt': 'x',
    'filter/Other/x.txt': 'x',
    'short/a.txt': 'a',
    [`long/${LONG}`]: 'l'.repeat(4000),
    'long/b.bin': 'b'.repeat(20_000),
    'a/b/exists.txt': 'e',
  };
  for (const [name, kind] of Object.entries(KINDS)) files[`kinds/${name}${kind === 'folder' ? 'x.txt' : ''}`] = kind;
  tree = await makeTree({});
  root = join(await realpath(tree), ROOT_NAME);
  await mkdir(root);
  for (const [name, body] of Object.entries(files)) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), body);
  }
  srv = await startServer({ root });
  up = await startServer({ root, upload: { maxBytes: 1 << 20 } });
}

async function tearDown(): Promise<void> {
  await srv?.close();
  await up?.close();
  await removeTree(tree);
}

/** Row names (the text of each row's first link) of a listing page. */
function rowNames(html: string): string[] {
  const tbody = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
  return [...tbody.matchAll(/<span class="icon[^"]*"><\/span><a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1] ?? '').filter((n) => n !== 'Parent folder');
}

// --- the page, over a socket --------------------------------------------------------------------

const page = suite('listing page');
page.before(setUp);
page.after(tearDown);

page('the first breadcrumb is the served folder’s name, escaped', async () => {
  const res = await request(srv.port, '/kinds/');
  const h1 = res.text.slice(res.text.indexOf('<h1>'), res.text.indexOf('</h1>'));
  assert.ok(h1.startsWith(`<h1><a href="/">${escapeHtml(ROOT_NAME)}</a> /`), h1);
  assert.not.ok(h1.includes('<stuff>'), 'the root name reached the page raw');
  assert.not.ok(h1.includes('>~<'), h1);
});

page('each entry gets the icon of its kind', async () => {
  const res = await request(srv.port, '/kinds/');
  for (const [name, kind] of Object.entries(KINDS)) {
    const href = name.endsWith('/') ? name : encodeURIComponent(name);
    assert.ok(res.text.includes(`<span class="icon i-${kind}"></span><a href="${href}">`), `${name} → ${kind}`);
    // every kind's drawing is in the stylesheet, as an SVG (no emoji)
    assert.match(res.text, new RegExp(`\\.i-${kind}\\{background-image:url\\("data:image/svg\\+xml,`));
  }
  assert.not.match(res.text, /[\u{1F300}-\u{1FAFF}]/u, 'an emoji in the page');
});

page('?q= filters names case-insensitively, server-side, and the page keeps the query escaped', async () => {
  const res = await request(srv.port, '/filter/?q=REPORT');
  assert.is(res.status, 200);
  assert.equal(rowNames(res.text), ['Reports/', 'Report-2024.pdf', 'report-old.txt']);
  assert.ok(res.text.includes('<input type="search" name="q" value="REPORT"'));
  assert.ok(res.text.includes('3 of 5 match'));
  const hostile = '"><script>alert(1)</script>';
  const evil = await request(srv.port, `/filter/?q=${encodeURIComponent(hostile)}`);
  assert.equal(rowNames(evil.text), []);
  assert.not.ok(evil.text.includes('<script'), 'the query reached the page raw');
  assert.ok(evil.text.includes(`value="${escapeHtml(hostile)}"`));
  // without a filter everything is listed
  assert.equal(rowNames((await request(srv.port, '/filter/')).text).length, 5);
});

page('sorting and ?q= compose: sort links keep the filter, the form keeps the sort', async () => {
  const res = await request(srv.port, '/filter/?q=rep&sort=size&order=desc');
  assert.ok(res.text.includes('<a href="?sort=size&amp;order=asc&amp;q=rep">Size ↓</a>'), 'size header link');
  assert.ok(res.text.includes('<a href="?sort=name&amp;order=asc&amp;q=rep">Name</a>'), 'name header link');
  assert.ok(res.text.includes('<input type="hidden" name="sort" value="size"><input type="hidden" name="order" value="desc">'));
  // folders first, then largest first: report-old.txt (3 bytes) before Report-2024.pdf (1)
  assert.equal(rowNames(res.text), ['Reports/', 'report-old.txt', 'Report-2024.pdf']);
});

page('the JSON listing honours ?q= too', async () => {
  const res = await request(srv.port, '/filter/?q=PHOTO', { headers: { Accept: 'application/json' } });
  const body = JSON.parse(res.text) as { q?: string; total: number; truncated: boolean; entries: { name: string }[] };
  assert.equal(body.entries.map((e) => e.name), ['photo.png']);
  assert.is(body.q, 'PHOTO');
  assert.is(body.total, 5);
  assert.is(body.truncated, false);
  const all = JSON.parse((await request(srv.port, '/filter/', { headers: { Accept: 'application/json' } })).text) as { q?: string; entries: unknown[] };
  assert.is(all.entries.length, 5);
  assert.is(all.q, undefined);
});

page('every folder has a zip link: the current one in the bar, each folder row', async () => {
  const res = await request(srv.port, '/filter/');
  assert.ok(res.text.includes('<a class="zip-all" href="?zip" download>'), 'current folder');
  for (const dir of ['Reports', 'Other']) assert.ok(res.text.includes(`<a class="zip" href="${dir}/?zip"`), dir);
  assert.is([...res.text.matchAll(/class="zip"/g)].length, 2, 'files get no zip link');
  const zip = await request(srv.port, '/filter/Reports/?zip');
  assert.is(zip.status, 200);
  assert.is(zip.body.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
  const rootZip = await request(srv.port, '/?zip');
  assert.is(rootZip.status, 200);
});

page('the upload form is on the page only when uploads are on', async () => {
  const off = await request(srv.port, '/short/');
  assert.not.ok(off.text.includes('sh-upload'), 'upload form without --upload');
  assert.not.ok(off.text.includes('<script'), 'a script without --upload');
  const on = await request(up.port, '/short/');
  assert.ok(on.text.includes('<section id="sh-upload"'), 'upload form');
  assert.ok(on.text.includes(`<script src="${UPLOAD_SCRIPT_PATH}" defer></script>`), 'upload script');
  const style = on.text.slice(on.text.indexOf('<style>'), on.text.indexOf('</style>'));
  assert.ok(style.includes('.sh-upload{'), 'upload CSS in the stylesheet');
  const script = await request(up.port, UPLOAD_SCRIPT_PATH);
  assert.is(script.status, 200);
});

page('the 404 page links to the folder above the missing path, escaped and encoded', async () => {
  const res = await request(srv.port, '/a/b/missing.txt');
  assert.is(res.status, 404);
  assert.ok(res.text.includes('<a href="/a/b/">Back to /a/b/</a>'), res.text);
  const dir = await request(srv.port, '/a/b/gone/');
  assert.ok(dir.text.includes('<a href="/a/b/">'), dir.text);
  const hostile = await rawRequest(srv.port, 'GET /x%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E/y.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.ok(hostile.startsWith('HTTP/1.1 404'), hostile.slice(0, 40));
  assert.not.ok(hostile.includes('<script'), 'markup from the path reached the page');
  assert.ok(hostile.includes('href="/x%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E/"'), hostile);
  // `//host/…` must not become a link to another host
  const other = await rawRequest(srv.port, 'GET //evil.example/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.not.ok(other.includes('href="//'), other);
});

page('other error pages are unchanged: no link', async () => {
  const res = await request(srv.port, '/short/a.txt', { method: 'DELETE' });
  assert.is(res.status, 405);
  assert.not.ok(res.text.includes('Back to'), res.text);
});

page.run();

// --- in Chromium ---------------------------------------------------------------------------------

const browser = suite('listing in Chromium');
browser.before(setUp);
browser.after(tearDown);

const VIEWS: Record<string, View> = {
  'desktop-light': { width: 1280, height: 800, dark: false },
  'desktop-dark': { width: 1280, height: 800, dark: true },
  'phone-light': { width: 390, height: 844, dark: false },
  'phone-dark': { width: 390, height: 844, dark: true },
};

browser('columns stay put between folders, and the filter box filters without JavaScript', async () => {
  if (CHROMIUM === undefined) return skip('missing', 'no Chromium');
  const b = await launchBrowser();
  try {
    const p = await b.open('about:blank');
    for (const [label, view] of Object.entries(VIEWS)) {
      await p.emulate(view);
      const x: number[] = [];
      for (const folder of ['/short/', '/long/']) {
        await p.goto(new URL(folder, srv.url).href);
        x.push(await p.evaluate<number>(`Math.round(document.querySelector('th.num').getBoundingClientRect().x)`));
      }
      assert.is(x[0], x[1], `${label}: size column at ${String(x[0])} in /short/, ${String(x[1])} in /long/`);
      // nothing overflows sideways on a phone
      const scroll = await p.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(scroll <= view.width, `${label}: page ${scroll}px wide`);
    }
    await p.emulate(VIEWS['desktop-light'] as View);
    await p.goto(new URL('/filter/', srv.url).href);
    await p.navigateBy(`(() => { const i = document.querySelector('input[name=q]'); i.value = 'rep'; setTimeout(() => i.form.requestSubmit()); })()`);
    await p.waitFor(`location.search === '?q=rep'`);
    await p.waitFor(`document.querySelectorAll('tbody tr').length === 4`, 5000, 'the filtered rows');
    const names = await p.evaluate<string[]>(`[...document.querySelectorAll('tbody tr td:first-child a:not(.zip)')].map((a) => a.textContent)`);
    assert.equal(names, ['Parent folder', 'Reports/', 'Report-2024.pdf', 'report-old.txt']);
    const shots = process.env.SERVE_HERE_SHOTS;
    if (shots !== undefined && shots !== '') {
      const pages: [string, Running, string][] = [
        ['kinds', srv, '/kinds/'],
        ['filter', srv, '/filter/?q=rep&sort=size&order=desc'],
        ['long', srv, '/long/'],
        ['upload', up, '/filter/'],
        ['404', srv, '/a/b/missing.txt'],
      ];
      for (const [label, view] of Object.entries(VIEWS)) {
        await p.emulate(view);
        for (const [name, server, path] of pages) {
          await p.goto(new URL(path, server.url).href);
          await p.screenshot(join(shots, `${name}-${label}.png`));
        }
      }
    }
    await p.close();
  } finally {
    await b.close();
  }
});

browser.run();
