// Every value an exporter writes into a generated file passes one of these: quoted for that
// file's format, or refused with a one-line reason. A folder name is data; in a config file it
// must never become a directive (an `ExecStartPre=` line, an nginx `location`, a JS statement).
import { UsageError } from '../errors.js';

/** Line breaks and other control characters (C0, DEL, C1) and JS's own line terminators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Refuse what no format below can carry safely; `what` names the value ("the folder", "--app"). */
export function plainText(value: string, what: string): string {
  if (CONTROL.test(value)) {
    throw new UsageError(`Cannot export: ${what} ${JSON.stringify(value)} contains a line break or control character`, 'Rename it: a generated config cannot carry it safely.');
  }
  return value;
}

/** A comment's text: JSON-escaped when it holds anything but printable characters. */
export function commentText(value: string): string {
  return CONTROL.test(value) ? JSON.stringify(value) : value;
}

/**
 * One nginx argument in double quotes. nginx reads `\"` and `\\` inside quotes; `$` starts a
 * variable in `root`, `alias` and regexes alike and has no escape, so it is refused.
 */
export function nginxString(value: string, what: string): string {
  plainText(value, what);
  if (value.includes('$')) throw new UsageError(`Cannot export nginx: ${what} ${JSON.stringify(value)} contains "$"`, 'nginx reads $ as a variable in paths; rename it without $.');
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** A literal path inside an nginx (PCRE) regex, then quoted by nginxRegex (or JSON for the Deno entry). */
export function regexLiteral(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * A quoted nginx location regex. nginx unescapes `\\` and `\"` inside quotes before PCRE sees
 * the pattern, so every backslash is doubled; location regexes take no variables, so `$` stays.
 */
export function nginxRegex(pattern: string, what: string): string {
  plainText(pattern, what);
  return `"${pattern.replace(/[\\"]/g, '\\$&')}"`;
}

/** An nginx server_name entry: a host name, `.example.com` (the name and its subdomains) or an IP. */
export function serverName(value: string): string {
  if (!/^(\.?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\])$/.test(value)) {
    throw new UsageError(`Cannot export: --allowed-hosts entry ${JSON.stringify(value)} is not a host name`, 'Give plain names such as example.com or .example.com.');
  }
  return value;
}

/**
 * One systemd command-line word (ExecStart=): double quotes with C escapes; `%` is a specifier
 * and `$` an environment variable, each doubled to stay literal; a bare `;` would end the command.
 */
export function systemdWord(value: string, what: string): string {
  plainText(value, what);
  const escaped = value.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[\w@+=:,./-]+$/.test(value)) return escaped;
  return `"${escaped.replace(/[\\"']/g, '\\$&')}"`;
}

/**
 * The executable, ExecStart's first word: systemd refuses quotes and backslashes in it and takes
 * `$` literally there (no variables), so only `%` is doubled.
 */
export function systemdExecutable(value: string, what: string): string {
  plainText(value, what);
  if (/["'\\]/.test(value)) throw new UsageError(`Cannot export systemd: ${what} ${JSON.stringify(value)} contains a quote or backslash`, 'systemd accepts no quotes or backslashes in an executable\'s path: install Node elsewhere.');
  const escaped = value.replace(/%/g, '%%');
  return /^[\w@+=:,./$-]+$/.test(value) ? escaped : `"${escaped}"`;
}

/** A whole-line systemd value (WorkingDirectory=, Description=): specifiers doubled, no line breaks. */
export function systemdValue(value: string, what: string): string {
  plainText(value, what);
  return value.replace(/%/g, '%%');
}

/** One .assetsignore (gitignore syntax) line matching exactly `path` ("/lib/a.mjs"), anchored at the root. */
export function ignoreLine(path: string, what: string): string {
  plainText(path, what);
  // Wildcards and the comment/negation marks are literal after a backslash; so is a trailing space.
  return path.replace(/[\\*?[\]!#]/g, '\\$&').replace(/ $/, '\\ ');
}

/** One POSIX shell word, for command lines shown in generated comments (copy-pasted into a shell). */
export function shellWord(value: string, what: string): string {
  plainText(value, what);
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
