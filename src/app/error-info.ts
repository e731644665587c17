// App errors as plain data: message, file:line:column and a code frame; rendered as a page or a
// terminal block. Built where the error happens (the app process), shown by the server.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, sep } from 'node:path';
import { STATUS_CODES } from 'node:http';
import { AppShapeError } from './detect.js';
import { missingPackage } from './missing-package.js';
import type { IncomingMessage } from 'node:http';
import { escapeHtml } from '../html.js';
import { isLoopbackAddress } from '../host-check.js';
import { sendError } from '../pages.js';
import type { ServeResponse } from '../serve-response.js';

export interface AppErrorInfo {
  /** What failed: "Failed to load app.ts", "GET /x threw". */
  title: string;
  message: string;
  stack: string | undefined;
  file: string | undefined;
  line: number | undefined;
  column: number | undefined;
  frame: string | undefined;
  /** What to do about it, when serve-here knows (`npm install left-pad`). */
  hint?: string | undefined;
}

const LOADER_FRAME = /node_modules[\\/](tsx|esbuild)[\\/]|node:internal/;
/**
 * serve-here's own code, compiled (dist/) and, through source maps, its sources (src/): never
 * the place an app error points at, and never a line of a stack shown to the user.
 */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OWN_CODE = [join(PACKAGE_ROOT, 'dist', sep), join(PACKAGE_ROOT, 'src', sep)];
const isOwnCode = (file: string): boolean => OWN_CODE.some((dir) => toPath(file).startsWith(dir));

function toPath(file: string): string {
  return file.startsWith('file://') ? fileURLToPath(file) : file;
}

/** Where an error points in user code: esbuild's `file:line:col: ERROR:`, a SyntaxError header, or the first user frame. */
export function locate(error: unknown): { file: string; line: number; column: number | undefined } | undefined {
  if (!(error instanceof Error)) return undefined;
  const text = `${error.message}\n${error.stack ?? ''}`;
  const esbuild = /^(\/[^\n]+?|[A-Za-z]:\\[^\n]+?):(\d+):(\d+): ERROR: /m.exec(text);
  // esbuild counts columns from 0; editors and V8 stacks from 1.
  if (esbuild !== null) return { file: esbuild[1] as string, line: Number(esbuild[2]), column: Number(esbuild[3]) + 1 };
  const header = /^(file:\/\/\/[^\n]+?|\/[^\n]+?):(\d+)\n/.exec(error.stack ?? '');
  if (header !== null) return { file: toPath(header[1] as string), line: Number(header[2]), column: undefined };
  for (const m of (error.stack ?? '').matchAll(/(?:\(|at )((?:file:\/\/)?\/[^():\s]+):(\d+):(\d+)\)?/g)) {
    const file = m[1] as string;
    if (LOADER_FRAME.test(file) || file.includes('/node_modules/') || isOwnCode(file)) continue;
    return { file: toPath(file), line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/** A few lines of source around `line`, with a marker and a caret under `column` (1-based). */
export function codeFrame(file: string, line: number, column: number | undefined): string | undefined {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = source.split(/\r?\n/);
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line + 2);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
    if (n === line && column !== undefined) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}

/** Esbuild's messages carry a "Transform failed with 1 error:" preamble; keep the useful line. */
function cleanMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const m = /: ERROR: (.*)$/m.exec(error.message);
  const message = m !== null ? (m[1] as string) : error.message;
  return `${error.name === 'Error' || m !== null ? '' : `${error.name}: `}${message}`;
}

/**
 * The status for a request whose app call rejected before any header was sent: 502 when what
 * the app returned was not a valid HTTP answer (a status like 099 or 1000, a bad header name or
 * value, a body past its Content-Length), 500 when the handler itself threw.
 */
export function failureStatus(error: unknown): 500 | 502 {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^ERR_(HTTP_INVALID|INVALID_HTTP_TOKEN|INVALID_CHAR|HTTP_CONTENT_LENGTH_MISMATCH|HTTP_HEADERS_SENT)/.test(code)) return 502;
  return (error as { name?: unknown } | null)?.name === 'AppResponseError' ? 502 : 500;
}

/** Stack lines in the user's code only: the loader's, Node's and serve-here's own are noise. */
function userStack(error: unknown): string | undefined {
  if (!(error instanceof Error) || error instanceof AppShapeError) return undefined;
  const own = (l: string): boolean => /^\s+at /.test(l) && (LOADER_FRAME.test(l) || OWN_CODE.some((dir) => l.includes(dir)));
  return error.stack?.split('\n').filter((l) => !own(l)).join('\n');
}

export function describeError(error: unknown, title: string): AppErrorInfo {
  const missing = missingPackage(error);
  if (missing !== undefined) {
    return { title, message: missing.message, stack: undefined, file: missing.file, line: missing.line, column: missing.column, frame: missing.line === undefined || missing.file === undefined ? undefined : codeFrame(missing.file, missing.line, missing.column), hint: missing.hint };
  }
  // No handler export: the user's module is the place to look, not the line that noticed.
  const where = error instanceof AppShapeError ? { file: error.file, line: undefined, column: undefined } : locate(error);
  const stack = userStack(error);
  return {
    title,
    message: cleanMessage(error),
    stack,
    file: where?.file,
    line: where?.line,
    column: where?.column,
    frame: where?.line === undefined ? undefined : codeFrame(where.file, where.line, where.column),
  };
}

