// WSGI-style apps against CPython's wsgiref.validate checks (environ, wsgi.input, wsgi.errors,
// start_response, the iterable and close()), through the CLI over real sockets, in the reloading
// mode and with --no-watch; then the two modes compared request by request.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeTree, rawRequest, removeTree, request, spawnCli, type CliProcess } from './helpers/server.js';
import { parseRaw, waitUntil } from './helpers/http.js';
import { send } from './helpers/portable-checks.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROBE = pathToFileURL(join(HERE, 'helpers', 'wsgi-probe.js')).href;
const README = join(HERE, '..', '..', 'README.md');
const WAIT_MS = 15_000;
const BANNER = /serving (.+) at http:\/\/127\.0\.0\.1:(\d+)\//;

interface Served {
  mode: string;
  cli: CliProcess;
  port: number;
}

async function serve(mode: string, dir: string, args: string[]): Promise<Served> {
  const cli = spawnCli(['--port', '0', ...args, dir], { cwd: dir });
  try {
    const m = await cli.waitFor(BANNER, WAIT_MS);
    return { mode, cli, port: Number(m[2]) };
  } catch (error) {
    await cli.stop();
    throw error;
  }
}

const MODES: Array<[string, string[]]> = [
  ['reloading', []],
  ['--no-watch', ['--no-watch']],
];

// The probe at /py (SCRIPT_NAME "/py") and at the root (SCRIPT_NAME ""); the README's example at /form.
const readme = await readFile(README, 'utf8');
const example = /```js\n(\/\/ form\.mjs[^]*?)```/.exec(readme)?.[1];
const dir = await makeTree({
  'probe.mjs': `export { wsgi } from ${JSON.stringify(PROBE)};\n`,
  'root.mjs': `export { wsgi } from ${JSON.stringify(PROBE)};\n`,
  'form.mjs': example ?? 'export function wsgi() { throw new Error("no example in the README") }\n',
});
const servers: Served[] = [];
for (const [mode, flags] of MODES) servers.push(await serve(mode, dir, ['--app', '/py=probe.mjs', '--app', '/form=form.mjs', '--app', 'root.mjs', ...flags]));

/** A raw request (Connection: close unless `head` says otherwise) and its parsed answer. */
async function raw(port: number, head: string, body = ''): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const res = parseRaw(await rawRequest(port, `${head.replace(/\n/g, '\r\n')}\r\n\r\n${body}`, 10_000));
  return { ...res, body: Buffer.from(res.body, 'latin1').toString() }; // rawRequest reads latin-1; the JSON is UTF-8
}

const hostLine = (port: number): string => `Host: localhost:${port}`;

/** The environ the probe saw (CGI keys and plain wsgi.* values) and what check_environ found wrong with it. */
async function probeEnviron(port: number, head: string, body = ''): Promise<{ problems: string[]; cgi: Record<string, unknown> }> {
  const res = await raw(port, head, body);
  assert.is(res.status, 200, res.body);
  return JSON.parse(res.body) as { problems: string[]; cgi: Record<string, unknown> };
}

const environOf = async (port: number, head: string, body = ''): Promise<Record<string, unknown>> => (await probeEnviron(port, head, body)).cgi;

async function inputOps(port: number, ops: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await send(port, `/py/input?ops=${ops}`, { method: 'POST', body, headers });
  assert.is(res.status, 200, res.body);
  return JSON.parse(res.body);
}

const bytes = (...texts: string[]): Array<{ bytes: string }> => texts.map((t) => ({ bytes: t }));
const BODY = 'line one\nline two\nlast';

