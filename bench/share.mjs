#!/usr/bin/env node
// Sharing benchmark (see README.md, "Sharing: share.mjs"). Never part of `npm test`.
//
//   node share.mjs               1 GiB upload (curl -T) vs nginx dav_methods PUT, then a zip
//                                download of a 1 GiB folder (8 × 128 MiB); 3 rounds each
//   node share.mjs --size-mib 256 --rounds 1    a quicker smoke run
//
// serve-here's upload and zip code is measured through a small harness (this file run with
// --harness): a node:http server calling receiveUpload/sendZip from the built dist/src/share/,
// so the figures are those of the share modules, before they are wired into the CLI.
// Needs `npx tsc -p ..` first, curl, and nginx with the DAV module (`nginx -V`); without nginx
// the peer is a plain `cp` of the file. Only 127.0.0.1; everything it creates is deleted.
import { spawn, execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, median, rssKiB } from './lib.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const DIST = join(BENCH, '..', 'dist', 'src', 'share');

const { values: opt } = parseArgs({
  options: {
    harness: { type: 'string' },
    'size-mib': { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
  },
});

if (opt.harness !== undefined) await runHarness(opt.harness);
else await main();

// ---------------------------------------------------------------------------------------------
// The harness: what the lead's pipeline will call, minus gate and route.

async function runHarness(root) {
  const { receiveUpload } = await import(join(DIST, 'upload.js'));
  const { sendZip } = await import(join(DIST, 'zip.js'));
  const handler = (req, res) => {
    const url = new URL(req.url, 'http://x');
    const segments = decodeURIComponent(url.pathname).split('/').filter(Boolean);
    const common = { root, dotfiles: false, isProtected: () => false };
    if (req.method === 'PUT') {
      void receiveUpload(req, res, { ...common, segments, maxBytes: 4 * 1024 ** 3, selfHost: req.headers.host ?? '' });
    } else {
      void sendZip(req, res, { ...common, dir: join(root, ...segments), name: segments.at(-1) ?? 'root' });
    }
  };
  const server = http.createServer(handler);
  server.on('checkContinue', handler);
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const sizeMiB = Number(opt['size-mib']);
  const rounds = Number(opt.rounds);
  const base = mkdtempSync(join(os.tmpdir(), 'serve-here-share-bench-'));
  const fs = statfsSync(base);
  const needed = 4 * sizeMiB * 1024 * 1024;
  if (fs.bavail * fs.bsize < needed) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`Need ${needed >> 20} MiB free in ${os.tmpdir()}, have ${(fs.bavail * fs.bsize) >> 20} MiB`);
  }
  const children = [];
  try {
    console.log(`Fixture: ${sizeMiB} MiB file and a folder of 8 × ${sizeMiB / 8} MiB in ${base}`);
    const source = join(base, 'source.bin');
    writeRandom(source, sizeMiB);
    const folder = join(base, 'serve-root', 'folder');
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < 8; i++) writeRandom(join(folder, `part-${i}.bin`), sizeMiB / 8);
    mkdirSync(join(base, 'serve-root', 'uploads'));

    const harness = await startHarness(join(base, 'serve-root'), children);
    const nginx = hasDavNginx() ? await startNginx(base, children) : null;
    const peer = nginx ? 'nginx dav_methods PUT' : 'cp';

    // Warm-up: one small upload and one small zip each, so the rounds measure steady state and not
    // the first call's code loading and compilation (a few MiB, paid once per process).
    writeRandom(join(base, 'warm.bin'), 1);
    mkdirSync(join(base, 'serve-root', 'warm'));
    writeRandom(join(base, 'serve-root', 'warm', 'w.bin'), 1);
    await curlUpload(harness, '/uploads/warm.bin', join(base, 'warm.bin'));
    await curlZip(harness, '/warm?zip');
    if (nginx) await curlUpload(nginx, '/warm.bin', join(base, 'warm.bin'));

    const up = { serveHere: [], peer: [], rss: [] };
    for (let r = 0; r < rounds; r++) {
      // Interleaved, so a noisy moment hits both.
      const s = await curlUpload(harness, `/uploads/round-${r}.bin`, source);
      up.serveHere.push(s.mbps);
      up.rss.push(s.rssGrowthMiB);
      rmSync(join(base, 'serve-root', 'uploads', `round-${r}.bin`));
      if (nginx) {
        const n = await curlUpload(nginx, `/round-${r}.bin`, source);
        up.peer.push(n.mbps);
        rmSync(join(base, 'nginx-root', `round-${r}.bin`));
      } else {
        const t0 = performance.now();
        execFileSync('cp', [source, join(base, 'copy.bin')]);
        execFileSync('sync', ['-f', join(base, 'copy.bin')]);
        up.peer.push(sizeMiB * 1.048576 / ((performance.now() - t0) / 1000));
        rmSync(join(base, 'copy.bin'));
      }
      console.log(`  upload round ${r + 1}: serve-here ${up.serveHere[r].toFixed(0)} MB/s (RSS +${up.rss[r].toFixed(1)} MiB), ${peer} ${up.peer[r].toFixed(0)} MB/s`);
    }

    const zip = { mbps: [], rss: [], bytes: 0 };
    for (let r = 0; r < rounds; r++) {
      const z = await curlZip(harness, '/folder?zip');
      zip.mbps.push(z.mbps);
      zip.rss.push(z.rssGrowthMiB);
      zip.bytes = z.bytes;
      console.log(`  zip round ${r + 1}: ${z.mbps.toFixed(0)} MB/s, ${z.bytes} bytes, RSS +${z.rssGrowthMiB.toFixed(1)} MiB`);
    }

    const result = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      sizeMiB,
      rounds,
      peer,
      upload: {
        serveHereMBps: median(up.serveHere),
        peerMBps: median(up.peer),
        ratio: median(up.serveHere) / median(up.peer),
        rssGrowthMiBMax: Math.max(...up.rss),
      },
      zip: { MBps: median(zip.mbps), bytes: zip.bytes, rssGrowthMiBMax: Math.max(...zip.rss) },
    };
    console.log(`\nUpload ${sizeMiB} MiB (median of ${rounds}): serve-here ${result.upload.serveHereMBps.toFixed(0)} MB/s, ${peer} ${result.upload.peerMBps.toFixed(0)} MB/s, ratio ${result.upload.ratio.toFixed(2)} (goal ≥ 0.8); RSS growth max ${result.upload.rssGrowthMiBMax.toFixed(1)} MiB (goal < 32)`);
    console.log(`Zip of ${sizeMiB} MiB folder (median of ${rounds}): ${result.zip.MBps.toFixed(0)} MB/s; RSS growth max ${result.zip.rssGrowthMiBMax.toFixed(1)} MiB (goal < 32)`);
    mkdirSync(join(BENCH, 'results'), { recursive: true });
    writeFileSync(join(BENCH, 'results', 'share-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    rmSync(base, { recursive: true, force: true });
  }
}

