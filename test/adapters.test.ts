// Tests for src/app/adapters.ts: each convention (fetch, node, WSGI-style) run for real behind a
// node:http server on 127.0.0.1 port 0, requested over real sockets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { runApp, type RequestMeta } from '../src/app/adapters.js';
import { appPath } from './helpers/app-path.js';
import { detectApp, type DetectedApp } from '../src/app/detect.js';
import { request, rawRequest } from './helpers/server.js';
import { parseRaw, waitUntil } from './helpers/http.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface AppServer {
  port: number;
  /** What meta.errors received (wsgi.errors). */
  errors: string[];
  /** Errors runApp rejected with. */
  failures: unknown[];
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1:0 whose handler runs `app` through runApp(). */
async function serveApp(app: DetectedApp, meta: Partial<RequestMeta> = {}): Promise<AppServer> {
  const errors: string[] = [];
  const failures: unknown[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const prefix = meta.prefix ?? '';
    const strip = meta.strip ?? true;
    const full: RequestMeta = {
      prefix,
      path: appPath(req.url ?? '/', prefix, strip),
      strip,
      host: req.headers.host ?? 'localhost',
      clientAddress: req.socket.remoteAddress ?? '',
      clientPort: req.socket.remotePort ?? 0,
      scheme: 'http',
      multiprocess: false,
      errors: (text) => errors.push(text),
      ...meta,
    };
    runApp(app, req, res, full).catch((error: unknown) => {
      failures.push(error);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end(`runApp rejected: ${error instanceof Error ? error.message : String(error)}`);
      } else res.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('Expected a TCP address');
  return {
    port: addr.port,
    errors,
    failures,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A promise with its resolve function, for handlers the test controls. */
function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    open = r;
  });
  return { promise, open };
}

/** Resolve with `p`, or reject after `ms` saying what was awaited. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/** POST/PUT with a body via node:http; resolves with status, headers and body. */
function send(port: number, path: string, method: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { 'content-length': String(body.length), ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---- fetch: the Request the handler sees ------------------------------------------------------

interface SeenRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  prefix: string;
  hostname: string;
  port: number;
}

const fetchRequest = suite('runApp() fetch: the Request');
let seen: SeenRequest[] = [];
const echoApp = detectApp(
  {
    default: {
      fetch(request: Request, info: { prefix: string; remoteAddr: { hostname: string; port: number } }) {
        seen.push({ url: request.url, method: request.method, headers: Object.fromEntries(request.headers), prefix: info.prefix, hostname: info.remoteAddr.hostname, port: info.remoteAddr.port });
        return new Response('ok');
      },
    },
  },
  'echo.ts',
);

fetchRequest.before.each(() => {
  seen = [];
});

fetchRequest('runApp() fetch gets the URL below the prefix, method, headers, info.prefix and remoteAddr', async () => {
  const srv = await serveApp(echoApp, { prefix: '/api' });
  try {
    const res = await request(srv.port, '/api/items/7?sort=asc', { method: 'DELETE', headers: { 'X-Custom': 'yes', Host: 'example.test:1234' } });
    assert.is(res.status, 200);
    assert.is(seen.length, 1);
    const s = seen[0] as SeenRequest;
    assert.is(s.url, 'http://example.test:1234/items/7?sort=asc');
    assert.is(s.method, 'DELETE');
    assert.is(s.headers['x-custom'], 'yes');
    assert.is(s.prefix, '/api');
    assert.is(s.hostname, '127.0.0.1');
    assert.ok(s.port > 0, 'remoteAddr.port is the client port');
    assert.is(s.headers['x-forwarded-prefix'], '/api');
  } finally {
    await srv.close();
  }
});

fetchRequest('runApp() fetch sees "/" for the prefix itself', async () => {
  const srv = await serveApp(echoApp, { prefix: '/api' });
  try {
    await request(srv.port, '/api?x=1', { headers: { Host: 'h' } });
    assert.is(seen[0]?.url, 'http://h/?x=1');
  } finally {
    await srv.close();
  }
});

fetchRequest('runApp() fetch with strip:false gets the full path', async () => {
  const srv = await serveApp(echoApp, { prefix: '/api', strip: false });
  try {
    await request(srv.port, '/api/items/7?sort=asc', { headers: { Host: 'h' } });
    assert.is(seen[0]?.url, 'http://h/api/items/7?sort=asc');
    assert.is(seen[0]?.prefix, '/api');
    assert.is(seen[0]?.headers['x-forwarded-prefix'], '/api');
  } finally {
    await srv.close();
  }
});

fetchRequest('runApp() fetch at the root sets no x-forwarded-prefix and replaces a client one', async () => {
  const srv = await serveApp(echoApp, { prefix: '' });
  try {
    await request(srv.port, '/a/b', { headers: { Host: 'h' } });
    assert.is(seen[0]?.url, 'http://h/a/b');
    assert.is(seen[0]?.prefix, '');
    assert.is(seen[0]?.headers['x-forwarded-prefix'], undefined);
  } finally {
    await srv.close();
  }
  const srv2 = await serveApp(echoApp, { prefix: '/api' });
  try {
    seen = [];
    await request(srv2.port, '/api/x', { headers: { Host: 'h', 'X-Forwarded-Prefix': '/outer/api' } });
    assert.is(seen[0]?.headers['x-forwarded-prefix'], '/api', "the server's prefix, never the client's");
  } finally {
    await srv2.close();
  }
});

fetchRequest.run();

// ---- fetch: bodies in and out -----------------------------------------------------------------

const fetchBody = suite('runApp() fetch: streamed bodies');

fetchBody('runApp() fetch streams a 1 MiB request body to the handler as it arrives', async () => {
  const firstChunk = gate();
  const app = detectApp(
    {
      default: async (request: Request) => {
        const reader = (request.body as ReadableStream<Uint8Array>).getReader();
        const parts: Uint8Array[] = [];
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parts.push(value);
          firstChunk.open();
        }
        const all = Buffer.concat(parts);
        return Response.json({ length: all.length, sha: sha(all) });
      },
    },
    'body.ts',
  );
  const srv = await serveApp(app);
  const body = randomBytes(1024 * 1024);
  try {
    const result = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/upload', method: 'POST', headers: { 'content-length': String(body.length) }, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      // First half, then wait until the handler has read some of it: a buffering adapter never gets there.
      req.write(body.subarray(0, body.length / 2));
      void within(firstChunk.promise, 10_000, 'the handler to read the first chunk').then(
        () => req.end(body.subarray(body.length / 2)),
        (error: unknown) => {
          req.destroy();
          reject(error);
        },
      );
    });
    const res = await result;
    assert.is(res.status, 200);
    assert.equal(JSON.parse(res.text), { length: body.length, sha: sha(body) });
  } finally {
    await srv.close();
  }
});

