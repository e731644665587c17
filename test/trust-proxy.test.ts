// --trust-proxy: an app behind a proxy sees the client, scheme and host the proxy reports — only
// when the connection comes from a trusted address; without the flag, or from anyone else, a
// client's X-Forwarded-*/Forwarded are dropped. Real CLI, raw request lines, real source addresses
// (Linux routes all of 127.0.0.0/8 to loopback, so 127.0.0.2 is a second, distinct peer).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTree, rawRequest, removeTree, runCli, spawnCli, type CliProcess } from './helpers/server.js';

const test = suite('--trust-proxy');

/** Echo what the app sees: its URL, the proxy headers, the client address (fetch and node styles). */
const FETCH_APP = `export default {
  fetch(request, info) {
    const h = (n) => request.headers.get(n);
    return Response.json({ url: request.url, xff: h('x-forwarded-for'), proto: h('x-forwarded-proto'), xfh: h('x-forwarded-host'), forwarded: h('forwarded'), client: info.remoteAddr.hostname });
  },
};
`;
const NODE_APP = `export default function (req, res) {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ url: req.url, xff: req.headers['x-forwarded-for'] ?? null, proto: req.headers['x-forwarded-proto'] ?? null, xfh: req.headers['x-forwarded-host'] ?? null, forwarded: req.headers.forwarded ?? null, client: req.socket.remoteAddress }));
}
`;

interface Seen {
  url: string;
  xff: string | null;
  proto: string | null;
  xfh: string | null;
  forwarded: string | null;
  client: string;
}

let dir = '';
const running: CliProcess[] = [];

