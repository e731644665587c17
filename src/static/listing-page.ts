// The listing as an HTML page: breadcrumbs from the served folder's name, a filter box (a plain
// GET form: `?q=`, no script), sortable
// columns of fixed width, icons by kind, zip links for folders, and the upload form when on.
import { formatBytes } from '../log.js';
import { UPLOAD_CSS, uploadFragment } from '../share/upload-client.js';
import { displayName, encodeName } from './file-names.js';
import { ICON_CSS, iconKind } from './icons.js';
import { INVISIBLE_CSS, visibleHtml, visibleText } from './visible-name.js';
import type { Entry } from './listing-read.js';

export type SortKey = 'name' | 'size' | 'date';
export interface Sort {
  key: SortKey;
  desc: boolean;
}

/** What the page shows besides the entries. */
export interface PageOptions {
  sort: Sort;
  /** The filter text (`?q=`), '' for none. */
  q: string;
  /** Visible entries in the folder (more than listed when capped). */
  total: number;
  /** Entries read, before the filter. */
  listed: number;
  /** The served folder's name, the first breadcrumb. */
  rootName: string;
  /** --upload: the upload form and the URL of its script. */
  uploadScript: string | undefined;
}

export { escapeHtml } from '../html.js';
import { escapeHtml } from '../html.js';

function formatDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

// Fixed column widths (table-layout:fixed): the size and date columns sit at the same place in
// every folder, whatever the names; long names wrap inside the first column.
const STYLE = `:root{color-scheme:light dark;--fg:#1f2328;--muted:#656d76;--bg:#fff;--row:#f6f8fa;--link:#0969da;--line:#d0d7de;--field:#fff}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8d96a0;--bg:#0d1117;--row:#161b22;--link:#4493f8;--line:#30363d;--field:#0d1117}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:60rem;margin:0 auto;padding:1rem}h1{font-size:1.15rem;font-weight:600;margin:.5rem 0 .75rem;overflow-wrap:anywhere}
h1 a{color:var(--link);text-decoration:none}h1 a:hover{text-decoration:underline}
.bar{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0 0 .75rem}
.bar input[type=search]{flex:1 1 12rem;min-width:0;font:inherit;padding:.3rem .55rem;color:var(--fg);background:var(--field);border:1px solid var(--line);border-radius:6px}
.bar button{font:inherit;padding:.3rem .75rem;color:var(--fg);background:var(--row);border:1px solid var(--line);border-radius:6px;cursor:pointer}
.bar .zip-all{margin-left:auto;color:var(--link);text-decoration:none;white-space:nowrap}.bar .zip-all:hover{text-decoration:underline}
table{width:100%;border-collapse:collapse;table-layout:fixed}th,td{padding:.45rem .5rem;text-align:left;border-bottom:1px solid var(--line)}
th.num{width:6.5rem}th.date{width:10.5rem}
th{font-weight:600;font-size:.85rem;color:var(--muted)}th a{color:inherit;text-decoration:none}th a:hover{color:var(--link)}
tr:hover td{background:var(--row)}td a{color:var(--link);text-decoration:none;overflow-wrap:anywhere}td a:hover{text-decoration:underline}
td a.zip{margin-left:.6em;font-size:.8rem;color:var(--muted);white-space:nowrap}td a.zip:hover{color:var(--link)}
.num,.date{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:var(--muted);font-variant-numeric:tabular-nums}.num{text-align:right}.note{color:var(--muted);font-size:.9rem}
footer{margin-top:1rem;font-size:.8rem;color:var(--muted)}
${ICON_CSS}${INVISIBLE_CSS}
@media (max-width:36rem){.date{display:none}main{padding:.75rem}th,td{padding:.55rem .35rem}th.num{width:5.5rem}}`;

// The upload form's fields, laid out for this page: the word before its button ("files [Choose]"),
// the browser's fixed-width "No file chosen" text hidden (files go up as soon as chosen).
const UPLOAD_LAYOUT = `.sh-upload label{display:inline-flex;flex-direction:row-reverse;align-items:center;gap:.4em;margin:.2em 0 .2em .6em}
.sh-upload input[type=file]{width:6.6rem;font-size:.85rem;color:transparent}.sh-upload input[type=file]::file-selector-button{color:var(--fg);margin:0}
@media (max-width:36rem){.sh-upload label{display:flex;justify-content:flex-end;margin-left:0}}`;

