// Listings show invisible and bidi characters in names written out (`\u202E`), so a name cannot
// pass for another; links keep the real name, and the JSON listing keeps it too. Real server.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hasInvisible, visibleHtml, visibleText } from '../src/static/visible-name.js';
import { makeTree, removeTree, request, startServer, type Running } from './helpers/server.js';

const names = suite('visible names');

names('visibleText() writes out Cf, Cc and invisible letters; ordinary names are untouched', () => {
  assert.is(visibleText('evil\u202Etxt.exe'), 'evil\\u202Etxt.exe');
  assert.is(visibleText('a\u200Bb\u2066c\u2069\uFEFFd\u00ADe\u3164f\u0007g\u{E0041}'), 'a\\u200Bb\\u2066c\\u2069\\uFEFFd\\u00ADe\\u3164f\\u0007g\\u{E0041}');
  for (const plain of ['photo.jpg', 'café.txt', '日本語.md', 'שלום.txt', 'مرحبا.pdf', 'a b.txt', '👩‍💻 notes.md', '👨‍👩‍👧.png', '❤️‍🔥.gif']) {
    assert.not.ok(hasInvisible(plain), plain);
    assert.is(visibleText(plain), plain);
  }
  assert.is(visibleText('a\u200Db'), 'a\\u200Db', 'a joiner outside emoji is shown');
});

names('visibleHtml() escapes the rest and marks each written-out character', () => {
  assert.is(visibleHtml('<b>\u202E'), '&lt;b&gt;<span class="inv" title="invisible character U+202E">\\u202E</span>');
  assert.is(visibleHtml('plain & simple'), 'plain &amp; simple');
});

names.run();

const page = suite('a listing with a bidi override in a name');
let dir = '';
let srv: Running;
const EVIL = 'evil\u202Etxt.exe';
page.before(async () => {
  dir = await makeTree({ [EVIL]: 'payload', [`folder\u200B/inner.txt`]: 'x', 'normal.txt': 'n' });
  srv = await startServer({ root: dir });
});
page.after(async () => {
  await srv.close();
  await removeTree(dir);
});

page('the HTML listing shows \\u202E, never the raw character, and its link fetches the file', async () => {
  const r = await request(srv.port, '/');
  assert.is(r.status, 200);
  assert.not.ok(r.text.includes('\u202E'), 'no raw U+202E in the page');
  assert.not.ok(r.text.includes('\u200B'), 'no raw U+200B in the page');
  assert.ok(r.text.includes('evil<span class="inv" title="invisible character U+202E">\\u202E</span>txt.exe'), r.text);
  const href = encodeURIComponent(EVIL);
  assert.ok(r.text.includes(`href="${href}"`), 'the link is the real name');
  assert.is((await request(srv.port, `/${href}`)).text, 'payload');
  assert.ok(r.text.includes('title="Download folder\\u200B as zip"'));
  const inner = await request(srv.port, `/${encodeURIComponent('folder\u200B')}/`);
  assert.not.ok(inner.text.includes('\u200B'));
  assert.match(inner.text, /<title>Index of \/folder\\u200B\/<\/title>/);
});

page('the JSON listing keeps the real name (for programs) and the real href', async () => {
  const r = await request(srv.port, '/', { headers: { Accept: 'application/json' } });
  const body = JSON.parse(r.text) as { entries?: Array<{ name: string; href: string }> } | Array<{ name: string; href: string }>;
  const entries = Array.isArray(body) ? body : (body.entries ?? []);
  const evil = entries.find((e) => e.href === encodeURIComponent(EVIL));
  assert.ok(evil !== undefined, r.text);
  assert.is(evil?.name, EVIL);
});

page.run();
