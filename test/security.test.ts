// Security tests for the static server, sent as raw request lines (fetch and URL would
// normalise the attacks away). The secrets live BESIDE the served root, in the parent temp dir.
import { suite } from 'uvu';
import { hostname } from 'node:os';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type ServeHere } from '../src/server.js';
import { createLogger } from '../src/log.js';
import { Capture, makeTree, rawRequest, removeTree, startServer, type Running } from './helpers/server.js';
import { holdSocket, parseRaw, rawGet, type ParsedRaw } from './helpers/http.js';

const SECRETS = ['TOP-SECRET-BESIDE', 'TOP-SECRET-SIBLING', 'TOP-SECRET-ENV', 'TOP-SECRET-GIT', 'TOP-SECRET-OUTSIDE'];

let base = '';
let root = '';

async function buildTree(): Promise<void> {
  base = realpathSync(
    await makeTree({
      'root/sub/a.txt': 'public a',
      'root/foo..bar.txt': 'legit dots',
      'root/evil.example/sub/x.txt': 'x',
      'root/.env': 'TOP-SECRET-ENV',
      'root/.git/config': 'TOP-SECRET-GIT',
      'root/.well-known/info.txt': 'well known',
      'secret.txt': 'TOP-SECRET-BESIDE',
      'rootx/secret.txt': 'TOP-SECRET-SIBLING',
      'outside/o.txt': 'TOP-SECRET-OUTSIDE',
    }),
  );
  root = join(base, 'root');
  await symlink('../secret.txt', join(root, 'out-file'));
  await symlink(join(base, 'outside'), join(root, 'out-dir'));
  await symlink('../rootx/secret.txt', join(root, 'sib-file'));
  await symlink('../rootx', join(root, 'sib-dir'));
  await symlink('.env', join(root, 'dot-link'));
  await symlink('.git', join(root, 'git-link'));
  execFileSync('mkfifo', [join(root, 'pipe')]);
}

/** Send one raw request; every answer is checked for the secrets before the test sees it. */
async function raw(port: number, data: string, ms = 3000): Promise<ParsedRaw> {
  const text = await rawRequest(port, data, ms);
  for (const secret of SECRETS) assert.not.ok(text.includes(secret), `response leaked ${secret}: ${JSON.stringify(text.slice(0, 200))}`);
  return parseRaw(text);
}

// --- path traversal ----------------------------------------------------------------------------

const traversal = suite('traversal');
let srv: Running;

traversal.before(async () => {
  await buildTree();
  srv = await startServer({ root });
});
traversal.after(async () => {
  await srv.close();
  await removeTree(base);
});

traversal('the server answers a plain request (the attacks below are on a working server)', async () => {
  const res = await raw(srv.port, rawGet('/sub/a.txt'));
  assert.is(res.status, 200);
  assert.is(res.body, 'public a');
});

for (const path of ['/../secret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/sub/%2e%2e%2f%2e%2e%2fsecret.txt', '/../rootx/secret.txt']) {
  traversal(`GET ${path} is refused with 400`, async () => {
    const res = await raw(srv.port, rawGet(path));
    assert.is(res.status, 400);
  });
}

for (const path of ['/..\\secret.txt', '/%5c..%5csecret.txt', '/sub%5c..%5c..%5csecret.txt']) {
  traversal(`GET ${path} (backslash) is refused with 400`, async () => {
    const res = await raw(srv.port, rawGet(path));
    assert.is(res.status, 400);
  });
}

traversal('GET with an encoded NUL (%00) is refused with 400', async () => {
  const res = await raw(srv.port, rawGet('/sub/a.txt%00.html'));
  assert.is(res.status, 400);
});

traversal('GET with a raw NUL byte in the request line is refused with 400', async () => {
  const res = await raw(srv.port, rawGet('/sub/a.txt\0.html'));
  assert.is(res.status, 400);
});

traversal('GET //secret.txt names /secret.txt inside the root (404), not a network path', async () => {
  const res = await raw(srv.port, rawGet('//secret.txt'));
  assert.is(res.status, 404);
});

traversal('GET /foo..bar.txt (dots inside a name) is served', async () => {
  const res = await raw(srv.port, rawGet('/foo..bar.txt'));
  assert.is(res.status, 200);
  assert.is(res.body, 'legit dots');
});

traversal('symlinks leading out of the root answer 404', async () => {
  for (const path of ['/out-file', '/out-dir/o.txt', '/out-dir/', '/out-dir']) {
    const res = await raw(srv.port, rawGet(path));
    assert.is(res.status, 404, path);
  }
});

traversal('a symlink into a sibling sharing the root prefix (root vs rootx) answers 404', async () => {
  for (const path of ['/sib-file', '/sib-dir/secret.txt', '/sib-dir/']) {
    const res = await raw(srv.port, rawGet(path));
    assert.is(res.status, 404, path);
  }
});

