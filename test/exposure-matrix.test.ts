// The exposure matrix: every reader and every writer of a real serve-here (the CLI, over HTTPS
// with the user's own certificate inside the served folder) against every protected kind. A row
// or column the policy lists (READERS, WRITERS) without a probe here fails the first test, so
// a new way in or out cannot be added without its place in the table. Exporters: see
// test/export-matrix.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { access, appendFile, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { createSelfSigned } from '../src/share/certificate.js';
import { READERS, WRITERS, type Reader, type Writer } from '../src/exposure/policy.js';
import { LIVE_EVENTS_PATH } from '../src/live/paths.js';
import { makeTree, rawRequest, removeTree, spawnCli, type CliProcess } from './helpers/server.js';
import { parseRaw, waitUntil } from './helpers/http.js';

/** One protected thing: its URL path, the folder listing it, the name shown there, a marker in its bytes. */
interface Kind {
  path: string;
  folder: string;
  name: string;
  marker: string;
  /** The file a save of it touches (the live-reload column). */
  touch: string;
}

const { key, cert } = createSelfSigned({ names: ['localhost'], addresses: ['127.0.0.1'] });

const kind = (path: string, marker: string, listed = path): Kind => {
  const cut = listed.lastIndexOf('/');
  // A save goes through the path as served: through a link, it reaches the file outside.
  return { path: `/${path}`, folder: `/${listed.slice(0, cut + 1)}`, name: listed.slice(cut + 1), marker, touch: path };
};

/** Every protected kind (ISSUE 15's list): add a row here and every reader and writer probes it. */
const KINDS: Record<string, Kind> = {
  'env file (--env-file)': kind('secrets.env', 'LEAK-ENV-FILE'),
  'env name while an app runs (.env)': kind('.env', 'LEAK-DOT-ENV'),
  'app source (entry)': kind('server/api.mjs', 'LEAK-APP-ENTRY'),
  'app source (imported)': kind('server/lib/helper.mjs', 'LEAK-APP-HELPER'),
  'app source (imported later, at a request)': kind('server/lib/late.mjs', 'LEAK-APP-LATE'),
  'app package.json': kind('server/package.json', '"LEAK-PKG"'),
  'TLS key inside the root (--key)': kind('certs/key.pem', 'PRIVATE KEY'),
  'generated key under a served HOME (--dotfiles)': kind('.config/serve-here/https-key.pem', 'LEAK-GENERATED-KEY', '.config/serve-here'),
  'symlink out of the root (a folder)': kind('out/passwd.txt', 'LEAK-OUTSIDE', 'out'),
  'symlink out of the root (a file)': kind('public/passwd-link.txt', 'LEAK-OUTSIDE'),
  '.git/config': kind('.git/config', 'LEAK-GIT', '.git'),
};
/** Readable by every reader: the control that each probe can see something at all. */
const PUBLIC = kind('public/a.txt', 'PUBLIC-MARKER');

/** Upload targets that must be refused (with an app running), and one that must be stored. */
const WRITE_TARGETS: Record<string, string> = {
  'node_modules/x/index.js': 'node_modules/x/index.js',
  "an app's dependency": 'server/node_modules/dep/index.js',
  "an app's dependency's package.json": 'server/node_modules/dep/package.json',
  'package.json': 'public/package.json',
  'tsconfig.json': 'public/tsconfig.json',
  'jsconfig.json': 'jsconfig.json',
  '.npmrc': '.npmrc',
  'x.node': 'public/x.node',
  'a new .mjs in the app folder': 'server/new.mjs',
  'a new .ts below the app folder': 'server/routes/new.ts',
  'index.html': 'index.html',
  'index.htm in a folder': 'public/index.htm',
  '404.html': '404.html',
  '.git/…': '.git/hooks/pre-commit',
  'env file': 'secrets.env',
  '.env': '.env',
  'app source': 'server/api.mjs',
  'TLS key': 'certs/key.pem',
  'the generated key folder': '.config/serve-here/planted.pem',
  'through the symlink out': 'out/planted.txt',
};
const WRITE_OK = 'public/uploaded.txt';

let root = '';
let outside = '';
let cli: CliProcess;
let port = 0;

