// Listing icons by kind of file: small inline SVGs in the stylesheet (data: URLs), never emoji,
// which show as empty boxes on machines without an emoji font. Mid-tone colours read on both
// the light and the dark background.

export type IconKind = 'folder' | 'image' | 'video' | 'audio' | 'archive' | 'code' | 'document' | 'file' | 'up';

const KINDS: Record<Exclude<IconKind, 'folder' | 'file' | 'up'>, string> = {
  image: 'png jpg jpeg gif webp avif svg bmp ico tif tiff heic heif',
  video: 'mp4 m4v webm mkv mov avi wmv flv mpg mpeg ogv m2ts',
  audio: 'mp3 m4a aac wav flac ogg oga opus wma aiff mid midi',
  archive: 'zip tar gz tgz bz2 tbz xz txz zst 7z rar jar war deb rpm dmg iso apk',
  code: 'js mjs cjs ts tsx mts cts jsx json html htm css scss less py rb go rs c h cc cpp hpp java kt swift sh bash zsh php pl lua sql toml yaml yml xml vue svelte wasm ini cfg conf',
  document: 'pdf txt md markdown rst doc docx odt rtf xls xlsx ods csv tsv ppt pptx odp epub log tex',
};

const BY_EXT = new Map<string, IconKind>();
for (const [kind, exts] of Object.entries(KINDS)) for (const ext of exts.split(' ')) BY_EXT.set(ext, kind as IconKind);

/** The icon kind for an entry, from its type and extension (case-insensitive). */
export function iconKind(name: string, isDir: boolean): IconKind {
  if (isDir) return 'folder';
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'file';
  return BY_EXT.get(name.slice(dot + 1).toLowerCase()) ?? 'file';
}

const svg = (body: string): string =>
  `url("data:image/svg+xml,${encodeURIComponent(`<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>${body}</svg>`).replace(/%20/g, ' ').replace(/%3D/g, '=').replace(/%3A/g, ':').replace(/%2F/g, '/')}")`;

// A page outline shared by every file kind, with a coloured mark inside.
const PAGE = `<path fill='none' stroke='#8d96a0' stroke-width='1.1' d='M3.5 1.5h6l3 3v10h-9z'/><path fill='none' stroke='#8d96a0' stroke-width='1.1' d='M9.5 1.5v3h3'/>`;

const DRAWINGS: Record<IconKind, string> = {
  folder: `<path fill='#54aeff' d='M1 3.5A1.5 1.5 0 0 1 2.5 2h3.6l1.5 1.5h5.9A1.5 1.5 0 0 1 15 5v7.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 1 12.5z'/>`,
  file: PAGE,
  up: `<path fill='none' stroke='#8d96a0' stroke-width='1.4' d='M8 13V3M3.5 7.5 8 3l4.5 4.5'/>`,
  image: `${PAGE}<path fill='#2da44e' d='M4.5 13 7 9.2l1.6 2.1 1.2-1.4L11.5 13z'/><circle fill='#d4a72c' cx='10.2' cy='7' r='1.1'/>`,
  video: `${PAGE}<path fill='#cf222e' d='M6 7v5.5l4.6-2.75z'/>`,
  audio: `${PAGE}<path fill='#8250df' d='M7 12.2V7.2l3.5-.9v4.9' stroke='#8250df' stroke-width='.9'/><circle fill='#8250df' cx='6.1' cy='12.2' r='1.2'/><circle fill='#8250df' cx='9.6' cy='11.2' r='1.2'/>`,
  archive: `${PAGE}<path fill='#bc4c00' d='M7 2h1.2v1.2H7zM8.2 3.2h1.2v1.2H8.2zM7 4.4h1.2v1.2H7zM8.2 5.6h1.2v1.2H8.2zM7 6.8h2.4v3.4H7z'/>`,
  code: `${PAGE}<path fill='none' stroke='#0969da' stroke-width='1.2' stroke-linecap='round' stroke-linejoin='round' d='M6.6 8 5 9.75l1.6 1.75M9.4 8 11 9.75 9.4 11.5'/>`,
  document: `${PAGE}<path fill='none' stroke='#6e7781' stroke-width='1' d='M5.5 7.5h5M5.5 9.5h5M5.5 11.5h3.5'/>`,
};

/** CSS rules: `.icon` sizes the box, `.i-<kind>` draws it. */
export const ICON_CSS = [
  '.icon{display:inline-block;flex:none;width:1.15em;height:1.15em;margin-right:.4em;vertical-align:-.2em;background:no-repeat center/contain}',
  ...Object.entries(DRAWINGS).map(([kind, body]) => `.i-${kind}{background-image:${svg(body)}}`),
].join('\n');
