// Test helper: render terminal text to a PNG, as a terminal with a given theme would show it, so a
// real QR decoder can read what the banner prints. Understands SGR colours (30–37, 90–97, 40–47,
// 100–107, 38;5;n / 48;5;n, 38;2;r;g;b / 48;2;r;g;b, 39, 49, 7 inverse, 0 reset) and the block
// characters █ ▀ ▄ and space; any other character is drawn as background (no font here).
// PNG written by hand: RGB, filter 0, zlib from node:zlib, CRC-32 from a table.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

export type Rgb = readonly [number, number, number];

export interface Theme {
  name: string;
  foreground: Rgb;
  background: Rgb;
  /** The 16 theme colours (0–7 normal, 8–15 bright). */
  palette: readonly Rgb[];
}

const XTERM_16: readonly Rgb[] = [
  [0, 0, 0], [205, 0, 0], [0, 205, 0], [205, 205, 0], [0, 0, 238], [205, 0, 205], [0, 205, 205], [229, 229, 229],
  [127, 127, 127], [255, 0, 0], [0, 255, 0], [255, 255, 0], [92, 92, 255], [255, 0, 255], [0, 255, 255], [255, 255, 255],
];

/** Dark text on white, like macOS Terminal's "Basic" profile. */
export const LIGHT_THEME: Theme = { name: 'light', foreground: [30, 30, 30], background: [255, 255, 255], palette: XTERM_16 };
/** Light grey on near-black, like VS Code's and Windows Terminal's defaults. */
export const DARK_THEME: Theme = { name: 'dark', foreground: [204, 204, 204], background: [12, 12, 12], palette: XTERM_16 };

/** xterm's 256-colour table: 16 theme colours, a 6×6×6 cube, 24 greys. */
function color256(n: number, theme: Theme): Rgb {
  if (n < 16) return theme.palette[n] ?? theme.foreground;
  if (n < 232) {
    const level = (v: number): number => (v === 0 ? 0 : 55 + 40 * v);
    const i = n - 16;
    return [level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6)];
  }
  const g = 8 + 10 * (n - 232);
  return [g, g, g];
}

interface Pen {
  fg: Rgb | undefined;
  bg: Rgb | undefined;
  inverse: boolean;
}

function applySgr(params: number[], pen: Pen, theme: Theme): void {
  if (params.length === 0) params = [0];
  for (let i = 0; i < params.length; i++) {
    const p = params[i] ?? 0;
    if (p === 0) Object.assign(pen, { fg: undefined, bg: undefined, inverse: false });
    else if (p === 7) pen.inverse = true;
    else if (p === 27) pen.inverse = false;
    else if (p >= 30 && p <= 37) pen.fg = color256(p - 30, theme);
    else if (p >= 90 && p <= 97) pen.fg = color256(p - 82, theme);
    else if (p >= 40 && p <= 47) pen.bg = color256(p - 40, theme);
    else if (p >= 100 && p <= 107) pen.bg = color256(p - 92, theme);
    else if (p === 39) pen.fg = undefined;
    else if (p === 49) pen.bg = undefined;
    else if (p === 38 || p === 48) {
      let c: Rgb | undefined;
      if (params[i + 1] === 5) {
        c = color256(params[i + 2] ?? 0, theme);
        i += 2;
      } else if (params[i + 1] === 2) {
        c = [params[i + 2] ?? 0, params[i + 3] ?? 0, params[i + 4] ?? 0];
        i += 4;
      }
      if (p === 38) pen.fg = c;
      else pen.bg = c;
    }
  }
}

export interface RenderOptions {
  /** Pixels per character cell, horizontally; the height is twice this (a 1:2 cell). Default 6. */
  cellWidth?: number;
  /** Blank terminal padding around the text, in cells. Default 2. */
  padding?: number;
  /**
   * Turn every pixel black or white at mid-grey (luminance 128), as a phone camera in a lit room
   * roughly does: black on a near-black background then reads as one colour. Without this, zbar's
   * adaptive threshold decodes contrasts (0 vs 12) that no camera could see.
   */
  binarize?: boolean;
}

/** Render `lines` as `theme` would show them; returns a PNG. */
export function renderTerminal(lines: readonly string[], theme: Theme, opts: RenderOptions = {}): Buffer {
  const cw = opts.cellWidth ?? 6;
  const ch = cw * 2;
  const pad = opts.padding ?? 2;
  const cells: { fg: Rgb; bg: Rgb; char: string }[][] = [];
  const pen: Pen = { fg: undefined, bg: undefined, inverse: false };
  for (const line of lines) {
    const row: { fg: Rgb; bg: Rgb; char: string }[] = [];
    const re = /\x1b\[([0-9;]*)m|([\s\S])/gu;
    for (const m of line.matchAll(re)) {
      if (m[1] !== undefined) {
        applySgr(m[1] === '' ? [] : m[1].split(';').map(Number), pen, theme);
        continue;
      }
      let fg = pen.fg ?? theme.foreground;
      let bg = pen.bg ?? theme.background;
      if (pen.inverse) [fg, bg] = [bg, fg];
      row.push({ fg, bg, char: m[2] ?? ' ' });
    }
    cells.push(row);
  }
  const cols = Math.max(0, ...cells.map((r) => r.length)) + 2 * pad;
  const width = cols * cw;
  const height = (cells.length + 2 * pad) * ch;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) pixels.set(theme.background, i * 3);
  const fill = (x0: number, y0: number, w: number, h: number, c: Rgb): void => {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) pixels.set(c, (y * width + x) * 3);
  };
  cells.forEach((row, r) => row.forEach((cell, c) => {
    const x = (c + pad) * cw;
    const y = (r + pad) * ch;
    const half = ch / 2;
    fill(x, y, cw, ch, cell.bg);
    if (cell.char === '█') fill(x, y, cw, ch, cell.fg);
    else if (cell.char === '▀') fill(x, y, cw, half, cell.fg);
    else if (cell.char === '▄') fill(x, y + half, cw, half, cell.fg);
  }));
  if (opts.binarize === true) {
    for (let i = 0; i < pixels.length; i += 3) {
      const luma = 0.2126 * (pixels[i] ?? 0) + 0.7152 * (pixels[i + 1] ?? 0) + 0.0722 * (pixels[i + 2] ?? 0);
      pixels.fill(luma < 128 ? 0 : 255, i, i + 3);
    }
  }
  return encodePng(width, height, pixels);
}

/** Render and write to `path`. */
export function writeTerminalPng(path: string, lines: readonly string[], theme: Theme, opts: RenderOptions = {}): void {
  writeFileSync(path, renderTerminal(lines, theme, opts));
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGB PNG (PNG spec §11.2.2 IHDR colour type 2; every row prefixed with filter 0). */
export function encodePng(width: number, height: number, rgb: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) rgb.copy(raw, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