async function serve(args: string[]): Promise<number> {
  // The folder first: after --trust-proxy it would be read as the flag's value.
  const cli = spawnCli([dir, '--port', '0', ...args], { cwd: dir });
  running.push(cli);
  const m = await cli.waitFor(/http:\/\/127\.0\.0\.1:(\d+)\//, 15_000);
  return Number(m[1]);
}

/** One raw request to /api/x with these extra header lines, from `from`; the status and the app's JSON. */
async function ask(port: number, lines: string[], from?: string): Promise<{ status: number; seen: Seen | undefined; raw: string }> {
  const raw = await rawRequest(port, ['GET /api/x?q=1 HTTP/1.1', `Host: 127.0.0.1:${port}`, ...lines, 'Connection: close', '', ''].join('\r\n'), 5000, from === undefined ? {} : { from });
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  let seen: Seen | undefined;
  try {
    seen = JSON.parse(body) as Seen;
  } catch {
    seen = undefined;
  }
  return { status, seen, raw };
}

const SPOOF = ['X-Forwarded-For: 203.0.113.7', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: example.com', 'Forwarded: for=198.51.100.9;proto=https;host=example.com'];

test.before(async () => {
  dir = await makeTree({ 'api.mjs': FETCH_APP, 'node-api.mjs': NODE_APP });
});

test.after(async () => {
  for (const cli of running) await cli.stop();
  await removeTree(dir);
});

test('without the flag: a client\'s X-Forwarded-* and Forwarded are dropped, the app sees the socket', async () => {
  const port = await serve(['--app', '/api=api.mjs', '--allowed-hosts', 'example.com']);
  const { status, seen, raw } = await ask(port, SPOOF);
  assert.is(status, 200, raw);
  assert.equal(seen, { url: `http://127.0.0.1:${port}/x?q=1`, xff: '127.0.0.1', proto: 'http', xfh: `127.0.0.1:${port}`, forwarded: null, client: '127.0.0.1' });
});

test('--trust-proxy (loopback): the proxy\'s report reaches the app, in the reloading app process', async () => {
  const port = await serve(['--app', '/api=api.mjs', '--allowed-hosts', 'example.com', '--trust-proxy']);
  const { status, seen, raw } = await ask(port, SPOOF);
  assert.is(status, 200, raw);
  assert.equal(seen, { url: 'https://example.com/x?q=1', xff: '203.0.113.7', proto: 'https', xfh: 'example.com', forwarded: null, client: '203.0.113.7' });
  // A client prepending its own entries does not get past the proxy's: the nearest untrusted hop counts.
  const chained = await ask(port, ['X-Forwarded-For: 6.6.6.6, 203.0.113.7']);
  assert.is(chained.seen?.client, '203.0.113.7');
  // Forwarded (RFC 7239) when the proxy sends no X-Forwarded-*: quoted IPv6 with a port.
  const rfc = await ask(port, ['Forwarded: for="[2001:db8::1]:4711";proto=https;host=example.com']);
  assert.equal([rfc.seen?.client, rfc.seen?.url, rfc.seen?.forwarded], ['2001:db8::1', 'https://example.com/x?q=1', null]);
  // Junk is ignored fact by fact: the socket's address and scheme stay.
  const junk = await ask(port, ['X-Forwarded-For: unknown', 'X-Forwarded-Proto: gopher']);
  assert.equal([junk.seen?.client, junk.seen?.proto], ['127.0.0.1', 'http']);
});

test('--trust-proxy: the reported Host passes the same Host check (DNS rebinding, Host injection)', async () => {
  const port = await serve(['--app', '/api=api.mjs', '--trust-proxy']);
  const { status, raw } = await ask(port, ['X-Forwarded-Host: evil.example']);
  assert.is(status, 403, raw);
  assert.match(raw, /proxy in front reports/);
  assert.is((await ask(port, ['X-Forwarded-Host: localhost:8443'])).seen?.url, `http://localhost:8443/x?q=1`);
});

test('--trust-proxy ADDR: believed from that address only (node-style app, --no-watch)', async () => {
  const port = await serve(['--app', '/api=node-api.mjs', '--no-watch', '--allowed-hosts', 'example.com', '--trust-proxy', '127.0.0.2']);
  const untrusted = await ask(port, SPOOF, '127.0.0.1');
  assert.is(untrusted.status, 200, untrusted.raw);
  assert.equal(untrusted.seen, { url: '/x?q=1', xff: '127.0.0.1', proto: 'http', xfh: `127.0.0.1:${port}`, forwarded: null, client: '127.0.0.1' });
  const trusted = await ask(port, SPOOF, '127.0.0.2');
  // In process, the socket is the proxy's own (as for any Node server behind a proxy; Express:
  // `trust proxy`); X-Forwarded-For says who the client is.
  assert.equal(trusted.seen, { url: '/x?q=1', xff: '203.0.113.7', proto: 'https', xfh: 'example.com', forwarded: null, client: '127.0.0.2' });
});

test('--share --trust-proxy: wrong keys count per client the proxy reports, not for everyone behind it', async () => {
  const cli = spawnCli([dir, '--port', '0', '--share', '--trust-proxy'], { cwd: dir });
  running.push(cli);
  const port = Number((await cli.waitFor(/:(\d+)\/\?serve-here-key=[A-Za-z0-9_-]{22}/, 15_000))[1]);
  const wrong = async (client: string): Promise<string> =>
    (await rawRequest(port, ['GET /api.mjs?serve-here-key=nope HTTP/1.1', `Host: 127.0.0.1:${port}`, `X-Forwarded-For: ${client}`, 'Connection: close', '', ''].join('\r\n'), 5000)).slice(0, 12);
  for (let i = 0; i < 12; i++) await wrong('10.0.0.1');
  assert.is(await wrong('10.0.0.1'), 'HTTP/1.1 429', 'the guesser is throttled');
  assert.is(await wrong('10.9.9.9'), 'HTTP/1.1 401', 'another client behind the same proxy is not');
});

test('--trust-proxy with a bad address is a usage error (exit 2)', async () => {
  const r = await runCli(['--trust-proxy', 'nginx.local', '--app', 'api.mjs'], { cwd: dir });
  assert.is(r.code, 2);
  assert.match(r.stderr, /Invalid --trust-proxy address "nginx\.local"/);
  // A folder after the flag is read as its value: the hint says so.
  assert.match((await runCli(['--trust-proxy', dir], { cwd: dir })).stderr, /put the folder first/);
  for (const ok of ['10.0.0.0/8,::1', 'loopback,192.168.1.5']) {
    const cli = spawnCli([dir, '--port', '0', '--trust-proxy', ok], { cwd: dir });
    running.push(cli);
    await cli.waitFor(/http:\/\/127\.0\.0\.1:\d+\//, 15_000);
  }
});

test.run();
