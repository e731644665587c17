// Uploads lose nothing and stop nothing: every byte of every write is accounted for, a refused
// upload never stops the server (real CLI), a small real file system (tmpfs, needs root) is never
// filled by uploads, and partial uploads from an earlier run go at the next start.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rmdir, statfs, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTree, rawRequest, removeTree, request, spawnCli, type CliProcess } from './helpers/server.js';
import { parseRaw, waitUntil } from './helpers/http.js';
import { writeAll } from '../src/share/upload-store.js';

async function serve(dir: string, args: string[]): Promise<{ cli: CliProcess; port: number }> {
  const cli = spawnCli([dir, '--port', '0', '--upload', ...args]);
  const m = await cli.waitFor(/http:\/\/127\.0\.0\.1:(\d+)\//);
  return { cli, port: Number(m[1]) };
}

/** A chunked PUT of `chunks` × `size` bytes, as raw bytes (no Content-Length known in advance). */
function chunkedPut(path: string, chunks: number, size: number): Buffer {
  const head = Buffer.from(`PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
  const chunk = Buffer.alloc(size, 7);
  const frame = Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  return Buffer.concat([head, ...Array.from({ length: chunks }, () => frame), Buffer.from('0\r\n\r\n')]);
}

/**
 * A chunked PUT sent frame by frame, as curl does, to the end even when the answer comes early:
 * the server must read and drop the rest, so the client gets the answer, never a reset.
 */
async function chunkedPutFramed(port: number, path: string, total: number, frame = 256 * 1024): Promise<ReturnType<typeof parseRaw>> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let out = '';
  let error = '';
  socket.on('data', (c: Buffer) => (out += c.toString('latin1')));
  socket.on('error', (e) => (error = e.message));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write(`PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
  for (let sent = 0; sent < total && !socket.destroyed; ) {
    const n = Math.min(frame, total - sent);
    const ok = socket.write(Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), Buffer.alloc(n, 5), Buffer.from('\r\n')]));
    sent += n;
    if (!ok) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
  }
  if (!socket.destroyed) socket.write('0\r\n\r\n');
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 8000))]);
  socket.destroy();
  assert.is(error, '', `the client got ${JSON.stringify(error)} (answer so far: ${JSON.stringify(out.slice(0, 40))})`);
  return parseRaw(out);
}

const store = suite('writeAll()');

store('writeAll() writes again after a short write until every byte is out', async () => {
  const written: Buffer[] = [];
  // A disk nearly full: each write takes at most 1000 bytes.
  const fh = {
    writev: async (chunks: Buffer[]) => {
      const all = Buffer.concat(chunks);
      const n = Math.min(1000, all.length);
      written.push(all.subarray(0, n));
      return { bytesWritten: n, buffers: chunks };
    },
  };
  const chunks = [randomBytes(700), randomBytes(2500), randomBytes(1)];
  await writeAll(fh as never, chunks, 3201);
  assert.ok(Buffer.concat(written).equals(Buffer.concat(chunks)));
  const stuck = { writev: async (chunks: Buffer[]) => ({ bytesWritten: 0, buffers: chunks }) };
  try {
    await writeAll(stuck as never, [Buffer.alloc(10)], 10);
    assert.unreachable('a write without progress must fail');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'ENOSPC');
  }
});

store.run();

const sweep = suite('partial uploads left by an earlier run');

