// Tests for src/share/upload.ts and src/share/upload-names.ts: a real node:http server calling
// receiveUpload (also for `checkContinue`), real temp folders, raw sockets where framing matters.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { receiveUpload, type UploadOptions } from '../src/share/upload.js';
import { checkUploadSegments, isCrossSite, numberedName, tempNameFor } from '../src/share/upload-names.js';
import { UPLOAD_SCRIPT, uploadFragment } from '../src/share/upload-client.js';
import { parsePath } from '../src/static/resolve.js';
import { waitUntil } from './helpers/http.js';
import { Exposure } from '../src/exposure/policy.js';
import { skip } from './helpers/skip.js';

interface Harness {
  port: number;
  root: string;
  opts: Partial<UploadOptions>;
  close(): Promise<void>;
}

/** A server answering every PUT with receiveUpload, segments from the project's own parsePath. */
async function startUploads(root: string, opts: Partial<UploadOptions> = {}): Promise<Harness> {
  const harness: Harness = { port: 0, root, opts, close: async () => undefined };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const parsed = parsePath(req.url ?? '/');
    if (parsed.kind !== 'ok') {
      res.writeHead(400).end();
      return;
    }
    void receiveUpload(req, res, {
      // package.json stands for any protected file (a TLS key, say).
      exposure: new Exposure({ root, dotfiles: false, tlsFiles: [join(root, 'package.json')] }),
      segments: parsed.segments,
      maxBytes: 1024 * 1024,
      selfHost: req.headers.host ?? '',
      ...harness.opts,
    });
  };
  const server = http.createServer(handler);
  server.on('checkContinue', handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address() as net.AddressInfo;
  harness.port = addr.port;
  harness.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return harness;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function put(port: number, path: string, body: Buffer | string | null, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'PUT', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** Send raw bytes, collect everything until the server closes or `ms` passes. */
async function raw(port: number, data: string | Buffer, ms = 3000): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let out = '';
  socket.on('data', (c: Buffer) => (out += c.toString('latin1')));
  socket.on('error', () => undefined);
  socket.write(data);
  const timer = setTimeout(() => socket.destroy(), ms);
  await once(socket, 'close');
  clearTimeout(timer);
  return out;
}

async function newRoot(): Promise<string> {
  return realpathSync(await mkdtemp(join(tmpdir(), 'serve-here-up-')));
}

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

const noTemp = async (dir: string): Promise<boolean> => !(await readdir(dir)).some((n) => n.includes('.upload-'));

// ---------------------------------------------------------------------------------------------
const names_ = suite('upload names');

names_('numberedName() keeps the extension, and .tar.gz together', () => {
  assert.is(numberedName('photo.jpg', 1), 'photo (1).jpg');
  assert.is(numberedName('notes', 2), 'notes (2)');
  assert.is(numberedName('archive.tar.gz', 1), 'archive (1).tar.gz');
  assert.is(numberedName('.env', 1), '.env (1)');
  assert.is(numberedName('a.b.c', 3), 'a.b (3).c');
});

names_('checkUploadSegments() refuses control characters and lone surrogates', () => {
  assert.is(checkUploadSegments(['a.txt']), null);
  assert.is(checkUploadSegments(['dir', 'ü ß.txt']), null);
  assert.is(checkUploadSegments(['a\u001b[31m.txt'])?.status, 400);
  assert.is(checkUploadSegments(['a\u0085b'])?.status, 400);
  assert.is(checkUploadSegments(['bad\udc80.txt'])?.status, 400);
  assert.is(checkUploadSegments(['😀.txt']), null); // a paired surrogate is fine
  // Dot names and .git are the exposure policy's (test/exposure.test.ts), not a name check.
  assert.is(checkUploadSegments(['.env']), null);
  assert.is(checkUploadSegments(['x'.repeat(256)])?.status, 400);
  assert.is(checkUploadSegments([])?.status, 409);
  assert.ok(tempNameFor('a.txt', 'abc').startsWith('.'), 'temp names are hidden');
  assert.ok(Buffer.byteLength(tempNameFor('é'.repeat(127), 'abcdefabcdef')) <= 255, 'temp name fits in 255 bytes');
});

names_('isCrossSite() allows curl and the same origin only', () => {
  assert.is(isCrossSite({}, '127.0.0.1:8000'), false);
  assert.is(isCrossSite({ origin: 'http://127.0.0.1:8000' }, '127.0.0.1:8000'), false);
  assert.is(isCrossSite({ origin: 'https://127.0.0.1:8000' }, '127.0.0.1:8000'), false);
  assert.is(isCrossSite({ origin: 'http://localhost' }, 'localhost:80'), false);
  assert.is(isCrossSite({ origin: 'http://127.0.0.1:8001' }, '127.0.0.1:8000'), true);
  assert.is(isCrossSite({ origin: 'http://evil.example' }, '127.0.0.1:8000'), true);
  assert.is(isCrossSite({ origin: 'null' }, '127.0.0.1:8000'), true);
  assert.is(isCrossSite({ 'sec-fetch-site': 'cross-site' }, '127.0.0.1:8000'), true);
  assert.is(isCrossSite({ 'sec-fetch-site': 'same-site' }, '127.0.0.1:8000'), true);
  assert.is(isCrossSite({ 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:8000' }, '127.0.0.1:8000'), false);
});

names_('uploadFragment() escapes the script URL and holds no inline script or style', () => {
  const html = uploadFragment('/x/"><script>alert(1)</script>.js');
  assert.not.match(html, '<script>alert');
  assert.match(html, '<script src="/x/&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;.js" defer></script>');
  assert.is(html.match(/<script/g)?.length, 1);
  assert.not.match(html, /style=|on[a-z]+=/);
  assert.match(html, /<input type="file" name="files" multiple>/);
  assert.match(html, /<input type="file" name="folder" webkitdirectory>/);
  assert.not.match(UPLOAD_SCRIPT, 'innerHTML');
});

names_.run();

// ---------------------------------------------------------------------------------------------
const saving = suite('receiveUpload() saving');
let h: Harness;
saving.before(async () => {
  h = await startUploads(await newRoot());
  await mkdir(join(h.root, 'docs'));
  await writeFile(join(h.root, 'docs', 'taken.txt'), 'original');
});
saving.after(async () => {
  await h.close();
  await rm(h.root, { recursive: true, force: true });
});

saving('receiveUpload() saves the exact bytes, answers 201 with Location, leaves no temp file', async () => {
  const data = randomBytes(300_000);
  const r = await put(h.port, '/docs/new%20file.bin', data);
  assert.is(r.status, 201);
  assert.is(r.headers.location, '/docs/new%20file.bin');
  assert.match(r.body, 'Saved as "docs/new file.bin" (300000 bytes)');
  assert.ok((await readFile(join(h.root, 'docs', 'new file.bin'))).equals(data));
  assert.ok(await noTemp(join(h.root, 'docs')));
});

saving('receiveUpload() never overwrites: a taken name becomes "name (1).ext", then "(2)"', async () => {
  const r1 = await put(h.port, '/docs/taken.txt', 'first');
  const r2 = await put(h.port, '/docs/taken.txt', 'second');
  assert.is(r1.status, 201);
  assert.is(r1.headers.location, '/docs/taken%20(1).txt');
  assert.is(r2.headers.location, '/docs/taken%20(2).txt');
  assert.is(await readFile(join(h.root, 'docs', 'taken.txt'), 'utf8'), 'original');
  assert.is(await readFile(join(h.root, 'docs', 'taken (1).txt'), 'utf8'), 'first');
  assert.is(await readFile(join(h.root, 'docs', 'taken (2).txt'), 'utf8'), 'second');
});

saving('receiveUpload() gives parallel uploads of one name distinct names, bytes intact', async () => {
  const bodies = Array.from({ length: 6 }, () => randomBytes(50_000));
  const replies = await Promise.all(bodies.map((b) => put(h.port, '/docs/same.bin', b)));
  const locations = replies.map((r) => r.headers.location);
  assert.is(new Set(locations).size, 6);
  for (const [i, r] of replies.entries()) {
    assert.is(r.status, 201);
    const name = decodeURIComponent(String(r.headers.location).split('/').pop() ?? '');
    assert.ok((await readFile(join(h.root, 'docs', name))).equals(bodies[i] as Buffer), name);
  }
});

saving('receiveUpload() creates missing folders inside the root (a whole folder from the page)', async () => {
  const r = await put(h.port, '/docs/trip/day%201/photo.jpg', 'jpeg');
  assert.is(r.status, 201);
  assert.is(await readFile(join(h.root, 'docs', 'trip', 'day 1', 'photo.jpg'), 'utf8'), 'jpeg');
});

saving('receiveUpload() answers 409 for an existing folder and for a file used as a folder', async () => {
  assert.is((await put(h.port, '/docs', 'x')).status, 409);
  assert.is((await put(h.port, '/docs/taken.txt/inner.txt', 'x')).status, 409);
  assert.is(await readFile(join(h.root, 'docs', 'taken.txt'), 'utf8'), 'original');
});

saving('receiveUpload() saves an empty body as an empty file', async () => {
  const r = await put(h.port, '/docs/empty.txt', '', { 'Content-Length': '0' });
  assert.is(r.status, 201);
  assert.is((await stat(join(h.root, 'docs', 'empty.txt'))).size, 0);
});

saving('receiveUpload() streams a 40 MiB body intact (background fdatasync path)', async () => {
  h.opts = { maxBytes: 64 * 1024 * 1024 };
  try {
    const data = randomBytes(40 * 1024 * 1024);
    const r = await put(h.port, '/docs/big.bin', data);
    assert.is(r.status, 201);
    assert.ok((await readFile(join(h.root, 'docs', 'big.bin'))).equals(data));
  } finally {
    h.opts = {};
  }
});

saving.run();

// ---------------------------------------------------------------------------------------------
const refusals = suite('receiveUpload() refusals');
let r: Harness;
let outside = '';
refusals.before(async () => {
  r = await startUploads(await newRoot());
  outside = await newRoot();
  await writeFile(join(r.root, 'app.js'), 'x');
  await writeFile(join(r.root, 'package.json'), '{}');
  await mkdir(join(r.root, '.git'));
  await symlink(outside, join(r.root, 'escape'));
  await symlink(join(r.root, '.git'), join(r.root, 'gitlink'));
});
refusals.after(async () => {
  await r.close();
  await rm(r.root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

refusals('receiveUpload() refuses Content-Length over the cap before reading the body (413, Connection: close)', async () => {
  // Headers only: the answer must come although no body byte was sent.
  const out = await raw(r.port, `PUT /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`);
  assert.match(out, /^HTTP\/1\.1 413 /);
  assert.match(out, /\r\nConnection: close\r\n/i);
  assert.equal(await names(r.root), ['.git', 'app.js', 'escape', 'gitlink', 'package.json']);
});

refusals('receiveUpload() with Expect: 100-continue refuses without sending 100', async () => {
  const out = await raw(r.port, `PUT /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`);
  assert.not.match(out, '100 Continue');
  assert.match(out, /^HTTP\/1\.1 413 /);
});

refusals('receiveUpload() cuts a chunked upload at the cap (413) and removes the temp file', async () => {
  const chunk = Buffer.alloc(256 * 1024, 7);
  const head = 'PUT /chunked.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n';
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  const out = await raw(r.port, Buffer.concat([Buffer.from(head), ...Array.from({ length: 6 }, () => frame), Buffer.from('0\r\n\r\n')]));
  assert.match(out, /^HTTP\/1\.1 413 /);
  await waitUntil(async () => ((await noTemp(r.root)) ? true : undefined), 3000, 'temp file removed');
  assert.not.ok((await names(r.root)).includes('chunked.bin'));
});

refusals('receiveUpload() refuses dot names, .git (even through a link) and protected files (403)', async () => {
  assert.is((await put(r.port, '/.env', 'SECRET=1')).status, 403);
  assert.is((await put(r.port, '/.git/hooks/pre-commit', 'x')).status, 403);
  assert.is((await put(r.port, '/gitlink/config', 'x')).status, 403);
  assert.is((await put(r.port, '/package.json', '{}')).status, 403);
  assert.equal(await readdir(join(r.root, '.git')), []);
  assert.is(await readFile(join(r.root, 'package.json'), 'utf8'), '{}');
});

refusals('receiveUpload() refuses a .gz/.br sibling of an existing file, allows it otherwise', async () => {
  assert.is((await put(r.port, '/app.js.gz', 'x')).status, 403);
  assert.is((await put(r.port, '/app.js.br', 'x')).status, 403);
  assert.is((await put(r.port, '/lonely.txt.gz', 'x')).status, 201);
});

refusals('receiveUpload() refuses control characters (400) and a link leading outside (403)', async () => {
  assert.is((await put(r.port, '/bad%1b%5B31m.txt', 'x')).status, 400);
  assert.is((await put(r.port, '/escape/planted.txt', 'x')).status, 403);
  assert.is((await put(r.port, '/escape/new/planted.txt', 'x')).status, 403);
  assert.equal(await readdir(outside), []);
});

refusals('receiveUpload() refuses cross-site requests (403), allows its own origin', async () => {
  const self = `http://127.0.0.1:${r.port}`;
  assert.is((await put(r.port, '/x1.txt', 'x', { Origin: 'http://evil.example' })).status, 403);
  assert.is((await put(r.port, '/x2.txt', 'x', { Origin: 'null' })).status, 403);
  assert.is((await put(r.port, '/x3.txt', 'x', { 'Sec-Fetch-Site': 'cross-site' })).status, 403);
  assert.is((await put(r.port, '/x4.txt', 'x', { Origin: self, 'Sec-Fetch-Site': 'same-origin' })).status, 201);
  assert.not.ok((await names(r.root)).includes('x1.txt'));
});

refusals('receiveUpload() leaves nothing when the client aborts mid-body (no file, no temp, no new folder)', async () => {
  const socket = net.connect(r.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  socket.write(`PUT /newdir/cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500000\r\n\r\n`);
  socket.write(Buffer.alloc(200_000, 1));
  // Wait until the temp file exists (the body is being written), then vanish.
  await waitUntil(async () => {
    const list = await readdir(join(r.root, 'newdir')).catch(() => []);
    return list.some((n) => n.includes('.upload-')) ? true : undefined;
  }, 3000, 'temp file');
  socket.destroy();
  await waitUntil(async () => ((await names(r.root)).includes('newdir') ? undefined : true), 3000, 'folder removed');
  assert.not.ok((await names(r.root)).includes('cut.bin'));
});

refusals.run();

// ---------------------------------------------------------------------------------------------
// A real small file system: tmpfs of 2 MiB (needs root and permission to mount; skipped otherwise).
const disk = suite('receiveUpload() on a full disk');
let small = '';
let mounted = false;
let d: Harness;
disk.before(async () => {
  small = await mkdtemp(join(tmpdir(), 'serve-here-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small], { stdio: 'ignore' });
    mounted = true;
  } catch {
    skip('machine', 'cannot mount a tmpfs here; run as root to test a real full disk');
  }
  d = await startUploads(realpathSync(small), { maxBytes: 64 * 1024 * 1024 });
});
disk.after(async () => {
  await d.close();
  if (mounted) execFileSync('umount', [small]);
  await rmdir(small).catch(() => undefined);
});

disk('receiveUpload() answers 507 before the body when Content-Length exceeds the free space', async () => {
  if (!mounted) return;
  const out = await raw(d.port, `PUT /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
  assert.match(out, /^HTTP\/1\.1 507 /);
  assert.equal(await readdir(small), []);
});

disk('receiveUpload() answers 507 when the disk fills mid-write and removes the partial file', async () => {
  if (!mounted) return;
  // Chunked, so no size is known in advance: the write itself hits ENOSPC.
  const head = 'PUT /fill.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n';
  const chunk = Buffer.alloc(512 * 1024, 3);
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  const out = await raw(d.port, Buffer.concat([Buffer.from(head), ...Array.from({ length: 8 }, () => frame), Buffer.from('0\r\n\r\n')]));
  assert.match(out, /^HTTP\/1\.1 507 /);
  await waitUntil(async () => ((await readdir(small)).length === 0 ? true : undefined), 3000, 'partial file removed');
  // The space is back: a small upload still works.
  assert.is((await put(d.port, '/after.txt', 'ok')).status, 201);
});

disk.run();

// ---------------------------------------------------------------------------------------------
// The upload page in a real headless Chromium, driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4, no WebSocket needed). Served with
// a strict CSP, so any inline script or style would be blocked. Skipped without chromium.
const page = suite('upload page in headless Chromium');

class Cdp {
  #next = 1;
  #waiting = new Map<number, { resolve(v: Record<string, unknown>): void; reject(e: Error): void }>();
  #events: Array<{ method: string; sessionId?: string }> = [];
  #buffer = '';
  readonly child: ChildProcess;
  constructor(child: ChildProcess) {
    this.child = child;
    const out = child.stdio[4] as NodeJS.ReadableStream;
    out.setEncoding('utf8');
    out.on('data', (text: string) => {
      this.#buffer += text;
      let end: number;
      while ((end = this.#buffer.indexOf('\0')) !== -1) {
        const msg = JSON.parse(this.#buffer.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; sessionId?: string };
        this.#buffer = this.#buffer.slice(end + 1);
        if (msg.id !== undefined) {
          const w = this.#waiting.get(msg.id);
          this.#waiting.delete(msg.id);
          if (msg.error) w?.reject(new Error(msg.error.message));
          else w?.resolve(msg.result ?? {});
        } else if (msg.method !== undefined) {
          this.#events.push({ method: msg.method, ...(msg.sessionId === undefined ? {} : { sessionId: msg.sessionId }) });
        }
      }
    });
  }
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.#next++;
    (this.child.stdio[3] as NodeJS.WritableStream).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return new Promise((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
  }
  seen(method: string): number {
    return this.#events.filter((e) => e.method === method).length;
  }
}

page('upload page: files chosen in the page are PUT, one renamed, result line shown after reload', async () => {
  let chromium = '';
  try {
    chromium = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser || command -v google-chrome'], { encoding: 'utf8' }).trim();
  } catch {
    skip('missing', 'no chromium');
    return;
  }
  const root = await newRoot();
  const picks = await newRoot();
  const profile = await mkdtemp(join(tmpdir(), 'serve-here-chromium-'));
  await mkdir(join(root, 'dir'));
  // A name with markup, '#' and '%' (which a missing per-segment encoding would break), already taken.
  const tricky = 'été <b>#1%.jpg';
  await writeFile(join(root, 'dir', tricky), 'original');
  const photo = randomBytes(200_000);
  await writeFile(join(picks, tricky), photo);
  await writeFile(join(picks, 'new.txt'), 'from the page');
  const script = '/.well-known/serve-here/upload.js';
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const parsed = parsePath(req.url ?? '/');
    if (parsed.kind !== 'ok') return void res.writeHead(400).end();
    if (req.method === 'PUT') {
      void receiveUpload(req, res, { exposure: new Exposure({ root, dotfiles: false }), segments: parsed.segments, maxBytes: 1024 * 1024, selfHost: req.headers.host ?? '' });
    } else if (req.url === script) {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(UPLOAD_SCRIPT);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "default-src 'self'" });
      res.end(`<!doctype html><meta charset="utf-8"><title>dir</title><body>${uploadFragment(script)}</body>`);
    }
  };
  const server = http.createServer(handler);
  server.on('checkContinue', handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const child = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
  });
  const cdp = new Cdp(child);
  try {
    const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    await cdp.send('Page.enable', {}, sessionId);
    await cdp.send('Page.navigate', { url: `http://127.0.0.1:${port}/dir/` }, sessionId);
    await waitUntil(() => (cdp.seen('Page.loadEventFired') >= 1 ? true : undefined), 15_000, 'page load');
    const evaluate = async (expression: string): Promise<unknown> =>
      ((await cdp.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value?: unknown } }).result.value;
    await waitUntil(async () => ((await evaluate('document.readyState')) === 'complete' ? true : undefined), 10_000, 'ready');
    const { root: doc } = (await cdp.send('DOM.getDocument', {}, sessionId)) as { root: { nodeId: number } };
    const { nodeId } = (await cdp.send('DOM.querySelector', { nodeId: doc.nodeId, selector: 'input[name=files]' }, sessionId)) as { nodeId: number };
    await cdp.send('DOM.setFileInputFiles', { nodeId, files: [join(picks, tricky), join(picks, 'new.txt')] }, sessionId);
    const line = await waitUntil(async () => {
      if (cdp.seen('Page.loadEventFired') < 2) return undefined; // the listing reloads after the uploads
      const text = await evaluate("document.querySelector('.sh-result') && document.querySelector('.sh-result').textContent");
      return typeof text === 'string' && text !== '' ? text : undefined;
    }, 20_000, 'result line');
    assert.is(line, '2 files uploaded, 1 renamed to été <b>#1% (1).jpg');
    assert.is(await evaluate("document.querySelectorAll('b').length"), 0, 'a name never becomes markup');
    assert.is(await readFile(join(root, 'dir', tricky), 'utf8'), 'original');
    assert.ok((await readFile(join(root, 'dir', 'été <b>#1% (1).jpg'))).equals(photo));
    assert.is(await readFile(join(root, 'dir', 'new.txt'), 'utf8'), 'from the page');
  } finally {
    // Browser.close lets Chromium take its helper processes down; the kill is the fallback.
    const exited = once(child, 'exit');
    void cdp.send('Browser.close').catch(() => undefined);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    server.closeAllConnections();
    server.close();
    await rm(root, { recursive: true, force: true });
    await rm(picks, { recursive: true, force: true });
    await rm(profile, { recursive: true, force: true });
  }
});

page.run();
