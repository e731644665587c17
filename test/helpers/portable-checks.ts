// The HTTP checks every engine must answer the same way (node:http to 127.0.0.1, so nothing
// normalises the request), and the facts that differ by engine (recorded, not compared).
import { request as httpRequest } from 'node:http';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Milliseconds from the first body byte to the end of the response. */
  spread: number;
}

export function send(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { ...opts.headers, ...(opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) }) }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      let first = 0;
      res.on('data', (c: Buffer) => {
        if (first === 0) first = Date.now();
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), spread: first === 0 ? 0 : Date.now() - first }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} within 10 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The media type without parameters: "application/json". */
function mediaType(reply: Reply): string {
  return String(reply.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function json(reply: Reply): unknown {
  try {
    return JSON.parse(reply.body) as unknown;
  } catch {
    return `not JSON: ${reply.body.slice(0, 80)}`;
  }
}

export interface Check {
  app: string;
  name: string;
  /** What the engine answered, reduced to what must be the same everywhere. */
  run(port: number): Promise<unknown>;
  expected(port: number): unknown;
}

const MULTIPART = ['--b0undary', 'Content-Disposition: form-data; name="name"', '', 'Ada', '--b0undary', 'Content-Disposition: form-data; name="doc"; filename="a.txt"', 'Content-Type: text/plain', '', 'hello', '--b0undary--', ''].join('\r\n');

export const CHECKS: Check[] = [
  {
    app: 'json-api.mjs',
    name: 'JSON body echoed',
    async run(port) {
      const r = await send(port, '/echo?q=1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: [1, 2], s: 'é✓' }) });
      return { status: r.status, type: mediaType(r), body: json(r) };
    },
    expected: () => ({ status: 200, type: 'application/json', body: { path: '/echo', q: '1', received: { a: [1, 2], s: 'é✓' } } }),
  },
  {
    app: 'json-api.mjs',
    name: 'GET → 405 + Allow',
    async run(port) {
      const r = await send(port, '/echo');
      return { status: r.status, allow: r.headers.allow, type: mediaType(r) };
    },
    expected: () => ({ status: 405, allow: 'POST', type: 'application/json' }),
  },
  {
    app: 'json-api.mjs',
    name: 'bad JSON → 400',
    async run(port) {
      const r = await send(port, '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
      return { status: r.status, body: json(r) };
    },
    expected: () => ({ status: 400, body: { error: 'not JSON' } }),
  },
  {
    app: 'stream.mjs',
    name: 'body streamed',
    async run(port) {
      const r = await send(port, '/stream');
      // The chunks are 150 ms apart: a buffered answer arrives at once, a streamed one spread out.
      return { status: r.status, body: r.body, streamed: r.spread >= 200 };
    },
    expected: () => ({ status: 200, body: 'chunk 1\nchunk 2\nchunk 3\n', streamed: true }),
  },
  {
    app: 'form.mjs',
    name: 'urlencoded form',
    async run(port) {
      const r = await send(port, '/form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Ada+L%C3%A9&tags=a&tags=b' });
      return { status: r.status, body: json(r) };
    },
    expected: () => ({ status: 200, body: { name: 'Ada Lé', tags: ['a', 'b'] } }),
  },
  {
    app: 'form.mjs',
    name: 'multipart form + file',
    async run(port) {
      const r = await send(port, '/form', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=b0undary' }, body: MULTIPART });
      return { status: r.status, body: json(r) };
    },
    expected: () => ({ status: 200, body: { name: 'Ada', doc: 'file:a.txt:5' } }),
  },
  {
    app: 'client-info.mjs',
    name: 'request URL + Host',
    async run(port) {
      const r = await send(port, '/who?x=1');
      const b = json(r) as Record<string, unknown>;
      return { status: r.status, method: b.method, path: b.path, search: b.search, host: b.host };
    },
    expected: (port) => ({ status: 200, method: 'GET', path: '/who', search: '?x=1', host: `127.0.0.1:${port}` }),
  },
  {
    app: 'hono.mjs',
    name: 'Hono route param',
    async run(port) {
      const r = await send(port, '/hello/world');
      return { status: r.status, body: json(r) };
    },
    expected: () => ({ status: 200, body: { hello: 'world' } }),
  },
  {
    app: 'hono.mjs',
    name: 'Hono POST → 201',
    async run(port) {
      const r = await send(port, '/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":7}' });
      return { status: r.status, body: json(r) };
    },
    expected: () => ({ status: 201, body: { created: { id: 7 } } }),
  },
  {
    app: 'hono.mjs',
    name: 'Hono 404',
    async run(port) {
      const r = await send(port, '/nope');
      return { status: r.status, body: r.body };
    },
    expected: () => ({ status: 404, body: '404 Not Found' }),
  },
];

/** What differs by engine: how the client address reaches the app (recorded in the table). */
export async function clientFacts(port: number): Promise<{ address: unknown; second: unknown; remoteAddr: unknown }> {
  const r = await send(port, '/who');
  const b = json(r) as Record<string, unknown>;
  return { address: b.address, second: b.second, remoteAddr: b.remoteAddr };
}
