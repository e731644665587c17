// Directory listing: sorted entries as escaped HTML (light/dark, phone-friendly) or JSON.
import type { Stats } from 'node:fs';
import { formatBytes } from '../log.js';
import { displayName, encodeName } from './file-names.js';
import { LISTING_LIMIT, readEntries, type Entry, type FolderRead } from './listing-read.js';
import { LruMap } from './lru.js';

export { readEntries, LISTING_LIMIT, type Entry } from './listing-read.js';

export type SortKey = 'name' | 'size' | 'date';
export interface Sort {
  key: SortKey;
  desc: boolean;
}

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

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/**
 * The listing as JSON: names relative to the folder, never a server path. `name` is for people
 * (U+FFFD where the name is not UTF-8), `href` the exact bytes, percent-encoded, to fetch it by.
 * `total` counts every visible entry; `truncated` says the folder holds more than are listed.
 */
export function renderJson(urlPath: string, entries: Entry[], total = entries.length): string {
  return JSON.stringify({
    path: urlPath,
    total,
    truncated: total > entries.length,
    entries: entries.map((e) => ({
      name: displayName(e.name),
      href: `${encodeName(e.name)}${e.type === 'directory' ? '/' : ''}`,
      type: e.type,
      size: e.size,
      mtime: e.mtime.toISOString(),
    })),
  });
}

function formatDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

const STYLE = `:root{color-scheme:light dark;--fg:#1f2328;--muted:#656d76;--bg:#fff;--row:#f6f8fa;--link:#0969da;--line:#d0d7de}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8d96a0;--bg:#0d1117;--row:#161b22;--link:#4493f8;--line:#30363d}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:60rem;margin:0 auto;padding:1rem}h1{font-size:1.15rem;font-weight:600;margin:.5rem 0 1rem;overflow-wrap:anywhere}
h1 a{color:var(--link);text-decoration:none}h1 a:hover{text-decoration:underline}
table{width:100%;border-collapse:collapse}th,td{padding:.45rem .5rem;text-align:left;border-bottom:1px solid var(--line)}
th{font-weight:600;font-size:.85rem;color:var(--muted)}th a{color:inherit;text-decoration:none}th a:hover{color:var(--link)}
tr:hover td{background:var(--row)}td a{color:var(--link);text-decoration:none;overflow-wrap:anywhere}td a:hover{text-decoration:underline}
.num,.date{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}.num{text-align:right}.note{color:var(--muted);font-size:.9rem}
.icon{display:inline-block;width:1em;height:1em;margin-right:.45em;vertical-align:-.12em;background:no-repeat center/contain}
.d{background-image:url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath fill='%2354aeff' d='M1 3.5A1.5 1.5 0 0 1 2.5 2h3.6l1.5 1.5h5.9A1.5 1.5 0 0 1 15 5v7.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 1 12.5z'/%3E%3C/svg%3E")}
.f{background-image:url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath fill='none' stroke='%238d96a0' stroke-width='1.2' d='M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3'/%3E%3C/svg%3E")}
.up{background-image:url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath fill='none' stroke='%238d96a0' stroke-width='1.4' d='M8 13V3M3.5 7.5 8 3l4.5 4.5'/%3E%3C/svg%3E")}footer{margin-top:1rem;font-size:.8rem;color:var(--muted)}
@media (max-width:36rem){.date{display:none}main{padding:.75rem}th,td{padding:.55rem .35rem}}`;