fetchBody('runApp() fetch streams the response: the first chunk arrives while the handler still waits', async () => {
  const release = gate();
  let ended = false;
  const app = detectApp(
    {
      default: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(new TextEncoder().encode('first;'));
              await release.promise;
              controller.enqueue(new TextEncoder().encode('second;'));
              ended = true;
              controller.close();
            },
          }),
          { headers: { 'content-type': 'text/plain' } },
        ),
    },
    'stream.ts',
  );
  const srv = await serveApp(app);
  try {
    const req = http.get({ host: '127.0.0.1', port: srv.port, path: '/', agent: false });
    const [res] = (await within(once(req, 'response'), 10_000, 'response headers')) as [IncomingMessage];
    res.setEncoding('utf8');
    let text = '';
    const first = new Promise<void>((resolve) => {
      res.on('data', (c: string) => {
        text += c;
        if (text.includes('first;')) resolve();
      });
    });
    const end = once(res, 'end');
    await within(first, 10_000, 'the first chunk');
    assert.is(ended, false, 'the stream was still open when the first chunk arrived');
    assert.is(text, 'first;');
    release.open();
    await within(end, 10_000, 'the end of the stream');
    assert.is(text, 'first;second;');
    assert.is(res.headers['transfer-encoding'], 'chunked');
  } finally {
    release.open();
    await srv.close();
  }
});

fetchBody('runApp() fetch sends every Set-Cookie header separately', async () => {
  const app = detectApp(
    {
      default: () => {
        const headers = new Headers({ 'content-type': 'text/plain' });
        headers.append('set-cookie', 'a=1; Path=/');
        headers.append('set-cookie', 'b=2, with comma; HttpOnly');
        return new Response('cookies', { status: 201, statusText: 'Made', headers });
      },
    },
    'cookies.ts',
  );
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.status, 201);
    assert.equal(res.headers['set-cookie'], ['a=1; Path=/', 'b=2, with comma; HttpOnly']);
    assert.is(res.text, 'cookies');
  } finally {
    await srv.close();
  }
});

