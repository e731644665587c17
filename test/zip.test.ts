// Tests for src/share/zip.ts: a real node:http server calling sendZip, real temp trees, and the
// archive checked by real unzip tools (python3's zipfile and Info-ZIP's `unzip -t`).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentDisposition, sendZip, type ZipOptions } from '../src/share/zip.js';
import { waitUntil } from './helpers/http.js';
import { Exposure } from '../src/exposure/policy.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Harness {
  port: number;
  opts: Partial<ZipOptions>;
  close(): Promise<void>;
}

/** GET/HEAD /<sub>?zip → sendZip of root/<sub>. */
async function startZips(root: string): Promise<Harness> {
  const harness: Harness = { port: 0, opts: {}, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const segs = path.split('/').filter((s) => s !== '');
    void sendZip(req, res, {
      dir: segs.length === 0 ? root : join(root, ...segs),
      name: segs[segs.length - 1] ?? 'shared',
      // app.ts stands for any protected file.
      exposure: new Exposure({ root, dotfiles: false, tlsFiles: [join(root, 'app.ts')] }),
      ...harness.opts,
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  harness.port = (server.address() as net.AddressInfo).port;
  harness.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return harness;
}

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Entry name → sha256 of its bytes ("dir" for folders), read by python3's zipfile. */
function readZip(file: string): Record<string, string> {
  const script = `import zipfile,sys,json,hashlib
z=zipfile.ZipFile(sys.argv[1])
print(json.dumps({i.filename:('dir' if i.is_dir() else hashlib.sha256(z.read(i)).hexdigest()) for i in z.infolist()}))`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as Record<string, string>;
}

const fdCount = (): number => readdirSync('/proc/self/fd').length;
const readBytes = (): number => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);

// ---------------------------------------------------------------------------------------------
const content = suite('sendZip() content');
let root = '';
let outside = '';
let h: Harness;
const BIN = randomBytes(700_000);

content.before(async () => {
  root = realpathSync(await mkdtemp(join(tmpdir(), 'serve-here-zip-')));
  outside = realpathSync(await mkdtemp(join(tmpdir(), 'serve-here-zip-out-')));
  await writeFile(join(outside, 'secret.txt'), 'outside');
  await mkdir(join(root, 'photos', 'empty'), { recursive: true });
  await mkdir(join(root, '.git'));
  await writeFile(join(root, '.git', 'config'), 'git');
  await writeFile(join(root, '.env'), 'SECRET=1');
  await writeFile(join(root, 'app.ts'), 'export default 1');
  await writeFile(join(root, 'readme.txt'), 'hello');
  await writeFile(join(root, 'photos', 'été 🌞.jpg'), BIN);
  await symlink(outside, join(root, 'escape'));
  await symlink(join(outside, 'secret.txt'), join(root, 'secret-link.txt'));
  await symlink(join(root, 'readme.txt'), join(root, 'inside-link.txt'));
  await symlink(root, join(root, 'photos', 'loop'));
  await symlink(join(root, '.git'), join(root, 'gitlink'));
  execFileSync('mkfifo', [join(root, 'pipe')]);
  h = await startZips(root);
});
content.after(async () => {
  await h.close();
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

content('sendZip() archive unzips with real tools to the same bytes; hidden, protected, escaping and special entries left out', async () => {
  const r = await get(h.port, '/?zip');
  assert.is(r.status, 200);
  assert.is(r.headers['content-type'], 'application/zip');
  const file = join(outside, 'got.zip');
  await writeFile(file, r.body);
  execFileSync('unzip', ['-tq', file]); // throws on a CRC or structure error
  assert.equal(readZip(file), {
    'shared/': 'dir',
    'shared/inside-link.txt': sha(Buffer.from('hello')),
    'shared/photos/': 'dir',
    'shared/photos/empty/': 'dir',
    'shared/photos/été 🌞.jpg': sha(BIN),
    'shared/readme.txt': sha(Buffer.from('hello')),
  });
});

content('sendZip() of a subfolder, with dotfiles allowed: .env in, .git still out', async () => {
  h.opts = { exposure: new Exposure({ root, dotfiles: true, tlsFiles: [join(root, 'app.ts')] }) };
  try {
    const r = await get(h.port, '/?zip');
    const file = join(outside, 'dot.zip');
    await writeFile(file, r.body);
    const names = Object.keys(readZip(file));
    assert.ok(names.includes('shared/.env'));
    assert.not.ok(names.some((n) => n.includes('.git') || n.startsWith('shared/gitlink')), names.join());
  } finally {
    h.opts = {};
  }
  const sub = await get(h.port, '/photos?zip');
  await writeFile(join(outside, 'sub.zip'), sub.body);
  assert.equal(Object.keys(readZip(join(outside, 'sub.zip'))).sort(), ['photos/', 'photos/empty/', 'photos/été 🌞.jpg']);
});

content('sendZip() answers HEAD with headers only and an RFC 6266 file name', async () => {
  const r = await get(h.port, '/photos?zip', 'HEAD');
  assert.is(r.status, 200);
  assert.is(r.body.length, 0);
  assert.is(r.headers['content-disposition'], `attachment; filename="photos.zip"; filename*=UTF-8''photos.zip`);
});

content('contentDisposition() gives an ASCII fallback and a UTF-8 filename*', () => {
  assert.is(contentDisposition('été "x".zip'), `attachment; filename="_t_ _x_.zip"; filename*=UTF-8''%C3%A9t%C3%A9%20%22x%22.zip`);
  assert.is(contentDisposition("it's (1).zip"), `attachment; filename="it's (1).zip"; filename*=UTF-8''it%27s%20%281%29.zip`);
});

content.run();

// ---------------------------------------------------------------------------------------------
const abort = suite('sendZip() when the client goes away');
let big = '';
let b: Harness;
const FILES = 24;
const FILE_BYTES = 4 * 1024 * 1024;

abort.before(async () => {
  big = realpathSync(await mkdtemp(join(tmpdir(), 'serve-here-zip-big-')));
  const data = randomBytes(FILE_BYTES);
  for (let i = 0; i < FILES; i++) await writeFile(join(big, `file-${i}.bin`), data);
  b = await startZips(big);
});
abort.after(async () => {
  await b.close();
  await rm(big, { recursive: true, force: true });
});

abort('sendZip() stops reading and closes every file when the download is aborted', async () => {
  const fdsBefore = fdCount();
  const readBefore = readBytes();
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: b.port, path: '/?zip' }, (res) => {
      let got = 0;
      res.on('data', (c: Buffer) => {
        got += c.length;
        if (got > 6 * 1024 * 1024) {
          req.destroy(); // mid-way through the second file
          resolve();
        }
      });
    });
    req.on('error', () => undefined);
    req.on('close', () => resolve());
    setTimeout(() => reject(new Error('no data')), 10_000).unref();
  });
  await waitUntil(() => (fdCount() <= fdsBefore ? true : undefined), 5000, 'file descriptors closed');
  const settled = readBytes();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const later = readBytes();
  assert.ok(later - settled < 64 * 1024, `still reading after the abort: ${later - settled} bytes`);
  // Much less than the folder's 96 MiB was read (socket buffers allow some read-ahead).
  assert.ok(settled - readBefore < 40 * 1024 * 1024, `read ${settled - readBefore} bytes`);
});

abort.run();
