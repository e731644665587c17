// The built-in icon answering /favicon.ico when the folder has none, so a browser's automatic
// request for it is not a 404 line in the log on every page view.
import type { IncomingMessage } from 'node:http';
import type { ServeResponse } from '../serve-response.js';

/** A 32×32 PNG (browsers take PNG bytes at /favicon.ico): a teal rounded square with a white arrow. */
const ICON = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAeUlEQVR42u3XwQ3AIAgFUBZw7w7gvvbUXtRE4FcQSuL5v5goQDSpUq+GPLRS6FAWZlf4ELE7vEPkBliFv4ijAE+ZA5AIMQCFUAEQCDVAC4EBpAgoQIKAA7iITwAcSLwbyPsKcv6EebthrInon4pdAMxXMxfLqdV6fgOPJ+0pk9C2hQAAAABJRU5ErkJggg==', 'base64');
const ETAG = '"serve-here-icon-1"';

export function sendFavicon(req: IncomingMessage, res: ServeResponse): void {
  res.setHeader('Content-Type', 'image/png');
  res.setHeader('Cache-Control', 'public, max-age=86400');
  res.setHeader('ETag', ETAG);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.headers['if-none-match'] === ETAG) {
    res.statusCode = 304;
    return void res.end();
  }
  res.setHeader('Content-Length', ICON.length);
  res.end(req.method === 'HEAD' ? undefined : ICON);
}
