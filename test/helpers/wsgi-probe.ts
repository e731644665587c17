// A WSGI-style app that reports, as JSON, what serve-here gave it: the environ checked as
// wsgiref.validate does, wsgi.input driven by a list of calls, and what startResponse() threw.
// Mounted by test/wsgi-validate.test.ts in both modes (a temp module re-exports `wsgi`).
import { describe, environProblems } from './wsgi-lint.js';

type Headers = Array<[string, string]>;
type Write = (chunk: string | Uint8Array) => void;
type Start = (status: unknown, headers: unknown, excInfo?: unknown) => Write;
interface Input {
  read(n?: number | null): Promise<Uint8Array>;
  readline(limit?: number | null): Promise<Uint8Array>;
  readlines(hint?: number | null): Promise<Uint8Array[]>;
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}
interface Errors {
  write(text: string): unknown;
  writelines(lines: string[]): unknown;
  flush(): unknown;
}

const JSON_TYPE: Headers = [['Content-Type', 'application/json']];
/** close() calls seen, by path: a later GET /close-count reads them. */
const closes: Record<string, number> = {};
/** How the last read of a body whose client left midway ended: GET /abort-result reads it. */
let abortResult: unknown;

const json = (start: Start, value: unknown, status = '200 OK'): string[] => {
  start(status, JSON_TYPE);
  return [JSON.stringify(value)];
};

const thrown = (error: unknown): unknown => (error instanceof Error ? { name: error.name, message: error.message } : { value: String(error) });

/** Call startResponse with bad arguments; report what it threw (or that it did not). */
function tryStart(start: Start, args: unknown[]): unknown {
  try {
    start(...(args as [unknown, unknown, unknown]));
    return { threw: false };
  } catch (error) {
    return { threw: true, ...(thrown(error) as object) };
  }
}

const BAD_STARTS: Record<string, unknown[]> = {
  'status-number': [200, []],
  'status-no-reason': ['200', []],
  'status-two-digits': ['99 Low', []],
  'status-1xx': ['101 Switching', []],
  'status-four-digits': ['1000 High', []],
  'status-crlf': ['200 OK\r\nX-Injected: 1', []],
  'headers-object': ['200 OK', { 'Content-Type': 'text/plain' }],
  'header-not-pair': ['200 OK', [['Content-Type', 'text/plain', 'x']]],
  'header-number': ['200 OK', [['X-Count', 1]]],
  'header-status': ['200 OK', [['Status', '404 Not Found']]],
  'header-colon': ['200 OK', [['X-A:b', '1']]],
  'header-space': ['200 OK', [['bad name', '1']]],
  'header-newline-value': ['200 OK', [['X-Split', 'a\r\nX-Injected: 1']]],
  'header-control-value': ['200 OK', [['X-Nul', 'a\u0000b']]],
  'hop-connection': ['200 OK', [['Connection', 'close']]],
  'hop-transfer-encoding': ['200 OK', [['Transfer-Encoding', 'chunked']]],
  'hop-keep-alive': ['200 OK', [['Keep-Alive', 'timeout=5']]],
  'exc-info-string': ['200 OK', [], 'not an error'],
};

/** Run `ops` ("read:5,readline,readlines:10,iter") against wsgi.input; each result described. */
async function runOps(input: Input, ops: string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const op of ops) {
    const [name, arg] = op.split(':') as [string, string | undefined];
    const n = arg === undefined ? undefined : Number(arg);
    if (name === 'read') out.push(describe(await input.read(n)));
    else if (name === 'readline') out.push(describe(await input.readline(n)));
    else if (name === 'readlines') out.push(describe(await input.readlines(n)));
    else if (name === 'iter') {
      const lines: Uint8Array[] = [];
      for await (const line of input) lines.push(line);
      out.push(describe(lines));
    } else if (name === 'sizes') {
      // A large body in steps of n bytes: only the sizes are reported.
      const sizes: number[] = [];
      for (let chunk = await input.read(n); ; chunk = await input.read(n)) {
        sizes.push(chunk.length);
        if (chunk.length === 0) break;
      }
      out.push(sizes);
    } else if (name === 'together') {
      // Not awaited one by one: the calls still answer in the order they were made.
      out.push(describe(await Promise.all([input.read(3), input.readline(), input.read(2)])));
    } else out.push({ unknown: op });
  }
  return out;
}

