// Names that are not valid UTF-8 (listed, linked by their bytes, served), and %2F, which is part
// of a name, never a separator. Files are created with Buffer paths, requests sent with literal paths.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { decodeBytes, decodeSegment, displayName, encodeBytes, encodeName, toFsPath } from '../src/static/file-names.js';
import { parsePath } from '../src/static/resolve.js';
import { makeTree, removeTree, request, startServer, type Running } from './helpers/server.js';

const bytesPath = (dir: string, ...parts: (string | number[])[]): Buffer =>
  Buffer.concat([Buffer.from(dir), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))]);

// --- units ---------------------------------------------------------------------------------------

const units = suite('file-name helpers');

units('decodeSegment() keeps bytes that are not UTF-8 as escaped surrogates, and back', () => {
  const name = decodeSegment('caf%E9.txt');
  assert.is(name, 'caf\uDCE9.txt');
  assert.equal([...encodeBytes(name ?? '')], [0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]);
  assert.is(encodeName(name ?? ''), 'caf%E9.txt');
  assert.is(displayName(name ?? ''), 'caf\uFFFD.txt');
  assert.is(decodeSegment('%FF%FE'), '\uDCFF\uDCFE');
  assert.is(decodeSegment('caf%C3%A9'), 'café'); // valid UTF-8 decodes as usual
  assert.is(decodeSegment('%E6%97%A5x%E9'), '日x\uDCE9'); // mixed
  assert.is(decodeSegment('%zz'), null);
  assert.is(decodeSegment('%E9%'), null);
});

units('decodeBytes() and toFsPath() round-trip any bytes; real astral characters are not escapes', () => {
  for (const bytes of [[0xff], [0xe9, 0x41], [0xed, 0xb2, 0x80], [0xf0, 0x90, 0x82, 0x80], [0xc3], [0x41, 0xe2, 0x82]]) {
    const s = decodeBytes(Uint8Array.from(bytes));
    const back = toFsPath(s);
    assert.equal([...(typeof back === 'string' ? Buffer.from(back) : back)], bytes, JSON.stringify(bytes));
  }
  const astral = String.fromCodePoint(0x10080); // D800 DC80: its low half looks like an escape
  assert.is(toFsPath(astral), astral);
  assert.is(displayName(astral), astral);
  assert.is(encodeName(astral), encodeURIComponent(astral));
});

units('parsePath() gives decoded and raw segments; overlong forms stay a 400', () => {
  assert.equal(parsePath('/d%FF/caf%E9.txt'), { kind: 'ok', segments: ['d\uDCFF', 'caf\uDCE9.txt'], raw: ['d%FF', 'caf%E9.txt'], trailingSlash: false });
  assert.is(parsePath('/%C0%AE%C0%AE/x').kind, 'bad');
  assert.is(parsePath('/%E0%80%AE').kind, 'bad');
});

units.run();

// --- over a socket -------------------------------------------------------------------------------

const served = suite('names that are not UTF-8, over a socket');
let base = '';
let srv: Running;

served.before(async () => {
  base = realpathSync(await makeTree({ 'plain.txt': 'plain', 'sub/file.txt': 'inside sub', 'a%2Fb': 'literal percent name' }));
  writeFileSync(bytesPath(base, '/caf', [0xe9], '.txt'), 'latin-1 name');
  writeFileSync(bytesPath(base, '/', [0xff, 0xfe]), 'two bad bytes');
  mkdirSync(bytesPath(base, '/d', [0xff]));
  writeFileSync(bytesPath(base, '/d', [0xff], '/in.txt'), 'inside a bad folder');
  srv = await startServer({ root: base });
});
served.after(async () => {
  await srv.close();
  await removeTree(base);
});

served('a file named with byte 0xE9 is served by its percent-encoded bytes', async () => {
  const res = await request(srv.port, '/caf%E9.txt');
  assert.is(res.status, 200);
  assert.is(res.text, 'latin-1 name');
  assert.is((await request(srv.port, '/%FF%FE')).text, 'two bad bytes');
  assert.is((await request(srv.port, '/caf%E8.txt')).status, 404);
});

served('a folder named with byte 0xFF redirects to itself with a slash and serves its files', async () => {
  const redirect = await request(srv.port, '/d%FF');
  assert.is(redirect.status, 301);
  assert.is(redirect.headers.location, '/d%FF/');
  const inner = await request(srv.port, '/d%FF/in.txt');
  assert.is(inner.status, 200);
  assert.is(inner.text, 'inside a bad folder');
});

served('the HTML listing shows such names with U+FFFD and links them by their bytes', async () => {
  const res = await request(srv.port, '/');
  assert.is(res.status, 200);
  assert.ok(res.text.includes('href="caf%E9.txt"'), 'link by bytes');
  assert.ok(res.text.includes('caf\uFFFD.txt</a>'), 'shown with a replacement character');
  assert.ok(res.text.includes('href="%FF%FE"'));
  assert.ok(res.text.includes('href="d%FF/"'));
  const inner = await request(srv.port, '/d%FF/');
  assert.is(inner.status, 200);
  assert.ok(inner.text.includes('href="/d%FF/"'), 'breadcrumb by bytes');
  assert.ok(inner.text.includes('href="in.txt"'));
});

served('the JSON listing gives such names for people and an href with their bytes', async () => {
  const res = await request(srv.port, '/', { headers: { accept: 'application/json' } });
  const json = JSON.parse(res.text) as { entries: { name: string; href: string; type: string }[] };
  const byHref = new Map(json.entries.map((e) => [e.href, e]));
  assert.is(byHref.get('caf%E9.txt')?.name, 'caf\uFFFD.txt');
  assert.is(byHref.get('%FF%FE')?.name, '\uFFFD\uFFFD');
  assert.is(byHref.get('d%FF/')?.type, 'directory');
  assert.is(byHref.get('plain.txt')?.name, 'plain.txt');
  // every href fetches what it names
  for (const e of json.entries.filter((x) => x.type === 'file')) {
    assert.is((await request(srv.port, `/${e.href}`)).status, 200, e.href);
  }
});

served('%2F is not a separator: /sub%2Ffile.txt is missing, never sub/file.txt', async () => {
  assert.is((await request(srv.port, '/sub/file.txt')).text, 'inside sub');
  for (const path of ['/sub%2Ffile.txt', '/sub%2ffile.txt', '/%2Fsub/file.txt', '/sub%2F/file.txt']) {
    const res = await request(srv.port, path);
    assert.is(res.status, 404, path);
    assert.not.ok(res.text.includes('inside sub'), path);
  }
  // a literal "%2F" in a name is reached by escaping the percent sign
  assert.is((await request(srv.port, '/a%252Fb')).text, 'literal percent name');
});

served.run();
