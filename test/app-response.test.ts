// runApp() hardening: a bad answer of any convention rejects with AppResponseError before anything
// is written, Content-Length is enforced, forwarding headers and the app's URL come from the
// server, never from the client. Real node:http servers on 127.0.0.1 port 0, raw sockets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { AppResponseError, runApp, type RequestMeta } from '../src/app/adapters.js';
import { appPath } from './helpers/app-path.js';
import { detectApp, type DetectedApp } from '../src/app/detect.js';
import { request, rawRequest } from './helpers/server.js';
import { parseRaw, waitUntil } from './helpers/http.js';

interface AppServer {
  port: number;
  failures: unknown[];
  close(): Promise<void>;
}

/**
 * runApp() behind a node:http server, answering as the host does: 502 for AppResponseError,
 * 500 for anything else, and destroying a response whose headers were already sent.
 */
async function serveApp(app: DetectedApp, meta: Partial<RequestMeta> = {}): Promise<AppServer> {
  const failures: unknown[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const prefix = meta.prefix ?? '';
    const full: RequestMeta = {
      prefix,
      path: appPath(req.url ?? '/', prefix, true),
      strip: true,
      host: 'app.test:8080',
      clientAddress: '127.0.0.1',
      clientPort: req.socket.remotePort ?? 0,
      scheme: 'http',
      multiprocess: false,
      errors: () => {},
      ...meta,
    };
    runApp(app, req, res, full).catch((error: unknown) => {
      failures.push(error);
      if (res.headersSent) return void res.destroy();
      res.statusCode = error instanceof AppResponseError ? 502 : 500;
      res.end(`runApp rejected: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('Expected a TCP address');
  return {
    port: addr.port,
    failures,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** GET `path`, expect the 502 from an AppResponseError with none of the app's headers. */
async function expect502(app: DetectedApp, path = '/'): Promise<void> {
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, path);
    assert.is(res.status, 502, res.text);
    assert.is(res.headers['x-app'], undefined, "none of the app's headers were sent");
    assert.ok(srv.failures[0] instanceof AppResponseError, String(srv.failures[0]));
    const next = await request(srv.port, '/ok');
    assert.is(next.status, next.text === 'fine' ? 200 : next.status, 'the server still answers');
  } finally {
    await srv.close();
  }
}

const fetchApp = (make: (request: Request) => unknown): DetectedApp =>
  detectApp({ default: (request: Request) => (new URL(request.url).pathname === '/ok' ? new Response('fine') : make(request)) }, 'app.ts');
const nodeApp = (handle: (res: ServerResponse) => void): DetectedApp =>
  detectApp({ default: (req: IncomingMessage, res: ServerResponse) => (req.url === '/ok' ? res.end('fine') : handle(res)) }, 'app.ts');
const wsgiApp = (status: string, headers: Array<[string, string]>, body: unknown[] = ['x']): DetectedApp =>
  detectApp(
    {
      wsgi(environ: Record<string, unknown>, start: (s: string, h: Array<[string, string]>) => unknown) {
        if (environ.PATH_INFO === '/ok') {
          start('200 OK', []);
          return ['fine'];
        }
        start(status, headers);
        return body;
      },
    },
    'app.ts',
  );

// ---- bad answers → AppResponseError, nothing written --------------------------------------------

const bad = suite('runApp() rejects an answer that cannot be sent with AppResponseError');

bad('runApp() fetch: Response.error() → AppResponseError', () => expect502(fetchApp(() => Response.error())));
bad('runApp() fetch: a header value node refuses (control character) → AppResponseError', () =>
  expect502(fetchApp(() => new Response('x', { headers: { 'x-app': '1', 'x-bad': 'a\u0001b' } }))),
);
bad('runApp() fetch: a non-Response → AppResponseError', () => expect502(fetchApp(() => ({ status: 200 }))));
bad('runApp() fetch: a Response whose body was already read → AppResponseError', () =>
  expect502(
    fetchApp(async () => {
      const used = new Response('x', { headers: { 'x-app': '1' } });
      await used.text();
      return used;
    }),
  ),
);
bad('runApp() fetch: a Response whose body is locked by a reader → AppResponseError', () =>
  expect502(
    fetchApp(() => {
      const locked = new Response('x', { headers: { 'x-app': '1' } });
      locked.body?.getReader();
      return locked;
    }),
  ),
);
bad('runApp() fetch: a body stream that fails before its first byte → AppResponseError', () =>
  expect502(
    fetchApp(
      () =>
        new Response(
          new ReadableStream({
            pull() {
              throw new Error('stream broke');
            },
          }),
          { headers: { 'x-app': '1' } },
        ),
    ),
  ),
);

bad('runApp() fetch: a body stream that fails after its headers were sent destroys the response', async () => {
  const app = fetchApp(
    () =>
      new Response(
        new ReadableStream<Uint8Array>({
          async start(c) {
            c.enqueue(new TextEncoder().encode('part;'));
            await new Promise((r) => setTimeout(r, 50));
            c.error(new Error('stream broke later'));
          },
        }),
      ),
  );
  const srv = await serveApp(app);
  try {
    const raw = await rawRequest(srv.port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', 5000);
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.match(raw, 'part;');
    assert.not.match(raw, /\r\n0\r\n\r\n$/, 'no final chunk: the client sees the response cut off');
    await waitUntil(() => (srv.failures.length > 0 ? true : undefined), 5000, 'runApp to reject');
    assert.ok(srv.failures[0] instanceof AppResponseError);
  } finally {
    await srv.close();
  }
});

for (const [what, act] of [
  ['status 1000', (res: ServerResponse) => res.writeHead(1000).end()],
  ['status 99', (res: ServerResponse) => res.writeHead(99).end()],
  ['status NaN', (res: ServerResponse) => res.writeHead(Number.NaN).end()],
  ['a header name with a space', (res: ServerResponse) => res.setHeader('bad name', '1')],
  ['a header value with CR/LF', (res: ServerResponse) => res.setHeader('x-split', 'a\r\nx-injected: 1')],
] as const) {
  bad(`runApp() node: ${what} → AppResponseError`, () =>
    expect502(
      nodeApp((res) => {
        res.setHeader('x-app', '1');
        act(res);
      }),
    ),
  );
}

for (const [what, status, headers] of [
  ['status "099 Too Low"', '099 Too Low', []],
  ['status "1000 Too High"', '1000 Too High', []],
  ['status "OK"', 'OK', []],
  ['status "200 OK\\r\\nX-Injected: 1"', '200 OK\r\nX-Injected: 1', []],
  ['a header name with a space', '200 OK', [['bad name', '1']]],
  ['a header value with CR/LF', '200 OK', [['x-split', 'a\r\nx-injected: 1']]],
  ['a header that is not a pair of strings', '200 OK', [[1, 2]]],
] as const) {
  bad(`runApp() WSGI: ${what} → AppResponseError`, () => expect502(wsgiApp(status, [['x-app', '1'], ...(headers as unknown as Array<[string, string]>)])));
}

bad.run();

// ---- Content-Length is enforced ---------------------------------------------------------------

const length = suite('runApp() enforces Content-Length (strictContentLength)');

/** The bad request then a good one pipelined on one connection: the second must never read leftovers. */
async function pipelined(app: DetectedApp): Promise<void> {
  const srv = await serveApp(app);
  try {
    const raw = await rawRequest(srv.port, 'GET /long HTTP/1.1\r\nHost: h\r\n\r\nGET /ok HTTP/1.1\r\nHost: h\r\n\r\n', 5000);
    assert.not.match(raw, 'world', 'no byte beyond the Content-Length reached the client');
    assert.not.match(raw, /HTTP\/1\.1 200[^]*HTTP\/1\.1 200[^]*fine/, 'no second response parsed out of leftovers');
    await waitUntil(() => (srv.failures.length > 0 ? true : undefined), 5000, 'runApp to reject');
    const next = await request(srv.port, '/ok');
    assert.is(next.status, 200);
    assert.is(next.text, 'fine', 'a new connection gets a clean answer');
  } finally {
    await srv.close();
  }
}

length('runApp() node: writing past the Content-Length closes the connection cleanly', () =>
  pipelined(
    nodeApp((res) => {
      res.setHeader('content-length', '5');
      res.end('hello world');
    }),
  ),
);
length('runApp() fetch: a body longer than its Content-Length closes the connection cleanly', () =>
  pipelined(fetchApp(() => new Response('hello world', { headers: { 'content-length': '5' } }))),
);
length('runApp() WSGI: a body longer than its Content-Length closes the connection cleanly', () =>
  pipelined(wsgiApp('200 OK', [['Content-Length', '5']], ['hello', ' world'])),
);

length('runApp() fetch: a body shorter than its Content-Length is cut off, never padded by the next response', async () => {
  const srv = await serveApp(fetchApp(() => new Response('short', { headers: { 'content-length': '50' } })));
  try {
    const raw = await rawRequest(srv.port, 'GET /short HTTP/1.1\r\nHost: h\r\n\r\nGET /ok HTTP/1.1\r\nHost: h\r\n\r\n', 5000);
    assert.not.match(raw, 'fine', 'the next response is not sent as the rest of this body');
    const next = await request(srv.port, '/ok');
    assert.is(next.text, 'fine');
  } finally {
    await srv.close();
  }
});

length('runApp() fetch: a body complete at once goes out with a Content-Length, for GET and HEAD alike', async () => {
  const srv = await serveApp(fetchApp(() => new Response('hello world')));
  try {
    const get = await request(srv.port, '/plain');
    assert.is(get.headers['content-length'], '11');
    assert.is(get.headers['transfer-encoding'], undefined);
    assert.is(get.text, 'hello world');
    const raw = await rawRequest(srv.port, 'HEAD /plain HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', 5000);
    const head = parseRaw(raw);
    assert.is(head.headers['content-length'], '11');
    assert.is(head.body, '');
  } finally {
    await srv.close();
  }
});

length.run();

// ---- forwarding headers and the app's URL come from the server ---------------------------------

const forwarded = suite('runApp() forwarding headers and URL from the server only');

const SPOOF = {
  Host: 'evil.test',
  'X-Forwarded-For': '6.6.6.6',
  'x-FORWARDED-for': '7.7.7.7',
  Forwarded: 'for=6.6.6.6;host=evil.test;proto=https',
  'X-Forwarded-Host': 'evil.test',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Prefix': '/evil',
};

/** Send SPOOF with a raw request line (duplicate header names included) and return the body. */
async function spoofed(app: DetectedApp, path: string, meta: Partial<RequestMeta> = {}): Promise<string> {
  const srv = await serveApp(app, meta);
  try {
    const lines = Object.entries(SPOOF).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const raw = await rawRequest(srv.port, `GET ${path} HTTP/1.1\r\n${lines}Connection: close\r\n\r\n`, 5000);
    const parsed = parseRaw(raw);
    assert.is(parsed.status, 200, raw);
    return parsed.body;
  } finally {
    await srv.close();
  }
}

forwarded('runApp() fetch: client-sent Forwarded / X-Forwarded-* never reach the app; the URL is built from meta.host', async () => {
  const app = detectApp({ default: (request: Request) => Response.json({ url: request.url, headers: [...request.headers] }) }, 'app.ts');
  const seen = JSON.parse(await spoofed(app, '/api/a?b?c', { prefix: '/api' })) as { url: string; headers: Array<[string, string]> };
  assert.is(seen.url, 'http://app.test:8080/a?b?c');
  assert.not.match(JSON.stringify(seen.headers), '6.6.6.6');
  assert.not.match(JSON.stringify(seen.headers), '7.7.7.7');
  const h = new Map(seen.headers);
  assert.is(h.get('forwarded'), undefined);
  assert.is(h.get('x-forwarded-for'), '127.0.0.1');
  assert.is(h.get('x-forwarded-host'), 'app.test:8080');
  assert.is(h.get('x-forwarded-proto'), 'http');
  assert.is(h.get('x-forwarded-prefix'), '/api');
});

forwarded('runApp() node: req.headers and req.rawHeaders carry only the server\'s forwarding headers', async () => {
  const app = detectApp({ default: (req: IncomingMessage, res: ServerResponse) => res.end(JSON.stringify({ headers: req.headers, raw: req.rawHeaders })) }, 'app.ts');
  const seen = JSON.parse(await spoofed(app, '/x')) as { headers: Record<string, string>; raw: string[] };
  assert.not.match(JSON.stringify(seen), '6.6.6.6');
  assert.not.match(JSON.stringify(seen), '7.7.7.7');
  assert.not.match(JSON.stringify(seen), '/evil');
  assert.is(seen.headers.forwarded, undefined);
  assert.is(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.is(seen.headers['x-forwarded-proto'], 'http');
  assert.is(seen.headers['x-forwarded-prefix'], undefined, 'no prefix at the root');
  assert.is(seen.raw.filter((v) => v.toLowerCase() === 'x-forwarded-for').length, 1);
});

forwarded('runApp() WSGI: HTTP_X_FORWARDED_FOR is the real client; SERVER_NAME, SERVER_PORT and HTTP_HOST come from meta.host', async () => {
  let environ: Record<string, unknown> = {};
  const app = detectApp(
    {
      wsgi(env: Record<string, unknown>, start: (s: string, h: Array<[string, string]>) => unknown) {
        environ = env;
        start('200 OK', []);
        return ['ok'];
      },
    },
    'app.ts',
  );
  await spoofed(app, '/a?b?c');
  assert.is(environ.HTTP_X_FORWARDED_FOR, '127.0.0.1');
  assert.is(environ.HTTP_FORWARDED, undefined);
  assert.is(environ.HTTP_X_FORWARDED_HOST, 'app.test:8080');
  assert.is(environ.HTTP_X_FORWARDED_PROTO, 'http');
  assert.is(environ.HTTP_X_FORWARDED_PREFIX, undefined);
  assert.is(environ.HTTP_HOST, 'app.test:8080');
  assert.is(environ.SERVER_NAME, 'app.test');
  assert.is(environ.SERVER_PORT, '8080');
  assert.is(environ.PATH_INFO, '/a');
  assert.is(environ.QUERY_STRING, 'b?c');
  await spoofed(app, '/', { host: '[::1]:9000' });
  assert.is(environ.SERVER_NAME, '[::1]');
  assert.is(environ.SERVER_PORT, '9000');
  await spoofed(app, '/', { host: 'plain.test', scheme: 'https' });
  assert.is(environ.SERVER_NAME, 'plain.test');
  assert.is(environ.SERVER_PORT, '443');
  assert.is(environ.HTTP_HOST, 'plain.test');
});

forwarded.run();
