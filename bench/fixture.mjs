// The fixture run.mjs serves (built fresh in a temporary folder) and the correctness check
// every server passes before it is timed.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { get } from './lib.mjs';

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

function textOf(bytes) {
  // Printable, incompressible-ish JS: comment lines of base64.
  const b64 = randomBytes(bytes).toString('base64');
  let out = '';
  for (let i = 0; out.length < bytes; i += 76) out += `// ${b64.slice(i, i + 76)}\n`;
  return Buffer.from(out.slice(0, bytes - 1) + '\n');
}

export function buildFixture() {
  const dir = mkdtempSync(join(os.tmpdir(), 'serve-here-bench-'));
  const files = {
    small: { path: '/1k.js', body: textOf(1024) },
    medium: { path: '/100k.js', body: textOf(100 * 1024) },
    big: { path: '/50m.bin', body: randomBytes(50 * 1024 * 1024) },
    index: { path: '/', file: 'index.html', body: Buffer.from('<!doctype html>\n<title>bench</title>\n<p>serve-here bench fixture</p>\n') },
  };
  for (const f of Object.values(files)) {
    writeFileSync(join(dir, f.file ?? f.path.slice(1)), f.body);
    f.sha256 = sha256(f.body);
    f.size = f.body.length;
    delete f.body;
  }
  mkdirSync(join(dir, 'many'));
  const names = [];
  for (let i = 0; i < 1000; i++) {
    const name = `file-${String(i).padStart(4, '0')}.txt`;
    writeFileSync(join(dir, 'many', name), `${name}\n`);
    names.push(name);
  }
  return { dir, files, names };
}

/** Each case's verdict: 'ok', what was wrong, or '—' where the server is not a peer. */
export async function checkServer(port, fx, isPeer = () => true) {
  const verdict = {};
  const check = async (key, fn) => {
    if (!isPeer(key)) verdict[key] = '—';
    else
      try {
        verdict[key] = await fn();
      } catch (error) {
        verdict[key] = `error: ${error.message}`;
      }
  };
  for (const key of ['small', 'medium', 'big', 'index']) {
    const f = fx.files[key];
    await check(key, async () => {
      const r = await get(port, f.path);
      if (r.status !== 200) return `status ${r.status}`;
      return r.sha256 === f.sha256 ? 'ok' : `wrong body (${r.size} of ${f.size} bytes, sha256 differs)`;
    });
  }
  await check('notfound', async () => {
    const r = await get(port, '/nope-404');
    return r.status === 404 ? 'ok' : `status ${r.status}`;
  });
  await check('listing', async () => {
    const r = await get(port, '/many/', { keepBody: true });
    const missing = fx.names.filter((n) => !r.body.includes(n)).length;
    if (r.status === 404) return 'no listing (404)';
    if (r.status !== 200) return `status ${r.status}`;
    return missing === 0 ? 'ok' : `${missing} of 1000 names missing`;
  });
  return verdict;
}
