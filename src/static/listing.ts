// Directory listing: sorted, `?q=`-filtered entries as JSON, or as the page of listing-page.ts; cached per folder.
import type { Stats } from 'node:fs';
import { basename, join } from 'node:path';
import type { Exposure } from '../exposure/policy.js';
import { displayName, encodeName } from './file-names.js';
import { renderHtml, type Sort } from './listing-page.js';
import { LISTING_LIMIT, readEntries, type Entry, type FolderRead } from './listing-read.js';
import { LruMap } from './lru.js';

export { readEntries, LISTING_LIMIT, type Entry } from './listing-read.js';
export { escapeHtml, renderHtml, type Sort, type SortKey } from './listing-page.js';

// Created on first use: building an ICU collator costs several milliseconds of start-up.
let collator: Intl.Collator | undefined;

/** Folders first, then by the key; names compare naturally ("file2" before "file10"). */
export function sortEntries(entries: Entry[], sort: Sort): Entry[] {
  const dir = sort.desc ? -1 : 1;
  collator ??= new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  const names = collator;
  return entries.sort((a, b) => {
    if (a.type !== b.type) return a.type === 'directory' ? -1 : 1;
    let c = 0;
    if (sort.key === 'size') c = a.size - b.size;
    else if (sort.key === 'date') c = a.mtime.getTime() - b.mtime.getTime();
    if (c === 0) c = names.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return c * dir;
  });
}

/** `?sort=size&order=desc` → Sort; anything unknown falls back to name ascending. */
export function parseSort(query: string): Sort {
  const params = new URLSearchParams(query);
  const key = params.get('sort');
  return {
    key: key === 'size' || key === 'date' ? key : 'name',
    desc: params.get('order') === 'desc',
  };
}

/** The filter text of `?q=` (trimmed), '' for none. */
export function parseFilter(query: string): string {
  return (new URLSearchParams(query).get('q') ?? '').trim();
}

/** Entries whose shown name contains `q`, ignoring case (all of them for ''). */
export function filterEntries(entries: readonly Entry[], q: string): Entry[] {
  if (q === '') return [...entries];
  const needle = q.toLowerCase();
  return entries.filter((e) => displayName(e.name).toLowerCase().includes(needle));
}

/** Facts about the folder beyond the entries shown. */
export interface JsonInfo {
  /** Visible entries in the folder. */
  total?: number;
  /** Entries read (fewer than `total` when capped), before any filter. */
  listed?: number;
  /** The filter applied, '' for none. */
  q?: string;
}

/**
 * The listing as JSON: names relative to the folder, never a server path. `name` is for people
 * (U+FFFD where the name is not UTF-8), `href` the exact bytes, percent-encoded, to fetch it by.
 * `total` counts every visible entry; `truncated` says the folder holds more than are listed;
 * `q` (only when filtering) is the filter the entries match.
 */
export function renderJson(urlPath: string, entries: Entry[], info: JsonInfo = {}): string {
  const total = info.total ?? entries.length;
  const q = info.q ?? '';
  return JSON.stringify({
    path: urlPath,
    total,
    truncated: total > (info.listed ?? entries.length),
    ...(q === '' ? {} : { q }),
    entries: entries.map((e) => ({
      name: displayName(e.name),
      href: `${encodeName(e.name)}${e.type === 'directory' ? '/' : ''}`,
      type: e.type,
      size: e.size,
      mtime: e.mtime.toISOString(),
    })),
  });
}

/** Entries of a folder are re-read when its mtime moves, and at least this often otherwise. */
export const LISTING_MAX_AGE_MS = 1000;

interface CachedListing {
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  readAt: number;
  /** One read shared by every request that finds the listing out of date at the same time. */
  read: Promise<FolderRead>;
  /** Rendered bodies by format, sort and URL path (a few: each can be large). */
  bodies: LruMap<string, string>;
}

export interface ListingOptions {
  /** Entries listed at most (LISTING_LIMIT). */
  limit?: number;
  /** The first breadcrumb; the root's basename by default. */
  rootName?: string;
  /** With uploads on: the upload script's URL, and the page gets the upload form. */
  uploadScript?: string | undefined;
}

/**
 * Rendered listings, so a folder of thousands of files is not stat'ed file by file on every
 * request. Names are always current (a new, removed or renamed entry changes the folder's
 * mtime, which every request checks, and a folder renamed over it changes the inode); sizes and
 * dates of files may lag by up to a second. At most 64 folders, least recently used dropped first.
 */
export class ListingCache {
  #cache = new LruMap<string, CachedListing>(64);
  readonly #exposure: Exposure;
  readonly #limit: number;
  readonly #rootName: string;
  readonly #uploadScript: string | undefined;

  /**
   * `rootName` is the first breadcrumb (the served folder's name); `uploadScript`, set when
   * uploads are on, adds the upload form loading that script. Both are fixed for the cache's
   * life, so the rendered bodies need no key for them.
   */
  constructor(exposure: Exposure, opts: ListingOptions = {}) {
    this.#exposure = exposure;
    this.#limit = opts.limit ?? LISTING_LIMIT;
    this.#rootName = opts.rootName ?? (basename(exposure.root) || '/');
    this.#uploadScript = opts.uploadScript;
  }

  /** The listing body for a folder (whose fresh stat the caller has) in HTML or JSON. */
  async render(dir: string, dirStat: Stats, segments: readonly string[], query: string, json: boolean): Promise<string> {
    let cached = this.#cache.get(dir);
    const now = Date.now();
    if (cached === undefined || !isCurrent(cached, dirStat) || now - cached.readAt > LISTING_MAX_AGE_MS) {
      const read = readEntries(dir, this.#exposure, this.#limit);
      const entry: CachedListing = { mtimeMs: dirStat.mtimeMs, ctimeMs: dirStat.ctimeMs, ino: dirStat.ino, dev: dirStat.dev, readAt: now, read, bodies: new LruMap(4) };
      cached = entry;
      this.#cache.set(dir, entry);
      read.catch(() => {
        if (this.#cache.get(dir) === entry) this.#cache.delete(dir);
      });
    }
    const read = await cached.read;
    // The policy is asked afresh (the apps' module graph grows while serving); the names hidden
    // are part of the body's key, so a cached body never shows one.
    const hidden = read.entries.filter((e) => !this.#exposure.mayRead(join(dir, e.name), e.real));
    const entries = hidden.length === 0 ? read.entries : read.entries.filter((e) => !hidden.includes(e));
    const total = read.total - hidden.length;
    const sort = parseSort(query);
    const q = parseFilter(query);
    // Filtered bodies are not kept: each typed filter would push out the few sorted pages that recur.
    const key = `${json ? 'j' : 'h'}${sort.key}${sort.desc ? '-' : '+'}/${segments.join('/')}\0${hidden.map((e) => e.name).join('\0')}`;
    let body = q === '' ? cached.bodies.get(key) : undefined;
    if (body === undefined) {
      const shown = sortEntries(filterEntries(entries, q), sort);
      body = json
        ? renderJson(`/${segments.map((seg) => `${displayName(seg)}/`).join('')}`, shown, { total, listed: entries.length, q })
        : renderHtml(segments, shown, { sort, q, total, listed: entries.length, rootName: this.#rootName, uploadScript: this.#uploadScript });
      if (q === '') cached.bodies.set(key, body);
    }
    return body;
  }
}

function isCurrent(c: CachedListing, st: Stats): boolean {
  return c.mtimeMs === st.mtimeMs && c.ctimeMs === st.ctimeMs && c.ino === st.ino && c.dev === st.dev;
}
