// App errors rendered as a page or a terminal block. The plain data (AppErrorInfo, describeError)
// lives in error-describe.ts, which the app process loads without the server's page code.
import type { IncomingMessage } from 'node:http';
import { escapeHtml } from '../html.js';
import { isLoopbackAddress } from '../host-check.js';
import { sendError } from '../pages.js';
import type { ServeResponse } from '../serve-response.js';
import type { AppErrorInfo } from './error-describe.js';
import { http } from '../node-http.js';

const { STATUS_CODES } = http;

export { codeFrame, describeError, failureStatus, locate, type AppErrorInfo } from './error-describe.js';

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
