// The same inputs through a Response / Request class, outcomes recorded (throws included), so the
// classes an app sees can be compared with the platform's. Used inside app processes too: it
// takes the classes as arguments and touches no other global.

type Outcome = { ok: unknown } | { threw: string };

const errorName = (error: unknown): string => (error instanceof Error ? error.name : typeof error);

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    return { ok: await run() };
  } catch (error) {
    return { threw: errorName(error) };
  }
}

/** What an app can observe on a Response without reading its body. */
function facts(r: Response, R: typeof Response): Record<string, unknown> {
  return {
    type: r.type,
    status: r.status,
    statusText: r.statusText,
    ok: r.ok,
    url: r.url,
    redirected: r.redirected,
    headers: [...r.headers],
    bodyNull: r.body === null,
    bodyUsed: r.bodyUsed,
    instanceOf: r instanceof R,
    tag: Object.prototype.toString.call(r),
    sameConstructor: r.constructor === R,
    ownKeys: Reflect.ownKeys(r).map(String),
  };
}

async function withText(r: Response, R: typeof Response): Promise<Record<string, unknown>> {
  const before = facts(r, R);
  const text = await outcome(() => r.text());
  return { ...before, text, bodyUsedAfter: r.bodyUsed };
}

/** Every case: a name and what it gives with `R`. */
export async function responseTable(R: typeof Response): Promise<Record<string, Outcome>> {
  const bytes = new TextEncoder().encode('bytes');
  const stream = (): ReadableStream<Uint8Array> =>
    new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('str'));
        c.enqueue(new TextEncoder().encode('eam'));
        c.close();
      },
    });
  const form = (): FormData => {
    const f = new FormData();
    f.append('a', '1');
    return f;
  };
  const twice = (read: (r: Response) => Promise<unknown>) => async (): Promise<unknown> => {
    const r = new R('{"a":1}');
    const first = await outcome(async () => {
      const v = await read(r);
      return v instanceof Blob ? { size: v.size, type: v.type } : v instanceof ArrayBuffer ? v.byteLength : v;
    });
    return { first, used: r.bodyUsed, second: await outcome(() => read(r)) };
  };
  const cases: Record<string, () => unknown> = {
    'no arguments': () => withText(new R(), R),
    'string body': () => withText(new R('hello'), R),
    'empty string body': () => withText(new R(''), R),
    'null body': () => withText(new R(null), R),
    'undefined body': () => withText(new R(undefined), R),
    'Uint8Array body': () => withText(new R(bytes), R),
    'ArrayBuffer body': () => withText(new R(bytes.buffer), R),
    'Blob body': () => withText(new R(new Blob(['blob'], { type: 'x/y' })), R),
    'URLSearchParams body': () => withText(new R(new URLSearchParams('a=1&b=2')), R),
    'FormData body': async () => {
      const r = new R(form());
      return { type: r.headers.get('content-type')?.split(';')[0], a: (await r.formData()).get('a') };
    },
    'ReadableStream body': () => withText(new R(stream()), R),
    'number body': () => withText(new R(42 as unknown as BodyInit), R),
    'object body': () => withText(new R({} as unknown as BodyInit), R),
    'status 204 with body': () => facts(new R('x', { status: 204 }), R),
    'status 205 with body': () => facts(new R('x', { status: 205 }), R),
    'status 304 with body': () => facts(new R('x', { status: 304 }), R),
    'status 204 without body': () => withText(new R(null, { status: 204 }), R),
    'status 99': () => facts(new R('x', { status: 99 }), R),
    'status 199': () => facts(new R('x', { status: 199 }), R),
    'status 200': () => facts(new R('x', { status: 200 }), R),
    'status 404': () => facts(new R('x', { status: 404 }), R),
    'status 599': () => facts(new R('x', { status: 599 }), R),
    'status 600': () => facts(new R('x', { status: 600 }), R),
    'status 1000': () => facts(new R('x', { status: 1000 }), R),
    'status NaN': () => facts(new R('x', { status: Number.NaN }), R),
    'status "201"': () => facts(new R('x', { status: '201' as unknown as number }), R),
    'status 200.5': () => facts(new R('x', { status: 200.5 }), R),
    'statusText': () => facts(new R('x', { statusText: 'Fine' }), R),
    'statusText with newline': () => facts(new R('x', { statusText: 'a\nb' }), R),
    'statusText non-Latin-1': () => facts(new R('x', { statusText: 'ü€' }), R),
    'headers record': () => facts(new R('x', { headers: { 'X-A': '1', 'content-type': 'a/b' } }), R),
    'headers array': () => facts(new R('x', { headers: [['x-a', '1'], ['x-a', '2'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']] }), R),
    'headers Headers': () => facts(new R('x', { headers: new Headers({ 'x-b': '2' }) }), R),
    'header name with space': () => facts(new R('x', { headers: { 'bad name': '1' } }), R),
    'header name empty': () => facts(new R('x', { headers: { '': '1' } }), R),
    'header value CRLF': () => facts(new R('x', { headers: { 'x-a': 'a\r\nb' } }), R),
    'header value NUL': () => facts(new R('x', { headers: { 'x-a': 'a\0b' } }), R),
    'header value control char': () => facts(new R('x', { headers: { 'x-a': 'a\u0001b' } }), R),
    'header value padded': () => facts(new R('x', { headers: { 'x-a': '  a  ' } }), R),
    'header array of wrong length': () => facts(new R('x', { headers: [['x-a']] as unknown as HeadersInit }), R),
    'init not an object': () => facts(new R('x', 5 as unknown as ResponseInit), R),
    'headers mutable': () => {
      const r = new R('x');
      r.headers.set('x-late', '1');
      return r.headers.get('x-late');
    },
    'Response.json': () => withText(R.json({ a: [1, 'two'] }, { status: 201, headers: { 'x-j': '1' } }), R),
    'Response.json content-type kept': () => facts(R.json(1, { headers: { 'content-type': 'x/y' } }), R),
    'Response.json undefined': () => facts(R.json(undefined), R),
    'Response.json 204': () => facts(R.json({}, { status: 204 }), R),
    'Response.json BigInt': () => facts(R.json(1n), R),
    'Response.redirect': () => withText(R.redirect('http://example.test/next', 307), R),
    'Response.redirect default status': () => facts(R.redirect('http://example.test/'), R),
    'Response.redirect status 200': () => facts(R.redirect('http://example.test/', 200), R),
    'Response.redirect relative': () => facts(R.redirect('/relative'), R),
    'Response.redirect headers immutable': () => R.redirect('http://example.test/').headers.set('x', '1'),
    'Response.error': () => withText(R.error(), R),
    'Response.error headers immutable': () => R.error().headers.set('x', '1'),
    'clone': async () => {
      const r = new R('cloned', { status: 201, headers: { 'x-c': '1' } });
      const c = r.clone();
      return { c: await withText(c, R), r: await withText(r, R) };
    },
    'clone after use': async () => {
      const r = new R('x');
      await r.text();
      return facts(r.clone(), R);
    },
    'text() twice': twice((r) => r.text()),
    'json() twice': twice((r) => r.json()),
    'arrayBuffer() twice': twice((r) => r.arrayBuffer()),
    'blob() twice': twice((r) => r.blob()),
    'json() of invalid JSON': () => new R('{').json(),
    'body reader then text()': async () => {
      const r = new R('x');
      const reader = r.body?.getReader();
      return { locked: r.body?.locked, text: await outcome(() => r.text()), reader: typeof reader };
    },
    'called without new': () => (R as unknown as () => unknown)(),
    'class facts': () => ({ name: R.name, length: R.length, statics: Object.getOwnPropertyNames(R).sort(), proto: Object.getOwnPropertyNames(R.prototype).sort() }),
  };
  const out: Record<string, Outcome> = {};
  for (const [name, run] of Object.entries(cases)) out[name] = await outcome(run);
  return out;
}

/**
 * What an app can observe on a Request, in one fixed order that reads the body once through
 * `new Request(request)`, once through a clone and once directly.
 */
export async function requestFacts(request: Request, Req: typeof Request): Promise<Record<string, unknown>> {
  const sync = {
    url: request.url,
    method: request.method,
    headers: [...request.headers],
    instanceOf: request instanceof Req,
    tag: Object.prototype.toString.call(request),
    sameConstructor: request.constructor === Req,
    keys: Object.keys(request),
    bodyNull: request.body === null,
    bodyUsed: request.bodyUsed,
    signal: request.signal instanceof AbortSignal,
    aborted: request.signal.aborted,
    mode: request.mode,
    credentials: request.credentials,
    cache: request.cache,
    redirect: request.redirect,
    referrer: request.referrer,
    destination: request.destination,
    keepalive: request.keepalive,
    duplex: (request as Request & { duplex?: unknown }).duplex,
  };
  const clone = await outcome(() => request.clone());
  const rebuilt = await outcome(async () => {
    const copy = new Req(request, { headers: { 'x-rebuilt': '1' } });
    return { url: copy.url, method: copy.method, header: copy.headers.get('x-rebuilt'), text: await copy.text() };
  });
  const cloneText = 'ok' in clone ? await outcome(() => (clone.ok as Request).text()) : clone;
  const after = { bodyUsed: request.bodyUsed, text: await outcome(() => request.text()), usedAfter: request.bodyUsed };
  return { sync, rebuilt, cloneText, after };
}