traversal('.env and .git/config answer 404, also through a symlink', async () => {
  for (const path of ['/dot-link', '/git-link/config', '/.env', '/.git/config', '/.git/', '/.git', '/%2eenv', '/%2egit/config', '/sub/../.env']) {
    const res = await raw(srv.port, rawGet(path));
    assert.ok(res.status === 404 || (path.includes('..') && res.status === 400), `${path} → ${res.status}`);
  }
});

traversal('the listing leaves out dotfiles, links leading out and FIFOs', async () => {
  const res = await raw(srv.port, rawGet('/'));
  assert.is(res.status, 200);
  assert.ok(res.body.includes('sub/'), 'the listing lists the public folder');
  for (const name of ['.env', '.git', '.well-known', 'out-file', 'out-dir', 'sib-file', 'sib-dir', 'pipe', 'dot-link', 'git-link']) {
    assert.not.ok(res.body.includes(`href="${name}`), `${name} is listed`);
  }
});

traversal('a FIFO in the root answers 404 without hanging, and the server keeps serving', async () => {
  const started = Date.now();
  const res = await raw(srv.port, rawGet('/pipe'), 3000);
  assert.is(res.status, 404);
  assert.ok(Date.now() - started < 2500, 'the FIFO request did not hang');
  const next = await raw(srv.port, rawGet('/sub/a.txt'));
  assert.is(next.status, 200);
});

traversal.run();

// --- dotfiles allowed ---------------------------------------------------------------------------

const dotfiles = suite('dotfiles: true');
let dot: Running;

dotfiles.before(async () => {
  await buildTree();
  dot = await startServer({ root, dotfiles: true });
});
dotfiles.after(async () => {
  await dot.close();
  await removeTree(base);
});

dotfiles('with dotfiles, .env is served', async () => {
  const text = await rawRequest(dot.port, rawGet('/.env'));
  const res = parseRaw(text);
  assert.is(res.status, 200);
  assert.is(res.body, 'TOP-SECRET-ENV');
});

dotfiles('with dotfiles, .git/config still answers 404 and .git is not listed', async () => {
  const res = await raw(dot.port, rawGet('/.git/config'));
  assert.is(res.status, 404);
  const listing = parseRaw(await rawRequest(dot.port, rawGet('/')));
  assert.is(listing.status, 200);
  assert.ok(listing.body.includes('href=".env"'), '.env is listed');
  assert.not.ok(listing.body.includes('href=".git'), '.git is listed');
  assert.ok(listing.body.includes('href="dot-link"'), 'a link to .env is listed when dotfiles are served');
  assert.not.ok(listing.body.includes('href="git-link'), 'a link to .git is listed');
});

dotfiles('with dotfiles, links leading out still answer 404', async () => {
  const res = await raw(dot.port, rawGet('/out-file'));
  assert.is(res.status, 404);
});

dotfiles.run();

// --- Host header -------------------------------------------------------------------------------

const host = suite('Host header');
let loop: Running;
let listed: Running;
let shared: ServeHere;
let sharedPort = 0;

host.before(async () => {
  await buildTree();
  loop = await startServer({ root, host: '127.0.0.1' });
  listed = await startServer({ root, allowedHosts: ['example.test'] });
  shared = createServer({ root, host: '::', auth: { mode: 'open' }, logger: createLogger({ out: new Capture(), err: new Capture(), color: false }) });
  // Bound to all interfaces for a moment: the only way to see the "any Host" policy at work.
  sharedPort = (await shared.listen({ port: 0, host: '::' })).port;
});
host.after(async () => {
  await loop.close();
  await listed.close();
  await shared.close(500);
  await removeTree(base);
});

host('a loopback server answers 403 to Host: evil.example', async () => {
  for (const name of ['evil.example', 'evil.example:80', 'localhost.evil.example', '127.0.0.1.evil.example', '192.168.1.10']) {
    const res = await raw(loop.port, rawGet('/sub/a.txt', { Host: name }));
    assert.is(res.status, 403, name);
    assert.not.ok(res.body.includes('public a'), `${name} got the file`);
  }
});

host('a loopback server answers loopback Host names', async () => {
  for (const name of ['localhost:1234', 'localhost', '127.0.0.1', '127.0.0.1:8000', '[::1]:80', '[::1]', 'app.localhost', 'LOCALHOST']) {
    const res = await raw(loop.port, rawGet('/sub/a.txt', { Host: name }));
    assert.is(res.status, 200, name);
    assert.is(res.body, 'public a');
  }
});

host('a server bound to :: answers IP literals and this machine\'s name, and refuses other names (issue 6: the check is always on)', async () => {
  for (const name of ['192.168.1.20:8000', '10.1.2.3', '[fd00::1]:80', hostname(), `${hostname().split('.')[0] ?? ''}.local`]) {
    const res = await raw(sharedPort, rawGet('/sub/a.txt', { Host: name }));
    assert.is(res.status, 200, name);
    assert.is(res.body, 'public a');
  }
  const res = await raw(sharedPort, rawGet('/sub/a.txt', { Host: 'evil.example' }));
  assert.is(res.status, 403);
  assert.match(res.body, '--allowed-hosts evil.example');
});

