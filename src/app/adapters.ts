// Run one request through an app of any convention: fetch (Request → Response), node (req, res)
// or WSGI-style (environ, startResponse). Shared by the reload child and the in-process mode.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { DetectedApp, FetchHandler, FetchInfo, NodeHandler } from './detect.js';
import { AppResponseError, asResponseError } from './response-error.js';
import { toRequest, writeFetchResponse } from './web.js';
import { splitTarget, type RequestMeta } from './meta.js';
import { runWsgi } from './wsgi.js';

export { AppResponseError } from './response-error.js';
export { buildEnviron } from './wsgi.js';
export { writeFetchResponse } from './web.js';
export { splitTarget, type RequestMeta } from './meta.js';
export { setForwardedHeaders } from './forwarded.js';
import { setForwardedHeaders } from './forwarded.js';

/**
 * Call the app for one request. Rejects if the app throws before answering, and with
 * AppResponseError when its answer cannot be sent (the caller answers 502; nothing was written
 * unless `res.headersSent`, in which case `res` has been destroyed or should be).
 */
export function runApp(app: DetectedApp, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  // More or fewer body bytes than the Content-Length would corrupt the next response on a
  // keep-alive connection: node throws instead (Node ≥ 18.10).
  res.strictContentLength = true;
  setForwardedHeaders(req, meta);
  const before = res.getHeaderNames().length === 0 ? undefined : res.getHeaders();
  const run = app.style === 'fetch' ? runFetch(app.handler, req, res, meta) : app.style === 'node' ? runNode(app.handler, req, res, meta) : runWsgi(app.handler, req, res, meta);
  return run.catch((error: unknown) => {
    if (!res.headersSent) resetResponse(res, before);
    throw error;
  });
}

/**
 * Undo what the app set on a response that was never sent, so the caller's error page carries
 * none of it (an app's Content-Length or Content-Encoding would corrupt that page).
 */
function resetResponse(res: ServerResponse, before: OutgoingHttpHeaders | undefined): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  if (before !== undefined) for (const [name, value] of Object.entries(before)) if (value !== undefined) res.setHeader(name, value);
  res.statusCode = 200;
  res.statusMessage = '';
  res.strictContentLength = false;
}

// ---- node (req, res) -------------------------------------------------------------------------

async function runNode(handler: NodeHandler, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  const { scriptName } = splitTarget(meta);
  const extra = req as IncomingMessage & { originalUrl?: string; baseUrl?: string };
  if (scriptName !== '') {
    // As Express's app.use('/api', sub): the app sees the rest, originalUrl and baseUrl keep the prefix.
    extra.originalUrl = `${scriptName}${meta.path}`;
    extra.baseUrl = scriptName;
  }
  req.url = meta.path === '' || meta.path[0] === '?' ? `/${meta.path}` : meta.path;
  try {
    // Called with exactly (req, res): a third argument means `next` to Express but a parsed URL to polka.
    const result: unknown = handler(req, res);
    if (result instanceof Promise) await result;
  } catch (error) {
    // Node itself refused the app's status, header or body length: that is a bad answer (502).
    throw asResponseError(error);
  }
}

// ---- fetch (Request → Response) --------------------------------------------------------------

/** The app's URL, from the server's validated Host and path only (never the client's Host header). */
export function appUrl(meta: RequestMeta): string {
  const { pathInfo, query } = splitTarget(meta);
  return `${meta.scheme}://${meta.host}${pathInfo === '' ? '/' : pathInfo}${query === '' ? '' : `?${query}`}`;
}

async function runFetch(handler: FetchHandler, req: IncomingMessage, res: ServerResponse, meta: RequestMeta): Promise<void> {
  const request = toRequest(req, res, appUrl(meta));
  const info: FetchInfo = { remoteAddr: { transport: 'tcp', hostname: meta.clientAddress, port: meta.clientPort }, prefix: meta.prefix };
  const response = await handler(request, info);
  if (!(response instanceof Response)) {
    throw new AppResponseError(`The fetch handler returned ${response === null ? 'null' : typeof response}, not a Response`);
  }
  await writeFetchResponse(response, res, req.method === 'HEAD');
}
