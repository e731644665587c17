// A fast path for fetch handlers on node:http, in the spirit of srvx and @hono/node-server:
// a Request whose url, method and headers are computed only when read, and a Response class that
// remembers a plain body so the adapter can write it without a web stream. Anything else either
// touches falls through to the platform's own Request/Response, so behaviour stays standard.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

const NativeRequest = globalThis.Request;
const NativeResponse = globalThis.Response;

const kNode = Symbol('serve-here.node');
const kUrl = Symbol('serve-here.url');
const kSignal = Symbol('serve-here.signal');
const kHeaders = Symbol('serve-here.headers');
const kReal = Symbol('serve-here.real');

const kRes = Symbol('serve-here.res');
const kPrefix = Symbol('serve-here.prefix');

interface LazyRequestFields {
  [kNode]: IncomingMessage;
  [kRes]: ServerResponse;
  [kUrl]: string;
  [kPrefix]: string;
  [kSignal]?: AbortSignal;
  [kHeaders]?: Headers;
  [kReal]?: Request;
}

function headersOf(self: LazyRequestFields): Headers {
  const headers = new Headers();
  const raw = self[kNode].rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  if (self[kPrefix] !== '' && !headers.has('x-forwarded-prefix')) headers.set('x-forwarded-prefix', self[kPrefix]);
  return headers;
}

/** Aborted when the client goes away before the response is finished. */
function signalOf(self: LazyRequestFields): AbortSignal {
  if (self[kSignal] === undefined) {
    const controller = new AbortController();
    const res = self[kRes];
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    self[kSignal] = controller.signal;
  }
  return self[kSignal];
}

function realRequest(self: LazyRequestFields): Request {
  if (self[kReal] !== undefined) return self[kReal];
  const req = self[kNode];
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers: self[kHeaders] ?? headersOf(self), signal: signalOf(self) };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  self[kReal] = new NativeRequest(self[kUrl], init);
  return self[kReal];
}

/**
 * Give `target` every member of a platform prototype as a getter that reads it from the real
 * object (`real(this)`), methods bound to it: whatever the fast path does not cover still works.
 */
function forwardMembers<T>(target: object, platform: object, real: (self: T) => object): void {
  for (const key of Reflect.ownKeys(platform)) {
    if (key === 'constructor' || key === Symbol.toStringTag) continue;
    Object.defineProperty(target, key, {
      get(this: T) {
        const object = real(this);
        const value: unknown = Reflect.get(object, key);
        return typeof value === 'function' ? value.bind(object) : value;
      },
      configurable: true,
    });
  }
}

const requestProto: object = Object.create(NativeRequest.prototype);
forwardMembers(requestProto, NativeRequest.prototype, realRequest);
Object.defineProperties(requestProto, {
  method: { get(this: LazyRequestFields) { return this[kReal]?.method ?? this[kNode].method ?? 'GET'; }, configurable: true },
  url: { get(this: LazyRequestFields) { return this[kUrl]; }, configurable: true },
  headers: { get(this: LazyRequestFields) { return this[kReal]?.headers ?? (this[kHeaders] ??= headersOf(this)); }, configurable: true },
  signal: { get(this: LazyRequestFields) { return signalOf(this); }, configurable: true },
});

/** A `Request` for a node request: `instanceof Request`, built for real only when its body (or similar) is used. */
export function lazyRequest(req: IncomingMessage, res: ServerResponse, url: string, prefix: string): Request {
  const self = Object.create(requestProto) as LazyRequestFields;
  self[kNode] = req;
  self[kRes] = res;
  self[kUrl] = url;
  self[kPrefix] = prefix;
  return self as unknown as Request;
}

// ---- Response -------------------------------------------------------------------------------

const kBody = Symbol('serve-here.body');
const kInit = Symbol('serve-here.init');

interface LightFields {
  [kBody]: unknown;
  [kInit]: ResponseInit | undefined;
  [kReal]?: Response;
}

function realResponse(self: LightFields): Response {
  self[kReal] ??= new NativeResponse(self[kBody] as BodyInit | null | undefined, self[kInit]);
  return self[kReal];
}

/**
 * Installed as `globalThis.Response` in the process that runs the app. Construction only stores
 * its arguments; `instanceof` holds both ways (platform Responses from fetch() are instances too).
 */
class LightResponse {
  declare [kBody]: unknown;
  declare [kInit]: ResponseInit | undefined;
  constructor(body?: BodyInit | null, init?: ResponseInit) {
    (this as unknown as LightFields)[kBody] = body;
    (this as unknown as LightFields)[kInit] = init;
  }
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (Object.prototype.isPrototypeOf.call(LightResponse.prototype, value) || Object.prototype.isPrototypeOf.call(NativeResponse.prototype, value));
  }
  static json(data: unknown, init?: ResponseInit): Response {
    return NativeResponse.json(data, init);
  }
  static error(): Response {
    return NativeResponse.error();
  }
  static redirect(url: string | URL, status?: number): Response {
    return NativeResponse.redirect(url, status);
  }
}
Object.setPrototypeOf(LightResponse.prototype, NativeResponse.prototype);
forwardMembers(LightResponse.prototype, NativeResponse.prototype, realResponse);
for (const key of ['status', 'statusText', 'ok'] as const) {
  Object.defineProperty(LightResponse.prototype, key, {
    get(this: LightFields) {
      if (this[kReal] !== undefined) return this[kReal][key];
      const status = this[kInit]?.status ?? 200;
      if (key === 'status') return status;
      if (key === 'ok') return status >= 200 && status <= 299;
      return this[kInit]?.statusText ?? '';
    },
    configurable: true,
  });
}

let installed = false;
/** Make `new Response(…)` in app code cheap. Call in the process that runs apps, before they load. */
export function installLightResponse(): void {
  if (installed || process.env.SERVE_HERE_NATIVE_RESPONSE === '1') return;
  installed = true;
  globalThis.Response = LightResponse as unknown as typeof Response;
}

/** For a Response built with a plain body and never touched otherwise: status, headers and bytes, no stream. */
export function plainParts(response: Response): { status: number; statusText: string; headers: HeadersInit | undefined; body: string | Uint8Array | null } | undefined {
  if (!(Object.prototype.isPrototypeOf.call(LightResponse.prototype, response))) return undefined;
  const self = response as unknown as LightFields;
  if (self[kReal] !== undefined) return undefined;
  const body = self[kBody];
  if (body !== null && body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) return undefined;
  const init = self[kInit];
  return { status: init?.status ?? 200, statusText: init?.statusText ?? '', headers: init?.headers, body: body ?? null };
}
