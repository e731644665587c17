// The PEP 3333 environ of one request, built once from what the client sent, the same in process
// and behind the hop to an app process: CGI variables, HTTP_* headers, wsgi.input and wsgi.errors.
import type { IncomingMessage } from 'node:http';
import { splitTarget, type RequestMeta } from './meta.js';
import { CLIENT_ONLY } from './protocol.js';
import { WsgiInput } from './wsgi-input.js';

/** "name:port" (IPv6 in brackets) → SERVER_NAME and SERVER_PORT, the scheme's default port when none. */
function splitHost(host: string, scheme: 'http' | 'https'): { name: string; port: string } {
  const close = host.startsWith('[') ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', close);
  if (colon === -1) return { name: host, port: scheme === 'https' ? '443' : '80' };
  return { name: host.slice(0, colon), port: host.slice(colon + 1) };
}

/** Length of the well-formed UTF-8 sequence at `bytes[i]` (Unicode table 3-7), or 0 for none. */
function sequenceLength(bytes: Buffer, i: number): number {
  const lead = bytes[i] as number;
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0; // overlong
    if (lead === 0xed) high = 0x9f; // UTF-16 surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90; // overlong
    if (lead === 0xf4) high = 0x8f; // past U+10FFFF
  } else return 0;
  if (i + length > bytes.length) return 0;
  const second = bytes[i + 1] as number;
  if (second < low || second > high) return 0;
  for (let k = 2; k < length; k++) {
    const next = bytes[i + k] as number;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}

/** One run of escapes ("%C3%A9%FF") decoded as UTF-8; an escape of no valid character stays as written. */
function decodeRun(run: string): string {
  const bytes = Buffer.from(run.replace(/%/g, ''), 'hex');
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      out += run.slice(i * 3, i * 3 + 3);
      i += 1;
    } else {
      out += bytes.toString('utf8', i, i + length);
      i += length;
    }
  }
  return out;
}

/**
 * PATH_INFO: the path percent-decoded as UTF-8 (PEP 3333 has Python decode bytes as latin-1;
 * a JavaScript string holds the characters themselves). Decoded escape by escape, so one bad
 * escape spoils nothing else: `/a%20b/%FF` → `/a b/%FF`. Bytes that are no valid UTF-8 keep
 * their escape, as Django does; a malformed one (`%zz`) stays too.
 */
export function decodePathInfo(path: string): string {
  return path.includes('%') ? path.replace(/(?:%[0-9A-Fa-f]{2})+/g, decodeRun) : path;
}

/** wsgi.errors: a text stream to the server's log (write, writelines, flush), as PEP 3333 asks. */
export interface WsgiErrors {
  write(text: string): number;
  writelines(lines: Iterable<string>): void;
  flush(): void;
}

function errorStream(sink: (text: string) => void): WsgiErrors {
  // Closures, not methods: `const { write } = environ['wsgi.errors']` keeps working.
  const write = (text: string | Uint8Array): number => {
    if (text instanceof Uint8Array) text = Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString();
    if (typeof text !== 'string') throw new TypeError(`wsgi.errors.write() takes a string, not ${typeof text}`);
    sink(text);
    return text.length;
  };
  return {
    write,
    writelines: (lines) => {
      for (const line of lines) write(line);
    },
    flush: () => {},
  };
}

/** The client's raw headers: behind the hop, the client's own CLIENT_ONLY headers replace the hop's. */
function clientHeaders(req: IncomingMessage, meta: RequestMeta): string[] {
  if (meta.hop === undefined) return req.rawHeaders;
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    if (!CLIENT_ONLY.has(name.toLowerCase())) raw.push(name, req.rawHeaders[i + 1] as string);
  }
  return raw.concat(meta.hop.headers);
}

/** The PEP 3333 environ for a request: request data only, nothing from process.env. */
export function buildEnviron(req: IncomingMessage, meta: RequestMeta): Record<string, unknown> {
  const { scriptName, pathInfo, query } = splitTarget(meta);
  const { name: hostName, port } = splitHost(meta.host, meta.scheme);
  const environ: Record<string, unknown> = {
    REQUEST_METHOD: req.method ?? 'GET',
    SCRIPT_NAME: scriptName,
    PATH_INFO: decodePathInfo(pathInfo),
    QUERY_STRING: query,
    SERVER_NAME: hostName,
    SERVER_PORT: port,
    SERVER_PROTOCOL: `HTTP/${meta.hop?.version ?? req.httpVersion}`,
    REMOTE_ADDR: meta.clientAddress,
    REMOTE_PORT: String(meta.clientPort),
    'wsgi.version': [1, 0],
    'wsgi.url_scheme': meta.scheme,
    'wsgi.input': new WsgiInput(req),
    // The body ends where the request's framing says (mod_wsgi's and gunicorn's extension key).
    'wsgi.input_terminated': true,
    'wsgi.errors': errorStream(meta.errors),
    'wsgi.multithread': false,
    'wsgi.multiprocess': meta.multiprocess,
    'wsgi.run_once': false,
  };
  const raw = clientHeaders(req, meta);
  for (let i = 0; i < raw.length; i += 2) {
    const header = raw[i] as string;
    // As wsgiref: `X_Forwarded_For` would pose as the server's own X-Forwarded-For.
    if (header.includes('_')) continue;
    const name = header.toUpperCase().replace(/-/g, '_');
    const value = raw[i + 1] as string;
    if (name === 'CONTENT_TYPE' || name === 'CONTENT_LENGTH') {
      environ[name] ??= value; // the first, as node's req.headers has it
      continue;
    }
    const key = `HTTP_${name}`;
    environ[key] = key in environ ? `${String(environ[key])},${value}` : value;
  }
  // The server's validated Host, as SERVER_NAME and SERVER_PORT are, whatever the raw header said.
  environ.HTTP_HOST = meta.host;
  return environ;
}
