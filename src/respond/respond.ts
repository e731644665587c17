// Carry out a Decision on the response: one small function per kind. The only place, with the
// static sender and the app router it calls, that writes to a client.
import type { IncomingMessage } from 'node:http';
import type { AppRouter } from '../app/contract.js';
import type { ServeResponse } from '../serve-response.js';
import type { Decision } from '../route.js';
import { STATIC_METHODS } from '../route.js';
import { sendError } from '../pages.js';
import { sendFavicon } from './favicon.js';
import type { LiveHub } from '../live/hub.js';
import { rawIfNoneMatch, wantsInjection } from '../live/inject.js';
import type { FileSender } from '../static/send.js';
import type { ListingCache } from '../static/listing.js';
import type { Exposure } from '../exposure/policy.js';

export interface RespondContext {
  sender: FileSender;
  /** The listing cache, made on the first listing. */
  listings: () => Promise<ListingCache>;
  app: AppRouter | undefined;
  cors: boolean;
  /** --upload: the size cap. Files are then served sandboxed by type (a visitor may have sent them). */
  upload: { maxBytes: number } | undefined;
  /** What may be read and written: the zip and uploads ask it. */
  exposure: Exposure;
  /** The served folder's name, for the zip of the root. */
  rootName: string;
  /** --live: the stream hub (HTML answers to browser navigations get the live-reload tag). */
  live: LiveHub | undefined;
}

export async function respond(ctx: RespondContext, req: IncomingMessage, res: ServeResponse, decision: Decision): Promise<void> {
  if (ctx.live !== undefined && decision.kind !== 'live' && wantsInjection(req)) prepareInjection(req, res, decision);
  switch (decision.kind) {
    case 'file':
      // Anything a visitor uploaded could be HTML or SVG with a script: it must not run in this
      // origin, where it could read every file with the visitor's cookie. Decided by the type the
      // answer goes out with (ServeResponse), not by a list of extensions.
      if (ctx.upload !== undefined) res.sandboxByType = true;
      return ctx.sender.send(req, res, decision.path, decision.stat, decision.status);
    case 'upload':
      if (ctx.upload === undefined) return sendError(res, 405, 'Uploads are off.');
      return (await import('../share/upload.js')).receiveUpload(req, res, { maxBytes: ctx.upload.maxBytes, exposure: ctx.exposure, segments: decision.segments, selfHost: decision.host });
    case 'upload-script':
      return sendScript(req, res, (await import('../share/upload-client.js')).UPLOAD_SCRIPT);
    case 'zip': {
      const name = decision.segments[decision.segments.length - 1] ?? ctx.rootName;
      return (await import('../share/zip.js')).sendZip(req, res, { dir: decision.path, name, exposure: ctx.exposure });
    }
    case 'listing':
      return sendListing(ctx, req, res, decision);
    case 'redirect':
      res.statusCode = 301;
      res.setHeader('Location', decision.location);
      res.setHeader('Content-Length', 0);
      res.end();
      return;
    case 'app':
      res.via = decision.target.mount.label;
      // With a checkContinue listener Node no longer answers Expect: 100-continue by itself.
      if (/100-continue/i.test(req.headers.expect ?? '')) res.writeContinue();
      // The route only decides 'app' when a router exists.
      return ctx.app?.handle(req, res, decision.target);
    case 'options':
      return answerOptions(req, res, ctx.cors);
    case 'favicon':
      return sendFavicon(req, res);
    case 'live': {
      if (decision.asset === 'events') return ctx.live?.attach(req, res);
      // The page script and worker are loaded only when a page asks for them (--live).
      const { LIVE_SCRIPT, LIVE_WORKER } = await import('../live/client.js');
      return sendScript(req, res, decision.asset === 'script' ? LIVE_SCRIPT : LIVE_WORKER);
    }
    case 'error':
      if (decision.status === 405) res.setHeader('Allow', STATIC_METHODS);
      return sendError(res, decision.status, decision.detail);
  }
}

/**
 * Whatever answers, an HTML body gets the tag (ServeResponse inserts it). Bodies must be
 * identity for that, and an HTML file's 304 check compares the file's own validator.
 */
function prepareInjection(req: IncomingMessage, res: ServeResponse, decision: Decision): void {
  res.liveInject = true;
  delete req.headers['accept-encoding'];
  if (decision.kind === 'file' && /\.html?$/i.test(decision.path)) {
    res.liveFile = true;
    const inm = req.headers['if-none-match'];
    if (inm !== undefined) req.headers['if-none-match'] = rawIfNoneMatch(inm);
  }
}

function sendScript(req: IncomingMessage, res: ServeResponse, body: string): void {
  res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function sendListing(ctx: RespondContext, req: IncomingMessage, res: ServeResponse, d: Extract<Decision, { kind: 'listing' }>): Promise<void> {
  const body = await (await ctx.listings()).render(d.path, d.stat, d.segments, d.query, d.json);
  res.setHeader('Content-Type', d.json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Vary', 'Accept');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

function answerOptions(req: IncomingMessage, res: ServeResponse, cors: boolean): void {
  res.statusCode = 204;
  res.setHeader('Allow', STATIC_METHODS);
  if (cors && req.headers['access-control-request-method'] !== undefined) {
    res.setHeader('Access-Control-Allow-Methods', STATIC_METHODS);
    const asked = req.headers['access-control-request-headers'];
    if (asked !== undefined) res.setHeader('Access-Control-Allow-Headers', asked);
    res.setHeader('Access-Control-Max-Age', '600');
  }
  res.end();
}
