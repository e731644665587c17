// Containment against a file swapped after its check, 403 for unreadable files, and bounded work
// per request: live compression capped in size and in concurrency, huge folders listed in bounded
// time and memory without holding up other requests.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, linkSync, openSync, realpathSync, writeSync } from 'node:fs';
import { chmod, rm, symlink, utimes } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { ServeResponse } from '../src/serve-response.js';
import { Resolver } from '../src/static/resolve.js';
import { FileSender, type SendOptions } from '../src/static/send.js';
import { BIN, makeTree, removeTree, request, startServer } from './helpers/server.js';
import { holdSocket, rawGet, waitUntil } from './helpers/http.js';
import { Exposure } from '../src/exposure/policy.js';
import { skip } from './helpers/skip.js';

const OUTSIDE = 'OUTSIDE THE ROOT';

/**
 * A server that resolves with a real Resolver, lets the test act between the resolve and the
 * send (`between`), then sends with a real FileSender; errors answer as the server would.
 */
async function harness(root: string, sendOpts: SendOptions, between?: (segments: string[]) => Promise<void>): Promise<{ port: number; sender: FileSender; close(): Promise<void> }> {
  const resolver = new Resolver(new Exposure({ root: root, dotfiles: false }));
  const sender = new FileSender(sendOpts);
  const server = http.createServer({ ServerResponse: ServeResponse }, (req: IncomingMessage, res: ServeResponse) => {
    void (async () => {
      const segments = (req.url ?? '/').split('/').filter((s) => s !== '');
      const found = await resolver.resolve(segments);
      if (found.kind !== 'file') return void res.writeHead(404).end('missing');
      await between?.(segments);
      await sender.send(req, res, found.path, found.stat);
    })().catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (res.headersSent) return void res.destroy();
      res.writeHead(code === 'ENOENT' ? 404 : code === 'EACCES' ? 403 : 500).end(String(code));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    sender,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

// --- a file swapped between its check and its open ------------------------------------------------

const swapped = suite('swapped after the check');
let base = '';
let root = '';

swapped.before(async () => {
  base = realpathSync(
    await makeTree({
      'root/small.txt': 'small inside',
      'root/big.bin': Buffer.alloc(300 * 1024, 'i'),
      'root/ranged.txt': 'ranged inside',
      'root/dir/f.txt': 'in dir',
      'outside/small.txt': OUTSIDE,
      'outside/big.bin': Buffer.alloc(300 * 1024, 'o'),
      'outside/ranged.txt': OUTSIDE,
      'outside/dir/f.txt': OUTSIDE,
    }),
  );
  root = join(base, 'root');
});
swapped.after(() => removeTree(base));

/** Replace root/<name> by a symlink to the same name outside the root. */
async function swapForLink(name: string): Promise<void> {
  await rm(join(root, name), { recursive: true });
  await symlink(join(base, 'outside', name), join(root, name));
}

swapped('send() answers 404, not the outside file, when a small file became a link out', async () => {
  const h = await harness(root, { compress: false }, () => swapForLink('small.txt'));
  try {
    const res = await request(h.port, '/small.txt');
    assert.is(res.status, 404);
    assert.not.ok(res.text.includes(OUTSIDE));
  } finally {
    await h.close();
  }
});

swapped('send() answers 404 when a streamed file or a range of one became a link out', async () => {
  const h = await harness(root, { compress: false }, async (segments) => swapForLink(segments[0] ?? ''));
  try {
    const big = await request(h.port, '/big.bin');
    assert.is(big.status, 404);
    assert.not.ok(big.body.includes(Buffer.from('ooo')));
    const ranged = await request(h.port, '/ranged.txt', { headers: { range: 'bytes=0-3' } });
    assert.is(ranged.status, 404);
  } finally {
    await h.close();
  }
});

swapped('send() answers 404 when a folder on the path became a link out (checked by inode)', async () => {
  const h = await harness(root, { compress: false }, () => swapForLink('dir'));
  try {
    const res = await request(h.port, '/dir/f.txt');
    assert.is(res.status, 404);
    assert.not.ok(res.text.includes(OUTSIDE));
  } finally {
    await h.close();
  }
});

swapped.run();

// --- bounded compression --------------------------------------------------------------------------

const compression = suite('bounded compression');
let cbase = '';
const TEXT = (n: number): string => {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${i.toString(36)} ${(i * 7919).toString(16)} lorem ipsum dolor ${i % 97}\n`;
  return s.slice(0, n);
};

compression.before(async () => {
  cbase = realpathSync(
    await makeTree({
      'small.js': TEXT(2048),
      'large.js': TEXT(20 * 1024),
      'pre.js': TEXT(20 * 1024),
      'pre.js.br': brotliCompressSync(Buffer.from('// from the sibling\n')),
    }),
  );
  const t = Date.now() / 1000;
  await utimes(join(cbase, 'pre.js'), t - 100, t - 100);
});
compression.after(() => removeTree(cbase));

compression('files above the live-compression size go identity, or from a fresh sibling', async () => {
  const h = await harness(cbase, { compress: true, maxCompressSize: 8 * 1024 });
  try {
    const gz = { headers: { 'accept-encoding': 'gzip, br' } };
    assert.is((await request(h.port, '/small.js', gz)).headers['content-encoding'], 'br');
    const large = await request(h.port, '/large.js', gz);
    assert.is(large.headers['content-encoding'], undefined);
    assert.is(large.body.length, 20 * 1024);
    const pre = await request(h.port, '/pre.js', gz);
    assert.is(pre.headers['content-encoding'], 'br');
    assert.is(pre.body.length, brotliCompressSync(Buffer.from('// from the sibling\n')).length);
  } finally {
    await h.close();
  }
});

compression('beyond the cap of concurrent live compressions, a request is answered identity', async () => {
  // 24 MiB of text: its compressed stream outgrows the socket buffers, so a client that does not
  // read keeps the compression in progress.
  const name = 'huge.js';
  const chunk = TEXT(1024 * 1024);
  const fd = openSync(join(cbase, name), 'w');
  for (let i = 0; i < 24; i++) writeSync(fd, chunk);
  closeSync(fd);
  const h = await harness(cbase, { compress: true, maxCompressSize: 64 * 1024 * 1024, maxCompressions: 1 });
  const held = await holdSocket(h.port, rawGet(`/${name}`, { Host: '127.0.0.1', 'Accept-Encoding': 'gzip' }));
  try {
    held.socket.pause();
    await waitUntil(() => (h.sender.compressing === 1 ? true : undefined), 5000, 'one live compression');
    const second = await request(h.port, '/small.js', { headers: { 'accept-encoding': 'gzip' } });
    assert.is(second.status, 200);
    assert.is(second.headers['content-encoding'], undefined, 'identity while the cap is reached');
    held.socket.destroy();
    await waitUntil(() => (h.sender.compressing === 0 ? true : undefined), 5000, 'the aborted compression released');
    assert.is((await request(h.port, '/small.js', { headers: { 'accept-encoding': 'gzip' } })).headers['content-encoding'], 'gzip');
  } finally {
    held.socket.destroy();
    await h.close();
  }
});

compression.run();

// --- a huge folder --------------------------------------------------------------------------------

const huge = suite('a 100,000-file folder');
let hbase = '';

huge.before(async () => {
  hbase = realpathSync(await makeTree({ 'ping.txt': 'pong', 'big/': '' }));
  const dir = join(hbase, 'big');
  // Hard links to empty files: one system call per name, about twice as fast as creating files
  // (a new target every 10,000 names: ext4 allows 65,000 links to one inode).
  let blank = '';
  for (let i = 0; i < 100_000; i++) {
    if (i % 10_000 === 0) {
      blank = join(hbase, `blank${i}`);
      closeSync(openSync(blank, 'w'));
    }
    linkSync(blank, join(dir, `f${String(i).padStart(6, '0')}.txt`));
  }
});
huge.after(() => removeTree(hbase));

huge('a listing of 100,000 files is capped with a note, and other requests are answered meanwhile', async () => {
  const srv = await startServer({ root: hbase });
  try {
    const started = Date.now();
    const listing = request(srv.port, '/big/');
    const json = request(srv.port, '/big/', { headers: { accept: 'application/json' } });
    // While the folder is being read, a small file is answered promptly.
    let worst = 0;
    let done = false;
    void listing.finally(() => {
      done = true;
    });
    while (!done) {
      const t = Date.now();
      const ping = await request(srv.port, '/ping.txt');
      assert.is(ping.text, 'pong');
      worst = Math.max(worst, Date.now() - t);
      if (Date.now() - started > 15_000) break;
    }
    const page = await listing;
    assert.is(page.status, 200);
    assert.ok(page.text.includes('This folder holds 100,000 entries; the first 5,000'), 'the note on the page');
    assert.ok(page.text.includes('f000000.txt') && page.text.includes('f004999.txt'));
    assert.not.ok(page.text.includes('f005000.txt'), 'capped');
    const data = JSON.parse((await json).text) as { total: number; truncated: boolean; entries: unknown[] };
    assert.equal([data.total, data.truncated, data.entries.length], [100_000, true, 5000]);
    assert.ok(worst < 1000, `a small file took ${worst} ms during the listing`);
    console.log(`  (100,000-file listing: ${Date.now() - started} ms; a small file meanwhile took at most ${worst} ms)`);
  } finally {
    await srv.close();
  }
});

huge.run();

// --- unreadable files -------------------------------------------------------------------------------

const forbidden = suite('unreadable files');
let fbase = '';
let child: ChildProcess | undefined;

forbidden.before(async () => {
  fbase = realpathSync(await makeTree({ 'pub/locked.txt': 'locked', 'pub/cached.txt': 'cached', 'pub/open.txt': 'open', 'pub/locked-dir/x.txt': 'x' }));
  const t = Date.now() / 1000 - 100;
  await utimes(join(fbase, 'pub', 'cached.txt'), t, t); // old enough for the body cache
  await chmod(fbase, 0o755);
});
forbidden.after(async () => {
  child?.kill('SIGKILL');
  await removeTree(fbase);
});

/**
 * Root reads a chmod 000 file anyway, so as root the server runs as "nobody" (a real child
 * process with that uid); as any other user it runs as that user.
 */
async function startAsUnprivileged(dir: string): Promise<number> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) console.log('  (running as root: the server under test runs as nobody, uid 65534, so chmod 000 bites)');
  child = spawn(process.execPath, [BIN, dir, '--port', '0'], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return waitUntil(() => {
    const m = /http:\/\/(127\.0\.0\.1|localhost):(\d+)\//.exec(out);
    return m === null ? undefined : Number(m[2]);
  }, 10_000, `the server's URL (output so far: ${out})`);
}

/** As root, can "nobody" run this node and read the built CLI? (Not when either sits under /root, as npx's node@24 does.) */
function nobodyCanRun(): boolean {
  if (process.getuid?.() !== 0) return true;
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(BIN)}, 4)`, fbase], { uid: 65534, gid: 65534, stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

forbidden('a file or folder the server cannot read is 403, also after its body was cached', async () => {
  if (!nobodyCanRun()) {
    skip('machine', `as root the server must run as nobody, who cannot run ${process.execPath} or read the CLI here`);
    return;
  }
  const pub = join(fbase, 'pub');
  const port = await startAsUnprivileged(pub);
  assert.is((await request(port, '/cached.txt')).text, 'cached');
  assert.is((await request(port, '/cached.txt')).text, 'cached'); // now from memory
  await chmod(join(pub, 'locked.txt'), 0o000);
  await chmod(join(pub, 'cached.txt'), 0o000);
  await chmod(join(pub, 'locked-dir'), 0o000);
  const locked = await request(port, '/locked.txt');
  assert.is(locked.status, 403);
  assert.not.ok(locked.text.includes('locked\n'));
  const cached = await request(port, '/cached.txt');
  assert.is(cached.status, 403, 'the cached body is not served once the file is unreadable');
  assert.not.ok(cached.text === 'cached');
  assert.is((await request(port, '/locked-dir/')).status, 403);
  assert.is((await request(port, '/open.txt')).text, 'open');
  await chmod(join(pub, 'locked-dir'), 0o755); // so the tree can be removed by anyone
});

forbidden.run();