/** `app.ts:3:25` relative to `root` when inside it. */
export function shortLocation(info: AppErrorInfo, root: string): string {
  if (info.file === undefined) return '';
  if (info.line === undefined) return relativeToRoot(info.file, root);
  return `${relativeToRoot(info.file, root)}:${info.line}${info.column === undefined ? '' : `:${info.column}`}`;
}

/** A file named relative to the served root when inside it, absolute otherwise (for the terminal). */
export function relativeToRoot(file: string, root: string): string {
  return file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
}

/** The one terminal line for an app error: `✖ GET /x threw: boom (app.ts:3:9)`. */
export function errorLine(info: AppErrorInfo, root: string): string {
  const loc = shortLocation(info, root);
  return `✖ ${info.title}: ${info.message}${loc === '' ? '' : ` (${loc})`}${info.hint === undefined ? '' : `\n    → ${info.hint}`}`;
}

/** The line for an app that failed to load at start, after the banner: `App /api  failed to load: app.ts:16:89 Expected ")"`. */
export function startupFailureLine(label: string, info: AppErrorInfo, root: string): string {
  // Without a line the message itself names the module ("app.ts has no request handler").
  const loc = info.line === undefined ? '' : shortLocation(info, root);
  return `App ${label}  failed to load: ${loc === '' ? '' : `${loc} `}${info.message}${info.hint === undefined ? '' : `\n    → ${info.hint}`}`;
}

/** The developer error page (loopback clients only): everything escaped. */
export function renderErrorPage(info: AppErrorInfo, status: number, root: string, note: string): string {
  const loc = shortLocation(info, root);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark">
<title>${status} ${escapeHtml(info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:0;padding:1.5rem;max-width:70rem}h1{font-size:1.2rem;color:#d1242f;margin:0 0 .5rem}
pre{font:13px/1.45 ui-monospace,Menlo,Consolas,monospace;background:rgba(127,127,127,.12);padding:1rem;overflow:auto;border-radius:6px}
.loc{color:#8250df;font-family:ui-monospace,monospace}p.note{color:#6e7781}</style></head><body>
<h1>${escapeHtml(info.title)}</h1>
<p><strong>${escapeHtml(info.message)}</strong></p>
${info.hint === undefined ? '' : `<p>${escapeHtml(info.hint)}</p>`}
${loc === '' ? '' : `<p class="loc">${escapeHtml(loc)}</p>`}
${info.frame === undefined ? '' : `<pre>${escapeHtml(info.frame)}</pre>`}
${info.stack === undefined ? '' : `<details><summary>Stack</summary><pre>${escapeHtml(info.stack)}</pre></details>`}
<p class="note">${escapeHtml(note)}</p>
</body></html>
`;
}

/** The same error as plain text (curl, API clients). */
export function renderErrorText(info: AppErrorInfo, root: string): string {
  const loc = shortLocation(info, root);
  return `${info.title}\n${info.message}\n${info.hint === undefined ? '' : `${info.hint}\n`}${loc === '' ? '' : `${loc}\n`}${info.frame === undefined ? '' : `${info.frame}\n`}`;
}

/** Whether the client asked for JSON rather than a page (fetch() from an API client, curl -H). */
function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return /\bapplication\/(?:[\w.+-]*\+)?json\b/i.test(accept) && !accept.includes('text/html');
}

/** `{ "error": { status, title, message, file, line, column } }`; details only for loopback clients. */
export function renderErrorJson(status: number, info: AppErrorInfo | undefined, note: string, root: string, local: boolean): string {
  const title = STATUS_CODES[status] ?? 'Error';
  if (!local) return `${JSON.stringify({ error: { status, title } })}\n`;
  const file = info?.file === undefined ? null : relativeToRoot(info.file, root);
  const error = {
    status,
    title: info?.title ?? title,
    message: info?.message ?? note,
    file,
    line: info?.line ?? null,
    column: info?.column ?? null,
    ...(info?.hint === undefined ? {} : { hint: info.hint }),
  };
  return `${JSON.stringify({ error })}\n`;
}

/**
 * Answer with an app error: the developer page (HTML for browsers, JSON for clients that ask
 * for it, text otherwise) only for clients on this machine; others get the status alone, since
 * stacks leak paths and source.
 */
export function sendAppError(req: IncomingMessage, res: ServeResponse, opts: { status: number; info: AppErrorInfo | undefined; note: string; root: string }): void {
  const { status, info, note, root } = opts;
  const local = isLoopbackAddress(req.socket.remoteAddress ?? '');
  if (wantsJson(req)) return send(req, res, status, 'application/json; charset=utf-8', renderErrorJson(status, info, note, root, local));
  if (!local || info === undefined) return sendError(res, status, local ? note : undefined);
  const html = (req.headers.accept ?? '').includes('text/html');
  send(req, res, status, html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8', html ? renderErrorPage(info, status, root, note) : renderErrorText(info, root));
}

function send(req: IncomingMessage, res: ServeResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(req.method === 'HEAD' ? undefined : body);
}
