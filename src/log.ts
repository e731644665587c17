// Request lines, banner lines and errors: formatting, colour (kleur) and writing to given streams.
import kleur from 'kleur';
import type { Writable } from 'node:stream';
import type { LogFormat } from './options.js';

/** What one finished (or aborted) request contributes to its log line. */
export interface RequestRecord {
  time: Date;
  ip: string;
  method: string;
  url: string;
  httpVersion: string;
  status: number;
  bytes: number;
  ms: number;
  /** Who answered: 'static' files and listings, or an app mount such as "app" or "/api". */
  via: string;
  aborted: boolean;
  referer: string | undefined;
  userAgent: string | undefined;
}

export interface LoggerOptions {
  format?: LogFormat;
  quiet?: boolean;
  out?: Writable;
  err?: Writable;
  /** Defaults to kleur's own decision (NO_COLOR, FORCE_COLOR, TTY). */
  color?: boolean;
}

/** C0, DEL and C1 controls plus backslash, the set CPython's http.server escapes (gh-100001). */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\\]/g;

/** Make untrusted text safe for one terminal line: controls become \xHH, backslash \\. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (ch) =>
    ch === '\\' ? '\\\\' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** Controls other than newline and tab, for lines that are ours but may quote untrusted text. */
const UNSAFE_IN_LINES = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
/**
 * The colour codes serve-here itself writes: kleur's bold, dim, colours and their resets, and the
 * QR code's explicit black-on-white (src/share/qr.ts).
 */
