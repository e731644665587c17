// Uploads through the real CLI: a refused upload never stops the server, a small real file system
// (tmpfs, needs root) is never filled by uploads, and partial uploads from an earlier run go.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdtemp, readdir, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTree, rawRequest, removeTree, request, spawnCli, type CliProcess } from './helpers/server.js';
import { parseRaw, waitUntil } from './helpers/http.js';

async function serve(dir: string, args: string[]): Promise<{ cli: CliProcess; port: number }> {
  const cli = spawnCli([dir, '--port', '0', '--upload', ...args]);
  const m = await cli.waitFor(/http:\/\/127\.0\.0\.1:(\d+)\//);
  return { cli, port: Number(m[1]) };
}

/** A chunked PUT of `chunks` × `size` bytes, as raw bytes (no Content-Length known in advance). */
function chunkedPut(path: string, chunks: number, size: number): Buffer {
  const head = Buffer.from(`PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const chunk = Buffer.alloc(size, 7);
  const frame = Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  return Buffer.concat([head, ...Array.from({ length: chunks }, () => frame), Buffer.from('0\r\n\r\n')]);
}

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

full.run();

