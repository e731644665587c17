// Issue 15's findings, each on a real server (the matrix, test/exposure-matrix.test.ts, covers
// the rest): the upload sandbox by Content-Type for every type mime knows, uploads into an app's
// module resolution with --share, the generated HTTPS key under a served HOME, and a module an
// app process imports at a request.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { needsSandbox } from '../src/exposure/sandbox.js';
import { makeTree, rawRequest, removeTree, request, spawnCli, startServer } from './helpers/server.js';
import { parseRaw, waitUntil } from './helpers/http.js';
import { mimeExtensions } from './helpers/mime-types.js';

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);
const put = (path: string, headers: Record<string, string> = {}): string =>
  `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: 7\r\nConnection: close\r\n\r\nPLANTED`;

const sandbox = suite('upload sandbox by Content-Type');

sandbox('with uploads on (on loopback too), every type but the passive ones goes out sandboxed', async () => {
  const exts = mimeExtensions().filter((e) => /^[a-z0-9_+-]+$/i.test(e));
  const dir = await makeTree(Object.fromEntries(exts.map((e) => [`x.${e}`, 'x'])));
  const srv = await startServer({ root: dir, upload: { maxBytes: 1024 } });
  try {
    const sandboxed = new Set<string>();
    for (const ext of exts) {
      const res = await request(srv.port, `/x.${ext}`);
      assert.is(res.status, 200, ext);
      const type = String(res.headers['content-type']);
      assert.is(res.headers['content-security-policy'], needsSandbox(type) ? 'sandbox' : undefined, `.${ext} (${type})`);
      if (res.headers['content-security-policy'] === 'sandbox') sandboxed.add(ext);
    }
    for (const ext of ['html', 'shtml', 'xht', 'xhtml', 'mml', 'rdf', 'svg', 'xml', 'xsl']) assert.ok(sandboxed.has(ext), `.${ext} sandboxed`);
    for (const ext of ['png', 'jpg', 'txt', 'mp4', 'mp3', 'pdf', 'zip']) assert.not.ok(sandboxed.has(ext), `.${ext} not sandboxed`);
    // A Range answer and a 404 page from the folder carry it too.
    await writeFile(join(dir, '404.html'), '<script>1</script>');
    assert.is((await request(srv.port, '/x.shtml', { headers: { Range: 'bytes=0-0' } })).headers['content-security-policy'], 'sandbox');
    assert.is((await request(srv.port, '/missing')).headers['content-security-policy'], 'sandbox');
  } finally {
    await srv.close();
    await removeTree(dir);
  }
});

sandbox.run();

const cli = suite('exposure through the CLI');

cli('--share --upload --app: a guest with the key cannot plant a dependency or a module beside the app', async () => {
  const dir = await makeTree({ 'server/handler.mjs': "import dep from 'dep';\nexport default { fetch: () => new Response(dep) };\n", 'server/node_modules/dep/package.json': '{"name":"dep","main":"index.js"}', 'server/node_modules/dep/index.js': "module.exports = 'real';\n" });
  const p = spawnCli([dir, '--share', '--upload', '--port', '0', '--app', '/api=server/handler.mjs'], { cwd: dir });
  try {
    const m = await p.waitFor(/http:\/\/(?:localhost|127\.0\.0\.1):(\d+)\/\?serve-here-key=([A-Za-z0-9_-]+)/, 20_000);
    const port = Number(m[1]);
    const auth = { Authorization: `Bearer ${m[2] ?? ''}` };
    assert.is(parseRaw(await rawRequest(port, put('/ok.txt', auth))).status, 201, 'the key can upload');
    for (const target of ['/server/node_modules/evil/package.json', '/server/node_modules/evil/index.js', '/node_modules/dep/index.js', '/server/later.mjs', '/package.json', '/server/addon.node']) {
      assert.is(parseRaw(await rawRequest(port, put(target, auth))).status, 403, target);
    }
    assert.not.ok(await exists(join(dir, 'server/node_modules/evil')));
    assert.not.ok(await exists(join(dir, 'server/later.mjs')));
  } finally {
    await p.stop();
    await removeTree(dir);
  }
});

