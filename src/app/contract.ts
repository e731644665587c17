// The one contract between the request pipeline (src/server.ts, src/route.ts) and app hosting
// (src/app/, src/reload/): the server routes, gates and logs; the app layer only runs apps.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServeResponse } from '../serve-response.js';

/** One mounted app as the router sees it. */
export interface AppMount {
  /** "" for the root, else "/api" or "/api/v1" (no trailing slash). */
  readonly prefix: string;
  /** The prefix split in decoded segments: [] for the root, ["api", "v1"]. */
  readonly segments: readonly string[];
  /** Shown in the log line of requests this app answered: "app" or "/api". */
  readonly label: string;
}

/**
 * What the server decided about one app request, computed once in the server: the app process
 * (or the in-process runner) uses exactly this and never re-parses the client's request line.
 */
export interface AppTarget {
  mount: AppMount;
  /**
   * The path the app sees, as the client encoded it with empty segments
   * collapsed, plus "?query" when there is one: below the mount when prefixes are stripped
   * (the default), the whole path with --no-strip-prefix. `//api/x` and `/%61pi/x` both give
   * "/x" for the "/api" mount, exactly like `/api/x`. A request for the mount itself (`/api`,
   * `/api?q`) gives "" (or "?q"), as PEP 3333's empty PATH_INFO; `/api/` gives "/".
   */
  path: string;
  /** The validated Host ("name" or "name:port", IPv6 in brackets) the app's URL is built from. */
  host: string;
  scheme: 'http' | 'https';
  /** The client, normalised ("::ffff:1.2.3.4" → "1.2.3.4"). */
  clientAddress: string;
  clientPort: number;
}

/** App hosting as the server uses it, the same object in reloading and in-process modes. */
export interface AppRouter {
  /** Mounts, longest prefix first. The server matches segments against them. */
  readonly mounts: readonly AppMount[];
  /**
   * Tell `listener` the files of the apps' module graphs (real paths, entry files included):
   * those known now at once, and each one learnt later (a reload, a module imported lazily).
   * The exposure policy keeps them from being served, listed, zipped or written.
   */
  onAppFiles(listener: (files: readonly string[]) => void): void;
  /** Answer one request; settles once it is answered, never rejects (errors become 5xx pages on `res`). */
  handle(req: IncomingMessage, res: ServeResponse, target: AppTarget): Promise<void>;
  /** Hand a WebSocket upgrade to the app; false when the app takes none (404), 'unavailable' when no app process runs now (503). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: AppTarget): boolean | 'unavailable';
  /**
   * Called after each reload a save caused, once the new code answers (`ok`) or its load failed:
   * browser live reload waits for this, never reloading a page before the new code serves.
   * Absent without reloading (--no-watch).
   */
  onReload?(listener: (ok: boolean) => void): void;
  /** Lines for the banner: each mount, its file, its convention. */
  describe(): string[];
  /** The banner is printed: say what start-up found that needs its own line (a failed load). */
  afterBanner?(): void;
  close(): Promise<void>;
}