host('a malformed Host is a 400, and an app never sees a path smuggled through it', async () => {
  for (const name of ['localhost:1/admin?', 'localhost:abc', 'a b', '[::1']) {
    const res = await raw(sharedPort, rawGet('/sub/a.txt', { Host: name }));
    assert.is(res.status, 400, name);
  }
});

host('allowedHosts answers the listed name and loopback names only', async () => {
  for (const name of ['example.test', 'example.test:8080', 'localhost', '127.0.0.1']) {
    const res = await raw(listed.port, rawGet('/sub/a.txt', { Host: name }));
    assert.is(res.status, 200, name);
  }
  for (const name of ['evil.example', 'sub.example.test', 'example.test.evil.example']) {
    const res = await raw(listed.port, rawGet('/sub/a.txt', { Host: name }));
    assert.is(res.status, 403, name);
  }
});

host('a 403 for the Host check still serves nothing for traversal attempts', async () => {
  const res = await raw(loop.port, rawGet('/../secret.txt', { Host: 'evil.example' }));
  assert.is(res.status, 403);
});

host.run();

// --- redirects -----------------------------------------------------------------------------------

const redirect = suite('folder redirects');
let red: Running;

redirect.before(async () => {
  await buildTree();
  red = await startServer({ root });
});
redirect.after(async () => {
  await red.close();
  await removeTree(base);
});

redirect('a 301 for //evil.example/sub never has a Location starting with //', async () => {
  const res = await raw(red.port, rawGet('//evil.example/sub'));
  assert.is(res.status, 301);
  const location = res.headers.location ?? '';
  assert.is(location, '/evil.example/sub/');
  assert.not.ok(location.startsWith('//'));
});

redirect('a 301 for encoded and repeated slashes stays on this host', async () => {
  for (const [path, expected] of [
    ['//sub', '/sub/'],
    ['///sub?x=1', '/sub/?x=1'],
    ['/.//evil.example/sub', '/evil.example/sub/'],
  ] as const) {
    const res = await raw(red.port, rawGet(path));
    assert.is(res.status, 301, path);
    assert.is(res.headers.location, expected, path);
  }
  // %2F is not a separator (issue 6): it names a file with a slash in its name, which cannot exist.
  for (const path of ['/%2Fevil.example/sub', '/%2F%2Fevil.example/sub', '/evil.example%2Fsub']) {
    const res = await raw(red.port, rawGet(path));
    assert.is(res.status, 404, path);
    assert.is(res.headers.location, undefined, path);
  }
});

redirect.run();

// --- malformed and slow requests ---------------------------------------------------------------

const robust = suite('malformed and slow requests');
let slow: ServeHere;
let slowPort = 0;

robust.before(async () => {
  await buildTree();
  slow = createServer({ root, headersTimeout: 500, logger: createLogger({ out: new Capture(), err: new Capture(), color: false }) });
  slowPort = (await slow.listen({ port: 0, host: '127.0.0.1' })).port;
});
robust.after(async () => {
  await slow.close(500);
  await removeTree(base);
});

robust('a socket that never finishes its headers is closed, while other requests succeed', async () => {
  const held = await holdSocket(slowPort, 'GET /sub/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  try {
    const other = await raw(slowPort, rawGet('/sub/a.txt'));
    assert.is(other.status, 200);
    assert.is(other.body, 'public a');
    const closed = await held.closedWithin(4000);
    assert.ok(closed, 'the server closed the slow socket');
    const answer = held.data();
    if (process.env.DEBUG_TESTS !== undefined) console.log(JSON.stringify(answer));
    assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), `unexpected answer ${JSON.stringify(answer)}`);
  } finally {
    held.socket.destroy();
  }
});

robust('a header block over 16 KiB answers 431', async () => {
  const res = await raw(slowPort, rawGet('/sub/a.txt', { Host: '127.0.0.1', 'X-Big': 'a'.repeat(20 * 1024) }));
  assert.is(res.status, 431);
});

robust('a garbage request line answers 400 and the server keeps serving', async () => {
  const res = await raw(slowPort, 'HELLO THERE\r\n\r\n');
  assert.is(res.status, 400);
  const binary = await raw(slowPort, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03');
  assert.ok(binary.status === 400 || binary.status === 0, `TLS hello → ${binary.status}`);
  const next = await raw(slowPort, rawGet('/sub/a.txt'));
  assert.is(next.status, 200);
});

robust('a request with a control character in the path answers 400', async () => {
  const res = await raw(slowPort, 'GET /sub/a.txt\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.is(res.status, 400);
});

robust.run();