/** `?sort=…&order=…&q=…` with the parts that differ from the defaults. */
function queryString(sort: Sort, q: string): string {
  const p = new URLSearchParams();
  p.set('sort', sort.key);
  p.set('order', sort.desc ? 'desc' : 'asc');
  if (q !== '') p.set('q', q);
  return `?${p.toString()}`;
}

function breadcrumbs(segments: readonly string[], rootName: string): string {
  let crumbs = `<a href="/">${visibleHtml(displayName(rootName))}</a> /`;
  let href = '/';
  for (const seg of segments) {
    href += `${encodeName(seg)}/`;
    crumbs += ` <a href="${escapeHtml(href)}">${visibleHtml(displayName(seg))}</a> /`;
  }
  return crumbs;
}

function row(e: Entry): string {
  const isDir = e.type === 'directory';
  const link = `${encodeName(e.name)}${isDir ? '/' : ''}`;
  const name = displayName(e.name);
  const zip = isDir ? ` <a class="zip" href="${escapeHtml(`${link}?zip`)}" title="Download ${escapeHtml(visibleText(name))} as zip" download>zip</a>` : '';
  return (
    `<tr><td><span class="icon i-${iconKind(e.name, isDir)}"></span><a href="${escapeHtml(link)}">${visibleHtml(name)}${isDir ? '/' : ''}</a>${zip}</td>` +
    `<td class="num">${isDir ? '—' : formatBytes(e.size)}</td><td class="date">${formatDate(e.mtime)}</td></tr>`
  );
}

/** The listing as a page: breadcrumbs, sortable columns (plain links, no JS needed), sizes and dates. */
export function renderHtml(segments: readonly string[], entries: Entry[], o: PageOptions): string {
  const { sort, q } = o;
  const title = `/${segments.map((s) => `${visibleText(displayName(s))}/`).join('')}`;
  const header = (key: SortKey, label: string, cls: string): string => {
    const active = sort.key === key;
    const desc = active ? !sort.desc : key !== 'name';
    const arrow = active ? (sort.desc ? ' ↓' : ' ↑') : '';
    return `<th class="${cls}"><a href="${escapeHtml(queryString({ key, desc }, q))}">${label}${arrow}</a></th>`;
  };
  const rows: string[] = [];
  if (segments.length > 0) rows.push('<tr class="up"><td><span class="icon i-up"></span><a href="../">Parent folder</a></td><td class="num"></td><td class="date"></td></tr>');
  for (const e of entries) rows.push(row(e));
  const count = q === '' ? `${entries.length} ${entries.length === 1 ? 'item' : 'items'}` : `${entries.length} of ${o.listed.toLocaleString('en')} match “${escapeHtml(q)}”`;
  const note =
    o.total > o.listed
      ? `<p class="note">This folder holds ${o.total.toLocaleString('en')} entries; the first ${o.listed.toLocaleString('en')} (folders first, then by name) are listed${q === '' ? '' : ' and filtered'}.</p>\n`
      : '';
  // The sort survives a filter submit; "Filter" submits without JavaScript.
  const keep = sort.key === 'name' && !sort.desc ? '' : `<input type="hidden" name="sort" value="${sort.key}"><input type="hidden" name="order" value="${sort.desc ? 'desc' : 'asc'}">`;
  const bar = `<form class="bar" method="get" role="search"><input type="search" name="q" value="${escapeHtml(q)}" placeholder="Filter names" aria-label="Filter names" autocomplete="off">${keep}<button type="submit">Filter</button><a class="zip-all" href="?zip" download>Download folder as zip</a></form>`;
  const upload = o.uploadScript === undefined ? '' : uploadFragment(o.uploadScript);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Index of ${escapeHtml(title)}</title><style>${STYLE}${o.uploadScript === undefined ? '' : `\n${UPLOAD_CSS}${UPLOAD_LAYOUT}`}</style></head>
<body><main><h1>${breadcrumbs(segments, o.rootName)}</h1>
${bar}
${upload}${note}<table><thead><tr>${header('name', 'Name', 'name')}${header('size', 'Size', 'num')}${header('date', 'Modified', 'date')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table><footer><span class="count">${count}</span> · serve-here</footer></main></body></html>
`;
}