fetchBody('runApp() fetch answers HEAD with headers and no body', async () => {
  const app = detectApp({ default: () => new Response('a body that HEAD must not carry', { headers: { 'content-type': 'text/plain', 'x-head': '1' } }) }, 'head.ts');
  const srv = await serveApp(app);
  try {
    const raw = await rawRequest(srv.port, `HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`, 5000);
    const parsed = parseRaw(raw);
    assert.is(parsed.status, 200);
    assert.is(parsed.headers['x-head'], '1');
    assert.is(parsed.body, '');
    assert.not.match(raw, 'a body');
  } finally {
    await srv.close();
  }
});

fetchBody('runApp() rejects when a fetch handler returns something other than a Response', async () => {
  const app = detectApp({ default: () => 'just a string' }, 'bad.ts');
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.status, 500);
    assert.match(res.text, 'returned string, not a Response');
  } finally {
    await srv.close();
  }
});

fetchBody.run();

// ---- node (req, res) --------------------------------------------------------------------------

const nodeStyle = suite('runApp() node listener');

nodeStyle('runApp() node strips the prefix from req.url and sets req.baseUrl and req.originalUrl', async () => {
  const app = detectApp(
    {
      default: (req: IncomingMessage & { baseUrl?: string; originalUrl?: string }, res: ServerResponse) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ url: req.url, baseUrl: req.baseUrl, originalUrl: req.originalUrl }));
      },
    },
    'node.ts',
  );
  const srv = await serveApp(app, { prefix: '/api' });
  try {
    const res = await request(srv.port, '/api/users/3?full=1');
    assert.equal(JSON.parse(res.text), { url: '/users/3?full=1', baseUrl: '/api', originalUrl: '/api/users/3?full=1' });
    const bare = await request(srv.port, '/api?x=1');
    assert.equal(JSON.parse(bare.text), { url: '/?x=1', baseUrl: '/api', originalUrl: '/api?x=1' });
  } finally {
    await srv.close();
  }
});

nodeStyle('runApp() node with strip:false leaves req.url whole', async () => {
  const app = detectApp({ default: (req: IncomingMessage & { baseUrl?: string }, res: ServerResponse) => void res.end(`${req.url ?? ''}|${req.baseUrl ?? 'none'}`) }, 'node.ts');
  const srv = await serveApp(app, { prefix: '/api', strip: false });
  try {
    const res = await request(srv.port, '/api/users');
    assert.is(res.text, '/api/users|none');
  } finally {
    await srv.close();
  }
});

nodeStyle('runApp() node rejects when an async listener throws', async () => {
  const app = detectApp({ default: async (_req: IncomingMessage, _res: ServerResponse) => Promise.reject(new Error('async boom')) }, 'node.ts');
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.status, 500);
    assert.match(res.text, 'async boom');
  } finally {
    await srv.close();
  }
});

nodeStyle.run();

// ---- WSGI-style -------------------------------------------------------------------------------

const SECRET_ENV = 'SERVE_HERE_ADAPTER_TEST_SECRET';
const wsgiEnviron = suite('runApp() WSGI environ');

