// App errors as plain data: message, file:line:column and a code frame. Built where the error
// happens (the app process, which loads only this part), shown by the server (error-info.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, sep } from 'node:path';
import { AppShapeError } from './detect.js';
import { missingPackage } from './missing-package.js';

export interface AppErrorInfo {
  /** What failed: "Failed to load app.ts", "GET /x threw". */
  title: string;
  message: string;
  stack: string | undefined;
  file: string | undefined;
  line: number | undefined;
  column: number | undefined;
  frame: string | undefined;
  /** What to do about it, when serve-here knows (`npm install left-pad`). */
  hint?: string | undefined;
}

const LOADER_FRAME = /node_modules[\\/](tsx|esbuild)[\\/]|node:internal/;
/**
 * serve-here's own code, compiled (dist/) and, through source maps, its sources (src/): never
 * the place an app error points at, and never a line of a stack shown to the user.
 */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OWN_CODE = [join(PACKAGE_ROOT, 'dist', sep), join(PACKAGE_ROOT, 'src', sep)];
const isOwnCode = (file: string): boolean => OWN_CODE.some((dir) => toPath(file).startsWith(dir));

function toPath(file: string): string {
  return file.startsWith('file://') ? fileURLToPath(file) : file;
}

/** Where an error points in user code: esbuild's `file:line:col: ERROR:`, a SyntaxError header, or the first user frame. */
export function locate(error: unknown): { file: string; line: number; column: number | undefined } | undefined {
  if (!(error instanceof Error)) return undefined;
  const text = `${error.message}\n${error.stack ?? ''}`;
  const esbuild = /^(\/[^\n]+?|[A-Za-z]:\\[^\n]+?):(\d+):(\d+): ERROR: /m.exec(text);
  // esbuild counts columns from 0; editors and V8 stacks from 1.
  if (esbuild !== null) return { file: esbuild[1] as string, line: Number(esbuild[2]), column: Number(esbuild[3]) + 1 };
  const header = /^(file:\/\/\/[^\n]+?|\/[^\n]+?):(\d+)\n/.exec(error.stack ?? '');
  if (header !== null) return { file: toPath(header[1] as string), line: Number(header[2]), column: undefined };
  for (const m of (error.stack ?? '').matchAll(/(?:\(|at )((?:file:\/\/)?\/[^():\s]+):(\d+):(\d+)\)?/g)) {
    const file = m[1] as string;
    if (LOADER_FRAME.test(file) || file.includes('/node_modules/') || isOwnCode(file)) continue;
    return { file: toPath(file), line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/** A few lines of source around `line`, with a marker and a caret under `column` (1-based). */
export function codeFrame(file: string, line: number, column: number | undefined): string | undefined {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = source.split(/\r?\n/);
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line + 2);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
    if (n === line && column !== undefined) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}

/** Esbuild's messages carry a "Transform failed with 1 error:" preamble; keep the useful line. */
function cleanMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const m = /: ERROR: (.*)$/m.exec(error.message);
  const message = m !== null ? (m[1] as string) : error.message;
  return `${error.name === 'Error' || m !== null ? '' : `${error.name}: `}${message}`;
}

/**
 * The status for a request whose app call rejected before any header was sent: 502 when what
 * the app returned was not a valid HTTP answer (a status like 099 or 1000, a bad header name or
 * value, a body past its Content-Length), 500 when the handler itself threw.
 */
export function failureStatus(error: unknown): 500 | 502 {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^ERR_(HTTP_INVALID|INVALID_HTTP_TOKEN|INVALID_CHAR|HTTP_CONTENT_LENGTH_MISMATCH|HTTP_HEADERS_SENT)/.test(code)) return 502;
  return (error as { name?: unknown } | null)?.name === 'AppResponseError' ? 502 : 500;
}

/** Stack lines in the user's code only: the loader's, Node's and serve-here's own are noise. */
function userStack(error: unknown): string | undefined {
  if (!(error instanceof Error) || error instanceof AppShapeError) return undefined;
  const own = (l: string): boolean => /^\s+at /.test(l) && (LOADER_FRAME.test(l) || OWN_CODE.some((dir) => l.includes(dir)));
  return error.stack?.split('\n').filter((l) => !own(l)).join('\n');
}

export function describeError(error: unknown, title: string): AppErrorInfo {
  const missing = missingPackage(error);
  if (missing !== undefined) {
    return { title, message: missing.message, stack: undefined, file: missing.file, line: missing.line, column: missing.column, frame: missing.line === undefined || missing.file === undefined ? undefined : codeFrame(missing.file, missing.line, missing.column), hint: missing.hint };
  }
  // No handler export: the user's module is the place to look, not the line that noticed.
  const where = error instanceof AppShapeError ? { file: error.file, line: undefined, column: undefined } : locate(error);
  const stack = userStack(error);
  return {
    title,
    message: cleanMessage(error),
    stack,
    file: where?.file,
    line: where?.line,
    column: where?.column,
    frame: where?.line === undefined ? undefined : codeFrame(where.file, where.line, where.column),
  };
}