const send = async (request: string, ms = 5000): Promise<{ status: number; headers: Record<string, string>; body: string }> => parseRaw(await rawRequest(port, request, ms, { tls: true }));
const req = (method: string, path: string, headers: Record<string, string> = {}, body = ''): string =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}${body === '' ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`}Connection: close\r\n\r\n${body}`;

/** Each reader: does this kind leak through it? (true = leaked) */
const READ_PROBES: Record<Reader, (k: Kind) => Promise<boolean>> = {
  get: async (k) => {
    const r = await send(req('GET', k.path));
    return r.status < 300 || r.body.includes(k.marker);
  },
  head: async (k) => (await send(req('HEAD', k.path))).status < 300,
  range: async (k) => {
    const r = await send(req('GET', k.path, { Range: 'bytes=0-' }));
    return r.status < 300 || r.body.includes(k.marker);
  },
  'listing-html': async (k) => {
    const r = await send(req('GET', k.folder, { Accept: 'text/html' }));
    return r.body.includes(`>${k.name}<`) || r.body.includes(`>${k.name}/<`);
  },
  'listing-json': async (k) => {
    const r = await send(req('GET', k.folder, { Accept: 'application/json' }));
    if (r.status !== 200) return false;
    return (JSON.parse(dechunk(r)) as { entries: Array<{ name: string }> }).entries.some((e) => e.name === k.name);
  },
  zip: async (k) => {
    // HTTP/1.0: the archive comes close-delimited, not chunked, so a marker is never split by framing.
    const r = await send(`GET /?zip HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 20_000);
    assert.is(r.status, 200);
    return r.body.includes(k.marker) || r.body.includes(`/${k.path.slice(1)}`);
  },
  'live-reload': async (k) => {
    // Save the kind, then make a stylesheet: the stylesheet alone must be announced, and nothing before it.
    const sentinel = `public/s${++saves}.css`;
    const seen = live.length;
    await appendFile(join(root, k.touch), '\n');
    await writeFile(join(root, sentinel), 'a{}');
    // A leaked save batches the stylesheet into a reload (no paths): that ends the wait too.
    const events = await waitUntil(() => (live.slice(seen).some((e) => e.includes(sentinel) || e.includes('"reload"')) ? live.slice(seen) : undefined), 10_000, `the event for ${sentinel}`);
    // One event naming the new stylesheet alone (`added`: it is a new file); a reload, a second
    // event or another path means the kind's save was announced.
    const event = events.length === 1 ? (JSON.parse(events[0] ?? '{}') as { paths?: string[] }) : undefined;
    return event?.paths?.length !== 1 || event.paths[0] !== `/${sentinel}`;
  },
};

/** Each writer: is this target stored? (true = written) */
const WRITE_PROBES: Record<Writer, (target: string) => Promise<boolean>> = {
  put: async (target) => (await send(req('PUT', `/${target}`, {}, 'PLANTED'))).status < 300,
  // The listing's drop zone: the page's script PUTs to the folder's URL + the relative path, from this origin.
  'listing-upload': async (target) => {
    const headers = { Origin: `https://127.0.0.1:${port}`, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/octet-stream' };
    return (await send(req('PUT', `/${target.split('/').map(encodeURIComponent).join('/')}`, headers, 'PLANTED'))).status < 300;
  },
};

// Exporters have their own matrix, test/export-matrix.test.ts: every export target (nginx run for
// real, the Workers .assetsignore, the Deno entry's check, the systemd unit's command line) × these
// kinds, and a target missing there fails it.

let saves = 0;
const live: string[] = [];

const matrix = suite('exposure matrix');

matrix.before(async () => {
  outside = await makeTree({ 'passwd.txt': 'LEAK-OUTSIDE' });
  root = await makeTree({
    'secrets.env': 'TOKEN=LEAK-ENV-FILE\n',
    '.env': 'TOKEN=LEAK-DOT-ENV\n',
    'server/api.mjs': `// LEAK-APP-ENTRY\nimport { helper } from './lib/helper.mjs';\nexport default { async fetch(req) { if (req.url.endsWith('/late')) return new Response((await import('./lib/late.mjs')).late); return new Response(helper); } };\n`,
    'server/lib/helper.mjs': `// LEAK-APP-HELPER\nexport const helper = 'api';\n`,
    'server/lib/late.mjs': `// LEAK-APP-LATE\nexport const late = 'late';\n`,
    'server/package.json': '{"type":"module","name":"LEAK-PKG"}\n',
    'certs/key.pem': key,
    'certs/cert.pem': cert,
    '.config/serve-here/https-key.pem': 'LEAK-GENERATED-KEY\n',
    '.git/config': '[core] LEAK-GIT\n',
    'public/a.txt': 'PUBLIC-MARKER\n',
    'public/index-less/keep.txt': 'x',
  });
  await symlink(outside, join(root, 'out'));
  await symlink(join(outside, 'passwd.txt'), join(root, 'public/passwd-link.txt'));
  // HOME is the served folder (the generated key's folder lies inside it); the apps run in process
  // (--no-watch), so a save of their code announces nothing of its own to live reload.
  cli = spawnCli(
    [root, '--port', '0', '--dotfiles', '--upload', '--live', '--no-watch', '--app', '/api=server/api.mjs', '--env-file', 'secrets.env', '--cert', 'certs/cert.pem', '--key', 'certs/key.pem'],
    { cwd: root, env: { HOME: root, XDG_CONFIG_HOME: '' } },
  );
  port = Number((await cli.waitFor(/https:\/\/127\.0\.0\.1:(\d+)/, 20_000))[1]);
  // The late module joins the app's graph at this request.
  assert.is((await send(req('GET', '/api/late'))).body, 'late');
  const stream = connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  stream.on('error', () => undefined);
  stream.write(req('GET', LIVE_EVENTS_PATH, { Accept: 'text/event-stream' }).replace('Connection: close\r\n', ''));
  let buffered = '';
  stream.on('data', (c: Buffer) => {
    buffered += c.toString();
    for (let end = buffered.indexOf('\n\n'); end !== -1; end = buffered.indexOf('\n\n')) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (block.includes('event: change')) live.push(/data: (.*)/.exec(block)?.[1] ?? '');
    }
  });
  cleanup.push(() => stream.destroy());
});

const cleanup: Array<() => void> = [];
matrix.after(async () => {
  for (const c of cleanup) c();
  await cli?.stop();
  await removeTree(root);
  await removeTree(outside);
});

matrix('every reader and writer the policy lists has a probe here (and no probe is left over)', () => {
  assert.equal(Object.keys(READ_PROBES).sort(), [...READERS].sort());
  assert.equal(Object.keys(WRITE_PROBES).sort(), [...WRITERS].sort());
});

matrix('each reader sees the public control file (a probe that sees nothing proves nothing)', async () => {
  for (const reader of READERS) assert.ok(await READ_PROBES[reader](PUBLIC), reader);
});

matrix('no reader leaks any protected kind', async () => {
  const leaks: string[] = [];
  for (const reader of READERS) {
    for (const [name, k] of Object.entries(KINDS)) if (await READ_PROBES[reader](k)) leaks.push(`${reader} × ${name}`);
  }
  assert.equal(leaks, []);
});

matrix('each writer stores the control upload, and no writer stores any protected target', async () => {
  for (const writer of WRITERS) {
    assert.ok(await WRITE_PROBES[writer](WRITE_OK), `${writer} stores ${WRITE_OK}`);
  }
  const written: string[] = [];
  for (const writer of WRITERS) {
    for (const [name, target] of Object.entries(WRITE_TARGETS)) {
      if (await WRITE_PROBES[writer](target)) written.push(`${writer} × ${name}`);
    }
  }
  assert.equal(written, []);
  for (const target of ['node_modules', 'server/node_modules', 'server/new.mjs', 'index.html', '404.html', 'public/index.htm', 'jsconfig.json', '.npmrc', 'public/x.node']) {
    assert.not.ok(await exists(join(root, target)), `${target} was created`);
  }
  assert.not.ok(await exists(join(outside, 'planted.txt')));
});

matrix.run();

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The body of a chunked answer, unframed. */
function dechunk(r: { headers: Record<string, string>; body: string }): string {
  if (r.headers['transfer-encoding'] !== 'chunked') return r.body;
  let out = '';
  let rest = r.body;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}