cli('--https with HOME served and --dotfiles: the generated key is neither served, listed nor zipped', async () => {
  const home = await makeTree({ 'notes.txt': 'n' });
  const p = spawnCli([home, '--https', '--dotfiles', '--port', '0'], { cwd: home, env: { HOME: home, XDG_CONFIG_HOME: '' } });
  try {
    const port = Number((await p.waitFor(/https:\/\/127\.0\.0\.1:(\d+)/, 20_000))[1]);
    assert.ok(await exists(join(home, '.config/serve-here/https-key.pem')), 'the key was made under the served HOME');
    const get = async (path: string, accept = 'text/html'): Promise<ReturnType<typeof parseRaw>> =>
      parseRaw(await rawRequest(port, `GET ${path} HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nAccept: ${accept}\r\n\r\n`, 10_000, { tls: true }));
    assert.is((await get('/.config/serve-here/https-key.pem')).status, 404);
    assert.is((await get('/.config/serve-here/')).status, 404);
    const page = await get('/.config/');
    assert.is(page.status, 200);
    assert.not.match(page.body, '>serve-here/<');
    assert.equal((JSON.parse((await get('/.config/', 'application/json')).body) as { entries: unknown[] }).entries, []);
    const zip = await get('/?zip');
    assert.is(zip.status, 200);
    assert.match(zip.body, 'notes.txt');
    assert.not.match(zip.body, 'https-key.pem');
    assert.not.match(zip.body, 'PRIVATE KEY');
  } finally {
    await p.stop();
    await removeTree(home);
  }
});

cli('a module an app process imports at a request is no longer served (watch mode)', async () => {
  const dir = await makeTree({
    'server/api.mjs': "export default { async fetch() { return new Response((await import('./late.mjs')).late); } };\n",
    'server/late.mjs': "export const late = 'late';\n",
  });
  const p = spawnCli([dir, '--port', '0', '--app', '/api=server/api.mjs'], { cwd: dir });
  try {
    const port = Number((await p.waitFor(/http:\/\/127\.0\.0\.1:(\d+)/, 20_000))[1]);
    const get = async (path: string): Promise<ReturnType<typeof parseRaw>> => parseRaw(await rawRequest(port, `GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`));
    assert.is((await get('/server/api.mjs')).status, 404);
    assert.is((await get('/api/')).body, 'late');
    // The app process says so in its own message, right after the import: no reload needed.
    await waitUntil(async () => ((await get('/server/late.mjs')).status === 404 ? true : undefined), 2000, 'late.mjs hidden');
  } finally {
    await p.stop();
    await removeTree(dir);
  }
});

cli('--workers: a module one worker imports at a request is hidden by every worker', async () => {
  const dir = await makeTree({
    'server/api.mjs': "export default { async fetch() { return new Response((await import('./late.mjs')).late); } };\n",
    'server/late.mjs': "export const late = 'late';\n",
  });
  const p = spawnCli([dir, '--port', '0', '--no-watch', '--workers', '2', '--app', '/api=server/api.mjs'], { cwd: dir });
  try {
    const port = Number((await p.waitFor(/http:\/\/127\.0\.0\.1:(\d+)/, 20_000))[1]);
    // A fresh connection per request: the workers take turns, so both are asked.
    const get = async (path: string): Promise<ReturnType<typeof parseRaw>> => parseRaw(await rawRequest(port, `GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`));
    assert.is((await get('/api/')).body, 'late');
    // Every worker hides it, once the primary has passed it on (a message away).
    await waitUntil(async () => ((await get('/server/late.mjs')).status === 404 ? true : undefined), 2000, 'late.mjs hidden');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await get('/server/late.mjs')).status);
    assert.equal(statuses, Array(8).fill(404));
  } finally {
    await p.stop();
    await removeTree(dir);
  }
});

cli.run();
