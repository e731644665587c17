// Browser live reload, server side: the server-sent-events streams and what goes down them.
// One stream per browser (the page script shares it between tabs through a SharedWorker).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What a browser is told: reload, swap these stylesheets, refresh these images, or these files
 * are new (decoded URL paths) — a page reloads for those only if it uses one (live/client.ts).
 */
export type LiveEvent = { type: 'reload' } | { type: 'css'; paths: string[] } | { type: 'image'; paths: string[] } | { type: 'added'; paths: string[] };

/** Comments keep proxies and idle timers from thinking a quiet stream is dead. */
const HEARTBEAT_MS = 25_000;

export class LiveHub {
  /** Differs on every run (the same in every --workers worker): a browser that reconnects to a new id knows the server restarted. */
  readonly id: string;
  #streams = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;

  constructor(id = randomBytes(8).toString('hex')) {
    this.id = id;
  }

  /** Open streams (one per browser with SharedWorker support, one per tab otherwise). */
  get size(): number {
    return this.#streams.size;
  }

  /** Answer an EventSource request: the stream stays open until the client or the server leaves. */
  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Accel-Buffering': 'no',
    });
    if (req.method === 'HEAD') return void res.end();
    // retry: reconnect quickly after a restart; hello: which run of the server this is.
    res.write(`retry: 300\nevent: hello\ndata: ${JSON.stringify({ id: this.id })}\n\n`);
    this.#streams.add(res);
    res.once('close', () => {
      this.#streams.delete(res);
      if (this.#streams.size === 0) this.#stopHeartbeat();
    });
    this.#timer ??= setInterval(() => this.#broadcast(': keep-alive\n\n'), HEARTBEAT_MS).unref();
  }

  send(event: LiveEvent): void {
    this.#broadcast(`event: change\ndata: ${JSON.stringify(event)}\n\n`);
  }

  /** End every stream (the server is stopping): browsers reconnect to the next run and reload once. */
  close(): void {
    this.#stopHeartbeat();
    for (const res of this.#streams) res.end();
    this.#streams.clear();
  }

  #broadcast(text: string): void {
    for (const res of this.#streams) res.write(text);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
