// Tests for src/static/listing.ts: order, sorting links, JSON, escaping of hostile names.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { realpathSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { makeTree, removeTree, request, startServer, type Running } from './helpers/server.js';
import { escapeHtml, parseSort, renderJson, sortEntries, type Entry } from '../src/static/listing.js';

const WEIRD = ['a b.txt', 'hash#.txt', 'q?.txt', 'pct%.txt', 'pct%41.txt', 'amp&amp.txt', "quote'\".txt", '<img src=x onerror=alert(1)>', 'é.txt', '日本.txt', 'new\nline.txt', 'plus+.txt'];

let base = '';
let srv: Running;
let noListing: Running;

async function setUp(): Promise<void> {
  const files: Record<string, string> = {
    'order/file10.txt': '10',
    'order/file2.txt': '2',
    'order/file1.txt': '1',
    'order/Zeta/x': 'x',
    'order/alpha/x': 'x',
    'order/beta.txt': 'b',
    'sized/tiny.bin': 'x'.repeat(10),
    'sized/big.bin': 'x'.repeat(3000),
    'sized/mid.bin': 'x'.repeat(1500),
    'deep/er/est/file.txt': 'deep',
    'with-index/index.html': '<h1>the index</h1>',
    'with-index/other.txt': 'other',
  };
  for (const name of WEIRD) files[`names/${name}`] = `content of ${name}`;
  base = realpathSync(await makeTree(files));
  const day = 86_400;
  const now = Date.now() / 1000;
  // dates in the opposite order of sizes, so the two sorts are told apart
  await utimes(join(base, 'sized/tiny.bin'), now - day, now - day);
  await utimes(join(base, 'sized/mid.bin'), now - 2 * day, now - 2 * day);
  await utimes(join(base, 'sized/big.bin'), now - 3 * day, now - 3 * day);
  srv = await startServer({ root: base });
  noListing = await startServer({ root: base, listing: false });
}

async function tearDown(): Promise<void> {
  await srv.close();
  await noListing.close();
  await removeTree(base);
}

/** The row links of a listing page, in order, with HTML entities undone. */
function rowLinks(html: string): string[] {
  const tbody = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
  return [...tbody.matchAll(/<span class="icon[^"]*"><\/span><a href="([^"]*)">/g)].map((m) => unescapeHtml(m[1] ?? ''));
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? '');
}

// --- order and sorting -------------------------------------------------------------------------

const order = suite('order and sorting');
order.before(setUp);
order.after(tearDown);

order('listing puts folders first, then names in natural order (file2 before file10)', async () => {
  const res = await request(srv.port, '/order/');
  assert.is(res.status, 200);
  assert.is(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(rowLinks(res.text), ['../', 'alpha/', 'Zeta/', 'beta.txt', 'file1.txt', 'file2.txt', 'file10.txt']);
});

order('listing links sort by size and date without JavaScript', async () => {
  const res = await request(srv.port, '/sized/');
  assert.not.ok(res.text.includes('<script'), 'no script in the page');
  const sizeLink = /<a href="(\?sort=size[^"]*)">/.exec(res.text)?.[1];
  assert.is(sizeLink, '?sort=size&amp;order=desc');
  const bySizeDesc = await request(srv.port, `/sized/${unescapeHtml(sizeLink ?? '')}`);
  assert.equal(rowLinks(bySizeDesc.text), ['../', 'big.bin', 'mid.bin', 'tiny.bin']);
  // on the sorted page, the same column links to the other direction
  assert.ok(bySizeDesc.text.includes('href="?sort=size&amp;order=asc"'));
  const bySizeAsc = await request(srv.port, '/sized/?sort=size&order=asc');
  assert.equal(rowLinks(bySizeAsc.text), ['../', 'tiny.bin', 'mid.bin', 'big.bin']);
  const byDateDesc = await request(srv.port, '/sized/?sort=date&order=desc');
  assert.equal(rowLinks(byDateDesc.text), ['../', 'tiny.bin', 'mid.bin', 'big.bin']);
  const byDateAsc = await request(srv.port, '/sized/?sort=date');
  assert.equal(rowLinks(byDateAsc.text), ['../', 'big.bin', 'mid.bin', 'tiny.bin']);
  const byNameDesc = await request(srv.port, '/sized/?sort=name&order=desc');
  assert.equal(rowLinks(byNameDesc.text), ['../', 'tiny.bin', 'mid.bin', 'big.bin']);
});

