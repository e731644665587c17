// Names as the listing page shows them: characters that are invisible or that reorder the text
// around them (bidi overrides, zero-width marks, controls) are written out as `\u202E`, so
// `evil\u202Etxt.exe` cannot pass for `evilexe.txt`. Only the shown text changes; links keep the name.
import { escapeHtml } from '../html.js';

/**
 * Controls (Cc), format characters (Cf: bidi controls, zero-width marks, the BOM, tags, …), line
 * and paragraph separators, and invisible letters that render as nothing (the combining grapheme
 * joiner, Hangul fillers, the braille blank). A zero-width joiner between two emoji is kept: it
 * is what joins 👩‍💻 and the family emoji, and shows nothing by itself.
 */
const INVISIBLE = /(?<![\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F])\u200D|(?!\u200D)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u034F\u115F\u1160\u3164\uFFA0\u2800]|\u200D(?!\p{Extended_Pictographic})/gu;

function codeOf(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase();
  return cp > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
}

const ANY_INVISIBLE = new RegExp(INVISIBLE.source, 'u');

/** True when `name` holds a character the page writes out. */
export function hasInvisible(name: string): boolean {
  return ANY_INVISIBLE.test(name);
}

/** Plain text (a `title`, the page title): each invisible character as `\uXXXX`. */
export function visibleText(name: string): string {
  return hasInvisible(name) ? name.replace(INVISIBLE, codeOf) : name;
}

/** HTML: escaped, each invisible character as a marked `\uXXXX` (so a name that spells one out is told apart). */
export function visibleHtml(name: string): string {
  if (!hasInvisible(name)) return escapeHtml(name);
  let out = '';
  let last = 0;
  for (const m of name.matchAll(INVISIBLE)) {
    const code = codeOf(m[0]);
    out += `${escapeHtml(name.slice(last, m.index))}<span class="inv" title="invisible character ${code.replace('\\u', 'U+').replace(/[{}]/g, '')}">${code}</span>`;
    last = m.index + m[0].length;
  }
  return out + escapeHtml(name.slice(last));
}

/** For the page's style sheet. */
export const INVISIBLE_CSS = '.inv{font:.8em ui-monospace,monospace;color:var(--muted);border:1px dotted var(--muted);border-radius:3px;padding:0 .15em;margin:0 .05em}';