wsgiEnviron('runApp() WSGI builds the PEP 3333 environ from the request only', async () => {
  process.env[SECRET_ENV] = 'must-not-leak';
  let environ: Record<string, unknown> = {};
  let input = '';
  const app = detectApp(
    {
      async wsgi(env: Record<string, unknown>, start: (s: string, h: Array<[string, string]>) => unknown) {
        environ = env;
        for await (const chunk of env['wsgi.input'] as Readable) input += (chunk as Buffer).toString();
        (env['wsgi.errors'] as NodeJS.WritableStream).write('to wsgi.errors\n');
        start('200 OK', [['Content-Type', 'text/plain']]);
        return ['ok'];
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app, { prefix: '/api', multiprocess: true });
  try {
    const body = Buffer.from('name=value&x=%20');
    const res = await send(srv.port, '/api/hello%20world/caf%C3%A9?q=1&r=%2F', 'POST', body, {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Custom-Thing': 'custom',
      Host: 'example.test:8123',
    });
    assert.is(res.status, 200);
    assert.is(res.text, 'ok');
    assert.is(environ.REQUEST_METHOD, 'POST');
    assert.is(environ.SCRIPT_NAME, '/api');
    assert.is(environ.PATH_INFO, '/hello world/café');
    assert.is(environ.QUERY_STRING, 'q=1&r=%2F');
    assert.is(environ.CONTENT_TYPE, 'application/x-www-form-urlencoded');
    assert.is(environ.CONTENT_LENGTH, String(body.length));
    assert.is(environ.HTTP_CONTENT_TYPE, undefined);
    assert.is(environ.HTTP_CONTENT_LENGTH, undefined);
    assert.is(environ.SERVER_NAME, 'example.test');
    // From the server's validated Host (the port the client asked for), not the socket's local port,
    // which is a Unix socket behind the reload hop.
    assert.is(environ.SERVER_PORT, '8123');
    assert.is(environ.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.is(environ.HTTP_X_CUSTOM_THING, 'custom');
    assert.is(environ.HTTP_HOST, 'example.test:8123');
    assert.is(environ.REMOTE_ADDR, '127.0.0.1');
    assert.equal(environ['wsgi.version'], [1, 0]);
    assert.is(environ['wsgi.url_scheme'], 'http');
    assert.is(environ['wsgi.multithread'], false);
    assert.is(environ['wsgi.multiprocess'], true);
    assert.is(environ['wsgi.run_once'], false);
    assert.is(input, body.toString(), 'wsgi.input yields the request body');
    assert.equal(srv.errors, ['to wsgi.errors\n']);
    for (const name of ['PATH', 'HOME', SECRET_ENV]) assert.not.ok(name in environ, `${name} from process.env must not be in environ`);
    for (const name of Object.keys(process.env)) assert.not.ok(name in environ && environ[name] === process.env[name], `process.env.${name} leaked into environ`);
  } finally {
    delete process.env[SECRET_ENV];
    await srv.close();
  }
});

wsgiEnviron('runApp() WSGI keeps PATH_INFO raw when it is not valid percent-encoding, and SCRIPT_NAME empty at the root', async () => {
  let environ: Record<string, unknown> = {};
  const app = detectApp(
    {
      wsgi(env: Record<string, unknown>, start: (s: string, h: Array<[string, string]>) => unknown) {
        environ = env;
        start('204 No Content', []);
        return [];
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app, { prefix: '' });
  try {
    const res = await request(srv.port, '/bad%zz');
    assert.is(res.status, 204);
    assert.is(environ.SCRIPT_NAME, '');
    assert.is(environ.PATH_INFO, '/bad%zz');
    assert.is(environ.QUERY_STRING, '');
    assert.is(environ.CONTENT_TYPE, undefined);
    assert.is(environ['wsgi.multiprocess'], false);
  } finally {
    await srv.close();
  }
});

wsgiEnviron.run();

// ---- WSGI-style: start_response and the body ---------------------------------------------------

type Start = (s: string, h: Array<[string, string]>, exc?: unknown) => (chunk: string | Uint8Array) => void;
const wsgiResponse = suite('runApp() WSGI response');

wsgiResponse('runApp() WSGI startResponse() twice without excInfo throws', async () => {
  let thrown = '';
  const app = detectApp(
    {
      wsgi(_env: unknown, start: Start) {
        start('200 OK', [['Content-Type', 'text/plain']]);
        try {
          start('404 Not Found', []);
        } catch (error) {
          thrown = (error as Error).message;
        }
        return ['first status kept'];
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.status, 200);
    assert.is(res.text, 'first status kept');
    assert.match(thrown, 'called twice without excInfo');
  } finally {
    await srv.close();
  }
});

wsgiResponse('runApp() WSGI startResponse() with excInfo before headers are sent replaces status and headers', async () => {
  const app = detectApp(
    {
      wsgi(_env: unknown, start: Start) {
        start('200 OK', [['X-First', '1']]);
        start('500 Internal Server Error', [['Content-Type', 'text/plain'], ['X-Second', '1']], new Error('handled'));
        return ['replaced'];
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.status, 500);
    assert.is(res.headers['x-second'], '1');
    assert.is(res.headers['x-first'], undefined);
    assert.is(res.text, 'replaced');
    assert.is(srv.failures.length, 0);
  } finally {
    await srv.close();
  }
});

wsgiResponse('runApp() WSGI streams an async iterable body in order', async () => {
  const app = detectApp(
    {
      wsgi(_env: unknown, start: Start) {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return (async function* () {
          yield 'one,';
          await new Promise((r) => setTimeout(r, 5));
          yield new TextEncoder().encode('two,');
          yield '';
          yield 'three';
        })();
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.status, 200);
    assert.is(res.text, 'one,two,three');
    assert.is(res.headers['transfer-encoding'], 'chunked');
  } finally {
    await srv.close();
  }
});

wsgiResponse('runApp() WSGI sends Content-Length for a one-element array', async () => {
  const app = detectApp(
    {
      wsgi(_env: unknown, start: Start) {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return ['héllo'];
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.headers['content-length'], String(Buffer.byteLength('héllo')));
    assert.is(res.headers['transfer-encoding'], undefined);
    assert.is(res.text, 'héllo');
    const head = parseRaw(await rawRequest(srv.port, 'HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', 5000));
    assert.is(head.headers['content-length'], String(Buffer.byteLength('héllo')));
    assert.is(head.body, '');
  } finally {
    await srv.close();
  }
});

wsgiResponse('runApp() WSGI write() callable sends before the iterable', async () => {
  const app = detectApp(
    {
      wsgi(_env: unknown, start: Start) {
        const write = start('200 OK', [['Content-Type', 'text/plain']]);
        write('written;');
        return ['returned'];
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.text, 'written;returned');
  } finally {
    await srv.close();
  }
});

wsgiResponse('runApp() WSGI calls close() on the returned iterable after a complete response', async () => {
  let closed = 0;
  const app = detectApp(
    {
      wsgi(_env: unknown, start: Start) {
        start('200 OK', []);
        return {
          *[Symbol.iterator]() {
            yield 'a';
            yield 'b';
          },
          close() {
            closed++;
          },
        };
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.text, 'ab');
    await waitUntil(() => (closed > 0 ? true : undefined), 5000, 'close()');
    assert.is(closed, 1);
  } finally {
    await srv.close();
  }
});

wsgiResponse('runApp() WSGI calls close() when the client disconnects mid-stream', async () => {
  const closed = gate();
  let closeCalls = 0;
  const app = detectApp(
    {
      wsgi(_env: unknown, start: Start) {
        start('200 OK', [['Content-Type', 'text/event-stream']]);
        let sent = false;
        // An event stream: one event at once, then nothing until close() stops it (as a real feed would).
        return {
          [Symbol.asyncIterator]() {
            return {
              next: async (): Promise<IteratorResult<string>> => {
                if (!sent) {
                  sent = true;
                  return { done: false, value: 'data: first\n\n' };
                }
                await closed.promise;
                return { done: true, value: undefined };
              },
            };
          },
          close() {
            closeCalls++;
            closed.open();
          },
        };
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app);
  try {
    const req = http.get({ host: '127.0.0.1', port: srv.port, path: '/', agent: false });
    req.on('error', () => {});
    const [res] = (await within(once(req, 'response'), 10_000, 'response headers')) as [IncomingMessage];
    await within(once(res, 'data'), 10_000, 'the first event');
    res.on('error', () => {});
    req.destroy();
    await within(closed.promise, 10_000, 'close() after the client went away');
    await waitUntil(() => (closeCalls > 0 ? true : undefined), 1000, 'close() count');
    assert.is(closeCalls, 1);
  } finally {
    closed.open();
    await srv.close();
  }
});

wsgiResponse('runApp() WSGI calls close() when the iterable throws mid-body', async () => {
  let closed = 0;
  const app = detectApp(
    {
      wsgi(_env: unknown, start: Start) {
        start('200 OK', []);
        return {
          *[Symbol.iterator]() {
            yield 'partial';
            throw new Error('iteration failed');
          },
          close() {
            closed++;
          },
        };
      },
    },
    'wsgi.ts',
  );
  const srv = await serveApp(app);
  try {
    await request(srv.port, '/').catch(() => undefined); // the response is cut: headers were sent
    await waitUntil(() => (srv.failures.length > 0 ? true : undefined), 5000, 'runApp to reject');
    assert.match(String(srv.failures[0]), 'iteration failed');
    assert.is(closed, 1);
  } finally {
    await srv.close();
  }
});

wsgiResponse('runApp() WSGI rejects a body produced before startResponse()', async () => {
  const app = detectApp({ wsgi: (_env: unknown, _start: Start) => ['too early', 'two parts'] }, 'wsgi.ts');
  const srv = await serveApp(app);
  try {
    const res = await request(srv.port, '/');
    assert.is(res.status, 500);
    assert.match(res.text, 'before calling startResponse()');
  } finally {
    await srv.close();
  }
});

wsgiResponse.run();