order('listing keeps folders first when sorting descending', async () => {
  const res = await request(srv.port, '/order/?sort=name&order=desc');
  assert.equal(rowLinks(res.text), ['../', 'Zeta/', 'alpha/', 'file10.txt', 'file2.txt', 'file1.txt', 'beta.txt']);
});

order('listing answers JSON for Accept: application/json, with relative names only', async () => {
  const res = await request(srv.port, '/sized/?sort=size&order=desc', { headers: { Accept: 'application/json' } });
  assert.is(res.status, 200);
  assert.is(res.headers['content-type'], 'application/json; charset=utf-8');
  assert.is(res.headers.vary, 'Accept');
  const body = JSON.parse(res.text) as { path: string; entries: { name: string; type: string; size: number; mtime: string }[] };
  assert.is(body.path, '/sized/');
  assert.equal(body.entries.map((e) => [e.name, e.type, e.size]), [
    ['big.bin', 'file', 3000],
    ['mid.bin', 'file', 1500],
    ['tiny.bin', 'file', 10],
  ]);
  for (const e of body.entries) assert.ok(!Number.isNaN(Date.parse(e.mtime)));
  assert.not.ok(res.text.includes(base), 'the served folder path leaks');
  const root = JSON.parse((await request(srv.port, '/', { headers: { Accept: 'application/json' } })).text) as { path: string; entries: { name: string; type: string }[] };
  assert.is(root.path, '/');
  assert.ok(root.entries.some((e) => e.name === 'order' && e.type === 'directory'));
});

order('listing HTML does not contain the served folder path', async () => {
  const res = await request(srv.port, '/deep/er/');
  assert.not.ok(res.text.includes(base));
});