/** The listing as a page: breadcrumbs, sortable columns (plain links, no JS), sizes and dates. */
export function renderHtml(segments: readonly string[], entries: Entry[], sort: Sort, total = entries.length): string {
  const title = `/${segments.map((s) => `${displayName(s)}/`).join('')}`;
  let crumbs = `<a href="/">~</a> /`;
  let href = '/';
  for (const seg of segments) {
    href += `${encodeName(seg)}/`;
    crumbs += ` <a href="${escapeHtml(href)}">${escapeHtml(displayName(seg))}</a> /`;
  }
  const header = (key: SortKey, label: string, cls: string): string => {
    const active = sort.key === key;
    const desc = active ? !sort.desc : key !== 'name';
    const arrow = active ? (sort.desc ? ' ↓' : ' ↑') : '';
    return `<th class="${cls}"><a href="?sort=${key}&amp;order=${desc ? 'desc' : 'asc'}">${label}${arrow}</a></th>`;
  };
  const rows: string[] = [];
  if (segments.length > 0) rows.push('<tr><td><span class="icon up"></span><a href="../">Parent folder</a></td><td class="num"></td><td class="date"></td></tr>');
  for (const e of entries) {
    const isDir = e.type === 'directory';
    const link = `${encodeName(e.name)}${isDir ? '/' : ''}`;
    rows.push(
      `<tr><td><span class="icon ${isDir ? 'd' : 'f'}"></span><a href="${escapeHtml(link)}">${escapeHtml(displayName(e.name))}${isDir ? '/' : ''}</a></td>` +
        `<td class="num">${isDir ? '—' : formatBytes(e.size)}</td><td class="date">${formatDate(e.mtime)}</td></tr>`,
    );
  }
  const count = `${entries.length} ${entries.length === 1 ? 'item' : 'items'}`;
  const note =
    total > entries.length
      ? `<p class="note">This folder holds ${total.toLocaleString('en')} entries; the first ${entries.length.toLocaleString('en')} (folders first, then by name) are listed.</p>\n`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Index of ${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main><h1>${crumbs}</h1>
${note}<table><thead><tr>${header('name', 'Name', '')}${header('size', 'Size', 'num')}${header('date', 'Modified', 'date')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table><footer>${count} · serve-here</footer></main></body></html>
`;
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

/**
 * Rendered listings, so a folder of thousands of files is not stat'ed file by file on every
 * request. Names are always current (a new, removed or renamed entry changes the folder's
 * mtime, which every request checks, and a folder renamed over it changes the inode); sizes and
 * dates of files may lag by up to a second. At most 64 folders, least recently used dropped first.
 */
export class ListingCache {
  #cache = new LruMap<string, CachedListing>(64);
  readonly #root: string;
  readonly #dotfiles: boolean;
  readonly #limit: number;

  constructor(root: string, dotfiles: boolean, opts: { limit?: number } = {}) {
    this.#root = root;
    this.#dotfiles = dotfiles;
    this.#limit = opts.limit ?? LISTING_LIMIT;
  }

  /** The listing body for a folder (whose fresh stat the caller has) in HTML or JSON. */
  async render(dir: string, dirStat: Stats, segments: readonly string[], query: string, json: boolean): Promise<string> {
    let cached = this.#cache.get(dir);
    const now = Date.now();
    if (cached === undefined || !isCurrent(cached, dirStat) || now - cached.readAt > LISTING_MAX_AGE_MS) {
      const read = readEntries(dir, this.#root, this.#dotfiles, this.#limit);
      const entry: CachedListing = { mtimeMs: dirStat.mtimeMs, ctimeMs: dirStat.ctimeMs, ino: dirStat.ino, dev: dirStat.dev, readAt: now, read, bodies: new LruMap(4) };
      cached = entry;
      this.#cache.set(dir, entry);
      read.catch(() => {
        if (this.#cache.get(dir) === entry) this.#cache.delete(dir);
      });
    }
    const { entries, total } = await cached.read;
    const sort = parseSort(query);
    const key = `${json ? 'j' : 'h'}${sort.key}${sort.desc ? '-' : '+'}/${segments.join('/')}`;
    let body = cached.bodies.get(key);
    if (body === undefined) {
      const sorted = sortEntries([...entries], sort);
      body = json ? renderJson(`/${segments.map((seg) => `${displayName(seg)}/`).join('')}`, sorted, total) : renderHtml(segments, sorted, sort, total);
      cached.bodies.set(key, body);
    }
    return body;
  }
}

function isCurrent(c: CachedListing, st: Stats): boolean {
  return c.mtimeMs === st.mtimeMs && c.ctimeMs === st.ctimeMs && c.ino === st.ino && c.dev === st.dev;
}
