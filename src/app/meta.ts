// What the app adapters know about one request beyond the request itself, and how the app's
// path splits: shared by every convention.

/** What the adapters know about a request beyond the request itself (the server's AppTarget). */
export interface RequestMeta {
  /** Mount prefix: "" or "/api". */
  prefix: string;
  /**
   * The path the app sees, with "?query": below the prefix when `strip` (then "" or "?q" for the
   * mount itself, as PEP 3333's empty PATH_INFO), else the whole path.
   */
  path: string;
  /** True (default): `path` is below the prefix (SCRIPT_NAME = prefix). */
  strip: boolean;
  /** The validated Host the app's URL is built from. */
  host: string;
  clientAddress: string;
  clientPort: number;
  /** Scheme the client used. */
  scheme: 'http' | 'https';
  /** wsgi.multiprocess: true when several processes serve the app (--workers). */
  multiprocess: boolean;
  /** Where wsgi.errors writes. */
  errors: (text: string) => void;
  /**
   * Behind the hop to an app process: the client's HTTP version and its connection and framing
   * headers (protocol.ts CLIENT_ONLY), where `req` has the hop's. Absent in process, where `req`
   * is the client's own.
   */
  hop?: { version: string; headers: string[] } | undefined;
}

/** The app's view of the target: SCRIPT_NAME (the prefix when stripped), PATH_INFO and query. */
export function splitTarget(meta: RequestMeta): { scriptName: string; pathInfo: string; query: string } {
  const q = meta.path.indexOf('?');
  const pathInfo = q === -1 ? meta.path : meta.path.slice(0, q);
  const query = q === -1 ? '' : meta.path.slice(q + 1);
  return { scriptName: meta.strip ? meta.prefix : '', pathInfo, query };
}