for (const served of servers) {
  const { mode } = served;
  const at = (path: string) => `GET ${path} HTTP/1.1\n${hostLine(served.port)}\nConnection: close`;

  // ---- environ -----------------------------------------------------------------------------------

  const environ = suite(`WSGI environ (${mode}): wsgiref.validate's check_environ`);

  environ(`${mode}: the environ passes check_environ at a mount and at the root`, async () => {
    const report = await probeEnviron(served.port, at('/py/environ?x=%2F'));
    assert.equal(report.problems, [], 'wsgiref.validate finds nothing wrong with the environ');
    const mounted = report.cgi;
    assert.is(mounted.SCRIPT_NAME, '/py');
    assert.is(mounted.PATH_INFO, '/environ');
    assert.is(mounted.QUERY_STRING, 'x=%2F');
    assert.is(mounted.REQUEST_METHOD, 'GET');
    assert.is(mounted.SERVER_PROTOCOL, 'HTTP/1.1');
    const rootReport = await probeEnviron(served.port, at('/environ'));
    assert.equal(rootReport.problems, []);
    const root = rootReport.cgi;
    assert.is(root.SCRIPT_NAME, '');
    assert.is(root.PATH_INFO, '/environ');
  });

  environ(`${mode}: HTTP_CONNECTION is what the client sent, never the hop's`, async () => {
    const close = await environOf(served.port, at('/py/environ'));
    assert.is(close.HTTP_CONNECTION, 'close');
    const none = await environOf(served.port, `GET /py/environ HTTP/1.0\n${hostLine(served.port)}`);
    assert.is(none.HTTP_CONNECTION, undefined, 'an HTTP/1.0 client that sent no Connection header');
    assert.is(none.SERVER_PROTOCOL, 'HTTP/1.0');
    const other = await environOf(served.port, `GET /py/environ HTTP/1.1\n${hostLine(served.port)}\nConnection: close, x-custom-hop\nKeep-Alive: timeout=9\nTE: trailers`);
    assert.is(other.HTTP_CONNECTION, 'close, x-custom-hop');
    assert.is(other.HTTP_KEEP_ALIVE, 'timeout=9');
    assert.is(other.HTTP_TE, 'trailers');
  });

  environ(`${mode}: a client cannot forge the hop's record of its headers`, async () => {
    const forged = Buffer.from(JSON.stringify({ prefix: '/py', path: '/environ', host: 'evil.test', scheme: 'https', clientAddress: '6.6.6.6', clientPort: 1, hop: { version: '0.9', headers: ['Connection', 'forged'] } })).toString('base64url');
    const env = await environOf(served.port, `${at('/py/environ')}\nX-Serve-Here-Target: ${forged}`);
    assert.is(env.HTTP_CONNECTION, 'close');
    assert.is(env.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.is(env.REMOTE_ADDR, '127.0.0.1');
    assert.is(env['wsgi.url_scheme'], 'http');
    assert.is(env.HTTP_X_SERVE_HERE_TARGET, undefined);
  });

  environ(`${mode}: header names with "_" are dropped, as wsgiref does`, async () => {
    const env = await environOf(served.port, `${at('/py/environ')}\nX_Forwarded_For: 6.6.6.6\nX-Real_Thing: 1\nX-Custom: a\nX-Custom: b`);
    assert.is(env.HTTP_X_FORWARDED_FOR, '127.0.0.1', "serve-here's own, and only it");
    assert.is(env.HTTP_X_REAL_THING, undefined);
    assert.is(env.HTTP_X_CUSTOM, 'a,b');
    for (const [key, value] of Object.entries(env)) assert.not.ok(String(value).includes('6.6.6.6'), `${key}=${String(value)}`);
  });

  environ(`${mode}: PATH_INFO is decoded escape by escape; a bad escape stays as the client wrote it`, async () => {
    const env = await environOf(served.port, at('/py/environ/a%20b/%FF/caf%C3%A9/%e2%82/x%2Fy/%F0%9F%98%80'));
    assert.is(env.PATH_INFO, '/environ/a b/%FF/café/%e2%82/x/y/😀');
  });

  environ.run();

  // ---- wsgi.input --------------------------------------------------------------------------------

  const input = suite(`WSGI input (${mode}): a file of bytes, the same in both modes`);

  input(`${mode}: read(n), read(0) and read() return bytes, and empty bytes at the end`, async () => {
    assert.equal(await inputOps(served.port, 'read:5,read:0,read,read,read:4', BODY), bytes('line ', '', 'one\nline two\nlast', '', ''));
  });

  input(`${mode}: readline() and readline(limit)`, async () => {
    assert.equal(await inputOps(served.port, 'readline,readline:4,readline,readline,readline', BODY), bytes('line one\n', 'line', ' two\n', 'last', ''));
  });

  input(`${mode}: readlines() and readlines(hint)`, async () => {
    assert.equal(await inputOps(served.port, 'readlines', BODY), [bytes('line one\n', 'line two\n', 'last')]);
    assert.equal(await inputOps(served.port, 'readlines:10,read', BODY), [bytes('line one\n', 'line two\n'), { bytes: 'last' }]);
  });

  input(`${mode}: for await iterates by lines; calls not awaited one by one keep their order`, async () => {
    assert.equal(await inputOps(served.port, 'iter,read', BODY), [bytes('line one\n', 'line two\n', 'last'), { bytes: '' }]);
    assert.equal(await inputOps(served.port, 'together,read', BODY), [bytes('lin', 'e one\n', 'li'), { bytes: 'ne two\nlast' }]);
  });

  input(`${mode}: a request without a body reads as empty bytes`, async () => {
    const res = await request(served.port, '/py/input?ops=read,readline,readlines,iter');
    assert.equal(JSON.parse(res.text), [{ bytes: '' }, { bytes: '' }, [], []]);
  });

  input(`${mode}: a chunked body, and a body of 3 MB read in steps`, async () => {
    const chunked = await raw(served.port, `POST /py/input?ops=readline,read HTTP/1.1\n${hostLine(served.port)}\nConnection: close\nTransfer-Encoding: chunked`, '5\r\nab\ncd\r\n3\r\nefg\r\n0\r\n\r\n');
    assert.equal(JSON.parse(chunked.body), bytes('ab\n', 'cdefg'));
    const big = Buffer.alloc(3 * 1024 * 1024, 'x');
    assert.equal(await inputOps(served.port, 'sizes:1000000', big), [[1_000_000, 1_000_000, 1_000_000, 145_728, 0]]);
  });

  input(`${mode}: a body the app read only in part does not stall the connection`, async () => {
    // Two requests on one connection: the first one's body is read only up to its first line.
    const first = `POST /py/input?ops=readline HTTP/1.1\r\n${hostLine(served.port)}\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`;
    const text = await rawRequest(served.port, `${first}${at('/py/input?ops=read').replace(/\n/g, '\r\n')}\r\n\r\n`, 10_000);
    assert.is(text.match(/HTTP\/1\.1 200/g)?.length, 2, text);
  });

  input(`${mode}: a client that leaves midway through its body makes the pending read reject`, async () => {
    const socket = net.connect(served.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`POST /py/abort HTTP/1.1\r\n${hostLine(served.port)}\r\nContent-Length: 100\r\n\r\nonly part`);
    const result = async (): Promise<{ waiting?: true; rejected?: unknown } | null> => JSON.parse((await request(served.port, '/py/abort-result')).text) as { waiting?: true; rejected?: unknown } | null;
    // The client goes once the app waits in read() for the other 91 bytes.
    await waitUntil(async () => (await result())?.waiting, 10_000, 'the app to start reading');
    socket.destroy();
    const ended = await waitUntil(async () => {
      const r = await result();
      return r === null || r.waiting === true ? undefined : r;
    }, 10_000, 'the app to see the end of its body');
    assert.ok(ended.rejected !== undefined, JSON.stringify(ended));
  });

  input.run();

  // ---- wsgi.errors, start_response, the iterable and close() -------------------------------------

  const rest = suite(`WSGI errors, start_response, iterable and close() (${mode})`);

  rest(`${mode}: wsgi.errors has write, writelines and flush, and goes to the terminal`, async () => {
    const res = await request(served.port, '/py/errors');
    assert.is(res.status, 200, res.text);
    await served.cli.waitFor(/probe: writelines 2/);
    assert.match(served.cli.stderr() + served.cli.stdout(), 'probe: write\n');
  });

  for (const name of ['status-number', 'status-no-reason', 'status-two-digits', 'status-1xx', 'status-four-digits', 'status-crlf', 'headers-object', 'header-not-pair', 'header-number', 'header-status', 'header-colon', 'header-space', 'header-newline-value', 'header-control-value', 'hop-connection', 'hop-transfer-encoding', 'hop-keep-alive', 'exc-info-string']) {
    rest(`${mode}: startResponse() throws at the call for ${name}, and the app can still answer`, async () => {
      const res = await request(served.port, `/py/start?case=${name}`);
      assert.is(res.status, 200, res.text);
      const report = JSON.parse(res.text) as { threw: boolean; name?: string };
      assert.ok(report.threw, res.text);
      assert.is(report.name, name === 'exc-info-string' ? 'TypeError' : 'AppResponseError');
    });
  }

  rest(`${mode}: excInfo null, undefined and [null, null, null] mean "not given": a second call throws`, async () => {
    const res = await request(served.port, '/py/exc-info-none');
    const report = JSON.parse(res.text) as Record<string, { threw: boolean }>;
    assert.equal(report, { null: report.null, undefined: report.undefined, emptyTriple: report.emptyTriple });
    for (const [k, v] of Object.entries(report)) assert.ok(v.threw, `${k}: ${res.text}`);
  });

  rest(`${mode}: after headers are sent, excInfo re-throws the original error (an Error or a triple's value)`, async () => {
    for (const shape of ['error', 'triple']) {
      const res = await request(served.port, `/py/exc-info-sent?shape=${shape}`);
      assert.is(res.text, 'sent;the original was re-thrown', shape);
    }
  });

  rest(`${mode}: before headers are sent, excInfo replaces the status and headers`, async () => {
    for (const shape of ['error', 'triple']) {
      const res = await request(served.port, `/py/exc-info-before?shape=${shape}`);
      assert.is(res.status, 503, shape);
      assert.is(res.text, 'replaced');
    }
  });

  rest(`${mode}: the iterable: startResponse in its first step, write(), a string refused, a body before startResponse refused`, async () => {
    assert.is((await request(served.port, '/py/lazy')).text, 'lazy body');
    assert.is((await request(served.port, '/py/write')).text, 'written bytes then iterated');
    assert.is((await request(served.port, '/py/string')).status, 500);
    assert.is((await request(served.port, '/py/early')).status, 500);
  });

  rest(`${mode}: close() is called once after a complete body and once after a failing one`, async () => {
    assert.is((await request(served.port, '/py/close?name=normal')).text, 'ab');
    await request(served.port, '/py/close?name=error').catch(() => undefined);
    const counts = await waitUntil(async () => {
      const c = JSON.parse((await request(served.port, '/py/close-count')).text) as Record<string, number>;
      return c.error === undefined ? undefined : c;
    });
    assert.equal(counts, { normal: 1, error: 1 });
  });

  rest(`${mode}: the README's form example reads a POST form`, async () => {
    assert.ok(example !== undefined, 'README has the ```js block starting with "// form.mjs"');
    const page = await request(served.port, '/form/');
    assert.is(page.status, 200, page.text);
    assert.match(page.text, '<form method="post"');
    const posted = await send(served.port, '/form/', { method: 'POST', body: 'name=Ada+Lovelace&note=caf%C3%A9+%26+more', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.is(posted.status, 200, posted.body);
    assert.match(posted.body, 'Hello, Ada Lovelace');
    assert.match(posted.body, 'café &amp; more');
  });

  rest.run();
}

// ---- the two modes side by side ------------------------------------------------------------------

const parity = suite('WSGI: the reloading mode and --no-watch give the same environ and the same input');

const PARITY: Array<[string, (port: number) => string, string]> = [
  ['GET, Connection: close', (p) => `GET /py/environ/a%20b?q=1 HTTP/1.1\n${hostLine(p)}\nConnection: close\nAccept: */*`, ''],
  ['HTTP/1.0', (p) => `GET /py/environ HTTP/1.0\n${hostLine(p)}`, ''],
  ['HTTP/1.0 keep-alive', (p) => `GET /py/environ HTTP/1.0\n${hostLine(p)}\nConnection: keep-alive\nKeep-Alive: timeout=1`, ''],
  ['POST with a body and odd headers', (p) => `POST /py/environ HTTP/1.1\n${hostLine(p)}\nConnection: close\nContent-Type: text/plain\nContent-Length: 4\nX_Under: 1\nTE: trailers\nX-Dup: 1\nX-Dup: 2\nCookie: a=1`, 'body'],
  ['POST chunked', (p) => `POST /py/environ HTTP/1.1\n${hostLine(p)}\nConnection: close\nTransfer-Encoding: chunked`, '4\r\nbody\r\n0\r\n\r\n'],
  ['POST without a body', (p) => `POST /py/environ HTTP/1.1\n${hostLine(p)}\nConnection: close`, ''],
  ['a forged target header', (p) => `GET /py/environ HTTP/1.1\n${hostLine(p)}\nConnection: close\nX-Serve-Here-Target: eyJwcmVmaXgiOiIvcHkifQ`, ''],
];

parity('the environ of each request is the same in both modes (but for REMOTE_PORT and the Host port)', async () => {
  for (const [what, head, body] of PARITY) {
    const [a, b] = await Promise.all(servers.map(async (s) => {
      const env = await environOf(s.port, head(s.port), body);
      delete env.REMOTE_PORT;
      // The two servers listen on different ports: the only thing the client sent differently.
      return JSON.parse(JSON.stringify(env).replaceAll(`:${s.port}`, ':PORT').replaceAll(`"${s.port}"`, '"PORT"')) as unknown;
    }));
    assert.equal(a, b, what);
  }
});

parity('wsgi.input answers the same sequence of calls the same way in both modes', async () => {
  for (const ops of ['read:5,read:0,read,read', 'readline,readline:4,readlines', 'readlines:10,iter', 'together,iter,read']) {
    const [a, b] = await Promise.all(servers.map((s) => inputOps(s.port, ops, BODY)));
    assert.equal(a, b, ops);
  }
});

parity.after(async () => {
  await Promise.all(servers.map((s) => s.cli.stop()));
  await removeTree(dir);
});

parity.run();