function closable(name: string, chunks: Iterable<string>, fail = false): Iterable<string> & { close(): void } {
  return {
    *[Symbol.iterator]() {
      for (const chunk of chunks) yield chunk;
      if (fail) throw new Error('the body failed');
    },
    close() {
      closes[name] = (closes[name] ?? 0) + 1;
    },
  };
}

export async function wsgi(environ: Record<string, unknown>, start: Start): Promise<unknown> {
  const path = String(environ.PATH_INFO);
  const query = new URLSearchParams(String(environ.QUERY_STRING));
  const input = environ['wsgi.input'] as Input;
  if (path.startsWith('/environ')) {
    const cgi = Object.fromEntries(Object.entries(environ).filter(([k, v]) => !k.includes('.') || typeof v !== 'object'));
    return json(start, { problems: environProblems(environ), cgi });
  }
  if (path === '/input') return json(start, await runOps(input, (query.get('ops') ?? '').split(',').filter(Boolean)));
  if (path === '/errors') {
    const errors = environ['wsgi.errors'] as Errors;
    errors.write('probe: write\n');
    errors.writelines(['probe: writelines 1\n', 'probe: writelines 2\n']);
    errors.flush();
    return json(start, { ok: true });
  }
  if (path === '/start') {
    const result = tryStart(start, BAD_STARTS[query.get('case') ?? ''] ?? []);
    // The refused call set nothing: this one is the first that counts.
    return json(start, result);
  }
  if (path === '/exc-info-none') {
    start('200 OK', JSON_TYPE);
    const second = (excInfo: unknown): unknown => tryStart(start, ['500 Internal Server Error', JSON_TYPE, excInfo]);
    return [JSON.stringify({ null: second(null), undefined: second(undefined), emptyTriple: second([null, null, null]) })];
  }
  if (path === '/exc-info-sent') {
    // Headers go out with write(); then excInfo must re-throw the very error it carries.
    const write = start('200 OK', [['Content-Type', 'text/plain']]);
    write('sent;');
    const error = new RangeError('the original');
    const triple = query.get('shape') === 'triple';
    try {
      start('500 Internal Server Error', [], triple ? [RangeError, error, null] : error);
      return ['not re-thrown'];
    } catch (caught) {
      return [caught === error ? 'the original was re-thrown' : `something else: ${String(caught)}`];
    }
  }
  if (path === '/exc-info-before') {
    start('200 OK', JSON_TYPE);
    const triple = query.get('shape') === 'triple';
    const error = new Error('handled');
    start('503 Busy', [['Content-Type', 'text/plain']], triple ? [Error, error, null] : error);
    return ['replaced'];
  }
  if (path === '/lazy') {
    // start_response called in the first iteration, which PEP 3333 allows.
    return (function* () {
      start('200 OK', [['Content-Type', 'text/plain']]);
      yield 'lazy ';
      yield 'body';
    })();
  }
  if (path === '/early') {
    return (function* () {
      yield 'before startResponse';
    })();
  }
  if (path === '/string') {
    start('200 OK', [['Content-Type', 'text/plain']]);
    return 'a string, not an iterable of chunks';
  }
  if (path === '/write') {
    const write = start('200 OK', [['Content-Type', 'text/plain']]);
    write('written ');
    write(new TextEncoder().encode('bytes '));
    return ['then iterated'];
  }
  if (path === '/close') {
    const name = query.get('name') ?? 'normal';
    start('200 OK', [['Content-Type', 'text/plain']]);
    return closable(name, ['a', 'b'], name === 'error');
  }
  if (path === '/close-count') return json(start, closes);
  if (path === '/abort') {
    abortResult = { waiting: true };
    try {
      abortResult = { read: describe(await input.read()) };
    } catch (error) {
      abortResult = { rejected: thrown(error) };
    }
    return json(start, abortResult);
  }
  if (path === '/abort-result') return json(start, abortResult ?? null);
  return json(start, { unknown: path }, '404 Not Found');
}
