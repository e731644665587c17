// Carry out a Decision on the response: one small function per kind. The only place, with the
// static sender and the app router it calls, that writes to a client.
import type { IncomingMessage } from 'node:http';
import type { AppRouter } from '../app/contract.js';
import type { ServeResponse } from '../serve-response.js';
import type { Decision } from '../route.js';
import { STATIC_METHODS } from '../route.js';
import { sendError } from '../pages.js';
import { sendFavicon } from './favicon.js';
import type { FileSender } from '../static/send.js';
import type { ListingCache } from '../static/listing.js';

export interface RespondContext {
  sender: FileSender;
  listings: ListingCache;
  app: AppRouter | undefined;
  cors: boolean;
}

export async function respond(ctx: RespondContext, req: IncomingMessage, res: ServeResponse, decision: Decision): Promise<void> {
  switch (decision.kind) {
    case 'file':
      return ctx.sender.send(req, res, decision.path, decision.stat, decision.status);
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
      // The route only decides 'app' when a router exists.
      return ctx.app?.handle(req, res, decision.target);
    case 'options':
      return answerOptions(req, res, ctx.cors);
    case 'favicon':
      return sendFavicon(req, res);
    case 'error':
      if (decision.status === 405) res.setHeader('Allow', STATIC_METHODS);
      return sendError(res, decision.status, decision.detail);
  }
}

async function sendListing(ctx: RespondContext, req: IncomingMessage, res: ServeResponse, d: Extract<Decision, { kind: 'listing' }>): Promise<void> {
  const body = await ctx.listings.render(d.path, d.stat, d.segments, d.query, d.json);
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
