// Tests for src/static/send.ts (headers, validators, ranges, compression, streaming) and the
// pure helpers it uses from src/static/range.ts and src/static/compress.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { appendFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { makeTree, removeTree, request, startServer, type Running } from './helpers/server.js';
import { holdSocket, parseRaw, waitUntil } from './helpers/http.js';
import { COMMON_TYPES, contentTypeFor, etagFor, etagMatches, loadTypes } from '../src/static/send.js';
import mime from 'mime';
import { MAX_RANGES, parseRange } from '../src/static/range.js';
import { acceptedEncodings, isCompressible } from '../src/static/compress.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'; // 36 bytes
const BIG_TEXT = 'hello world, this is a line of text\n'.repeat(300); // ~11 KiB
const HUGE_TEXT = Array.from({ length: 8000 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`).join(''); // > 64 KiB
const LARGE = randomBytes(5 * 1024 * 1024);
const PRE_ORIGINAL = 'console.log("original, compressed on the fly");\n'.repeat(60);
const PRE_BR = brotliCompressSync('// served from the .br sibling\n'.repeat(60));
const PRE_GZ = gzipSync('// served from the .gz sibling\n'.repeat(60));
const STALE_ORIGINAL = 'console.log("newer than its siblings");\n'.repeat(60);

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let base = '';
let srv: Running;

async function setUp(): Promise<void> {
  base = realpathSync(
    await makeTree({
      'page.html': '<!doctype html><p>page</p>',
      'style.css': 'body{color:red}',
      'app.js': 'console.log(1)',
      'data.json': '{"a":1}',
      'pic.svg': '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
      'blob.nopeext': 'mystery',
      'noext': 'no extension',
      'alpha.txt': ALPHABET,
      'empty.txt': '',
      'big.txt': BIG_TEXT,
      'huge.txt': HUGE_TEXT,
      'small.txt': 'tiny text under a kilobyte',
      'image.png': randomBytes(4096),
      'large.bin': LARGE,
      'pre.js': PRE_ORIGINAL,
      'pre.js.br': PRE_BR,
      'pre.js.gz': PRE_GZ,
      'stale.js': STALE_ORIGINAL,
      'stale.js.br': brotliCompressSync('// stale sibling, must not be served\n'),
      'stale.js.gz': gzipSync('// stale sibling, must not be served\n'),
    }),
  );
  const now = Date.now() / 1000;
  await utimes(join(base, 'pre.js'), now - 100, now - 100);
  await utimes(join(base, 'pre.js.br'), now, now);
  await utimes(join(base, 'pre.js.gz'), now, now);
  await utimes(join(base, 'stale.js'), now, now);
  await utimes(join(base, 'stale.js.br'), now - 100, now - 100);
  await utimes(join(base, 'stale.js.gz'), now - 100, now - 100);
  srv = await startServer({ root: base });
}

async function tearDown(): Promise<void> {
  await srv.close();
  await removeTree(base);
}

// --- headers ---------------------------------------------------------------------------------

const headers = suite('headers');
headers.before(setUp);
headers.after(tearDown);

headers('send() gives text types a utf-8 charset', async () => {
  const expected: Record<string, string> = {
    '/page.html': 'text/html; charset=utf-8',
    '/style.css': 'text/css; charset=utf-8',
    '/app.js': 'text/javascript; charset=utf-8',
    '/data.json': 'application/json; charset=utf-8',
    '/pic.svg': 'image/svg+xml; charset=utf-8',
    '/alpha.txt': 'text/plain; charset=utf-8',
  };
  for (const [path, type] of Object.entries(expected)) {
    const res = await request(srv.port, path);
    assert.is(res.status, 200, path);
    assert.is(res.headers['content-type'], type, path);
  }
});

headers('send() falls back to application/octet-stream for unknown extensions', async () => {
  for (const path of ['/blob.nopeext', '/noext']) {
    const res = await request(srv.port, path);
    assert.is(res.status, 200);
    assert.is(res.headers['content-type'], 'application/octet-stream', path);
  }
  const png = await request(srv.port, '/image.png');
  assert.is(png.headers['content-type'], 'image/png');
});

headers('send() sets nosniff, no-cache, Accept-Ranges and Content-Length', async () => {
  const res = await request(srv.port, '/alpha.txt');
  assert.is(res.headers['x-content-type-options'], 'nosniff');
  assert.is(res.headers['cache-control'], 'no-cache');
  assert.is(res.headers['accept-ranges'], 'bytes');
  assert.is(res.headers['content-length'], '36');
  assert.is(res.text, ALPHABET);
});

headers('send() sets a weak ETag and Last-Modified from the file stat', async () => {
  const st = await stat(join(base, 'alpha.txt'));
  const res = await request(srv.port, '/alpha.txt');
  assert.is(res.headers.etag, etagFor(st));
  assert.match(res.headers.etag ?? '', /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
  assert.is(res.headers['last-modified'], st.mtime.toUTCString());
});

headers('send() answers an empty file with an empty 200', async () => {
  const res = await request(srv.port, '/empty.txt');
  assert.is(res.status, 200);
  assert.is(res.headers['content-length'], '0');
  assert.is(res.body.length, 0);
});

headers('send() answers HEAD with the headers and no body', async () => {
  for (const path of ['/alpha.txt', '/large.bin', '/big.txt']) {
    const get = await request(srv.port, path);
    const head = await request(srv.port, path, { method: 'HEAD' });
    assert.is(head.status, 200, path);
    assert.is(head.body.length, 0, path);
    assert.is(head.headers['content-length'], get.headers['content-length'], path);
    assert.is(head.headers['content-type'], get.headers['content-type'], path);
    assert.is(head.headers.etag, get.headers.etag, path);
  }
  const gz = await request(srv.port, '/big.txt', { method: 'HEAD', headers: { 'Accept-Encoding': 'gzip' } });
  assert.is(gz.headers['content-encoding'], 'gzip');
  assert.is(gz.body.length, 0);
});

headers.run();

// --- conditional requests ----------------------------------------------------------------------

const conditional = suite('conditional requests');
conditional.before(setUp);
conditional.after(tearDown);

conditional('If-None-Match with the current ETag answers 304 without a body', async () => {
  const first = await request(srv.port, '/alpha.txt');
  const etag = first.headers.etag ?? '';
  const res = await request(srv.port, '/alpha.txt', { headers: { 'If-None-Match': etag } });
  assert.is(res.status, 304);
  assert.is(res.body.length, 0);
  assert.is(res.headers.etag, etag);
});

conditional('If-None-Match matches within a list and with *', async () => {
  const etag = (await request(srv.port, '/alpha.txt')).headers.etag ?? '';
  const list = await request(srv.port, '/alpha.txt', { headers: { 'If-None-Match': `W/"nope-1", ${etag}, "other"` } });
  assert.is(list.status, 304);
  const star = await request(srv.port, '/alpha.txt', { headers: { 'If-None-Match': '*' } });
  assert.is(star.status, 304);
  const strong = await request(srv.port, '/alpha.txt', { headers: { 'If-None-Match': etag.slice(2) } });
  assert.is(strong.status, 304, 'weak comparison ignores the W/ prefix');
});

conditional('If-None-Match with another ETag answers 200, even if If-Modified-Since matches', async () => {
  const first = await request(srv.port, '/alpha.txt');
  const res = await request(srv.port, '/alpha.txt', {
    headers: { 'If-None-Match': 'W/"0-0"', 'If-Modified-Since': first.headers['last-modified'] ?? '' },
  });
  assert.is(res.status, 200);
  assert.is(res.text, ALPHABET);
});

conditional('If-Modified-Since at or after Last-Modified answers 304, before it 200', async () => {
  const first = await request(srv.port, '/alpha.txt');
  const lm = first.headers['last-modified'] ?? '';
  const same = await request(srv.port, '/alpha.txt', { headers: { 'If-Modified-Since': lm } });
  assert.is(same.status, 304);
  const later = await request(srv.port, '/alpha.txt', { headers: { 'If-Modified-Since': new Date(Date.parse(lm) + 60_000).toUTCString() } });
  assert.is(later.status, 304);
  const earlier = await request(srv.port, '/alpha.txt', { headers: { 'If-Modified-Since': new Date(Date.parse(lm) - 60_000).toUTCString() } });
  assert.is(earlier.status, 200);
  const garbage = await request(srv.port, '/alpha.txt', { headers: { 'If-Modified-Since': 'not a date' } });
  assert.is(garbage.status, 200);
});

conditional('If-None-Match with the ETag of a compressed response answers 304', async () => {
  for (const enc of ['gzip', 'br']) {
    const first = await request(srv.port, '/big.txt', { headers: { 'Accept-Encoding': enc } });
    assert.is(first.headers['content-encoding'], enc);
    const etag = first.headers.etag ?? '';
    const again = await request(srv.port, '/big.txt', { headers: { 'Accept-Encoding': enc, 'If-None-Match': etag } });
    assert.is(again.status, 304, `revalidating the ${enc} response`);
    assert.is(again.body.length, 0);
  }
});

conditional.run();

// --- ranges ------------------------------------------------------------------------------------

const ranges = suite('ranges');
ranges.before(setUp);
ranges.after(tearDown);

ranges('Range bytes=0-9 answers 206 with exactly those bytes', async () => {
  const res = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=0-9' } });
  assert.is(res.status, 206);
  assert.is(res.text, ALPHABET.slice(0, 10));
  assert.is(res.headers['content-range'], 'bytes 0-9/36');
  assert.is(res.headers['content-length'], '10');
  assert.is(res.headers['accept-ranges'], 'bytes');
});

ranges('Range bytes=10- answers from byte 10 to the end', async () => {
  const res = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=10-' } });
  assert.is(res.status, 206);
  assert.is(res.text, ALPHABET.slice(10));
  assert.is(res.headers['content-range'], 'bytes 10-35/36');
});

ranges('Range bytes=-5 answers the last 5 bytes', async () => {
  const res = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=-5' } });
  assert.is(res.status, 206);
  assert.is(res.text, ALPHABET.slice(-5));
  assert.is(res.headers['content-range'], 'bytes 31-35/36');
});

ranges('Range past the end is clamped to the last byte', async () => {
  const res = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=30-1000' } });
  assert.is(res.status, 206);
  assert.is(res.text, ALPHABET.slice(30));
});

ranges('several ranges answer multipart/byteranges with one part each', async () => {
  const res = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=0-1,5-6,-3' } });
  assert.is(res.status, 206);
  const m = /^multipart\/byteranges; boundary=(.+)$/.exec(res.headers['content-type'] ?? '');
  assert.ok(m !== null, `content-type ${res.headers['content-type']}`);
  assert.is(res.headers['content-length'], String(res.body.length));
  const parts = parseMultipart(res.body, m?.[1] ?? '');
  assert.equal(
    parts.map((p) => [p.range, p.data]),
    [
      ['bytes 0-1/36', 'ab'],
      ['bytes 5-6/36', 'fg'],
      ['bytes 33-35/36', '789'],
    ],
  );
  for (const p of parts) assert.is(p.type, 'text/plain; charset=utf-8');
});

ranges('overlapping ranges are coalesced into one', async () => {
  const res = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=0-5,3-9,10-11' } });
  assert.is(res.status, 206);
  assert.is(res.headers['content-range'], 'bytes 0-11/36');
  assert.is(res.text, ALPHABET.slice(0, 12));
});

ranges('an unsatisfiable range answers 416 with bytes */size and no body', async () => {
  const res = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=100-200' } });
  assert.is(res.status, 416);
  assert.is(res.headers['content-range'], 'bytes */36');
  assert.is(res.body.length, 0);
});

ranges('an invalid Range is ignored and the whole file is sent', async () => {
  for (const range of ['bytes=abc', 'items=0-1', 'bytes=5-2', 'bytes', 'bytes=', 'bytes=--1', 'bytes=1-2-3']) {
    const res = await request(srv.port, '/alpha.txt', { headers: { Range: range } });
    assert.is(res.status, 200, range);
    assert.is(res.text, ALPHABET, range);
  }
});

ranges('If-Range with the current Last-Modified answers 206, a stale date 200', async () => {
  const lm = (await request(srv.port, '/alpha.txt')).headers['last-modified'] ?? '';
  const fresh = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=0-2', 'If-Range': lm } });
  assert.is(fresh.status, 206);
  assert.is(fresh.text, 'abc');
  const stale = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=0-2', 'If-Range': new Date(Date.parse(lm) - 3_600_000).toUTCString() } });
  assert.is(stale.status, 200);
  assert.is(stale.text, ALPHABET);
});

ranges('If-Range with a weak ETag never matches (RFC 9110 §13.1.5)', async () => {
  const etag = (await request(srv.port, '/alpha.txt')).headers.etag ?? '';
  const res = await request(srv.port, '/alpha.txt', { headers: { Range: 'bytes=0-2', 'If-Range': etag } });
  assert.is(res.status, 200);
  assert.is(res.text, ALPHABET);
});

ranges('a range of a large file streams exactly those bytes', async () => {
  const res = await request(srv.port, '/large.bin', { headers: { Range: 'bytes=1000000-1000099' } });
  assert.is(res.status, 206);
  assert.ok(res.body.equals(LARGE.subarray(1_000_000, 1_000_100)));
  const multi = await request(srv.port, '/large.bin', { headers: { Range: 'bytes=0-9,4000000-4000009' } });
  const boundary = /boundary=(.+)$/.exec(multi.headers['content-type'] ?? '')?.[1] ?? '';
  const parts = parseMultipart(multi.body, boundary);
  assert.is(parts.length, 2);
  assert.ok(Buffer.from(parts[1]?.data ?? '', 'latin1').equals(LARGE.subarray(4_000_000, 4_000_010)));
});

ranges('a 206 is never compressed', async () => {
  const res = await request(srv.port, '/big.txt', { headers: { Range: 'bytes=0-99', 'Accept-Encoding': 'gzip, br' } });
  assert.is(res.status, 206);
  assert.is(res.headers['content-encoding'], undefined);
  assert.is(res.text, BIG_TEXT.slice(0, 100));
});

ranges('a Range on HEAD is ignored', async () => {
  const res = await request(srv.port, '/alpha.txt', { method: 'HEAD', headers: { Range: 'bytes=0-9' } });
  assert.is(res.status, 200);
  assert.is(res.headers['content-length'], '36');
});

ranges.run();

// --- compression -------------------------------------------------------------------------------

const compression = suite('compression');
compression.before(setUp);
compression.after(tearDown);

compression('send() gzips a text file over 1 KiB on the fly', async () => {
  const res = await request(srv.port, '/big.txt', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.is(res.status, 200);
  assert.is(res.headers['content-encoding'], 'gzip');
  assert.is(res.headers.vary, 'Accept-Encoding');
  assert.is(res.headers['content-length'], String(res.body.length));
  assert.is(gunzipSync(res.body).toString(), BIG_TEXT);
  assert.ok(res.body.length < BIG_TEXT.length);
});

compression('send() brotli-compresses a text file over 1 KiB and prefers br', async () => {
  const res = await request(srv.port, '/big.txt', { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
  assert.is(res.headers['content-encoding'], 'br');
  assert.is(brotliDecompressSync(res.body).toString(), BIG_TEXT);
});

compression('send() streams compression for a text file too big for the memory cache', async () => {
  for (const enc of ['gzip', 'br']) {
    const res = await request(srv.port, '/huge.txt', { headers: { 'Accept-Encoding': enc } });
    assert.is(res.headers['content-encoding'], enc);
    const plain = enc === 'gzip' ? gunzipSync(res.body) : brotliDecompressSync(res.body);
    assert.is(plain.toString(), HUGE_TEXT);
  }
});

compression('send() does not compress files under 1 KiB, images, or without Accept-Encoding', async () => {
  const small = await request(srv.port, '/small.txt', { headers: { 'Accept-Encoding': 'gzip, br' } });
  assert.is(small.headers['content-encoding'], undefined);
  assert.is(small.text, 'tiny text under a kilobyte');
  const png = await request(srv.port, '/image.png', { headers: { 'Accept-Encoding': 'gzip, br' } });
  assert.is(png.headers['content-encoding'], undefined);
  assert.is(png.body.length, 4096);
  const plain = await request(srv.port, '/big.txt');
  assert.is(plain.headers['content-encoding'], undefined);
  assert.is(plain.headers.vary, 'Accept-Encoding', 'the uncompressed answer still varies');
  assert.is(plain.text, BIG_TEXT);
  const identity = await request(srv.port, '/big.txt', { headers: { 'Accept-Encoding': 'identity' } });
  assert.is(identity.headers['content-encoding'], undefined);
});

compression('send() skips an encoding the client refused with q=0', async () => {
  const res = await request(srv.port, '/big.txt', { headers: { 'Accept-Encoding': 'br;q=0, gzip' } });
  assert.is(res.headers['content-encoding'], 'gzip');
  const none = await request(srv.port, '/big.txt', { headers: { 'Accept-Encoding': 'br;q=0, gzip;q=0' } });
  assert.is(none.headers['content-encoding'], undefined);
});

compression('send() prefers a fresh precompressed sibling, bytes as stored', async () => {
  const br = await request(srv.port, '/pre.js', { headers: { 'Accept-Encoding': 'br' } });
  assert.is(br.headers['content-encoding'], 'br');
  assert.is(br.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.ok(br.body.equals(PRE_BR), 'the .br file is sent as is');
  const gz = await request(srv.port, '/pre.js', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.is(gz.headers['content-encoding'], 'gzip');
  assert.ok(gz.body.equals(PRE_GZ), 'the .gz file is sent as is');
  const none = await request(srv.port, '/pre.js');
  assert.is(none.text, PRE_ORIGINAL);
});

compression('send() ignores a precompressed sibling older than the file', async () => {
  const br = await request(srv.port, '/stale.js', { headers: { 'Accept-Encoding': 'br' } });
  assert.is(br.headers['content-encoding'], 'br');
  assert.is(brotliDecompressSync(br.body).toString(), STALE_ORIGINAL);
  const gz = await request(srv.port, '/stale.js', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.is(gunzipSync(gz.body).toString(), STALE_ORIGINAL);
});

compression.run();

// --- streaming and freshness -------------------------------------------------------------------

const freshness = suite('streaming and freshness');
freshness.before(setUp);
freshness.after(tearDown);

freshness('send() streams a 5 MiB file intact', async () => {
  const res = await request(srv.port, '/large.bin');
  assert.is(res.status, 200);
  assert.is(res.headers['content-length'], String(LARGE.length));
  assert.is(sha(res.body), sha(LARGE));
});

freshness('send() never serves a small file stale after it changes', async () => {
  const path = join(base, 'changing.txt');
  await writeFile(path, 'version one');
  assert.is((await request(srv.port, '/changing.txt')).text, 'version one');
  assert.is((await request(srv.port, '/changing.txt')).text, 'version one', 'second read (from the cache)');
  await writeFile(path, 'version two, a little longer');
  const res = await request(srv.port, '/changing.txt');
  assert.is(res.text, 'version two, a little longer');
  assert.is(res.headers['content-length'], String('version two, a little longer'.length));
});

freshness('send() never serves a small file stale after a same-size replacement', async () => {
  const path = join(base, 'same-size.txt');
  await writeFile(path, 'AAAAAAAA');
  const when = new Date(Date.now() - 10_000);
  await utimes(path, when, when);
  assert.is((await request(srv.port, '/same-size.txt')).text, 'AAAAAAAA');
  // Same size and mtime, new inode (an editor's atomic save that kept the timestamp).
  await writeFile(join(base, 'same-size.tmp'), 'BBBBBBBB');
  await utimes(join(base, 'same-size.tmp'), when, when);
  await rename(join(base, 'same-size.tmp'), path);
  assert.is((await request(srv.port, '/same-size.txt')).text, 'BBBBBBBB');
  // Same inode and size, new mtime.
  await writeFile(path, 'CCCCCCCC');
  await utimes(path, new Date(Date.now() - 5_000), new Date(Date.now() - 5_000));
  assert.is((await request(srv.port, '/same-size.txt')).text, 'CCCCCCCC');
});

freshness('send() never serves compressed bytes of an old version', async () => {
  const path = join(base, 'changing.css');
  const v1 = 'body { color: red; }\n'.repeat(100);
  const v2 = 'main { color: blue; margin: 0 }\n'.repeat(120);
  await writeFile(path, v1);
  assert.is(gunzipSync((await request(srv.port, '/changing.css', { headers: { 'Accept-Encoding': 'gzip' } })).body).toString(), v1);
  await writeFile(path, v2);
  assert.is(gunzipSync((await request(srv.port, '/changing.css', { headers: { 'Accept-Encoding': 'gzip' } })).body).toString(), v2);
});

freshness('send() never serves a large file stale after it changes', async () => {
  const path = join(base, 'changing.bin');
  const v1 = randomBytes(100 * 1024);
  const v2 = randomBytes(150 * 1024);
  await writeFile(path, v1);
  assert.is(sha((await request(srv.port, '/changing.bin')).body), sha(v1));
  await writeFile(path, v2);
  const res = await request(srv.port, '/changing.bin');
  assert.is(res.headers['content-length'], String(v2.length));
  assert.is(sha(res.body), sha(v2));
});

freshness('send() never sends more than Content-Length when a large file grows meanwhile', async () => {
  const path = join(base, 'growing.bin');
  const size = 16 * 1024 * 1024; // well over what loopback socket buffers hold
  await writeFile(path, randomBytes(size));
  let response: ServerResponse | undefined;
  const onRequest = (_req: unknown, res: ServerResponse): void => {
    response = res;
  };
  srv.serveHere.server.on('request', onRequest);
  const held = await holdSocket(srv.port, 'GET /growing.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  try {
    held.socket.pause(); // the client reads nothing yet, so the server is stuck mid-file
    await waitUntil(() => (response?.headersSent === true ? true : undefined), 5000, 'the response headers');
    await appendFile(path, Buffer.alloc(1024 * 1024, 65));
    held.socket.resume();
    assert.ok(await held.closedWithin(10_000), 'the response ended');
    const res = parseRaw(held.data());
    assert.is(res.status, 200);
    assert.is(res.headers['content-length'], String(size));
    assert.is(res.body.length, size, 'body length equals Content-Length');
  } finally {
    srv.serveHere.server.off('request', onRequest);
    held.socket.destroy();
  }
});

freshness.run();

// --- pure helpers ------------------------------------------------------------------------------

const units = suite('range, compress and type helpers');

units('parseRange() parses single, open-ended and suffix ranges', () => {
  assert.equal(parseRange('bytes=0-9', 36), { kind: 'ok', ranges: [{ start: 0, end: 9 }] });
  assert.equal(parseRange('bytes=10-', 36), { kind: 'ok', ranges: [{ start: 10, end: 35 }] });
  assert.equal(parseRange('bytes=-5', 36), { kind: 'ok', ranges: [{ start: 31, end: 35 }] });
  assert.equal(parseRange('bytes=-100', 36), { kind: 'ok', ranges: [{ start: 0, end: 35 }] });
  assert.equal(parseRange('bytes=0-1000', 36), { kind: 'ok', ranges: [{ start: 0, end: 35 }] });
  assert.equal(parseRange('Bytes = 0-0', 36), { kind: 'ok', ranges: [{ start: 0, end: 0 }] });
});

units('parseRange() sorts and merges overlapping and adjacent ranges', () => {
  assert.equal(parseRange('bytes=0-5,3-9', 36), { kind: 'ok', ranges: [{ start: 0, end: 9 }] });
  assert.equal(parseRange('bytes=10-12,0-1,2-3', 36), { kind: 'ok', ranges: [{ start: 0, end: 3 }, { start: 10, end: 12 }] });
  assert.equal(parseRange('bytes= 0-1 , 5-6 ', 36), { kind: 'ok', ranges: [{ start: 0, end: 1 }, { start: 5, end: 6 }] });
  assert.equal(parseRange('bytes=0-,5-6', 36), { kind: 'ok', ranges: [{ start: 0, end: 35 }] });
});

units('parseRange() reports unsatisfiable ranges', () => {
  assert.equal(parseRange('bytes=36-', 36), { kind: 'unsatisfiable' });
  assert.equal(parseRange('bytes=100-200', 36), { kind: 'unsatisfiable' });
  assert.equal(parseRange('bytes=-0', 36), { kind: 'unsatisfiable' });
  assert.equal(parseRange('bytes=0-0', 0), { kind: 'unsatisfiable' });
  assert.equal(parseRange('bytes=-5', 0), { kind: 'unsatisfiable' });
  // a satisfiable piece wins over an unsatisfiable one
  assert.equal(parseRange('bytes=100-200,0-0', 36), { kind: 'ok', ranges: [{ start: 0, end: 0 }] });
});

units('parseRange() ignores invalid headers (none)', () => {
  for (const bad of ['', 'bytes', 'bytes=', 'bytes=,', 'bytes=-', 'bytes=a-b', 'bytes=5-2', 'items=0-1', 'bytes=1-2-3', 'bytes=0x1-2', 'bytes=-1-', 'bytes=1.5-2']) {
    assert.equal(parseRange(bad, 36), { kind: 'none' }, bad);
  }
});

units('parseRange() answers too many pieces with the whole file', () => {
  const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 2}-${i * 2}`).join(',');
  assert.equal(parseRange(`bytes=${many}`, 1000), { kind: 'none' });
  const ok = Array.from({ length: MAX_RANGES }, (_, i) => `${i * 2}-${i * 2}`).join(',');
  assert.is(parseRange(`bytes=${ok}`, 1000).kind, 'ok');
  // many overlapping pieces coalesce, so they are not "too many"
  const overlapping = Array.from({ length: 50 }, () => '0-10').join(',');
  assert.equal(parseRange(`bytes=${overlapping}`, 1000), { kind: 'ok', ranges: [{ start: 0, end: 10 }] });
});