/** Random bytes in 16 MiB writes (the page cache holds them; both servers read the same source). */
function writeRandom(path, mib) {
  const fd = openSync(path, 'w');
  const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
  try {
    for (let left = mib * 1024 * 1024; left > 0; left -= buf.length) writeSync(fd, randomFillSync(buf), 0, Math.min(buf.length, left));
  } finally {
    closeSync(fd);
  }
}

async function startHarness(root, children) {
  const child = spawn('taskset', ['-c', '0', process.execPath, '--max-semi-space-size=1', fileURLToPath(import.meta.url), '--harness', root], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.on('exit', () => reject(new Error('harness exited')));
    setTimeout(() => reject(new Error('harness did not start')), 10_000).unref();
  });
  return { name: 'serve-here', port, pid: child.pid };
}

function hasDavNginx() {
  try {
    return execFileSync('nginx', ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).includes('http_dav_module') ||
      execFileSync('sh', ['-c', 'nginx -V 2>&1'], { encoding: 'utf8' }).includes('http_dav_module');
  } catch {
    return false;
  }
}

async function startNginx(base, children) {
  const port = await freePort();
  const root = join(base, 'nginx-root');
  mkdirSync(join(root, '.tmp'), { recursive: true });
  // One worker, like the single Node process; the body temp path is in the same file system so
  // the final step is a rename, as nginx's DAV module does it. nginx does not fsync; serve-here does.
  const conf = `worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
pid ${base}/nginx.pid;
error_log ${base}/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${root}/.tmp;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { dav_methods PUT; create_full_put_path on; }
  }
}
`;
  writeFileSync(join(base, 'nginx.conf'), conf);
  const child = spawn('taskset', ['-c', '0', 'nginx', '-p', base, '-c', join(base, 'nginx.conf')], { stdio: 'ignore' });
  children.push(child);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.resume();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error('nginx did not start');
    await sleep(20);
  }
  return { name: 'nginx', port, pid: child.pid };
}

/** Sample the server tree's RSS every 20 ms while `work` runs; growth = peak − value before. */
async function withRss(pid, work) {
  const before = rssKiB(pid);
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssKiB(pid));
  }, 20);
  try {
    const value = await work();
    peak = Math.max(peak, rssKiB(pid));
    return { value, rssGrowthMiB: (peak - before) / 1024 };
  } finally {
    clearInterval(timer);
  }
}

function curl(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', '1', 'curl', '-sS', '--max-time', '300', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl exited ${code}`))));
  });
}

async function curlUpload(server, path, file) {
  const { value, rssGrowthMiB } = await withRss(server.pid, () =>
    curl(['-T', file, '-o', '/dev/null', '-w', '%{http_code} %{size_upload} %{time_total}', `http://127.0.0.1:${server.port}${path}`]));
  const [code, bytes, secs] = value.trim().split(' ');
  if (code !== '201' && code !== '204') throw new Error(`${server.name} answered ${code} to the upload`);
  return { mbps: Number(bytes) / 1e6 / Number(secs), rssGrowthMiB };
}

async function curlZip(server, path) {
  const { value, rssGrowthMiB } = await withRss(server.pid, () =>
    curl(['-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', `http://127.0.0.1:${server.port}${path}`]));
  const [code, bytes, secs] = value.trim().split(' ');
  if (code !== '200') throw new Error(`zip answered ${code}`);
  return { mbps: Number(bytes) / 1e6 / Number(secs), bytes: Number(bytes), rssGrowthMiB };
}


