// URL path → a file or folder inside the served root, or a reason why not. Writes no responses.
import { realpath } from 'node:fs/promises';
import { readdir, stat, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { decodeBytes, decodeSegment, hasOverlong, toFsPath } from './file-names.js';
import { LruMap } from './lru.js';
import type { Exposure } from '../exposure/policy.js';

export type ParsedPath =
  | { kind: 'ok'; segments: string[]; raw: string[]; trailingSlash: boolean }
  | { kind: 'bad'; reason: string };

export type Resolved =
  | { kind: 'file'; path: string; stat: Stats }
  | { kind: 'dir'; path: string; stat: Stats }
  | { kind: 'missing' };

/**
 * Split the path of a request target into segments, each decoded exactly once: `segments[i]` is
 * the name, `raw[i]` the same segment as the client spelled it (apps receive that). The path is
 * split on real slashes only: `%2F` stays inside its segment as a "/" (a name no file can have,
 * so it is missing, never another file). Rejects malformed escapes, overlong UTF-8, NUL,
 * backslashes and `..` segments (400) before the file system is touched. Empty and `.` segments
 * are dropped, so `//x` and `/./x` name `/x` (and a redirect built from the segments can never
 * start with `//`). Bytes that are not UTF-8 are kept as escaped surrogates (file-names.ts).
 */
export function parsePath(target: string): ParsedPath {
  let end = target.length;
  const q = target.indexOf('?');
  if (q !== -1) end = q;
  const h = target.indexOf('#');
  if (h !== -1 && h < end) end = h;
  const path = target.slice(0, end);
  if (path[0] !== '/') return { kind: 'bad', reason: 'Request target must start with "/"' };
  const encoded = path.includes('%');
  if (encoded && hasOverlong(path)) return { kind: 'bad', reason: 'Overlong UTF-8 in path' };
  const segments: string[] = [];
  const raw: string[] = [];
  const parts = path.split('/');
  for (const part of parts) {
    if (part === '') continue;
    const seg = encoded ? decodeSegment(part) : part;
    if (seg === null) return { kind: 'bad', reason: 'Malformed percent-encoding' };
    if (seg.includes('\0')) return { kind: 'bad', reason: 'NUL byte in path' };
    if (seg.includes('\\')) return { kind: 'bad', reason: 'Backslash in path' };
    if (seg === '.') continue;
    if (seg === '..') return { kind: 'bad', reason: 'Parent segment ("..") in path' };
    // "..%2Fx" decodes to "../x": a name with a slash is missing anyway, but a ".." in it is
    // refused outright, as before, so no later join can ever see a parent step.
    if (seg.includes('/') && seg.split('/').includes('..')) return { kind: 'bad', reason: 'Parent segment ("..") in path' };
    segments.push(seg);
    raw.push(part);
  }
  return { kind: 'ok', segments, raw, trailingSlash: path.length > 1 && path.endsWith('/') };
}

/** `/srv/a/x` is inside `/srv/a`; `/srv/ab/x` is not (the sibling-prefix trap). */
export function isInside(root: string, path: string): boolean {
  return path === root || (path.startsWith(root) && path[root.length] === sep) || root === sep;
}

interface CacheEntry {
  real: string;
  dev: number;
  ino: number;
}

/**
 * `stat` results shared by the requests of one event-loop turn: a stat in flight is joined, and
 * a finished one is reused until the loop moves on (setImmediate). Under load, thirty requests for
 * the same file arriving together cost one stat, not thirty; a request in a later turn always
 * gets a fresh one, so an edit is seen by the next request.
 */
export class SharedStat {
  #entries = new Map<string, Promise<Stats | null>>();

  get(path: string): Promise<Stats | null> {
    let entry = this.#entries.get(path);
    if (entry === undefined) {
      entry = new Promise((resolve) => {
        stat(toFsPath(path), (error, st) => {
          resolve(error === null ? st : null);
          setImmediate(() => this.#entries.delete(path));
        });
      });
      this.#entries.set(path, entry);
    }
    return entry;
  }
}

interface DirNames {
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  names: Set<string>;
}

/** Folder mtimes of file systems with coarse timestamps can miss a change within this window. */
const COARSE_MTIME_MS = 2000;

/**
 * Resolves segments against the policy's (real) root. A lookup `realpath`s the candidate and
 * asks the exposure policy about the path asked for and the real one: links within the root
 * work; links leading out, hidden names and protected files are missing. Files that resolved once are remembered by path; the next
 * lookup of the same path costs one `stat`, and the entry is trusted only while that stat shows
 * the same device and inode (a swapped symlink or replaced file falls back to a full lookup).
 * Misses are answered from the parent folder's names, re-read whenever the folder's mtime moves.
 */
export class Resolver {
  readonly root: string;
  readonly exposure: Exposure;
  readonly stats = new SharedStat();
  #cache = new LruMap<string, CacheEntry>(4096);
  #dirs = new LruMap<string, DirNames>(1024);

  readonly #prefix: string;

  constructor(exposure: Exposure) {
    this.exposure = exposure;
    this.root = exposure.root;
    this.#prefix = this.root.endsWith(sep) ? this.root : this.root + sep;
  }

  /** Entries held by the path and folder-name caches (for tests and diagnostics). */
  get cacheSizes(): { paths: number; folders: number } {
    return { paths: this.#cache.size, folders: this.#dirs.size };
  }

  /** What the policy denies is missing to every caller: the request path, index.html, clean URLs, 404.html. */
  async resolve(segments: readonly string[]): Promise<Resolved> {
    // A "/" inside a segment came from %2F: no file name can hold one, so nothing is there. (It
    // must not be joined into the path, where it would become a separator.)
    for (const seg of segments) if (seg.includes('/')) return { kind: 'missing' };
    // Plain concatenation is safe (and much cheaper than path.join): parsePath already removed
    // empty, "." and ".." segments and rejected backslashes, and slashes were refused above.
    const full = segments.length === 0 ? this.root : `${this.#prefix}${segments.join(sep)}`;
    if (!this.exposure.mayRead(full)) return { kind: 'missing' };
    const cached = this.#cache.get(full);
    if (cached !== undefined) {
      const st = await this.stats.get(full);
      // Asked again on a hit: the apps' module graph grows while serving.
      if (st !== null && st.isFile() && st.ino === cached.ino && st.dev === cached.dev && this.exposure.mayRead(full, cached.real)) {
        return { kind: 'file', path: cached.real, stat: st };
      }
      this.#cache.delete(full);
    }
    if (segments.length > 0 && (await this.#surelyAbsent(full, segments))) return { kind: 'missing' };
    let real: string;
    try {
      const fsPath = toFsPath(full);
      real = typeof fsPath === 'string' ? await realpath(fsPath) : decodeBytes(await realpath(fsPath, { encoding: 'buffer' }));
    } catch {
      return { kind: 'missing' };
    }
    if (!this.exposure.mayRead(full, real)) return { kind: 'missing' };
    const st = await this.stats.get(real);
    if (st === null) return { kind: 'missing' };
    if (st.isDirectory()) return { kind: 'dir', path: real, stat: st };
    if (!st.isFile()) return { kind: 'missing' }; // FIFOs, sockets and devices are never opened
    this.#cache.set(full, { real, dev: st.dev, ino: st.ino });
    return { kind: 'file', path: real, stat: st };
  }

  /**
   * True when the path's folder exists and does not hold its name: a miss answered with one
   * (shared) stat of the folder instead of a failing realpath. Only ever says "absent"; anything
   * else goes through the full lookup.
   */
  async #surelyAbsent(full: string, segments: readonly string[]): Promise<boolean> {
    const name = segments[segments.length - 1] as string;
    const dir = full.slice(0, full.length - name.length - 1);
    const st = await this.stats.get(dir);
    if (st === null || !st.isDirectory()) return false;
    let entry = this.#dirs.get(dir);
    // The inode too: another folder renamed over this one can carry the same timestamps.
    if (entry === undefined || entry.mtimeMs !== st.mtimeMs || entry.ctimeMs !== st.ctimeMs || entry.ino !== st.ino || entry.dev !== st.dev) {
      if (Date.now() - st.mtimeMs < COARSE_MTIME_MS) return false; // just changed: do not trust a snapshot
      // Names as bytes, decoded the way request segments are, so a name that is not UTF-8 matches.
      const names = await new Promise<Buffer[] | null>((resolve) =>
        readdir(toFsPath(dir), { encoding: 'buffer' }, (error, list) => resolve(error === null ? list : null)),
      );
      if (names === null) return false;
      entry = { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev, names: new Set(names.map(decodeBytes)) };
      this.#dirs.set(dir, entry);
    }
    return !entry.names.has(name);
  }
}
