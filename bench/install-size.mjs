#!/usr/bin/env node
// Production install size: serve-here's packed tarball beside the peers' published packages,
// each installed alone into a fresh temporary folder with `npm install --omit=dev` (see
// README.md). Needs the npm registry; skipped with a note when it cannot be reached.
//
//   node install-size.mjs          prints a markdown table (run.mjs also calls installSizes())
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stop, tempDirs, track } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PEER_SPECS = ['serve@14.2.7', 'http-server@14.1.1', 'sirv-cli@3.0.1', 'live-server@1.2.2'];

/** npm, tracked (ended with the script on Ctrl-C) and bounded in time; resolves to its stdout. */
async function npm(args, cwd, timeoutMs = 300_000) {
  const child = track(spawn('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_UPDATE_NOTIFIER: '1' } }));
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => stop(child, 1000), timeoutMs);
  const [code, signal] = await once(child, 'close').catch((error) => [null, error.message]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`npm ${args[0]} failed (${code ?? signal}): ${err.trim().slice(-300)}`);
  return out;
}

/** Files (apparent bytes, allocated bytes, count) and packages under a node_modules folder. */
export function measure(nodeModules) {
  const out = { bytes: 0, diskBytes: 0, files: 0, packages: 0 };
  const walk = (dir, parentIsModules) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      const st = lstatSync(p);
      out.diskBytes += st.blocks * 512;
      if (entry.isDirectory()) {
        const isScope = parentIsModules && entry.name.startsWith('@');
        if (parentIsModules && !isScope && entry.name !== '.bin') {
          try {
            if (lstatSync(join(p, 'package.json')).isFile()) out.packages++;
          } catch {}
        }
        walk(p, entry.name === 'node_modules' || isScope);
      } else {
        out.bytes += st.size;
        out.files++;
      }
    }
  };
  walk(nodeModules, true);
  return out;
}

/** Rows for serve-here's tarball and each peer; { skipped } when the registry is unreachable. */
export async function installSizes({ log = () => {} } = {}) {
  try {
    await npm(['ping'], ROOT, 20_000);
  } catch (error) {
    return { skipped: `npm registry unreachable (${error.message.split('\n')[0]})`, rows: [] };
  }
  const tmp = mkdtempSync(join(os.tmpdir(), 'serve-here-bench-install-'));
  tempDirs.add(tmp);
  const rows = [];
  try {
    // `npm pack` runs `prepare` (tsc), so the tarball holds a fresh build.
    const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', tmp], ROOT));
    const tarball = join(tmp, packed[0].filename);
    const specs = [{ name: `serve-here (packed, ${packed[0].version})`, spec: tarball, tarballBytes: packed[0].size }, ...PEER_SPECS.map((spec) => ({ name: spec, spec }))];
    for (const [i, s] of specs.entries()) {
      const prefix = join(tmp, `p${i}`);
      const t0 = Date.now();
      try {
        await npm(['install', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--prefix', prefix, s.spec], tmp);
        rows.push({ name: s.name, ...measure(join(prefix, 'node_modules')), ...(s.tarballBytes ? { tarballBytes: s.tarballBytes } : {}) });
        log(`install size: ${s.name} ${(rows.at(-1).bytes / 2 ** 20).toFixed(1)} MiB, ${rows.at(-1).packages} packages (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      } catch (error) {
        rows.push({ name: s.name, error: error.message });
        log(`install size: ${s.name}: ${error.message}`);
      }
    }
  } catch (error) {
    return { skipped: error.message, rows };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    tempDirs.delete(tmp);
  }
  return { rows };
}

const mib = (n) => (n / 2 ** 20).toFixed(1);

export function installSizeTable({ skipped, rows }) {
  if (skipped && rows.length === 0) return `Install size: skipped (${skipped}).\n`;
  const ours = rows[0]?.error ? undefined : rows[0];
  const lines = ['| production install (`npm install --omit=dev`) | MiB (file bytes) | MiB on disk | packages | files | serve-here ÷ it (bytes) |', '|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    if (r.error) lines.push(`| ${r.name} | failed: ${r.error.replaceAll('|', '/').slice(0, 120)} | | | | |`);
    else lines.push(`| ${r.name} | ${mib(r.bytes)} | ${mib(r.diskBytes)} | ${r.packages} | ${r.files.toLocaleString('en-US')} | ${ours && r !== ours ? `${(ours.bytes / r.bytes).toFixed(2)}×` : ''} |`);
  }
  return `${lines.join('\n')}\n${skipped ? `\nInstall size incomplete: ${skipped}\n` : ''}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await installSizes({ log: (m) => console.error(m) });
  console.log(installSizeTable(result));
}