sweep('a server killed mid-upload leaves a temp file; the next start with --upload removes it, and only it', async () => {
  const dir = await makeTree({ 'keep.txt': 'k', 'sub/.notes.upload-abc': 'a user file of a similar name' });
  const first = await serve(dir, []);
  // A chunked upload that never ends, then the server killed outright (as a second Ctrl-C would).
  const socket = net.connect(first.port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(`PUT /sub/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n${(2 * 1024 * 1024).toString(16)}\r\n`);
  socket.write(Buffer.alloc(2 * 1024 * 1024, 1));
  const temp = await waitUntil(async () => (await readdir(join(dir, 'sub'))).find((n) => n.startsWith('.big.bin.upload-')), 5000, 'the temp file');
  await first.cli.stop('SIGKILL');
  socket.destroy();
  assert.ok((await readdir(join(dir, 'sub'))).includes(temp), 'left behind');
  // Another serve-here's upload in progress (a live pid) and a link of the same shape are kept.
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
  await writeFile(join(dir, `.a.upload-${deadPid}-0123456789ab`), 'dead');
  const live = `.b.upload-${process.pid}-0123456789ab`;
  await writeFile(join(dir, live), 'in progress elsewhere');
  await mkdir(join(dir, 'deep', 'er'), { recursive: true });
  await writeFile(join(dir, 'deep', 'er', `.c.upload-${deadPid}-abcdefabcdef`), 'dead');
  const link = `.d.upload-${deadPid}-abcdefabcdef`;
  await symlink(join(dir, 'keep.txt'), join(dir, link));
  const second = await serve(dir, []);
  try {
    await second.cli.waitFor(/Removed 3 partial uploads left by an earlier run/);
    assert.equal((await readdir(join(dir, 'sub'))).sort(), ['.notes.upload-abc']);
    assert.equal((await readdir(dir)).sort(), [link, live, 'deep', 'keep.txt', 'sub'].sort());
    assert.equal(await readdir(join(dir, 'deep', 'er')), []);
  } finally {
    await second.cli.stop();
    await removeTree(dir);
  }
});

sweep.run();

const refused = suite('a refused chunked upload on the CLI');

refused('413 past --max-upload: the status goes out and the server keeps serving', async () => {
  const dir = await makeTree({ 'hello.txt': 'hi' });
  const { cli, port } = await serve(dir, ['--max-upload', '1000']);
  try {
    for (let i = 0; i < 3; i++) {
      const out = parseRaw(await rawRequest(port, chunkedPut(`/big${i}.bin`, 4, 4096)));
      assert.is(out.status, 413);
      const after = await request(port, '/hello.txt');
      assert.is(after.status, 200, cli.stderr());
    }
    assert.is(cli.child.exitCode, null, cli.stderr());
    assert.not.match(cli.stderr(), /TypeError/);
    assert.equal((await readdir(dir)).sort(), ['hello.txt']);
  } finally {
    await cli.stop();
    await removeTree(dir);
  }
});

refused.run();

// ---------------------------------------------------------------------------------------------
// A real small file system: a 4 MiB tmpfs (needs root and permission to mount; skipped otherwise).
const full = suite('uploads on a small real disk (CLI)');
let small = '';
let mounted = false;
full.before(async () => {
  small = await mkdtemp(join(tmpdir(), 'serve-here-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small], { stdio: 'ignore' });
    mounted = true;
    small = realpathSync(small);
  } catch {
    console.log('  (skipped: cannot mount a tmpfs here; run as root to test a real full disk)');
  }
});
full.after(async () => {
  if (mounted) execFileSync('umount', [small]);
  await rmdir(small).catch(() => undefined);
});

full('507 past the free space on a chunked upload: no partial file, the server keeps serving', async () => {
  if (!mounted) return;
  await writeFile(join(small, 'hello.txt'), 'hi');
  const { cli, port } = await serve(small, ['--max-upload', '100m']);
  try {
    const out = parseRaw(await rawRequest(port, chunkedPut('/fill.bin', 40, 256 * 1024), 5000));
    assert.is(out.status, 507, out.body);
    await waitUntil(async () => ((await readdir(small)).length === 1 ? true : undefined), 3000, 'partial file removed');
    assert.is((await request(port, '/hello.txt')).status, 200, cli.stderr());
    assert.is(cli.child.exitCode, null, cli.stderr());
    assert.not.match(cli.stderr(), /TypeError/);
  } finally {
    await cli.stop();
    for (const name of await readdir(small)) await removeTree(join(small, name));
  }
});

/** A PUT with a Content-Length, via node:http. */
function put(port: number, path: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'PUT', agent: false, headers: { 'Content-Length': body.length } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    // A refusal mid-body closes the connection: the answer already came, or this is a failure.
    req.on('error', (e) => reject(e));
    req.end(body);
  });
}

/** Free bytes beyond the reserve on the tmpfs, as the server computes them. */
async function beyondReserve(): Promise<number> {
  const fs = await statfs(small);
  return Math.floor(fs.bavail * fs.bsize - Math.min(64 * 1024 * 1024, (fs.blocks * fs.bsize) / 100));
}

full('a chunked upload that would eat into the free-space reserve is refused with 507 and leaves nothing', async () => {
  if (!mounted) return;
  const { cli, port } = await serve(small, ['--max-upload', '100m']);
  try {
    // Fits in the free space, but not beyond the reserve.
    const size = (await beyondReserve()) + 16 * 1024;
    const out = await chunkedPutFramed(port, '/almost.bin', size);
    assert.is(out.status, 507, out.body);
    await waitUntil(async () => ((await readdir(small)).length === 0 ? true : undefined), 3000, 'partial file removed');
    const fits = (await beyondReserve()) - 64 * 1024;
    const ok = await chunkedPutFramed(port, '/fits.bin', fits);
    assert.is(ok.status, 201, ok.body);
    assert.ok((await statfs(small)).bavail > 0);
  } finally {
    await cli.stop();
    for (const name of await readdir(small)) await removeTree(join(small, name));
  }
});

full('two uploads that together overfill the disk: each stored file is exactly what was sent, the disk never full', async () => {
  if (!mounted) return;
  const { cli, port } = await serve(small, ['--max-upload', '100m']);
  try {
    for (let run = 0; run < 2; run++) {
      const each = Math.floor(((await beyondReserve()) * 3) / 4);
      const bodies = [randomBytes(each), randomBytes(each)];
      const replies = await Promise.all(bodies.map((b, i) => put(port, `/part${run}-${i}.bin`, b).catch(() => ({ status: 0, text: '' }))));
      const stored = replies.filter((r) => r.status === 201).length;
      assert.ok(stored <= 1, `both answered 201: ${JSON.stringify(replies.map((r) => r.status))}`);
      for (const [i, r] of replies.entries()) {
        if (r.status !== 201) continue;
        const data = await readFile(join(small, `part${run}-${i}.bin`));
        assert.is(data.length, each, 'stored whole');
        assert.ok(data.equals(bodies[i] as Buffer), 'byte for byte');
      }
      await waitUntil(async () => ((await readdir(small)).every((n) => !n.includes('.upload-')) ? true : undefined), 3000, 'no temp file');
      assert.ok((await statfs(small)).bavail > 0, 'the disk is not full');
      for (const name of await readdir(small)) await removeTree(join(small, name));
    }
  } finally {
    await cli.stop();
    for (const name of await readdir(small)) await removeTree(join(small, name));
  }
});

full.run();