const OWN_SGR = /\x1b\[(?:0|1|2|22|31|32|33|35|36|39|38;5;16;48;5;231)m/y;

/**
 * Make a message line safe for the terminal: every control character becomes \xHH (so quoted
 * request data, e.g. a body V8 quotes in a JSON.parse error, cannot move the cursor, retitle the
 * window or clear the screen); newlines and tabs stay; with colour on, the palette's own SGR codes stay.
 */
export function escapeLines(text: string, keepColour: boolean): string {
  return text.replace(UNSAFE_IN_LINES, (ch, offset: number) => {
    if (keepColour && ch === '\x1b') {
      OWN_SGR.lastIndex = offset;
      if (OWN_SGR.test(text)) return ch;
    }
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** Runs of percent-escapes of non-ASCII bytes: the UTF-8 of a name like `café` or `日本`. */
const ENCODED_NON_ASCII = /(?:%[89a-fA-F][0-9a-fA-F])+/g;

/**
 * Show non-ASCII names decoded (`/caf%C3%A9` → `/café`), as a person reads them; ASCII escapes
 * (`%2F`, `%20`, `%0A`) and bytes that are not UTF-8 stay as sent. Escaped afterwards like any text.
 */
export function readablePath(url: string): string {
  if (!url.includes('%')) return url;
  return url.replace(ENCODED_NON_ASCII, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** A formatter for a time string that changes once a second, cached between calls. */
function cachedPerSecond(format: (d: Date) => string): (d: Date) => string {
  let second = -1;
  let text = '';
  return (d) => {
    const s = Math.floor(d.getTime() / 1000);
    if (s !== second) {
      second = s;
      text = format(d);
    }
    return text;
  };
}

const clock = cachedPerSecond((d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`);
/** The time of a notice line (reloads, crashes), dimmed, as the request lines show it. */
export function stamp(log: Logger): string {
  return log.colors.dim(clock(new Date()));
}

const clfTime = cachedPerSecond((d) => {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${clock(d)} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
});

/** 1234 → "1.2 KiB"; the listing uses the same. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

type Paint = (s: string) => string;
interface Palette {
  dim: Paint;
  bold: Paint;
  green: Paint;
  cyan: Paint;
  yellow: Paint;
  red: Paint;
  magenta: Paint;
}

function palette(color: boolean | undefined): Palette {
  const k = kleur;
  const on = color ?? k.enabled;
  const id: Paint = (s) => s;
  if (!on) return { dim: id, bold: id, green: id, cyan: id, yellow: id, red: id, magenta: id };
  // kleur's on/off switch is one global read at call time. Assigning it here let the last logger
  // created decide for every logger, so it is switched on only around this logger's own calls.
  const paint =
    (fn: (s: string) => string): Paint =>
    (s) => {
      const was = k.enabled;
      k.enabled = true;
      try {
        return fn(s);
      } finally {
        k.enabled = was;
      }
    };
  return {
    dim: paint((s) => k.dim(s)),
    bold: paint((s) => k.bold(s)),
    green: paint((s) => k.green(s)),
    cyan: paint((s) => k.cyan(s)),
    yellow: paint((s) => k.yellow(s)),
    red: paint((s) => k.red(s)),
    magenta: paint((s) => k.magenta(s)),
  };
}

/** One request line in the `dev` format: `14:02:11 200 GET /index.html 1.2 KiB 0.8 ms`. */
export function formatDev(r: RequestRecord, p: Palette): string {
  const status = String(r.status);
  const paint = r.status >= 500 ? p.red : r.status >= 400 ? p.yellow : r.status >= 300 ? p.cyan : p.green;
  const via = r.via === 'static' ? '' : ` ${p.magenta(escapeControl(r.via))}`;
  const aborted = r.aborted ? p.dim(' (aborted)') : '';
  // The status sits in a fixed column (after the time), so a column of lines reads at a glance.
  return `${p.dim(clock(r.time))} ${paint(status)} ${p.bold(escapeControl(r.method))} ${escapeControl(readablePath(r.url))} ${p.dim(formatBytes(r.bytes))} ${p.dim(formatMs(r.ms))}${via}${aborted}\n`;
}

/** Combined Log Format (Apache), with quoted fields escaped so a request cannot forge a line. */
export function formatCombined(r: RequestRecord): string {
  const q = (s: string | undefined): string => (s === undefined ? '-' : escapeControl(s).replace(/"/g, '\\"'));
  return `${r.ip} - - [${clfTime(r.time)}] "${q(r.method)} ${q(r.url)} HTTP/${r.httpVersion}" ${r.status} ${r.bytes === 0 ? '-' : r.bytes} "${q(r.referer)}" "${q(r.userAgent)}"\n`;
}

/** One JSON object per line; C1 controls, which JSON.stringify leaves raw, are escaped too. */
export function formatJson(r: RequestRecord): string {
  const line = JSON.stringify({
    time: r.time.toISOString(),
    ip: r.ip,
    method: r.method,
    url: r.url,
    status: r.status,
    bytes: r.bytes,
    ms: Math.round(r.ms * 100) / 100,
    via: r.via,
    ...(r.aborted ? { aborted: true } : {}),
    ...(r.userAgent === undefined ? {} : { userAgent: r.userAgent }),
  });
  return `${line.replace(/[\u007f-\u009f\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

export interface Logger {
  /** True when request lines are dropped (--quiet): the server then does not build them. */
  readonly quiet: boolean;
  request(record: RequestRecord): void;
  /** A plain line to stdout (banner, reload notices). */
  info(text: string): void;
  /** A line to stderr; never silenced by --quiet. */
  error(text: string): void;
  warn(text: string): void;
  readonly colors: Palette;
  /** Write out buffered request lines now. */
  flush(): void;
}

/**
 * A logger writing request lines to `out` and errors to `err`. Request lines are batched and
 * written once per event-loop turn, so a burst of requests costs one write, not one each.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  const format = opts.format ?? 'dev';
  const colors = palette(opts.color);
  const colorOn = opts.color ?? kleur.enabled;
  let pending = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending !== '') {
      const text = pending;
      pending = '';
      out.write(text);
    }
  };
  const line = format === 'json' ? formatJson : format === 'combined' ? formatCombined : (r: RequestRecord) => formatDev(r, colors);
  return {
    quiet: opts.quiet === true,
    colors,
    flush,
    request(record) {
      if (opts.quiet === true) return;
      pending += line(record);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    info(text) {
      flush();
      // With --log json, stdout carries nothing but JSON lines: the banner and notices go to stderr.
      (format === 'json' ? err : out).write(`${escapeLines(text, colorOn)}\n`);
    },
    warn(text) {
      flush();
      err.write(`${colors.yellow(escapeLines(text, colorOn))}\n`);
    },
    error(text) {
      flush();
      err.write(`${colors.red(escapeLines(text, colorOn))}\n`);
    },
  };
}