order('listing answers HEAD with headers only', async () => {
  const get = await request(srv.port, '/order/');
  const head = await request(srv.port, '/order/', { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.body.length, 0);
  assert.is(head.headers['content-length'], get.headers['content-length']);
});

order('listing shows breadcrumbs to every parent folder', async () => {
  const res = await request(srv.port, '/deep/er/est/');
  const h1 = res.text.slice(res.text.indexOf('<h1>'), res.text.indexOf('</h1>'));
  // The first crumb is the served folder's name (was `~` before issue 7).
  assert.ok(h1.includes(`<a href="/">${escapeHtml(basename(base))}</a>`), h1);
  assert.ok(h1.includes('<a href="/deep/">deep</a>'), h1);
  assert.ok(h1.includes('<a href="/deep/er/">er</a>'), h1);
  assert.ok(h1.includes('<a href="/deep/er/est/">est</a>'), h1);
  assert.ok(res.text.includes('<title>Index of /deep/er/est/</title>'));
  assert.equal(rowLinks(res.text), ['../', 'file.txt']);
});

order('listing at the root has no parent link', async () => {
  const res = await request(srv.port, '/');
  assert.not.ok(rowLinks(res.text).includes('../'));
});

order('a folder with index.html serves the index instead of a listing', async () => {
  const res = await request(srv.port, '/with-index/');
  assert.is(res.status, 200);
  assert.is(res.text, '<h1>the index</h1>');
});

order('listing: false answers 404 for folders without index.html', async () => {
  for (const path of ['/', '/order/', '/deep/er/']) {
    const res = await request(noListing.port, path);
    assert.is(res.status, 404, path);
    assert.not.ok(res.text.includes('file1.txt'));
  }
  const index = await request(noListing.port, '/with-index/');
  assert.is(index.status, 200);
  assert.is(index.text, '<h1>the index</h1>');
  const json = await request(noListing.port, '/order/', { headers: { Accept: 'application/json' } });
  assert.is(json.status, 404);
});

order.run();

// --- hostile names -----------------------------------------------------------------------------

const names = suite('hostile names');
names.before(setUp);
names.after(tearDown);

names('listing escapes names in the text and percent-encodes them in the href', async () => {
  const res = await request(srv.port, '/names/');
  assert.is(res.status, 200);
  assert.not.ok(res.text.includes('<img'), 'raw markup from a file name reached the page');
  const links = rowLinks(res.text);
  for (const name of WEIRD) {
    assert.ok(res.text.includes(`>${escapeHtml(name)}</a>`), `text of ${JSON.stringify(name)}`);
    assert.ok(res.text.includes(`href="${escapeHtml(encodeURIComponent(name))}"`), `href of ${JSON.stringify(name)}`);
    assert.ok(links.includes(encodeURIComponent(name)), `link of ${JSON.stringify(name)}`);
  }
  for (const link of links) assert.not.match(link, /[\s<>"#?]/, `unencoded character in ${JSON.stringify(link)}`);
});

names('following each href of the listing returns that file', async () => {
  const links = rowLinks((await request(srv.port, '/names/')).text).filter((l) => l !== '../');
  assert.is(links.length, WEIRD.length);
  for (const link of links) {
    const res = await request(srv.port, `/names/${link}`);
    assert.is(res.status, 200, link);
    assert.is(res.text, `content of ${decodeURIComponent(link)}`, link);
  }
});

names('JSON listing keeps names exact (JSON-escaped, not HTML-escaped)', async () => {
  const res = await request(srv.port, '/names/', { headers: { Accept: 'application/json' } });
  const body = JSON.parse(res.text) as { entries: { name: string }[] };
  assert.equal(body.entries.map((e) => e.name).sort(), [...WEIRD].sort());
});

names.run();

// --- pure helpers ------------------------------------------------------------------------------

const units = suite('listing helpers');

const entry = (name: string, type: Entry['type'], size = 0, mtime = 0): Entry => ({ name, type, size, mtime: new Date(mtime), real: name });

units('sortEntries() puts folders first and compares names naturally, ignoring case', () => {
  const sorted = sortEntries([entry('b10', 'file'), entry('B2', 'file'), entry('z', 'directory'), entry('a1', 'file'), entry('A', 'directory')], { key: 'name', desc: false });
  assert.equal(sorted.map((e) => e.name), ['A', 'z', 'a1', 'B2', 'b10']);
});

units('sortEntries() breaks ties of size by name', () => {
  const sorted = sortEntries([entry('b', 'file', 5), entry('a', 'file', 5), entry('c', 'file', 1)], { key: 'size', desc: false });
  assert.equal(sorted.map((e) => e.name), ['c', 'a', 'b']);
});

units('parseSort() reads sort and order, falling back to name ascending', () => {
  assert.equal(parseSort('sort=size&order=desc'), { key: 'size', desc: true });
  assert.equal(parseSort('sort=date'), { key: 'date', desc: false });
  assert.equal(parseSort('sort=evil&order=sideways'), { key: 'name', desc: false });
  assert.equal(parseSort(''), { key: 'name', desc: false });
});

units('escapeHtml() escapes the five HTML specials', () => {
  assert.is(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.is(escapeHtml('plain é 日本'), 'plain é 日本');
});

units('renderJson() reports the URL path and entry fields only', () => {
  const json = JSON.parse(renderJson('/a/', [entry('x', 'file', 3, 0)])) as unknown;
  // total/truncated (the cap) and href (exact bytes of the name) are issue 6 additions; still no server path.
  assert.equal(json, { path: '/a/', total: 1, truncated: false, entries: [{ name: 'x', href: 'x', type: 'file', size: 3, mtime: '1970-01-01T00:00:00.000Z' }] });
});

units.run();
