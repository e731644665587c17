// The ServerResponse subclass every request gets: what the log line needs, tracked in place.
import { ServerResponse, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';

export class Response extends ServerResponse<IncomingMessage> {
  /** When the request arrived (performance.now()). */
  readonly started = performance.now();
  /** Body bytes sent, as far as the sender knows them. */
  bytes = 0;
  /** Who answered: "static", or the app mount's label. */
  via = 'static';
}
