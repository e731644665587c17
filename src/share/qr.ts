// A QR code for the terminal banner: two modules per character cell with half blocks.
//
// Entry point: renderQr(text, { color }) → lines to print (no trailing newlines).
//   color: true  (default) every line sets BOTH colours explicitly — black (256-colour 16) on
//                white (231) — and resets at its end, so the code is dark-on-light and scans on
//                light and dark terminal themes alike. The 256-colour cube entries are fixed RGB
//                in practically every terminal, unlike the 16 theme colours (30–47), which a
//                theme may set to any shade.
//   color: false (NO_COLOR, TERM=dumb) no escape codes at all, so the theme decides the colours.
//                It is drawn for a DARK theme (the common default of VS Code, Windows Terminal,
//                GNOME, iTerm2): light modules are the block characters (foreground), dark
//                modules are blanks (background). On a light theme it appears inverted; most
//                phone cameras read that too, some decoders (zbar) do not.
// Encoding by uqr (zero dependencies): the smallest version at level L, then error correction
// boosted as far as that version allows (more damage tolerance at no extra size).
import { encode } from 'uqr';

export interface QrOptions {
  /** Draw the colours explicitly (default); false for colourless terminals. */
  color?: boolean;
}

/** QR specification: a light border ("quiet zone") of 4 modules around the code. */
const QUIET = 4;
const DARK_ON_LIGHT = '\x1b[38;5;16;48;5;231m';
const RESET = '\x1b[0m';

/** The QR code of `text` as terminal lines, quiet zone included. */
export function renderQr(text: string, opts: QrOptions = {}): string[] {
  const color = opts.color ?? true;
  const { data, size } = encode(text, { ecc: 'L', boostEcc: true, border: 0 });
  const full = size + 2 * QUIET;
  const dark = (row: number, col: number): boolean => {
    const r = row - QUIET;
    const c = col - QUIET;
    return r >= 0 && r < size && c >= 0 && c < size && data[r]?.[c] === true;
  };
  // In colour the foreground is black: draw dark modules. Without colour the foreground is the
  // theme's light text colour: draw light modules.
  const inked = (row: number, col: number): boolean => (row >= full ? !color : dark(row, col) === color);
  const lines: string[] = [];
  for (let row = 0; row < full; row += 2) {
    let line = '';
    for (let col = 0; col < full; col++) line += halfBlock(inked(row, col), inked(row + 1, col));
    lines.push(color ? DARK_ON_LIGHT + line + RESET : line);
  }
  return lines;
}

function halfBlock(top: boolean, bottom: boolean): string {
  if (top && bottom) return '█';
  if (top) return '▀';
  if (bottom) return '▄';
  return ' ';
}