units('acceptedEncodings() orders br before gzip and honours q=0', () => {
  assert.equal(acceptedEncodings(undefined), []);
  assert.equal(acceptedEncodings(''), []);
  assert.equal(acceptedEncodings('gzip'), ['gzip']);
  assert.equal(acceptedEncodings('gzip, br'), ['br', 'gzip']);
  assert.equal(acceptedEncodings('x-gzip'), ['gzip']);
  assert.equal(acceptedEncodings('br;q=0, gzip;q=0.5'), ['gzip']);
  assert.equal(acceptedEncodings('gzip;q=0.0'), []);
  assert.equal(acceptedEncodings('*'), ['br', 'gzip']);
  assert.equal(acceptedEncodings('identity'), []);
  assert.equal(acceptedEncodings('deflate, BR'), ['br']);
});

units('acceptedEncodings() does not let * bring back an encoding refused with q=0', () => {
  assert.equal(acceptedEncodings('br;q=0, *'), ['gzip']);
  assert.equal(acceptedEncodings('*, gzip;q=0'), ['br']);
  assert.equal(acceptedEncodings('*;q=0'), []);
});

units('isCompressible() accepts text-like types only', () => {
  assert.ok(isCompressible('text/html; charset=utf-8'));
  assert.ok(isCompressible('application/json; charset=utf-8'));
  assert.ok(isCompressible('image/svg+xml; charset=utf-8'));
  assert.not.ok(isCompressible('image/png'));
  assert.not.ok(isCompressible('application/octet-stream'));
  assert.not.ok(isCompressible('application/zip'));
});

units('the common types answered before mime is loaded are exactly mime\'s', () => {
  for (const [ext, type] of Object.entries(COMMON_TYPES)) assert.is(type, mime.getType(`x.${ext}`), ext);
  assert.is(contentTypeFor('/a/b.HTML'), 'text/html; charset=utf-8');
});

units('contentTypeFor() and etagMatches() behave as documented', async () => {
  await loadTypes();
  assert.is(contentTypeFor('x.html'), 'text/html; charset=utf-8');
  assert.is(contentTypeFor('x.png'), 'image/png');
  assert.is(contentTypeFor('x.unknown-ext'), 'application/octet-stream');
  assert.ok(etagMatches('W/"a-1"', 'W/"a-1"'));
  assert.ok(etagMatches('"a-1"', 'W/"a-1"'));
  assert.ok(etagMatches(' "x", W/"a-1" ', 'W/"a-1"'));
  assert.ok(etagMatches('*', 'W/"a-1"'));
  assert.not.ok(etagMatches('W/"a-2"', 'W/"a-1"'));
  assert.not.ok(etagMatches('', 'W/"a-1"'));
  // the tags of the compressed variants of the same file match too
  assert.ok(etagMatches('W/"a-1-gzip"', 'W/"a-1"'));
  assert.ok(etagMatches('W/"a-1-br"', 'W/"a-1"'));
  assert.not.ok(etagMatches('W/"a-1-deflate"', 'W/"a-1"'));
  assert.not.ok(etagMatches('W/"a-2-br"', 'W/"a-1"'));
});

units.run();

interface Part {
  type: string;
  range: string;
  data: string;
}

/** Split a multipart/byteranges body into its parts (latin1, so binary survives). */
function parseMultipart(body: Buffer, boundary: string): Part[] {
  const text = body.toString('latin1');
  assert.ok(text.startsWith(`--${boundary}\r\n`), 'body starts with the first delimiter');
  assert.ok(text.endsWith(`\r\n--${boundary}--\r\n`), 'body ends with the close delimiter');
  const pieces = text.split(`--${boundary}`);
  // '' before the first delimiter, then parts, then '--\r\n' after the close delimiter
  return pieces.slice(1, -1).map((piece) => {
    const headEnd = piece.indexOf('\r\n\r\n');
    const head = piece.slice(2, headEnd);
    const data = piece.slice(headEnd + 4, piece.length - 2);
    const headers = Object.fromEntries(head.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    return { type: headers['content-type'] ?? '', range: headers['content-range'] ?? '', data };
  });
}
